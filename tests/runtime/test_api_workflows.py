"""`/api/workflow` and `/api/tasks` through the API handler."""

from __future__ import annotations

import pytest

from tests import seed
from tests.runtime.lambda_events import call_api

WORKER_FLOW = {
    "name": "worker_flow",
    "version": 1,
    "tasks": [
        {
            "name": "prepare",
            "taskReferenceName": "prepare",
            "type": "SIMPLE",
            "inputParameters": {"order": "${workflow.input.order}"},
        },
        {"name": "approval", "taskReferenceName": "approval", "type": "WAIT"},
    ],
    "outputParameters": {
        "prepared": "${prepare.output.done}",
        "approvedBy": "${approval.output.by}",
    },
}


@pytest.fixture
def registered(aws):
    assert call_api("POST", "/api/metadata/workflow", seed.event_testing()).status == 200
    assert call_api("POST", "/api/metadata/workflow", WORKER_FLOW).status == 200
    return aws


def _start(name: str, body=None, query=None) -> str:
    response = call_api("POST", f"/api/workflow/{name}", body if body is not None else {}, query)
    assert response.status == 200, response.body
    return response.body


def test_start_returns_the_id_as_text_and_reads_back(registered):
    workflow_id = _start("event_testing", {"a": 1}, {"correlationId": "order-7"})
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    assert workflow["workflowId"] == workflow_id
    assert workflow["workflowName"] == "event_testing"
    assert workflow["status"] == "RUNNING"
    assert workflow["input"] == {"a": 1}
    assert workflow["correlationId"] == "order-7"
    assert len(workflow["tasks"]) == 4
    without = call_api("GET", f"/api/workflow/{workflow_id}", query={"includeTasks": "false"})
    assert without.json()["tasks"] == []


def test_start_with_a_request_body(registered):
    response = call_api(
        "POST",
        "/api/workflow",
        {
            "name": "event_testing",
            "version": 1,
            "input": {"x": 1},
            "correlationId": "c-1",
            "idempotencyStrategy": "FAIL",
            "taskToDomain": {},
        },
    )
    assert response.status == 200
    assert call_api("GET", f"/api/workflow/{response.body}").json()["input"] == {"x": 1}


def test_start_of_an_unknown_workflow_is_404(registered):
    response = call_api("POST", "/api/workflow/nope", {})
    assert response.status == 404
    assert "No such workflow" in response.json()["message"]


def test_unknown_workflow_id_is_404(registered):
    response = call_api("GET", "/api/workflow/does-not-exist")
    assert response.status == 404
    assert response.json()["message"] == "No such workflow found by id: does-not-exist"


def test_bad_start_requests_are_400(registered):
    assert call_api("POST", "/api/workflow", {"version": 1}).status == 400
    assert call_api("POST", "/api/workflow", {"name": "event_testing", "input": [1]}).status == 400
    assert call_api("POST", "/api/workflow/event_testing", "[1]").status == 400
    assert call_api("POST", "/api/workflow/event_testing", "{oops").status == 400
    # Over the hard limit of a start input: a 413 (see tests/runtime/test_payloads.py).
    big = {"blob": "x" * (5 * 1024 * 1024)}
    response = call_api("POST", "/api/workflow/event_testing", big)
    assert response.status == 413
    assert "limit" in response.json()["message"]


def test_idempotency_key_strategies(registered):
    request = {"name": "event_testing", "idempotencyKey": "order-42"}
    first = call_api("POST", "/api/workflow", {**request, "idempotencyStrategy": "FAIL"}).body
    again = call_api("POST", "/api/workflow", {**request, "idempotencyStrategy": "RETURN_EXISTING"})
    assert again.status == 200
    assert again.body == first
    conflict = call_api("POST", "/api/workflow", {**request, "idempotencyStrategy": "FAIL"})
    assert conflict.status == 409
    assert first in conflict.json()["message"]


def test_correlated(registered):
    ids = {_start("event_testing", {}, {"correlationId": "c-9"}) for _ in range(2)}
    _start("event_testing", {}, {"correlationId": "other"})
    found = call_api("GET", "/api/workflow/event_testing/correlated/c-9").json()
    assert {w["workflowId"] for w in found} == ids


