"""System tasks end to end over HTTP against `python -m embedded`: a DO_WHILE over items, a
workflow that times out and starts its failure workflow, an HTTP task's response of nearly
2 MB, and a FORK_JOIN_DYNAMIC of 1,000 branches. Each registers its definitions through the
API, starts the workflow and reads it back as a client would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from baton.outbound import MAX_RESPONSE_BODY_BYTES
from tests.e2e.runtime_process import RuntimeProcess, http_json, wait_until
from tests.http.server import Answer, local_server

pytestmark = pytest.mark.slow

# Generous: the runtime shares its two cores with the rest of the suite.
ENDED_TIMEOUT_SECONDS = 120.0
WIDE_FORK_BRANCHES = 1_000


def _register(runtime: RuntimeProcess, definition: dict[str, Any]) -> None:
    status, _, body = http_json("POST", f"{runtime.api_url}/metadata/workflow", definition)
    assert status == 200, body


def _start(runtime: RuntimeProcess, name: str, workflow_input: dict[str, Any]) -> str:
    status, _, workflow_id = http_json("POST", f"{runtime.api_url}/workflow/{name}", workflow_input)
    assert status == 200, workflow_id
    return str(workflow_id)


def _ended(runtime: RuntimeProcess, workflow_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        status, _, workflow = http_json("GET", f"{runtime.api_url}/workflow/{workflow_id}")
        assert status == 200, workflow
        return workflow if workflow["status"] != "RUNNING" else None

    ended_workflow: dict[str, Any] = wait_until(
        ended, timeout=ENDED_TIMEOUT_SECONDS, what=f"workflow {workflow_id} to end", runtime=runtime
    )
    return ended_workflow


def test_a_do_while_over_items_runs_its_body_once_per_item(runtime: RuntimeProcess) -> None:
    _register(
        runtime,
        {
            "name": "e2e_each_item",
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "each",
                    "taskReferenceName": "each",
                    "type": "DO_WHILE",
                    "items": "${workflow.input.names}",
                    "loopOver": [
                        {
                            "name": "greet",
                            "taskReferenceName": "greet",
                            "type": "INLINE",
                            "inputParameters": {
                                "evaluatorType": "graaljs",
                                "name": "${each.output.loopItem}",
                                "index": "${each.output.loopIndex}",
                                "expression": "$.index + ': hello ' + $.name",
                            },
                        }
                    ],
                }
            ],
            "outputParameters": {"iterations": "${each.output.iteration}"},
        },
    )
    workflow = _ended(
        runtime, _start(runtime, "e2e_each_item", {"names": ["ada", "grace", "joan"]})
    )
    assert workflow["status"] == "COMPLETED", workflow
    assert workflow["output"] == {"iterations": 3}
    greetings = {
        t["referenceTaskName"]: t["outputData"]["result"]
        for t in workflow["tasks"]
        if t["taskType"] == "INLINE"
    }
    assert greetings == {
        "greet__1": "0: hello ada",
        "greet__2": "1: hello grace",
        "greet__3": "2: hello joan",
    }


def test_a_workflow_that_times_out_starts_its_failure_workflow(runtime: RuntimeProcess) -> None:
    _register(
        runtime,
        {
            "name": "e2e_cleanup",
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "note",
                    "taskReferenceName": "note",
                    "type": "SET_VARIABLE",
                    "inputParameters": {"failed": "${workflow.input.workflowId}"},
                }
            ],
            "outputParameters": {
                "failedWorkflow": "${workflow.input.workflowId}",
                "failureStatus": "${workflow.input.failureStatus}",
            },
        },
    )
    _register(
        runtime,
        {
            "name": "e2e_too_slow",
            "version": 1,
            "schemaVersion": 2,
            "timeoutSeconds": 1,
            "timeoutPolicy": "TIME_OUT_WF",
            "failureWorkflow": "e2e_cleanup",
            "tasks": [
                {
                    "name": "hold",
                    "taskReferenceName": "hold",
                    "type": "WAIT",
                    "inputParameters": {"duration": "1 hour"},
                }
            ],
        },
    )
    workflow_id = _start(runtime, "e2e_too_slow", {})
    workflow = _ended(runtime, workflow_id)
    assert workflow["status"] == "TIMED_OUT", workflow
    assert [t["status"] for t in workflow["tasks"]] == ["CANCELED"]
    cleanup_id = workflow["output"]["conductor.failure_workflow"]
    cleanup = _ended(runtime, cleanup_id)
    assert cleanup["status"] == "COMPLETED", cleanup
    assert cleanup["workflowName"] == "e2e_cleanup"
    assert cleanup["output"] == {"failedWorkflow": workflow_id, "failureStatus": "TIMED_OUT"}


def test_an_http_task_keeps_a_response_of_nearly_two_megabytes(runtime: RuntimeProcess) -> None:
    rows = [{"row": i, "text": "x" * 200} for i in range(8_500)]
    # Just under the most an HTTP task reads, and far more than a DynamoDB item holds.
    assert 1_500_000 < len(json.dumps({"rows": rows})) < MAX_RESPONSE_BODY_BYTES
    with local_server() as server:
        server.routes["/rows"] = Answer(200, {"rows": rows})
        _register(
            runtime,
            {
                "name": "e2e_big_response",
                "version": 1,
                "schemaVersion": 2,
                "tasks": [
                    {
                        "name": "fetch",
                        "taskReferenceName": "fetch",
                        "type": "HTTP",
                        "inputParameters": {
                            "http_request": {"uri": server.url("/rows"), "method": "GET"}
                        },
                    },
                    {
                        "name": "count",
                        "taskReferenceName": "count",
                        "type": "JSON_JQ_TRANSFORM",
                        "inputParameters": {
                            "rows": "${fetch.output.response.body.rows}",
                            "queryExpression": ".rows | length",
                        },
                    },
                ],
                "outputParameters": {"rows": "${count.output.result}"},
            },
        )
        workflow = _ended(runtime, _start(runtime, "e2e_big_response", {}))
    assert workflow["status"] == "COMPLETED", workflow
    assert workflow["output"] == {"rows": len(rows)}
    fetch = workflow["tasks"][0]
    # The body is more than a DynamoDB item holds: kept in the payload bucket, returned inline.
    assert fetch["outputData"]["response"]["body"] == {"rows": rows}


def test_a_dynamic_fork_of_a_thousand_branches_completes(runtime: RuntimeProcess) -> None:
    _register(
        runtime,
        {
            "name": "e2e_wide_dynamic_fork",
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "fan",
                    "taskReferenceName": "fan",
                    "type": "FORK_JOIN_DYNAMIC",
                    "dynamicForkTasksParam": "tasks",
                    "dynamicForkTasksInputParamName": "inputs",
                    "inputParameters": {
                        "tasks": "${workflow.input.tasks}",
                        "inputs": "${workflow.input.inputs}",
                    },
                },
                {"name": "gather", "taskReferenceName": "gather", "type": "JOIN"},
            ],
        },
    )
    branches = [f"branch_{i}" for i in range(WIDE_FORK_BRANCHES)]
    workflow_input = {
        "tasks": [{"name": ref, "taskReferenceName": ref, "type": "NOOP"} for ref in branches],
        "inputs": {ref: {"index": i} for i, ref in enumerate(branches)},
    }
    workflow = _ended(runtime, _start(runtime, "e2e_wide_dynamic_fork", workflow_input))
    assert workflow["status"] == "COMPLETED", workflow["reasonForIncompletion"]
    branch_tasks = [t for t in workflow["tasks"] if t["referenceTaskName"].startswith("branch_")]
    assert len(branch_tasks) == WIDE_FORK_BRANCHES
    assert {t["status"] for t in branch_tasks} == {"COMPLETED"}
    (gather,) = [t for t in workflow["tasks"] if t["referenceTaskName"] == "gather"]
    assert gather["status"] == "COMPLETED"
    assert sorted(gather["inputData"]["joinOn"]) == sorted(branches)
