"""SUB_WORKFLOW, START_WORKFLOW, workflow timeouts and failure workflows through the handlers,
under moto."""

from __future__ import annotations

from typing import Any

from tests.reliability.support import (
    Clock,
    register_workflow,
    start,
    statuses,
    sweep,
    task,
    use_clock,
    workflow,
)
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api

T0 = 1_800_000_000_000


def definition(name: str, *tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "version": 1, "schemaVersion": 2, "tasks": list(tasks), **fields}


def child_with_wait() -> dict[str, Any]:
    return definition(
        "child_wf",
        {"name": "hold", "taskReferenceName": "hold", "type": "WAIT"},
        outputParameters={"got": "${workflow.input.value}", "done": "${hold.output.ok}"},
    )


def parent(child: str = "child_wf", **fields: Any) -> dict[str, Any]:
    return definition(
        "parent_wf",
        {
            "name": "run_child",
            "taskReferenceName": "run_child",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": child},
            "inputParameters": {"value": "${workflow.input.value}"},
        },
        **fields,
    )


def child_of(parent_id: str) -> dict[str, Any]:
    child_id = task(parent_id, "run_child")["subWorkflowId"]
    return workflow(child_id)


def test_a_child_runs_with_its_parents_links_and_its_end_completes_the_parents_task(
    aws: Aws,
) -> None:
    register_workflow(child_with_wait())
    register_workflow(parent())
    response = call_api(
        "POST",
        "/api/workflow",
        {
            "name": "parent_wf",
            "input": {"value": 5},
            "correlationId": "order-1",
            "priority": 7,
            "taskToDomain": {"*": "blue"},
        },
    )
    parent_id = response.body
    run_child = task(parent_id, "run_child")
    assert run_child["status"] == "IN_PROGRESS"
    assert run_child["outputData"] == {"subWorkflowId": run_child["subWorkflowId"]}
    child = child_of(parent_id)
    assert child["parentWorkflowId"] == parent_id
    assert child["parentWorkflowTaskId"] == run_child["taskId"]
    assert (child["correlationId"], child["priority"], child["input"]) == (
        "order-1",
        7,
        {"value": 5},
    )
    # No taskToDomain of its own: the parent's.
    assert child["taskToDomain"] == {"*": "blue"}

    done = call_api("POST", f"/api/tasks/{child['workflowId']}/hold/COMPLETED", {"ok": True})
    assert done.status == 200
    assert workflow(child["workflowId"])["status"] == "COMPLETED"
    finished = task(parent_id, "run_child")
    assert finished["status"] == "COMPLETED"
    assert finished["outputData"] == {
        "subWorkflowId": child["workflowId"],
        "got": 5,
        "done": True,
    }
    assert workflow(parent_id)["status"] == "COMPLETED"


def test_a_failing_child_fails_its_parent_with_the_childs_reason(aws: Aws) -> None:
    register_workflow(
        definition(
            "failing_child",
            {
                "name": "stop",
                "taskReferenceName": "stop",
                "type": "TERMINATE",
                "inputParameters": {"terminationStatus": "FAILED", "terminationReason": "no stock"},
            },
        )
    )
    register_workflow(
        definition("recovery_wf", {"name": "n", "taskReferenceName": "n", "type": "NOOP"})
    )
    register_workflow(parent("failing_child", failureWorkflow="recovery_wf"))
    parent_id = call_api(
        "POST", "/api/workflow", {"name": "parent_wf", "input": {"value": 1}, "correlationId": "c9"}
    ).body
    child_id = task(parent_id, "run_child")["subWorkflowId"]
    assert workflow(child_id)["status"] == "FAILED"
    run_child = task(parent_id, "run_child")
    assert run_child["status"] == "FAILED"
    assert run_child["reasonForIncompletion"] == (
        f"Sub workflow failing_child.1/{child_id} failure reason: no stock"
    )
    failed = workflow(parent_id)
    assert failed["status"] == "FAILED"
    # FailureWorkflowSpec's "task failed in subworkflow": the parent's failure workflow names
    # the SUB_WORKFLOW task as the one that failed.
    recovery = workflow(failed["output"]["conductor.failure_workflow"])
    assert recovery["status"] == "COMPLETED"
    assert recovery["correlationId"] == "c9"
    assert recovery["input"]["workflowId"] == parent_id
    assert recovery["input"]["failureTaskId"] == run_child["taskId"]
    assert recovery["input"]["failureStatus"] == "FAILED"
    assert recovery["input"]["failedWorkflow"]["workflowId"] == parent_id