def test_terminate_pause_resume(registered):
    workflow_id = _start("event_testing")
    assert call_api("PUT", f"/api/workflow/{workflow_id}/pause", "{}").status == 200
    assert call_api("GET", f"/api/workflow/{workflow_id}").json()["status"] == "PAUSED"
    assert call_api("PUT", f"/api/workflow/{workflow_id}/resume", "{}").status == 200
    assert call_api("GET", f"/api/workflow/{workflow_id}").json()["status"] == "RUNNING"
    response = call_api("DELETE", f"/api/workflow/{workflow_id}", "{}", {"reason": "bye"})
    assert response.status == 200
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    assert workflow["status"] == "TERMINATED"
    assert workflow["reasonForIncompletion"] == "bye"
    assert {t["status"] for t in workflow["tasks"]} <= {"COMPLETED", "CANCELED"}
    # As Conductor: terminating a TERMINATED workflow again changes nothing.
    again = call_api("DELETE", f"/api/workflow/{workflow_id}", {}, {"reason": "again"})
    assert again.status == 200
    assert call_api("GET", f"/api/workflow/{workflow_id}").json()["reasonForIncompletion"] == "bye"


def test_worker_poll_update_and_complete_by_reference(registered):
    assert call_api("GET", "/api/tasks/poll/prepare").status == 204
    workflow_id = _start("worker_flow", {"order": "o-1"})
    polled = call_api("GET", "/api/tasks/poll/prepare", query={"workerid": "w1"})
    assert polled.status == 200
    task = polled.json()
    assert task["status"] == "IN_PROGRESS"
    assert task["inputData"] == {"order": "o-1"}
    assert task["workerId"] == "w1"
    assert call_api("GET", "/api/tasks/poll/prepare").status == 204  # handed out once
    result = call_api(
        "POST",
        "/api/tasks",
        {
            "workflowInstanceId": workflow_id,
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": {"done": True},
            "workerId": "w1",
        },
    )
    assert result.status == 200
    assert result.body == task["taskId"]
    assert call_api("GET", f"/api/tasks/{task['taskId']}").json()["status"] == "COMPLETED"
    # What Conductor's Python SDK sends for update_task_by_ref_name: the output wrapped.
    by_ref = call_api(
        "POST",
        f"/api/tasks/{workflow_id}/approval/COMPLETED",
        {"by": "ana"},
        {"workerid": "host"},
    )
    assert by_ref.status == 200
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    assert workflow["status"] == "COMPLETED"
    assert workflow["output"] == {"prepared": True, "approvedBy": "ana"}


def test_task_result_errors(registered):
    workflow_id = _start("worker_flow", {"order": "o-1"})
    assert call_api("POST", "/api/tasks", {"taskId": "t"}).status == 400
    bad_status = call_api(
        "POST", "/api/tasks", {"workflowInstanceId": workflow_id, "taskId": "t", "status": "DONE"}
    )
    assert bad_status.status == 400
    missing = call_api(
        "POST",
        "/api/tasks",
        {"workflowInstanceId": workflow_id, "taskId": "nope", "status": "COMPLETED"},
    )
    assert missing.status == 404
    assert call_api("GET", "/api/tasks/nope").status == 404


def test_late_update_to_an_ended_task_changes_nothing(registered):
    workflow_id = _start("worker_flow", {"order": "o-1"})
    task = call_api("GET", "/api/tasks/poll/prepare").json()
    done = {"workflowInstanceId": workflow_id, "taskId": task["taskId"], "status": "COMPLETED"}
    call_api("POST", "/api/tasks", {**done, "outputData": {"done": 1}})
    late = call_api("POST", "/api/tasks", {**done, "status": "FAILED", "outputData": {"done": 2}})
    assert late.status == 200
    stored = call_api("GET", f"/api/tasks/{task['taskId']}").json()
    assert stored["status"] == "COMPLETED"
    assert stored["outputData"] == {"done": 1}


def test_openapi_document_is_served(registered):
    document = call_api("GET", "/api/openapi.json").json()
    assert "/api/workflow/{name}" in document["paths"]
    assert "/api/tasks/poll/{task_type}" in document["paths"]
