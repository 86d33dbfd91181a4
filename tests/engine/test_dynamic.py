"""DYNAMIC: the task to run is named by an input when it is scheduled; its TaskDef applies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from baton.engine.definitions import TaskDef
from baton.engine.run import task_defs_of_this_decision
from baton.engine.state import Task, TaskStatus, WorkflowStatus
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    SCHEDULED,
    SECOND,
    T0,
    by_ref,
    complete,
    fail,
    simple,
    start,
    task,
    workflow_def,
)

REGISTERED = {
    "ship_by_air": TaskDef.from_json(
        {"name": "ship_by_air", "retryCount": 1, "retryDelaySeconds": 0, "inputTemplate": {"x": 1}}
    ),
    "ship_by_sea": TaskDef.from_json({"name": "ship_by_sea", "retryCount": 0}),
}


@pytest.fixture(autouse=True)
def registered_task_defs() -> Iterator[None]:
    token = task_defs_of_this_decision.set(REGISTERED.get)
    yield
    task_defs_of_this_decision.reset(token)


def _shipping():
    return workflow_def(
        task(
            "DYNAMIC",
            "ship",
            dynamicTaskNameParam="taskToRun",
            inputParameters={"taskToRun": "${workflow.input.how}", "order": 7},
        ),
        simple("notify"),
    )


def _ship(wf) -> Task:
    return by_ref(wf, "ship")


def test_the_named_task_is_scheduled_as_a_worker_task_of_that_name():
    wf = start(_shipping(), {"how": "ship_by_air"}).workflow
    ship = _ship(wf)
    assert (ship.task_type, ship.task_def_name, ship.status) == (
        "ship_by_air",
        "ship_by_air",
        SCHEDULED,
    )
    # The TaskDef's inputTemplate applies, under the task's own inputs.
    assert ship.input_data == {"x": 1, "taskToRun": "ship_by_air", "order": 7}
    assert ship.workflow_task.task_definition is REGISTERED["ship_by_air"]
    assert ship.to_json(wf)["workflowTask"]["name"] == "ship_by_air"


def test_the_named_tasks_retries_apply():
    wf = start(_shipping(), {"how": "ship_by_air"}).workflow
    wf = fail(wf, "ship", T0 + SECOND)
    attempts = [t for t in wf.tasks if t.reference_task_name == "ship"]
    assert [t.status for t in attempts] == [TaskStatus.FAILED, SCHEDULED]
    assert attempts[1].task_type == "ship_by_air"
    wf = complete(wf, "ship", T0 + 2 * SECOND, done=True)
    assert by_ref(wf, "notify").status == SCHEDULED
    assert _ship(wf).status == COMPLETED


def test_another_input_names_another_task():
    wf = start(_shipping(), {"how": "ship_by_sea"}).workflow
    assert _ship(wf).task_type == "ship_by_sea"
    wf = fail(wf, "ship", T0 + SECOND)
    assert wf.status == WorkflowStatus.FAILED  # ship_by_sea allows no retries


def test_a_name_with_no_task_definition_fails_the_workflow_as_conductor_does():
    wf = start(_shipping(), {"how": "teleport"}).workflow
    assert wf.status == WorkflowStatus.FAILED
    assert wf.reason_for_incompletion == (
        "Invalid task specified.  Cannot find task by name teleport in the task definitions"
    )
    assert wf.tasks == []


def test_no_name_in_the_input_fails_the_workflow():
    wf = start(_shipping(), {}).workflow
    assert wf.status == WorkflowStatus.FAILED
    assert (wf.reason_for_incompletion or "").startswith(
        "Cannot map a dynamic task based on the parameter and input. Parameter= taskToRun"
    )


def test_dynamic_task_name_param_is_required():
    errors = validate_workflow_def(workflow_def(task("DYNAMIC", "ship")).to_json())
    assert [(e.path, e.message) for e in errors] == [
        (
            "tasks[0].dynamicTaskNameParam",
            "dynamicTaskNameParam field is required for taskType: DYNAMIC taskName: ship",
        )
    ]


# -- a name that is a system type runs as that type (Conductor's DynamicTaskMapper) ----------


def _dynamic(**inputs):
    return workflow_def(
        task(
            "DYNAMIC",
            "step",
            dynamicTaskNameParam="taskToRun",
            inputParameters={"taskToRun": "${workflow.input.kind}", **inputs},
        ),
        simple("notify"),
    )


def test_a_name_that_is_http_runs_an_http_call():
    from baton.engine.effects import CallSystemTask

    definition = _dynamic(http_request={"uri": "http://service.test/x", "method": "GET"})
    decision = start(definition, {"kind": "HTTP"})
    step = by_ref(decision.workflow, "step")
    assert (step.task_type, step.task_def_name, step.status) == ("HTTP", "HTTP", SCHEDULED)
    assert step.workflow_task.type == "HTTP"
    assert [e.task_id for e in decision.effects if isinstance(e, CallSystemTask)] == [step.task_id]
    # Stored with its own definition, so it is read back as an HTTP task.
    assert step.to_store()["workflowTask"]["type"] == "HTTP"


def test_a_name_that_is_inline_runs_the_script_in_the_decision():
    definition = _dynamic(evaluatorType="javascript", expression="$.a + 1", a=41)
    wf = start(definition, {"kind": "INLINE"}).workflow
    step = by_ref(wf, "step")
    assert (step.task_type, step.status) == ("INLINE", COMPLETED)
    assert step.output_data == {"result": 42}
    assert by_ref(wf, "notify").status == SCHEDULED


def test_a_name_that_is_wait_or_human_waits_for_an_update():
    for kind in ("WAIT", "HUMAN"):
        wf = start(_dynamic(), {"kind": kind}).workflow
        step = by_ref(wf, "step")
        assert (step.task_type, step.status) == (kind, TaskStatus.IN_PROGRESS)
        assert complete(wf, "step", T0 + SECOND, ok=True).tasks[-1].reference_task_name == (
            "notify"
        )


def test_a_name_that_is_a_type_holding_other_tasks_fails_the_workflow():
    for kind in ("FORK_JOIN", "SWITCH", "DO_WHILE", "JOIN"):
        wf = start(_dynamic(), {"kind": kind}).workflow
        assert wf.status == WorkflowStatus.FAILED
        assert f"names {kind}" in (wf.reason_for_incompletion or "")