def test_an_unknown_child_fails_the_task(aws: Aws) -> None:
    register_workflow(parent("no_such_child"))
    parent_id = start("parent_wf", {})
    run_child = task(parent_id, "run_child")
    assert run_child["status"] == "FAILED"
    assert "no_such_child" in run_child["reasonForIncompletion"]
    assert workflow(parent_id)["status"] == "FAILED"


def test_terminating_the_parent_terminates_the_child_and_terminating_a_child_its_parent(
    aws: Aws,
) -> None:
    register_workflow(child_with_wait())
    register_workflow(parent())
    first = start("parent_wf", {})
    assert (
        call_api("DELETE", f"/api/workflow/{first}", None, query={"reason": "cancel"}).status == 200
    )
    child = child_of(first)
    assert child["status"] == "TERMINATED"
    assert (
        child["reasonForIncompletion"] == "Parent workflow has been terminated with reason: cancel"
    )

    second = start("parent_wf", {})
    child_id = task(second, "run_child")["subWorkflowId"]
    assert call_api("DELETE", f"/api/workflow/{child_id}", None).status == 200
    assert task(second, "run_child")["status"] == "CANCELED"
    assert workflow(second)["status"] == "TERMINATED"


def test_start_workflow_completes_with_the_started_workflows_id(aws: Aws) -> None:
    register_workflow(child_with_wait())
    starter = definition(
        "starter_wf",
        {
            "name": "go",
            "taskReferenceName": "go",
            "type": "START_WORKFLOW",
            "inputParameters": {
                "startWorkflow": {"name": "${workflow.input.which}", "input": {"value": 3}}
            },
        },
    )
    register_workflow(starter)
    starter_id = start("starter_wf", {"which": "child_wf"})
    go = task(starter_id, "go")
    assert go["status"] == "COMPLETED"
    started = workflow(go["outputData"]["workflowId"])
    assert (started["workflowName"], started["status"], started["input"]) == (
        "child_wf",
        "RUNNING",
        {"value": 3},
    )
    assert "parentWorkflowId" not in started
    assert workflow(starter_id)["status"] == "COMPLETED"

    refused = start("starter_wf", {"which": "nothing_here"})
    assert task(refused, "go")["status"] == "FAILED"
    assert "nothing_here" in task(refused, "go")["reasonForIncompletion"]


def test_a_workflow_that_times_out_starts_its_failure_workflow(aws: Aws) -> None:
    register_workflow(child_with_wait())
    register_workflow(
        definition(
            "slow_wf",
            {"name": "hold", "taskReferenceName": "hold", "type": "WAIT"},
            timeoutSeconds=60,
            timeoutPolicy="TIME_OUT_WF",
            failureWorkflow="child_wf",
        )
    )
    clock = Clock(T0)
    use_clock(clock)
    slow_id = start("slow_wf", {"value": 9})
    clock.now += 61_000
    sweep()
    slow = workflow(slow_id)
    assert slow["status"] == "TIMED_OUT"
    assert statuses(slow_id)["hold"] == "CANCELED"
    failure = workflow(slow["output"]["conductor.failure_workflow"])
    assert failure["workflowName"] == "child_wf"
    assert failure["input"]["workflowId"] == slow_id
    assert failure["input"]["failureStatus"] == "TIMED_OUT"
    assert failure["input"]["reason"] == slow["reasonForIncompletion"]
    assert failure["input"]["value"] == 9
    assert failure["input"]["failedWorkflow"]["workflowId"] == slow_id
    # Swept again later: still the one failure workflow, nothing restarted.
    clock.now += 120_000
    sweep()
    assert workflow(slow_id)["output"]["conductor.failure_workflow"] == failure["workflowId"]


def test_a_failure_workflow_that_cannot_start_is_named_in_the_output_with_why(aws: Aws) -> None:
    register_workflow(
        definition(
            "doomed_wf",
            {
                "name": "stop",
                "taskReferenceName": "stop",
                "type": "TERMINATE",
                "inputParameters": {"terminationStatus": "FAILED"},
            },
            failureWorkflow="no_such_handler",
        )
    )
    doomed = workflow(start("doomed_wf", {}))
    assert doomed["status"] == "FAILED"
    assert doomed["output"]["conductor.failure_workflow"] == (
        "Error workflow no_such_handler failed to start.  reason: "
        "No such workflow found by name: no_such_handler, version: null"
    )


