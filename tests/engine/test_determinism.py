"""Every decision is deterministic and leaves the state it was given untouched."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from baton.engine import decider
from baton.engine.decider import Decision, TaskUpdate
from baton.engine.definitions import WorkflowDef
from baton.engine.state import TaskStatus, Workflow
from tests import seed
from tests.engine.support import SECOND, T0, fixture

QUEUES = frozenset({"conductor_doug_testing"})

Step = Callable[[Workflow], Decision]


def _decide_at(now: int) -> Step:
    return lambda wf: decider.decide(wf, now, event_queues=QUEUES)


def _report(reference: str, now: int, status=TaskStatus.COMPLETED, **output: Any) -> Step:
    def step(wf: Workflow) -> Decision:
        target = decider.find_task(wf, reference=reference)
        assert target is not None, reference
        result = TaskUpdate(status=status, output=output or None, reason_for_incompletion="r")
        return decider.update_task(wf, target.task_id, result, now, event_queues=QUEUES)

    return step


SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any], list[Step]]] = {
    "seed": (
        seed.event_testing(),
        {},
        [_decide_at(T0 + 10 * SECOND), _report("task_1_ref", T0 + 11 * SECOND, by="event")],
    ),
    "fork_join": (
        fixture("fork_join_integration_test.json"),
        {},
        [
            _report("t1", T0 + 1),
            _report("t2", T0 + 2, status=TaskStatus.FAILED),
        ],
    ),
    "switch_and_fork": (
        fixture("switch_and_fork_join_integration_test.json"),
        {"case": "c"},
        [_report(ref, T0 + i) for i, ref in enumerate(["t1", "t10", "t2", "t20"], start=1)],
    ),
    "do_while": (
        fixture("do_while_integration_test.json"),
        {"loop": 2},
        [
            _report(ref, T0 + 10 * i + j, i=i)
            for i in (1, 2)
            for j, ref in enumerate(
                ["integration_task_0", "integration_task_1", "integration_task_2"]
            )
        ],
    ),
    "set_variable": (
        fixture("set_variable_workflow_integration_test.json"),
        {"var": "v"},
        [_report("simple", T0 + 1), _report("wait0", T0 + 2)],
    ),
    "terminate": (
        fixture("switch_and_terminate_integration_test.json"),
        {"case": "two"},
        [_report("t1", T0 + 1, op="done")],
    ),
}


def _run(name: str, workflow_id: str = "wf-1") -> list[Decision]:
    definition_json, workflow_input, steps = SCENARIOS[name]
    definition = WorkflowDef.from_json(copy.deepcopy(definition_json))
    decisions = [
        decider.start(
            definition,
            workflow_id=workflow_id,
            workflow_input=dict(workflow_input),
            now=T0,
            event_queues=QUEUES,
        )
    ]
    for step in steps:
        decisions.append(step(decisions[-1].workflow))
    return decisions


def _summary(decision: Decision) -> tuple[Any, ...]:
    return (
        decision.workflow.to_json(),
        [t.task_id for t in decision.changed_tasks],
        sorted(decision.new_task_ids),
        decision.workflow_changed,
        decision.effects,
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_same_state_and_clock_always_give_the_same_decision(name):
    first = [_summary(d) for d in _run(name)]
    second = [_summary(d) for d in _run(name)]
    assert first == second


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_decision_never_changes_the_workflow_it_was_given(name):
    definition_json, workflow_input, steps = SCENARIOS[name]
    wf = decider.start(
        WorkflowDef.from_json(copy.deepcopy(definition_json)),
        workflow_id="wf-1",
        workflow_input=dict(workflow_input),
        now=T0,
        event_queues=QUEUES,
    ).workflow
    for step in steps:
        before = copy.deepcopy(wf.to_json())
        tasks_before = list(wf.tasks)
        decision = step(wf)
        assert wf.to_json() == before
        assert all(a is b for a, b in zip(wf.tasks, tasks_before, strict=True))
        if decision.changed:
            assert decision.workflow is not wf
        wf = decision.workflow


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_task_ids_are_unique_and_belong_to_their_workflow(name):
    ours = _run(name, "wf-1")[-1].workflow
    theirs = _run(name, "wf-2")[-1].workflow
    our_ids = [t.task_id for t in ours.tasks]
    assert len(our_ids) == len(set(our_ids))
    assert not set(our_ids) & {t.task_id for t in theirs.tasks}


def test_changed_tasks_are_exactly_the_ones_that_differ():
    before = _run("seed")[0].workflow
    decision = decider.decide(before, T0 + 10 * SECOND, event_queues=QUEUES)
    old = {t.task_id: t.to_json(before) for t in before.tasks}
    differing = {
        t.task_id
        for t in decision.workflow.tasks
        if old.get(t.task_id) != t.to_json(decision.workflow)
    }
    assert {t.task_id for t in decision.changed_tasks} == differing
    assert decision.new_task_ids == {t.task_id for t in decision.workflow.tasks} - set(old)
