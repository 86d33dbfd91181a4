"""FORK_JOIN_DYNAMIC: branches known only when the fork is scheduled, and the JOIN after it.

Follows Conductor's ForkJoinDynamicTaskMapper and DynamicForkJoinSpec: the FORK instance
lists `forkedTasks`, the JOIN's `joinOn` is the dynamic references, and it completes once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.definitions import TaskDef
from baton.engine.effects import StartWorkflow
from baton.engine.run import DecisionBudget, Run, task_defs_of_this_decision
from baton.engine.state import TaskStatus, WorkflowStatus, child_workflow_id
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    IN_PROGRESS,
    SCHEDULED,
    SECOND,
    T0,
    by_ref,
    complete,
    fail,
    join,
    refs,
    shape,
    simple,
    start,
    task,
    workflow_def,
)

REGISTERED = {"resize": TaskDef.from_json({"name": "resize", "retryCount": 0})}


@pytest.fixture(autouse=True)
def registered_task_defs() -> Iterator[None]:
    token = task_defs_of_this_decision.set(REGISTERED.get)
    yield
    task_defs_of_this_decision.reset(token)


def per_item(ref: str = "fan", **fields: Any) -> dict[str, Any]:
    """A dynamic fork of one `resize` task per item of the workflow input `images`."""
    inputs = {"forkTaskName": "resize", "forkTaskInputs": "${workflow.input.images}"}
    return task("FORK_JOIN_DYNAMIC", ref, inputParameters=inputs, **fields)


def listed(ref: str = "fan") -> dict[str, Any]:
    """The older form: WorkflowTasks and their inputs from two inputs."""
    return task(
        "FORK_JOIN_DYNAMIC",
        ref,
        dynamicForkTasksParam="tasks",
        dynamicForkTasksInputParamName="inputs",
        inputParameters={"tasks": "${workflow.input.tasks}", "inputs": "${workflow.input.inputs}"},
    )


def _per_item_flow(**fields: Any):
    return workflow_def(per_item(**fields), join("gather"), simple("after"))


def test_one_branch_per_item_named_after_the_task_and_its_index():
    wf = start(_per_item_flow(), {"images": [{"url": "a"}, "b"]}).workflow
    assert refs(wf) == ["fan", "_resize_0", "_resize_1", "gather"]
    assert shape(wf) == [
        ("FORK", COMPLETED),
        ("resize", SCHEDULED),
        ("resize", SCHEDULED),
        ("JOIN", IN_PROGRESS),
    ]
    assert by_ref(wf, "_resize_0").input_data == {"url": "a", "__index": 0}
    assert by_ref(wf, "_resize_1").input_data == {"input": "b", "__index": 1}
    assert by_ref(wf, "_resize_0").workflow_task.task_definition is REGISTERED["resize"]


def test_the_fork_lists_its_branches_and_the_join_waits_on_them():
    wf = start(_per_item_flow(), {"images": ["a", "b"]}).workflow
    fork = by_ref(wf, "fan")
    assert (fork.task_type, fork.task_def_name) == ("FORK", "FORK")
    assert fork.input_data["forkedTasks"] == ["_resize_0", "_resize_1"]
    assert fork.input_data["forkTaskName"] == "resize"
    assert by_ref(wf, "gather").input_data == {"joinOn": ["_resize_0", "_resize_1"]}


def test_the_join_completes_once_every_branch_has_with_their_outputs():
    wf = start(_per_item_flow(), {"images": ["a", "b"]}).workflow
    wf = complete(wf, "_resize_1", T0 + SECOND, size=2)
    assert by_ref(wf, "gather").status == IN_PROGRESS
    wf = complete(wf, "_resize_0", T0 + 2 * SECOND, size=1)
    gather = by_ref(wf, "gather")
    assert gather.status == COMPLETED
    assert gather.output_data == {"_resize_0": {"size": 1}, "_resize_1": {"size": 2}}
    assert by_ref(wf, "after").status == SCHEDULED
    assert [t.reference_task_name for t in wf.tasks].count("gather") == 1


def test_no_items_forks_nothing_and_the_join_completes_at_once():
    wf = start(_per_item_flow(), {"images": []}).workflow
    assert by_ref(wf, "gather").status == COMPLETED
    assert by_ref(wf, "after").status == SCHEDULED


def test_a_failed_branch_fails_the_workflow():
    wf = start(_per_item_flow(), {"images": ["a", "b"]}).workflow
    wf = fail(wf, "_resize_0", T0 + SECOND, "too big")
    assert wf.status == WorkflowStatus.FAILED
    assert "too big" in (wf.reason_for_incompletion or "")
    assert by_ref(wf, "_resize_1").status == TaskStatus.CANCELED


def test_the_branches_of_an_optional_fork_are_optional():
    wf = start(_per_item_flow(optional=True), {"images": ["a", "b"]}).workflow
    wf = fail(wf, "_resize_0", T0 + SECOND, "too big")
    wf = complete(wf, "_resize_1", T0 + 2 * SECOND)
    assert wf.status == WorkflowStatus.RUNNING
    assert by_ref(wf, "_resize_0").status == TaskStatus.COMPLETED_WITH_ERRORS
    assert by_ref(wf, "gather").status == TaskStatus.COMPLETED_WITH_ERRORS


def test_a_second_dynamic_fork_names_its_branches_after_itself_too():
    definition = workflow_def(
        per_item("one"), join("j1"), per_item("two"), join("j2"), simple("after")
    )
    wf = start(definition, {"images": ["a"]}).workflow
    wf = complete(wf, "_resize_0", T0 + SECOND)
    assert "_two_resize_0" in refs(wf)
    assert by_ref(wf, "j2").input_data["joinOn"] == ["_two_resize_0"]


def test_the_listed_form_takes_workflow_tasks_and_a_map_of_their_inputs():
    tasks = [
        {"name": "resize", "taskReferenceName": "small", "type": "SIMPLE"},
        {"name": "stamp", "taskReferenceName": "stamp", "type": "NOOP"},
    ]
    inputs = {"small": {"width": 10}, "stamp": {"text": "hi"}}
    definition = workflow_def(listed(), join("gather"), simple("after"))
    wf = start(definition, {"tasks": tasks, "inputs": inputs}).workflow
    assert by_ref(wf, "fan").input_data["forkedTasks"] == ["small", "stamp"]
    assert by_ref(wf, "small").input_data == {"width": 10}
    assert by_ref(wf, "stamp").status == COMPLETED  # a NOOP completes at once
    assert by_ref(wf, "gather").input_data["joinOn"] == ["small", "stamp"]
    wf = complete(wf, "small", T0 + SECOND, ok=True)
    assert by_ref(wf, "gather").status == COMPLETED
    assert by_ref(wf, "gather").output_data == {"small": {"ok": True}}


@pytest.mark.parametrize(
    ("workflow_input", "reason"),
    [
        ({"tasks": "nope", "inputs": {}}, "Input 'tasks' is invalid."),
        ({"tasks": [{"name": "x"}], "inputs": {}}, "Input 'tasks' is invalid."),
        (
            {"tasks": [], "inputs": "nope"},
            "Input to the dynamically forked tasks is not a map -> expecting a map of K,V",
        ),
        (
            {"tasks": [{"name": "x", "taskReferenceName": "fan", "type": "SIMPLE"}], "inputs": {}},
            "attempted to create a duplicate task reference name: fan",
        ),
        (
            {"tasks": [{"name": "x", "taskReferenceName": "x", "type": "TELEPORT"}], "inputs": {}},
            "has type TELEPORT",
        ),
    ],
)
def test_bad_dynamic_input_fails_the_workflow_as_conductor_does(workflow_input, reason):
    wf = start(workflow_def(listed(), join("gather")), workflow_input).workflow
    assert wf.status == WorkflowStatus.FAILED
    assert reason in (wf.reason_for_incompletion or "")


def _no_budget() -> DecisionBudget:
    return DecisionBudget(max_steps=10**6, max_new_tasks=10**6, max_evaluations=10**6)


def _count_lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original = Run.task_for_ref

    def counted(self: Run, reference: str) -> Any:
        calls[0] += 1
        return original(self, reference)

    monkeypatch.setattr(Run, "task_for_ref", counted)
    return calls


@pytest.mark.parametrize("width", [100, 1000])
def test_a_wide_fork_decides_in_work_linear_in_its_branches(width, monkeypatch):
    """Counts steps and task lookups, not seconds: a start and a branch's completion each
    cost a bounded amount of work per branch."""
    lookups = _count_lookups(monkeypatch)
    budget = _no_budget()
    decision = start(_per_item_flow(), {"images": list(range(width))}, budget=budget)
    wf = decision.workflow
    assert len(decision.new_task_ids) == width + 2
    assert budget.steps <= 2 * width + 10
    assert lookups[0] <= 3 * width + 10
    # One branch completed: the JOIN looks at its branches once per pass, a few passes.
    lookups[0] = 0
    budget = _no_budget()
    target = by_ref(wf, "_resize_0")
    result = TaskUpdate(status=TaskStatus.COMPLETED, output={"ok": 1})
    decider.update_task(wf, target.task_id, result, T0 + SECOND, budget=budget)
    assert budget.steps <= 2 * width + 10
    assert lookups[0] <= 3 * width + 10


def test_two_hundred_branches_completed_one_by_one_end_with_one_join():
    wf = start(_per_item_flow(), {"images": list(range(200))}, budget=_no_budget()).workflow
    for index in range(200):
        target = by_ref(wf, f"_resize_{index}")
        result = TaskUpdate(status=TaskStatus.COMPLETED, output={"i": index})
        wf = decider.update_task(wf, target.task_id, result, T0 + SECOND).workflow
    gather = by_ref(wf, "gather")
    assert gather.status == COMPLETED
    assert len(gather.output_data) == 200
    assert by_ref(wf, "after").status == SCHEDULED


def test_a_budget_smaller_than_the_fork_still_schedules_it_whole_then_stops():
    budget = DecisionBudget(max_new_tasks=10)
    decision = start(_per_item_flow(), {"images": list(range(50))}, budget=budget)
    assert len(decision.new_task_ids) == 52  # a fork is one step: all its branches at once
    assert by_ref(decision.workflow, "gather").input_data["joinOn"][-1] == "_resize_49"


# -- validation ----------------------------------------------------------------------------


def _errors(*tasks: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in validate_workflow_def(workflow_def(*tasks).to_json())]


def test_the_listed_form_needs_both_parameters():
    bare = task("FORK_JOIN_DYNAMIC", "fan")
    assert _errors(bare, join("gather")) == [
        (
            "tasks[0].dynamicForkTasksParam",
            "dynamicForkTasksParam field is required for taskType: FORK_JOIN_DYNAMIC taskName: fan",
        ),
        (
            "tasks[0].dynamicForkTasksInputParamName",
            "dynamicForkTasksInputParamName field is required for taskType: "
            "FORK_JOIN_DYNAMIC taskName: fan",
        ),
    ]


def test_both_forms_register_when_followed_by_a_join():
    assert _errors(per_item(), join("gather")) == []
    assert _errors(listed(), join("gather")) == []


def test_a_dynamic_fork_must_be_followed_by_a_join():
    assert _errors(per_item(), simple("x")) == [
        ("tasks[0]", "Fork task definition is not followed by a join task.  Check the blueprint")
    ]


def test_fork_task_workflow_runs_one_sub_workflow_per_item():
    fan = task(
        "FORK_JOIN_DYNAMIC",
        "fan",
        inputParameters={
            "forkTaskWorkflow": "child",
            "forkTaskWorkflowVersion": 2,
            "forkTaskInputs": "${workflow.input.images}",
        },
    )
    assert _errors(fan, join("gather")) == []
    decision = start(workflow_def(fan, join("gather")), {"images": ["a", "b"]})
    wf = decision.workflow
    assert refs(wf) == ["fan", "_child_0", "_child_1", "gather"]
    children = [by_ref(wf, "_child_0"), by_ref(wf, "_child_1")]
    for child in children:
        assert child.task_type == "SUB_WORKFLOW" and child.status == TaskStatus.IN_PROGRESS
        assert child.input_data["subWorkflowName"] == "child"
        assert child.input_data["subWorkflowVersion"] == 2
        assert child.sub_workflow_id == child_workflow_id(child.task_id)
    started = {e.task_id for e in decision.effects if isinstance(e, StartWorkflow)}
    assert started == {c.task_id for c in children}


def test_fork_task_inputs_must_be_a_list_or_an_expression():
    fan = per_item()
    fan["inputParameters"]["forkTaskInputs"] = {"not": "a list"}
    [(path, _)] = _errors(fan, join("gather"))
    assert path == "tasks[0].inputParameters.forkTaskInputs"


def test_the_oldest_form_is_refused_by_name():
    fan = task("FORK_JOIN_DYNAMIC", "fan", dynamicForkJoinTasksParam="x")
    [(path, message)] = _errors(fan, join("gather"))
    assert path == "tasks[0].dynamicForkJoinTasksParam"
    assert "not supported by Baton" in message