def test_terminating_by_the_api_starts_no_failure_workflow(aws: Aws) -> None:
    register_workflow(child_with_wait())
    register_workflow(
        definition(
            "stoppable_wf",
            {"name": "hold", "taskReferenceName": "hold", "type": "WAIT"},
            failureWorkflow="child_wf",
        )
    )
    stoppable = start("stoppable_wf", {})
    assert call_api("DELETE", f"/api/workflow/{stoppable}", None).status == 200
    ended = workflow(stoppable)
    assert ended["status"] == "TERMINATED"
    assert "conductor.failure_workflow" not in ended["output"]


def test_a_child_that_ends_at_once_leaves_no_timer_behind_on_its_parents_task(aws: Aws) -> None:
    """The child ends inside its own start, so the parent's task has moved on when its start
    is confirmed: the record is left to the sweep, which clears it (no timer remains for the
    task's timeout, which no longer applies)."""
    from baton import runtime
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    register_workflow(
        definition("quick_child", {"name": "n", "taskReferenceName": "n", "type": "NOOP"})
    )
    timed = parent("quick_child")
    timed["tasks"][0]["taskDefinition"] = {
        "name": "run_child",
        "retryCount": 0,
        "timeoutSeconds": 600,
        "responseTimeoutSeconds": 60,
        "timeoutPolicy": "TIME_OUT_WF",
    }
    register_workflow(timed)
    clock = Clock(T0)
    use_clock(clock)
    parent_id = start("parent_wf", {})
    assert statuses(parent_id) == {"run_child": "COMPLETED", "workflow": "COMPLETED"}
    store = runtime.baton().store
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    sweep()
    assert [e for e in store.due_entries(T0 * 2) if e.workflow_id == parent_id] == []
    assert statuses(parent_id) == {"run_child": "COMPLETED", "workflow": "COMPLETED"}


def _flaky_child(name: str = "flaky_child") -> dict[str, Any]:
    return definition(
        name,
        {"name": "flaky", "taskReferenceName": "flaky", "type": "SIMPLE", "retryCount": 0},
        outputParameters={"answer": "${flaky.output.answer}"},
    )


def _update_by_ref(workflow_id: str, ref: str, status: str, **output: Any) -> None:
    response = call_api("POST", f"/api/tasks/{workflow_id}/{ref}/{status}", output)
    assert response.status == 200, response.body


