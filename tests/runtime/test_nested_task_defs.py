"""A registered TaskDef applies to a worker task nested in a FORK, a SWITCH or a DO_WHILE as it
does at the top level, in every decision after the start (the definition is read back from
the store), through the API handler under moto."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api


def _worker(ref: str) -> dict[str, Any]:
    return {"name": "nested_work", "taskReferenceName": ref, "type": "SIMPLE"}


NESTINGS: dict[str, list[dict[str, Any]]] = {
    "in_fork": [
        {
            "name": "fork",
            "taskReferenceName": "fork",
            "type": "FORK_JOIN",
            "forkTasks": [
                [_worker("work")],
                [{"name": "n", "taskReferenceName": "n", "type": "NOOP"}],
            ],
        },
        {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["work", "n"]},
    ],
    "in_switch": [
        {
            "name": "switch",
            "taskReferenceName": "switch",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "which",
            "inputParameters": {"which": "a"},
            "decisionCases": {"a": [_worker("work")]},
            "defaultCase": [],
        }
    ],
    "in_loop": [
        {
            "name": "loop",
            "taskReferenceName": "loop",
            "type": "DO_WHILE",
            "loopCondition": "false",
            "loopOver": [_worker("work")],
        }
    ],
}


def _fail_the_polled_task() -> None:
    polled = call_api("GET", "/api/tasks/poll/nested_work", query={"workerid": "w"})
    assert polled.status == 200, polled.body
    task = polled.json()
    result = {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "status": "FAILED",
        "reasonForIncompletion": "boom",
    }
    assert call_api("POST", "/api/tasks", result).status == 200


@pytest.mark.parametrize("nesting", sorted(NESTINGS))
def test_a_nested_task_is_retried_as_its_registered_task_def_says(aws: Aws, nesting: str) -> None:
    task_def = {"name": "nested_work", "retryCount": 2, "retryDelaySeconds": 0}
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    name = f"nested_{nesting}"
    definition = {"name": name, "version": 1, "schemaVersion": 2, "tasks": NESTINGS[nesting]}
    assert call_api("POST", "/api/metadata/workflow", definition).status == 200
    workflow_id = str(call_api("POST", f"/api/workflow/{name}", {}).body)

    # Two failures are retried (retryCount 2, the TaskDef's, not the task's default)...
    _fail_the_polled_task()
    _fail_the_polled_task()
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    attempts = [t for t in workflow["tasks"] if t["referenceTaskName"].startswith("work")]
    assert [t["status"] for t in attempts] == ["FAILED", "FAILED", "SCHEDULED"]
    assert workflow["status"] == "RUNNING"
    stored = [
        t
        for t in workflow["workflowDefinition"]["tasks"][0].get("forkTasks", [[]])[0]
        + workflow["workflowDefinition"]["tasks"][0].get("decisionCases", {}).get("a", [])
        + workflow["workflowDefinition"]["tasks"][0].get("loopOver", [])
        if t["name"] == "nested_work"
    ]
    assert stored[0]["taskDefinition"]["retryCount"] == 2
    # ...and the third ends the workflow.
    _fail_the_polled_task()
    assert call_api("GET", f"/api/workflow/{workflow_id}").json()["status"] == "FAILED"
