"""INLINE, JSON_JQ_TRANSFORM, LAMBDA and NOOP through the API handler, under moto."""

from __future__ import annotations

import copy

import pytest

from tests.runtime.lambda_events import call_api

# Conductor's quickstart shape: a script computes, a jq program classifies, a SWITCH routes.
ORDER_FLOW = {
    "name": "order_flow",
    "version": 1,
    "tasks": [
        {
            "name": "compute_total",
            "taskReferenceName": "compute_total",
            "type": "INLINE",
            "inputParameters": {
                "evaluatorType": "graaljs",
                "items": "${workflow.input.items}",
                "expression": (
                    "(function () { var total = 0;"
                    " $.items.forEach(function (i) { total += i.price * i.qty; });"
                    " return {total: total, count: $.items.length}; })()"
                ),
            },
        },
        {
            "name": "classify",
            "taskReferenceName": "classify",
            "type": "JSON_JQ_TRANSFORM",
            "inputParameters": {
                "order": "${compute_total.output.result}",
                "queryExpression": 'if .order.total > 100 then "large" else "small" end',
            },
        },
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "size",
            "inputParameters": {"size": "${classify.output.result}"},
            "decisionCases": {
                "large": [
                    {"name": "review_order", "taskReferenceName": "review", "type": "SIMPLE"}
                ],
                "small": [{"name": "auto_approve", "taskReferenceName": "auto", "type": "NOOP"}],
            },
        },
        {
            "name": "receipt",
            "taskReferenceName": "receipt",
            "type": "LAMBDA",
            "inputParameters": {
                "total": "${compute_total.output.result.total}",
                "scriptExpression": "return 'total ' + $.total;",
            },
        },
    ],
    "outputParameters": {
        "size": "${classify.output.result}",
        "receipt": "${receipt.output.result}",
    },
}


@pytest.fixture
def registered(aws):
    assert call_api("POST", "/api/metadata/workflow", ORDER_FLOW).status == 200
    return aws


def _start(items) -> str:
    response = call_api("POST", "/api/workflow/order_flow", {"items": items})
    assert response.status == 200, response.body
    return response.body


def _tasks(workflow_id: str) -> dict[str, dict]:
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    return {t["referenceTaskName"]: t for t in workflow["tasks"]}


def test_a_small_order_completes_in_the_request_that_starts_it(registered):
    workflow_id = _start([{"price": 20, "qty": 2}])
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    assert workflow["status"] == "COMPLETED"
    assert workflow["output"] == {"size": "small", "receipt": "total 40"}
    tasks = {t["referenceTaskName"]: t for t in workflow["tasks"]}
    assert tasks["compute_total"]["outputData"] == {"result": {"total": 40, "count": 1}}
    assert tasks["classify"]["outputData"] == {"result": "small", "resultList": ["small"]}
    assert [t["taskType"] for t in workflow["tasks"]] == [
        "INLINE",
        "JSON_JQ_TRANSFORM",
        "SWITCH",
        "NOOP",
        "LAMBDA",
    ]
    assert all(t["status"] == "COMPLETED" for t in workflow["tasks"])


def test_a_large_order_waits_for_its_review_then_completes(registered):
    workflow_id = _start([{"price": 60, "qty": 2}, {"price": 5, "qty": 1}])
    assert _tasks(workflow_id)["classify"]["outputData"]["result"] == "large"
    polled = call_api("GET", "/api/tasks/poll/review_order", query={"workerid": "w1"})
    assert polled.status == 200
    review = polled.json()
    result = {
        "workflowInstanceId": workflow_id,
        "taskId": review["taskId"],
        "status": "COMPLETED",
        "outputData": {"approved": True},
    }
    assert call_api("POST", "/api/tasks", result).status == 200
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    assert workflow["status"] == "COMPLETED"
    assert workflow["output"] == {"size": "large", "receipt": "total 125"}


def test_a_registered_task_def_retries_a_failed_transform(aws):
    task_def = {"name": "classify", "retryCount": 1, "retryDelaySeconds": 0}
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    flow = copy.deepcopy(ORDER_FLOW)
    flow["tasks"][1]["inputParameters"]["queryExpression"] = ".order.total.missing"
    assert call_api("POST", "/api/metadata/workflow", flow).status == 200
    workflow_id = _start([{"price": 1, "qty": 1}])
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    attempts = [t for t in workflow["tasks"] if t["referenceTaskName"] == "classify"]
    assert [(t["status"], t["retryCount"]) for t in attempts] == [("FAILED", 0), ("FAILED", 1)]
    assert attempts[-1]["reasonForIncompletion"] == 'Cannot index number with string "missing"'
    assert workflow["status"] == "FAILED"


def test_an_evaluator_baton_lacks_is_refused_at_registration(aws):
    flow = copy.deepcopy(ORDER_FLOW)
    flow["tasks"][0]["inputParameters"]["evaluatorType"] = "python"
    response = call_api("POST", "/api/metadata/workflow", flow)
    assert response.status == 400
    (error,) = response.json()["validationErrors"]
    assert error["path"] == "tasks[0].inputParameters.evaluatorType"