def test_retry_resuming_subworkflow_tasks_retries_the_child_and_the_parent_waits_again(
    aws: Aws,
) -> None:
    register_workflow(_flaky_child())
    register_workflow(parent("flaky_child"))
    parent_id = call_api("POST", "/api/workflow", {"name": "parent_wf", "input": {}}).body
    child_id = task(parent_id, "run_child")["subWorkflowId"]
    _update_by_ref(child_id, "flaky", "FAILED")
    assert workflow(child_id)["status"] == "FAILED"
    assert workflow(parent_id)["status"] == "FAILED"

    response = call_api(
        "POST", f"/api/workflow/{parent_id}/retry", query={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 204, response.body
    child = workflow(child_id)
    assert child["status"] == "RUNNING"
    assert [t["status"] for t in child["tasks"]] == ["FAILED", "SCHEDULED"]
    resumed = workflow(parent_id)
    assert resumed["status"] == "RUNNING"
    assert resumed.get("reasonForIncompletion") is None
    assert resumed["lastRetriedTime"] > 0
    # The same task waits for the same child again: no new attempt, no second child.
    (run_child,) = resumed["tasks"]
    assert (run_child["status"], run_child["subWorkflowId"]) == ("IN_PROGRESS", child_id)
    assert run_child["retryCount"] == 0
    assert run_child.get("reasonForIncompletion") is None

    _update_by_ref(child_id, "flaky", "COMPLETED", answer=42)
    assert workflow(child_id)["status"] == "COMPLETED"
    done = workflow(parent_id)
    assert done["status"] == "COMPLETED"
    assert task(parent_id, "run_child")["outputData"]["answer"] == 42


def test_retry_resuming_subworkflow_tasks_goes_down_to_the_grandchild(aws: Aws) -> None:
    register_workflow(_flaky_child("grandchild_wf"))
    middle = parent("grandchild_wf")
    middle["name"] = "middle_wf"
    register_workflow(middle)
    register_workflow(parent("middle_wf"))
    top_id = call_api("POST", "/api/workflow", {"name": "parent_wf", "input": {}}).body
    middle_id = task(top_id, "run_child")["subWorkflowId"]
    grandchild_id = task(middle_id, "run_child")["subWorkflowId"]
    _update_by_ref(grandchild_id, "flaky", "FAILED")
    assert [workflow(w)["status"] for w in (grandchild_id, middle_id, top_id)] == ["FAILED"] * 3

    response = call_api(
        "POST", f"/api/workflow/{top_id}/retry", query={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 204, response.body
    assert [workflow(w)["status"] for w in (grandchild_id, middle_id, top_id)] == ["RUNNING"] * 3
    assert task(middle_id, "run_child")["status"] == "IN_PROGRESS"
    assert task(top_id, "run_child")["status"] == "IN_PROGRESS"
    _update_by_ref(grandchild_id, "flaky", "COMPLETED", answer=1)
    assert [workflow(w)["status"] for w in (grandchild_id, middle_id, top_id)] == ["COMPLETED"] * 3


def test_retry_without_resuming_runs_a_new_attempt_with_a_new_child(aws: Aws) -> None:
    register_workflow(_flaky_child())
    register_workflow(parent("flaky_child"))
    parent_id = call_api("POST", "/api/workflow", {"name": "parent_wf", "input": {}}).body
    first_child = task(parent_id, "run_child")["subWorkflowId"]
    _update_by_ref(first_child, "flaky", "FAILED")
    assert call_api("POST", f"/api/workflow/{parent_id}/retry").status == 204
    attempts = workflow(parent_id)["tasks"]
    assert [t["status"] for t in attempts] == ["FAILED", "IN_PROGRESS"]
    assert attempts[1]["subWorkflowId"] != first_child
    assert workflow(first_child)["status"] == "FAILED"


def test_a_retry_cut_short_after_the_child_is_finished_by_a_second_retry(aws: Aws) -> None:
    register_workflow(_flaky_child())
    register_workflow(parent("flaky_child"))
    parent_id = call_api("POST", "/api/workflow", {"name": "parent_wf", "input": {}}).body
    child_id = task(parent_id, "run_child")["subWorkflowId"]
    _update_by_ref(child_id, "flaky", "FAILED")
    # As a crash right after the child's retry leaves them: the child runs, the parent failed.
    assert call_api("POST", f"/api/workflow/{child_id}/retry").status == 204
    assert workflow(parent_id)["status"] == "FAILED"
    response = call_api(
        "POST", f"/api/workflow/{parent_id}/retry", query={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 204, response.body
    # The running child is not retried again; the parent waits for it.
    assert [t["status"] for t in workflow(child_id)["tasks"]] == ["FAILED", "SCHEDULED"]
    assert task(parent_id, "run_child")["status"] == "IN_PROGRESS"
    _update_by_ref(child_id, "flaky", "COMPLETED", answer=5)
    assert workflow(parent_id)["status"] == "COMPLETED"


def test_a_child_that_ended_before_its_parent_was_resumed_is_reported_then(aws: Aws) -> None:
    register_workflow(_flaky_child())
    register_workflow(parent("flaky_child"))
    parent_id = call_api("POST", "/api/workflow", {"name": "parent_wf", "input": {}}).body
    child_id = task(parent_id, "run_child")["subWorkflowId"]
    _update_by_ref(child_id, "flaky", "FAILED")
    assert call_api("POST", f"/api/workflow/{child_id}/retry").status == 204
    _update_by_ref(child_id, "flaky", "COMPLETED", answer=9)
    assert workflow(child_id)["status"] == "COMPLETED"
    assert workflow(parent_id)["status"] == "FAILED"  # its report found the task ended
    response = call_api(
        "POST", f"/api/workflow/{parent_id}/retry", query={"resumeSubworkflowTasks": "true"}
    )
    assert response.status == 204, response.body
    assert workflow(parent_id)["status"] == "COMPLETED"
    assert task(parent_id, "run_child")["outputData"]["answer"] == 9
