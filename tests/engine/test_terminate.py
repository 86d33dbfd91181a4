"""TERMINATE: ends the workflow with the status and output it names; what still runs is canceled.

The scenario tests port LambdaAndTerminateTaskSpec's "terminate task within a decision branch"
on `switch_and_terminate_integration_test.json`.
"""

from __future__ import annotations

import pytest

from baton.engine.definitions import WorkflowDef
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    T0,
    by_ref,
    complete,
    fixture,
    fork,
    join,
    shape,
    simple,
    start,
    terminate,
    wait,
    workflow_def,
)


def _fork_with_terminate(status: str, **inputs):
    return workflow_def(
        fork("fork", [wait("pending")], [terminate("stop", status, **inputs)]),
        join("join", "pending", "stop"),
        simple("never"),
        outputParameters={"from_parameters": "yes"},
    )


def test_terminate_completed_ends_the_workflow_with_its_output_and_cancels_the_rest():
    wf = start(_fork_with_terminate("COMPLETED", workflowOutput={"result": "early"})).workflow
    stop = by_ref(wf, "stop")
    assert (stop.task_type, stop.status) == ("TERMINATE", TaskStatus.COMPLETED)
    assert stop.output_data == {"result": "early"}
    assert wf.status == WorkflowStatus.COMPLETED
    assert wf.end_time == T0
    # The TERMINATE task's output wins over the definition's outputParameters.
    assert wf.output == {"result": "early"}
    assert wf.reason_for_incompletion == f"Workflow is COMPLETED by TERMINATE task: {stop.task_id}"
    assert by_ref(wf, "pending").status == TaskStatus.CANCELED
    assert by_ref(wf, "join").status == TaskStatus.CANCELED
    assert all(t.reference_task_name != "never" for t in wf.tasks)


@pytest.mark.parametrize("status", ["FAILED", "TERMINATED"])
def test_terminate_failed_or_terminated_ends_the_workflow_so(status):
    wf = start(_fork_with_terminate(status, terminationReason="Early exit in terminate")).workflow
    assert wf.status == WorkflowStatus(status)
    assert wf.reason_for_incompletion == "Early exit in terminate"
    assert by_ref(wf, "stop").status == TaskStatus.COMPLETED
    assert by_ref(wf, "pending").status == TaskStatus.CANCELED


def test_a_workflow_output_that_is_not_a_map_is_wrapped_as_output():
    wf = start(_fork_with_terminate("COMPLETED", workflowOutput="done")).workflow
    assert by_ref(wf, "stop").output_data == {"output": "done"}
    assert wf.output == {"output": "done"}


def test_with_no_workflow_output_the_output_is_empty():
    wf = start(_fork_with_terminate("COMPLETED")).workflow
    assert by_ref(wf, "stop").output_data == {}
    assert wf.output == {}


def test_an_invalid_termination_status_fails_the_task():
    # Validation refuses such a definition; the engine still ends it the way Conductor does.
    definition = WorkflowDef.from_json(
        {
            "name": "wf",
            "tasks": [
                {
                    "name": "stop",
                    "taskReferenceName": "stop",
                    "type": "TERMINATE",
                    "inputParameters": {"terminationStatus": "DONE"},
                }
            ],
        }
    )
    wf = start(definition).workflow
    stop = by_ref(wf, "stop")
    assert stop.status == TaskStatus.FAILED
    assert stop.reason_for_incompletion == "given termination status is not valid"
    assert wf.status == WorkflowStatus.FAILED


# -- LambdaAndTerminateTaskSpec on switch_and_terminate_integration_test.json -----------------


def test_terminate_spec_terminate_task_within_a_switch_branch():
    wf = start(
        fixture("switch_and_terminate_integration_test.json"),
        {"param1": "p1", "param2": "p2", "case": "two"},
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("integration_task_1", TaskStatus.SCHEDULED)]
    assert wf.tasks[0].seq == 1

    wf = complete(wf, "t1", T0 + 1, op="task1 completed")
    assert wf.status == WorkflowStatus.FAILED
    assert len(wf.tasks) == 3
    assert wf.output == {"output": "task1 completed"}
    assert "Workflow is FAILED by TERMINATE task" in (wf.reason_for_incompletion or "")
    assert shape(wf) == [
        ("integration_task_1", TaskStatus.COMPLETED),
        ("SWITCH", TaskStatus.COMPLETED),
        ("TERMINATE", TaskStatus.COMPLETED),
    ]
    assert wf.tasks[0].output_data == {"op": "task1 completed"}
    assert [t.seq for t in wf.tasks] == [1, 2, 3]


def test_terminate_spec_the_other_branch_runs_to_the_end():
    wf = start(
        fixture("switch_and_terminate_integration_test.json"),
        {"param1": "p1", "param2": "p2", "case": "one"},
    ).workflow
    wf = complete(wf, "t1", T0 + 1, op="task1 completed")
    assert shape(wf)[1:] == [
        ("SWITCH", TaskStatus.COMPLETED),
        ("integration_task_2", TaskStatus.SCHEDULED),
    ]
    assert by_ref(wf, "t2").input_data == {"tp21": "p1"}
    wf = complete(wf, "t2", T0 + 2)
    wf = complete(wf, "t3", T0 + 3, op="task3 done")
    assert wf.status == WorkflowStatus.COMPLETED
    assert wf.output == {"o2": "task3 done"}
