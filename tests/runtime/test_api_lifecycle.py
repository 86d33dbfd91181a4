"""Retry, restart, rerun, skip, reset callbacks, decide, remove and the bulk operations,
through the API handler."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.lambda_events import call_api

TWO_STEPS = {
    "name": "two_steps",
    "version": 1,
    "tasks": [
        {"name": "first", "taskReferenceName": "first", "type": "SIMPLE"},
        {"name": "second", "taskReferenceName": "second", "type": "SIMPLE"},
    ],
    "outputParameters": {"second": "${second.output.value}"},
}

FORKED = {
    "name": "forked",
    "version": 1,
    "tasks": [
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [
                [{"name": "left", "taskReferenceName": "left", "type": "SIMPLE"}],
                [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
            ],
        },
        {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["left", "hold"]},
    ],
}

LOOPED = {
    "name": "looped",
    "version": 1,
    "tasks": [
        {
            "name": "loop",
            "taskReferenceName": "loop",
            "type": "DO_WHILE",
            "loopCondition": "$.loop['iteration'] < 2",
            "loopOver": [{"name": "step", "taskReferenceName": "step", "type": "SIMPLE"}],
        }
    ],
}

NOT_RESTARTABLE = {**TWO_STEPS, "name": "once_only", "restartable": False}


@pytest.fixture
def registered(aws):
    for definition in (TWO_STEPS, FORKED, LOOPED, NOT_RESTARTABLE):
        assert call_api("POST", "/api/metadata/workflow", definition).status == 200
    return aws


def _start(name: str, body: dict[str, Any] | None = None) -> str:
    response = call_api("POST", f"/api/workflow/{name}", body or {})
    assert response.status == 200, response.body
    return response.body


def _workflow(workflow_id: str) -> dict[str, Any]:
    response = call_api("GET", f"/api/workflow/{workflow_id}")
    assert response.status == 200, response.body
    return response.json()


def _task(workflow: dict[str, Any], reference: str) -> dict[str, Any]:
    """The latest attempt of `reference`."""
    found = [t for t in workflow["tasks"] if t["referenceTaskName"] == reference]
    assert found, f"no {reference} in {[t['referenceTaskName'] for t in workflow['tasks']]}"
    return found[-1]


def _report(workflow_id: str, reference: str, status: str, output: dict[str, Any] | None = None):
    task = _task(_workflow(workflow_id), reference)
    response = call_api(
        "POST",
        "/api/tasks",
        {
            "workflowInstanceId": workflow_id,
            "taskId": task["taskId"],
            "status": status,
            "outputData": output or {},
            "reasonForIncompletion": "boom" if status.startswith("FAILED") else None,
        },
    )
    assert response.status == 200, response.body
    return task


def _failed_at_second() -> str:
    workflow_id = _start("two_steps")
    _report(workflow_id, "first", "COMPLETED", {"value": 1})
    _report(workflow_id, "second", "FAILED")
    assert _workflow(workflow_id)["status"] == "FAILED"
    return workflow_id


# -- retry ----------------------------------------------------------------------------------


def test_retry_runs_the_failed_task_again_and_the_workflow_completes(registered):
    workflow_id = _failed_at_second()
    failed = _task(_workflow(workflow_id), "second")
    response = call_api("POST", f"/api/workflow/{workflow_id}/retry")
    assert response.status == 204, response.body
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "RUNNING"
    assert "reasonForIncompletion" not in workflow
    assert workflow["lastRetriedTime"] > 0
    attempts = [t for t in workflow["tasks"] if t["referenceTaskName"] == "second"]
    assert [t["status"] for t in attempts] == ["FAILED", "SCHEDULED"]
    assert attempts[0]["retried"] is True
    assert attempts[1]["retryCount"] == 1
    assert attempts[1]["retriedTaskId"] == failed["taskId"]
    assert attempts[1]["taskId"] != failed["taskId"]
    # The first task, which completed, is not run again.
    assert [t["status"] for t in workflow["tasks"] if t["referenceTaskName"] == "first"] == [
        "COMPLETED"
    ]
    _report(workflow_id, "second", "COMPLETED", {"value": 2})
    done = _workflow(workflow_id)
    assert done["status"] == "COMPLETED"
    assert done["output"] == {"second": 2}


def test_retry_of_a_running_workflow_is_refused_as_conductor_does(registered):
    workflow_id = _start("two_steps")
    response = call_api("POST", f"/api/workflow/{workflow_id}/retry")
    assert response.status == 404  # Conductor's NotFoundException for this case
    assert "still running" in response.json()["message"]
    assert _workflow(workflow_id)["status"] == "RUNNING"


def test_retry_of_a_completed_workflow_has_nothing_to_retry(registered):
    workflow_id = _start("two_steps")
    _report(workflow_id, "first", "COMPLETED")
    _report(workflow_id, "second", "COMPLETED")
    response = call_api("POST", f"/api/workflow/{workflow_id}/retry")
    assert response.status == 409
    assert "no retryable tasks" in response.json()["message"]


def test_retry_of_a_terminated_fork_reopens_the_join_and_reruns_canceled_branches(registered):
    workflow_id = _start("forked")
    _report(workflow_id, "left", "COMPLETED")
    assert call_api("DELETE", f"/api/workflow/{workflow_id}").status == 200
    stopped = _workflow(workflow_id)
    assert stopped["status"] == "TERMINATED"
    assert _task(stopped, "hold")["status"] == "CANCELED"
    assert call_api("POST", f"/api/workflow/{workflow_id}/retry").status == 204
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "RUNNING"
    assert _task(workflow, "join")["status"] == "IN_PROGRESS"
    assert _task(workflow, "hold")["status"] == "IN_PROGRESS"  # the WAIT waits again
    assert _task(workflow, "left")["status"] == "COMPLETED"
    _report(workflow_id, "hold", "COMPLETED")
    assert _workflow(workflow_id)["status"] == "COMPLETED"


def test_an_update_to_the_old_attempt_after_a_retry_changes_nothing(registered):
    workflow_id = _failed_at_second()
    old = _task(_workflow(workflow_id), "second")
    assert call_api("POST", f"/api/workflow/{workflow_id}/retry").status == 204
    late = call_api(
        "POST",
        "/api/tasks",
        {"workflowInstanceId": workflow_id, "taskId": old["taskId"], "status": "COMPLETED"},
    )
    assert late.status == 200
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "RUNNING"
    assert _task(workflow, "second")["status"] == "SCHEDULED"


# -- restart --------------------------------------------------------------------------------


def test_restart_runs_the_workflow_from_its_first_task_with_new_task_ids(registered):
    workflow_id = _failed_at_second()
    before = _workflow(workflow_id)
    old_ids = {t["taskId"] for t in before["tasks"]}
    response = call_api("POST", f"/api/workflow/{workflow_id}/restart")
    assert response.status == 204, response.body
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "RUNNING"
    assert [t["referenceTaskName"] for t in workflow["tasks"]] == ["first"]
    assert workflow["tasks"][0]["status"] == "SCHEDULED"
    assert workflow["tasks"][0]["taskId"] not in old_ids
    assert workflow["output"] == {}
    # A task of the old run is gone, and so is anything that would update it.
    gone = call_api("GET", f"/api/tasks/{before['tasks'][0]['taskId']}")
    assert gone.status == 404
    _report(workflow_id, "first", "COMPLETED")
    _report(workflow_id, "second", "COMPLETED", {"value": 3})
    assert _workflow(workflow_id)["output"] == {"second": 3}


def test_restart_of_a_running_workflow_is_409(registered):
    workflow_id = _start("two_steps")
    response = call_api("POST", f"/api/workflow/{workflow_id}/restart")
    assert response.status == 409
    assert "not in terminal state" in response.json()["message"]


def test_restart_of_a_completed_non_restartable_workflow_is_refused(registered):
    workflow_id = _start("once_only")
    _report(workflow_id, "first", "COMPLETED")
    _report(workflow_id, "second", "COMPLETED")
    response = call_api("POST", f"/api/workflow/{workflow_id}/restart")
    assert response.status == 404  # Conductor's NotFoundException for this case
    assert "non-restartable" in response.json()["message"]
    assert _workflow(workflow_id)["status"] == "COMPLETED"


def test_restart_with_the_latest_definition(registered):
    workflow_id = _failed_at_second()
    newer = {**TWO_STEPS, "version": 2, "tasks": TWO_STEPS["tasks"][1:]}
    assert call_api("POST", "/api/metadata/workflow", newer).status == 200
    response = call_api(
        "POST", f"/api/workflow/{workflow_id}/restart", query={"useLatestDefinitions": "true"}
    )
    assert response.status == 204, response.body
    workflow = _workflow(workflow_id)
    assert workflow["workflowVersion"] == 2
    assert [t["referenceTaskName"] for t in workflow["tasks"]] == ["second"]


def test_restart_of_a_terminated_fork_and_loop(registered):
    fork_id = _start("forked")
    assert call_api("DELETE", f"/api/workflow/{fork_id}").status == 200
    assert call_api("POST", f"/api/workflow/{fork_id}/restart").status == 204
    workflow = _workflow(fork_id)
    assert {t["referenceTaskName"]: t["status"] for t in workflow["tasks"]} == {
        "fork": "COMPLETED",
        "left": "SCHEDULED",
        "hold": "IN_PROGRESS",
        "join": "IN_PROGRESS",
    }
    loop_id = _start("looped")
    _report(loop_id, "step__1", "COMPLETED")
    assert call_api("DELETE", f"/api/workflow/{loop_id}").status == 200
    assert call_api("POST", f"/api/workflow/{loop_id}/restart").status == 204
    loop = _workflow(loop_id)
    assert [t["referenceTaskName"] for t in loop["tasks"]] == ["loop", "step__1"]
    _report(loop_id, "step__1", "COMPLETED")
    _report(loop_id, "step__2", "COMPLETED")
    assert _workflow(loop_id)["status"] == "COMPLETED"


# -- rerun ----------------------------------------------------------------------------------


def test_rerun_from_a_task_keeps_what_ran_before_it(registered):
    workflow_id = _failed_at_second()
    before = _workflow(workflow_id)
    first, second = _task(before, "first"), _task(before, "second")
    response = call_api(
        "POST",
        f"/api/workflow/{workflow_id}/rerun",
        {
            "reRunFromWorkflowId": workflow_id,
            "reRunFromTaskId": second["taskId"],
            "taskInput": {"again": True},
            "correlationId": "second-try",
        },
    )
    assert response.status == 200, response.body
    assert response.body == workflow_id
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "RUNNING"
    assert workflow["correlationId"] == "second-try"
    assert [t["referenceTaskName"] for t in workflow["tasks"]] == ["first", "second"]
    assert workflow["tasks"][0]["taskId"] == first["taskId"]
    assert workflow["tasks"][0]["status"] == "COMPLETED"
    assert workflow["tasks"][1]["status"] == "SCHEDULED"
    assert workflow["tasks"][1]["inputData"] == {"again": True}
    _report(workflow_id, "second", "COMPLETED", {"value": 9})
    assert _workflow(workflow_id)["status"] == "COMPLETED"


def test_rerun_without_a_task_starts_over_with_new_input(registered):
    workflow_id = _failed_at_second()
    response = call_api(
        "POST", f"/api/workflow/{workflow_id}/rerun", {"workflowInput": {"fresh": 1}}
    )
    assert response.status == 200, response.body
    workflow = _workflow(workflow_id)
    assert workflow["input"] == {"fresh": 1}
    assert [t["referenceTaskName"] for t in workflow["tasks"]] == ["first"]


def test_rerun_inside_a_loop_and_of_a_wait(registered):
    loop_id = _start("looped")
    _report(loop_id, "step__1", "COMPLETED")
    _report(loop_id, "step__2", "FAILED")
    assert _workflow(loop_id)["status"] == "FAILED"
    step = _task(_workflow(loop_id), "step__2")
    response = call_api(
        "POST", f"/api/workflow/{loop_id}/rerun", {"reRunFromTaskId": step["taskId"]}
    )
    assert response.status == 200, response.body
    loop = _workflow(loop_id)
    assert _task(loop, "loop")["status"] == "IN_PROGRESS"
    assert _task(loop, "step__2")["status"] == "SCHEDULED"
    _report(loop_id, "step__2", "COMPLETED")
    assert _workflow(loop_id)["status"] == "COMPLETED"

    fork_id = _start("forked")
    assert call_api("DELETE", f"/api/workflow/{fork_id}").status == 200
    hold = _task(_workflow(fork_id), "hold")
    response = call_api(
        "POST", f"/api/workflow/{fork_id}/rerun", {"reRunFromTaskId": hold["taskId"]}
    )
    assert response.status == 200, response.body
    fork = _workflow(fork_id)
    assert _task(fork, "hold")["status"] == "IN_PROGRESS"


def test_rerun_of_an_unknown_task_is_400_and_of_a_running_workflow_409(registered):
    workflow_id = _failed_at_second()
    unknown = call_api("POST", f"/api/workflow/{workflow_id}/rerun", {"reRunFromTaskId": "nope"})
    assert unknown.status == 400
    assert unknown.json()["message"] == "Task nope not found"
    running = _start("two_steps")
    assert call_api("POST", f"/api/workflow/{running}/rerun", {}).status == 409


# -- skip, reset callbacks, decide ----------------------------------------------------------


def test_skip_a_task_the_workflow_has_not_reached(registered):
    workflow_id = _start("two_steps")
    response = call_api(
        "PUT",
        f"/api/workflow/{workflow_id}/skiptask/second",
        {"taskInput": {"i": 1}, "taskOutput": {"value": "skipped"}},
    )
    assert response.status == 200, response.body
    skipped = _task(_workflow(workflow_id), "second")
    assert skipped["status"] == "SKIPPED"
    assert skipped["outputData"] == {"value": "skipped"}
    _report(workflow_id, "first", "COMPLETED")
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "COMPLETED"
    assert workflow["output"] == {"second": "skipped"}


def test_skip_is_refused_for_a_task_already_scheduled_or_unknown(registered):
    workflow_id = _start("two_steps")
    assert call_api("PUT", f"/api/workflow/{workflow_id}/skiptask/first").status == 409
    assert call_api("PUT", f"/api/workflow/{workflow_id}/skiptask/nope").status == 409


def test_reset_callbacks_makes_a_delayed_task_pollable_now(registered):
    workflow_id = _start("two_steps")
    task = call_api("GET", "/api/tasks/poll/first").json()
    response = call_api(
        "POST",
        "/api/tasks",
        {
            "workflowInstanceId": workflow_id,
            "taskId": task["taskId"],
            "status": "IN_PROGRESS",
            "callbackAfterSeconds": 3600,
        },
    )
    assert response.status == 200
    assert call_api("GET", "/api/tasks/poll/first").status == 204
    assert call_api("POST", f"/api/workflow/{workflow_id}/resetcallbacks").status == 204
    assert call_api("GET", "/api/tasks/poll/first").json()["taskId"] == task["taskId"]


def test_decide_answers_200_and_404_for_an_unknown_workflow(registered):
    workflow_id = _start("two_steps")
    assert call_api("PUT", f"/api/workflow/decide/{workflow_id}").status == 200
    assert call_api("PUT", "/api/workflow/decide/nope").status == 404


# -- terminate, remove ----------------------------------------------------------------------


def test_terminate_of_a_failed_workflow_makes_it_terminated_and_of_a_completed_one_409(
    registered,
):
    workflow_id = _failed_at_second()
    assert call_api("DELETE", f"/api/workflow/{workflow_id}").status == 200
    assert _workflow(workflow_id)["status"] == "TERMINATED"
    assert call_api("DELETE", f"/api/workflow/{workflow_id}").status == 200  # already: no-op
    done = _start("two_steps")
    _report(done, "first", "COMPLETED")
    _report(done, "second", "COMPLETED")
    refused = call_api("DELETE", f"/api/workflow/{done}")
    assert refused.status == 409
    assert refused.json()["message"] == "Cannot terminate a COMPLETED workflow."


def test_remove_deletes_the_workflow_and_its_tasks(registered):
    workflow_id = _failed_at_second()
    task_id = _task(_workflow(workflow_id), "first")["taskId"]
    assert call_api("DELETE", f"/api/workflow/{workflow_id}/remove").status == 200
    assert call_api("GET", f"/api/workflow/{workflow_id}").status == 404
    assert call_api("GET", f"/api/tasks/{task_id}").status == 404
    assert call_api("DELETE", f"/api/workflow/{workflow_id}/remove").status == 404


def test_terminate_remove_of_a_running_workflow(registered):
    workflow_id = _start("two_steps")
    response = call_api(
        "DELETE", f"/api/workflow/{workflow_id}/terminate-remove", query={"reason": "done"}
    )
    assert response.status == 200, response.body
    assert call_api("GET", f"/api/workflow/{workflow_id}").status == 404
    assert call_api("GET", "/api/tasks/poll/first").status == 204


# -- reads ----------------------------------------------------------------------------------


def test_a_workflows_tasks_paged_and_by_status(registered):
    workflow_id = _failed_at_second()
    page = call_api("GET", f"/api/workflow/{workflow_id}/tasks", query={"count": "1"}).json()
    assert page["totalHits"] == 2
    assert [t["referenceTaskName"] for t in page["results"]] == ["first"]
    failed = call_api(
        "GET", f"/api/workflow/{workflow_id}/tasks", query={"status": "failed"}
    ).json()
    assert [t["referenceTaskName"] for t in failed["results"]] == ["second"]
    beyond = call_api("GET", f"/api/workflow/{workflow_id}/tasks", query={"start": "5"}).json()
    assert beyond == {"totalHits": 2, "results": []}


def test_running_workflows_by_name_version_and_start_time(registered):
    first, second = _start("two_steps"), _start("two_steps")
    ended = _failed_at_second()
    running = call_api("GET", "/api/workflow/running/two_steps").json()
    assert set(running) == {first, second}
    assert ended not in running
    assert call_api("GET", "/api/workflow/running/two_steps", query={"version": "2"}).json() == []
    created = _workflow(second)["createTime"]
    later = call_api(
        "GET", "/api/workflow/running/two_steps", query={"startTime": str(created + 1)}
    ).json()
    assert second not in later
    # A restarted workflow is running again; a terminated one is not.
    assert call_api("POST", f"/api/workflow/{ended}/restart").status == 204
    assert call_api("DELETE", f"/api/workflow/{first}").status == 200
    assert set(call_api("GET", "/api/workflow/running/two_steps").json()) == {second, ended}
    # A paused workflow has not ended: Conductor lists it among the running.
    assert call_api("PUT", f"/api/workflow/{second}/pause").status == 200
    assert set(call_api("GET", "/api/workflow/running/two_steps").json()) == {second, ended}


def test_correlated_for_many_ids(registered):
    a = _start("two_steps", None)
    call_api("POST", "/api/workflow/two_steps", {}, {"correlationId": "c-1"})
    response = call_api("POST", "/api/workflow/two_steps/correlated", ["c-1", "c-2"])
    assert response.status == 200, response.body
    found = response.json()
    assert set(found) == {"c-1", "c-2"}
    assert len(found["c-1"]) == 1 and found["c-2"] == []
    assert a not in {w["workflowId"] for w in found["c-1"]}


# -- bulk -----------------------------------------------------------------------------------


def test_bulk_operations_report_each_id_and_unknown_ids_as_errors(registered):
    first, second = _start("two_steps"), _start("two_steps")
    ids = [first, "unknown-id", second]
    paused = call_api("PUT", "/api/workflow/bulk/pause", ids).json()
    assert paused["bulkSuccessfulResults"] == [first, second]
    assert set(paused["bulkErrorResults"]) == {"unknown-id"}
    assert "No such workflow" in paused["bulkErrorResults"]["unknown-id"]
    assert _workflow(first)["status"] == "PAUSED"
    resumed = call_api("PUT", "/api/workflow/bulk/resume", ids).json()
    assert resumed["bulkSuccessfulResults"] == [first, second]
    terminated = call_api(
        "POST", "/api/workflow/bulk/terminate", [first, "unknown-id"], {"reason": "bulk"}
    ).json()
    assert terminated["bulkSuccessfulResults"] == [first]
    assert _workflow(first)["reasonForIncompletion"] == "bulk"
    retried = call_api("POST", "/api/workflow/bulk/retry", [first, second]).json()
    assert retried["bulkSuccessfulResults"] == [first]
    assert "still running" in retried["bulkErrorResults"][second]
    running = call_api("POST", "/api/workflow/bulk/restart", [first]).json()
    assert "not in terminal state" in running["bulkErrorResults"][first]
    assert call_api("POST", "/api/workflow/bulk/terminate", [first]).status == 200
    restarted = call_api("POST", "/api/workflow/bulk/restart", [first]).json()
    assert restarted["bulkSuccessfulResults"] == [first]
    searched = call_api("POST", "/api/workflow/bulk/search", [first, "unknown-id"]).json()
    assert [w["workflowId"] for w in searched["bulkSuccessfulResults"]] == [first]
    assert set(searched["bulkErrorResults"]) == {"unknown-id"}
    removed = call_api("DELETE", "/api/workflow/bulk/terminate-remove", [first, second]).json()
    assert removed["bulkSuccessfulResults"] == [first, second]
    assert call_api("GET", f"/api/workflow/{second}").status == 404
    again = call_api("DELETE", "/api/workflow/bulk/remove", [first]).json()
    assert set(again["bulkErrorResults"]) == {first}


def test_bulk_refuses_more_than_conductors_limit_and_a_body_that_is_not_ids(registered):
    too_many = call_api("PUT", "/api/workflow/bulk/pause", [f"id-{i}" for i in range(1001)])
    assert too_many.status == 400
    assert "Cannot process more than 1000 workflows" in too_many.json()["message"]
    assert call_api("PUT", "/api/workflow/bulk/pause", {"ids": []}).status == 400


# -- queue admin and what does not apply -----------------------------------------------------

WAITING = {
    "name": "waiting",
    "version": 1,
    "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
    "outputParameters": {"by": "${hold.output.by}"},
}


def test_queue_update_completes_a_wait_by_reference_and_by_id(registered):
    assert call_api("POST", "/api/metadata/workflow", WAITING).status == 200
    by_reference = _start("waiting")
    response = call_api("POST", f"/api/queue/update/{by_reference}/hold/COMPLETED", {"by": "queue"})
    assert response.status == 200, response.body
    done = _workflow(by_reference)
    assert done["status"] == "COMPLETED"
    assert done["output"] == {"by": "queue"}
    by_id = _start("waiting")
    hold = _task(_workflow(by_id), "hold")
    response = call_api("POST", f"/api/queue/update/{by_id}/task/{hold['taskId']}/FAILED", {})
    assert response.status == 200, response.body
    assert _workflow(by_id)["status"] == "FAILED"


def test_queue_update_with_a_status_conductor_has_no_queue_for_is_400(registered):
    assert call_api("POST", "/api/metadata/workflow", WAITING).status == 200
    workflow_id = _start("waiting")
    response = call_api("POST", f"/api/queue/update/{workflow_id}/hold/IN_PROGRESS", {})
    assert response.status == 400
    assert response.json()["message"] == "There is no queue for handling IN_PROGRESS status"
    assert _task(_workflow(workflow_id), "hold")["status"] == "IN_PROGRESS"


def test_an_operation_that_cannot_apply_says_why(registered):
    response = call_api(
        "GET", "/api/workflow/externalstoragelocation", query={"path": "x", "operation": "READ"}
    )
    assert response.status == 501
    assert "does not apply to Baton" in response.json()["message"]
    assert "inline" in response.json()["message"]


# -- synchronous execution --------------------------------------------------------------------

QUICK = {
    "name": "quick",
    "version": 1,
    "tasks": [
        {
            "name": "double",
            "taskReferenceName": "double",
            "type": "INLINE",
            "inputParameters": {
                "evaluatorType": "javascript",
                "expression": "$.n * 2",
                "n": "${workflow.input.n}",
            },
        }
    ],
    "outputParameters": {"doubled": "${double.output.result}"},
}


def test_execute_answers_the_ended_workflows_run(registered):
    assert call_api("POST", "/api/metadata/workflow", QUICK).status == 200
    response = call_api(
        "POST", "/api/workflow/execute/quick/1", {"input": {"n": 21}}, {"requestId": "r-1"}
    )
    assert response.status == 200, response.body
    run = response.json()
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"doubled": 42}
    assert run["requestId"] == "r-1"
    assert _workflow(run["workflowId"])["status"] == "COMPLETED"


def test_execute_answers_a_running_workflow_when_it_reaches_the_task_or_the_time_is_up(
    registered,
):
    assert call_api("POST", "/api/metadata/workflow", WAITING).status == 200
    reached = call_api(
        "POST", "/api/workflow/execute/waiting/1", {}, {"waitUntilTaskRef": "hold"}
    ).json()
    assert reached["status"] == "RUNNING"
    assert [t["status"] for t in reached["tasks"]] == ["IN_PROGRESS"]
    timed = call_api("POST", "/api/workflow/execute/waiting/1", {}, {"waitForSeconds": "0"})
    assert timed.status == 200
    assert timed.json()["status"] == "RUNNING"


def test_execute_refuses_modes_baton_does_not_have(registered):
    assert call_api("POST", "/api/metadata/workflow", QUICK).status == 200
    refused = call_api("POST", "/api/workflow/execute/quick/1", {}, {"consistency": "SYNCHRONOUS"})
    assert refused.status == 400
    assert call_api("POST", "/api/workflow/execute/quick/x", {}).status == 400
    assert call_api("POST", "/api/workflow/execute/nope/1", {}).status == 404


def test_signal_completes_the_waiting_wait_and_sync_answers_the_run(registered):
    assert call_api("POST", "/api/metadata/workflow", WAITING).status == 200
    workflow_id = _start("waiting")
    response = call_api("POST", f"/api/tasks/{workflow_id}/COMPLETED/signal/sync", {"by": "s"})
    assert response.status == 200, response.body
    run = response.json()
    assert run["responseType"] == "TARGET_WORKFLOW"
    assert run["status"] == "COMPLETED"
    assert run["output"] == {"by": "s"}
    assert run["signalTimeout"] is False
    # Nothing is waiting any more: the synchronous signal is a 404, as in Conductor.
    again = call_api("POST", f"/api/tasks/{workflow_id}/COMPLETED/signal/sync", {})
    assert again.status == 404
    other = _start("waiting")
    assert call_api("POST", f"/api/tasks/{other}/FAILED/signal", {}).status == 200
    assert _workflow(other)["status"] == "FAILED"


def test_update_by_reference_sync_answers_the_workflow(registered):
    workflow_id = _start("two_steps")
    response = call_api("POST", f"/api/tasks/{workflow_id}/first/COMPLETED/sync", {"v": 1})
    assert response.status == 200, response.body
    workflow = response.json()
    assert workflow["workflowId"] == workflow_id
    assert [t["status"] for t in workflow["tasks"]] == ["COMPLETED", "SCHEDULED"]
    missing = call_api("POST", f"/api/tasks/{workflow_id}/first/COMPLETED/sync", {})
    assert missing.status == 404
    assert "Found no running task first" in missing.json()["message"]
