"""Builders and steps the engine tests share: definitions, a fake clock and task updates.

Time is an integer epoch in milliseconds; every test starts at T0 and moves it by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from baton.engine import decider
from baton.engine.decider import Decision, TaskUpdate
from baton.engine.definitions import WorkflowDef
from baton.engine.state import Task, TaskStatus, Workflow

T0 = 1_700_000_000_000
COMPLETED = TaskStatus.COMPLETED
SCHEDULED = TaskStatus.SCHEDULED
IN_PROGRESS = TaskStatus.IN_PROGRESS
SECOND = 1_000
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    """A Conductor test-harness workflow definition from tests/engine/fixtures."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


# -- definitions -------------------------------------------------------------------------------


def task(kind: str, ref: str, **fields: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": kind, **fields}


def simple(ref: str, **fields: Any) -> dict[str, Any]:
    return task("SIMPLE", ref, **fields)


def wait(ref: str, **inputs: Any) -> dict[str, Any]:
    return task("WAIT", ref, inputParameters=inputs)


def event(ref: str, sink: str, **fields: Any) -> dict[str, Any]:
    return task("EVENT", ref, sink=sink, **fields)


def fork(ref: str, *branches: list[dict[str, Any]]) -> dict[str, Any]:
    return task("FORK_JOIN", ref, forkTasks=list(branches))


def join(ref: str, *on: str) -> dict[str, Any]:
    return task("JOIN", ref, joinOn=list(on))


def switch(
    ref: str,
    cases: dict[str, list[dict[str, Any]]],
    *,
    default: list[dict[str, Any]] | None = None,
    value: Any = "${workflow.input.kind}",
    **fields: Any,
) -> dict[str, Any]:
    """A value-param SWITCH on its input `kind` (the workflow input `kind` unless told)."""
    defaults: dict[str, Any] = {
        "evaluatorType": "value-param",
        "expression": "kind",
        "inputParameters": {"kind": value},
        "decisionCases": cases,
    }
    if default is not None:
        defaults["defaultCase"] = default
    return task("SWITCH", ref, **{**defaults, **fields})


def set_variable(ref: str, **inputs: Any) -> dict[str, Any]:
    return task("SET_VARIABLE", ref, inputParameters=inputs)


def terminate(ref: str, status: str, **inputs: Any) -> dict[str, Any]:
    return task("TERMINATE", ref, inputParameters={"terminationStatus": status, **inputs})


def loop(ref: str, body: list[dict[str, Any]], condition: str, **inputs: Any) -> dict[str, Any]:
    return task("DO_WHILE", ref, loopCondition=condition, loopOver=body, inputParameters=inputs)


def workflow_def(*tasks: dict[str, Any], **fields: Any) -> WorkflowDef:
    data: dict[str, Any] = {"name": "wf", "version": 1, "schemaVersion": 2, "tasks": list(tasks)}
    return WorkflowDef.from_json({**data, **fields})


# -- running -----------------------------------------------------------------------------------


def start(
    definition: WorkflowDef | dict[str, Any],
    workflow_input: dict[str, Any] | None = None,
    *,
    now: int = T0,
    workflow_id: str = "wf-1",
    **options: Any,
) -> Decision:
    if isinstance(definition, dict):
        definition = WorkflowDef.from_json(definition)
    return decider.start(
        definition,
        workflow_id=workflow_id,
        workflow_input=dict(workflow_input or {}),
        now=now,
        **options,
    )


def by_ref(workflow: Workflow, reference: str) -> Task:
    """The latest attempt of the task with exactly this reference."""
    found = [t for t in workflow.tasks if t.reference_task_name == reference]
    assert found, f"no task {reference} in {[t.reference_task_name for t in workflow.tasks]}"
    return max(found, key=lambda t: t.seq)


def refs(workflow: Workflow) -> list[str]:
    """Every task's reference, in the order the tasks were scheduled."""
    return [t.reference_task_name for t in workflow.tasks]


def statuses(workflow: Workflow) -> dict[str, TaskStatus]:
    """Each reference's latest status."""
    return {t.reference_task_name: t.status for t in sorted(workflow.tasks, key=lambda t: t.seq)}


def shape(workflow: Workflow) -> list[tuple[str, TaskStatus]]:
    """(taskType, status) of every task in order, as Conductor's specs read `tasks[i]`."""
    return [(t.task_type, t.status) for t in workflow.tasks]


def update(
    workflow: Workflow,
    reference: str,
    now: int,
    status: TaskStatus = TaskStatus.COMPLETED,
    output: dict[str, Any] | None = None,
    reason: str | None = None,
    **options: Any,
) -> Decision:
    """Report a result for the pending task with `reference`, as a worker or the API would."""
    target = decider.find_task(workflow, reference=reference)
    assert target is not None, f"no task {reference}"
    assert not target.status.is_terminal, f"{reference} has already ended: {target.status}"
    result = TaskUpdate(status=status, output=output, reason_for_incompletion=reason)
    return decider.update_task(workflow, target.task_id, result, now, **options)


def complete(workflow: Workflow, reference: str, now: int, **output: Any) -> Workflow:
    return update(workflow, reference, now, output=output or None).workflow


def fail(workflow: Workflow, reference: str, now: int, reason: str = "failed") -> Workflow:
    return update(workflow, reference, now, TaskStatus.FAILED, reason=reason).workflow
