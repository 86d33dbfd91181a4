"""`POST /api/workflow/test`: a workflow run in memory on mocked outputs, through the API
handler under moto; and that nothing of the run is stored."""

from __future__ import annotations

from typing import Any

import boto3

from tests.reliability.support import register_workflow
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api


def _test(body: dict[str, Any]) -> dict[str, Any]:
    response = call_api("POST", "/api/workflow/test", body)
    assert response.status == 200, response.body
    return dict(response.json())


def _refused(body: dict[str, Any]) -> str:
    response = call_api("POST", "/api/workflow/test", body)
    assert response.status == 400, response.body
    return str(response.json()["message"])


def _by_reference(workflow: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for task in workflow["tasks"]:
        found.setdefault(task["referenceTaskName"], []).append(task)
    return found


ORDER = {
    "name": "test_run_order",
    "version": 1,
    "tasks": [
        {
            "name": "charge",
            "taskReferenceName": "charge_ref",
            "type": "SIMPLE",
            "taskDefinition": {"name": "charge", "retryCount": 1, "retryDelaySeconds": 60},
        },
        {
            "name": "route",
            "taskReferenceName": "route_ref",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "paid",
            "inputParameters": {"paid": "${charge_ref.output.paid}"},
            "decisionCases": {
                "yes": [
                    {
                        "name": "approve",
                        "taskReferenceName": "approve_ref",
                        "type": "HUMAN",
                    },
                    {
                        "name": "notify",
                        "taskReferenceName": "notify_ref",
                        "type": "HTTP",
                        "inputParameters": {
                            "http_request": {"uri": "https://example.invalid/n", "method": "POST"}
                        },
                    },
                ]
            },
            "defaultCase": [
                {
                    "name": "stop",
                    "taskReferenceName": "stop_ref",
                    "type": "TERMINATE",
                    "inputParameters": {"terminationStatus": "FAILED"},
                }
            ],
        },
        {
            "name": "pause",
            "taskReferenceName": "pause_ref",
            "type": "WAIT",
            "inputParameters": {"duration": "2 hours"},
        },
    ],
    "outputParameters": {"charged": "${charge_ref.output.paid}"},
}


def test_mocks_drive_the_run_to_its_end_and_nothing_is_stored(aws: Aws) -> None:
    workflow = _test(
        {
            "name": "test_run_order",
            "workflowDef": ORDER,
            "input": {"amount": 5},
            "correlationId": "c-1",
            "taskRefToMockOutput": {
                # The first attempt fails; the retry (per the TaskDef) takes the second mock.
                "charge_ref": [
                    {"status": "FAILED", "output": {"error": "card declined"}},
                    {"status": "COMPLETED", "output": {"paid": "yes"}, "executionTime": 1500},
                ],
                "approve_ref": [{"status": "COMPLETED", "output": {"by": "ann"}}],
                "notify_ref": [
                    {"status": "COMPLETED", "output": {"response": {"statusCode": 200}}}
                ],
            },
        }
    )

    assert workflow["status"] == "COMPLETED", workflow.get("reasonForIncompletion")
    assert workflow["output"] == {"charged": "yes"}
    assert workflow["correlationId"] == "c-1"
    tasks = _by_reference(workflow)
    assert [t["status"] for t in tasks["charge_ref"]] == ["FAILED", "COMPLETED"]
    assert tasks["charge_ref"][1]["outputData"] == {"paid": "yes"}
    assert tasks["approve_ref"][0]["outputData"] == {"by": "ann"}
    assert tasks["notify_ref"][0]["status"] == "COMPLETED"
    # The WAIT without a mock ended when its two hours came, on the run's own clock.
    (pause,) = tasks["pause_ref"]
    assert pause["status"] == "COMPLETED"
    assert pause["endTime"] - pause["scheduledTime"] >= 2 * 3600 * 1000
    assert "stop_ref" not in tasks

    # Nothing was stored: the id is no workflow's, no table holds an item of the run.
    assert call_api("GET", f"/api/workflow/{workflow['workflowId']}").status == 404
    dynamodb = boto3.client("dynamodb")
    for table in dynamodb.list_tables()["TableNames"]:
        items = dynamodb.scan(TableName=table)["Items"]
        assert not any(workflow["workflowId"] in str(item) for item in items), table


def test_the_run_stops_at_a_task_with_no_mock_left(aws: Aws) -> None:
    workflow = _test(
        {
            "name": "test_run_order",
            "workflowDef": ORDER,
            "taskRefToMockOutput": {
                "charge_ref": [{"status": "COMPLETED", "output": {"paid": "yes"}}],
                "notify_ref": [{"status": "COMPLETED"}],
            },
        }
    )

    assert workflow["status"] == "RUNNING"
    tasks = _by_reference(workflow)
    assert tasks["approve_ref"][0]["status"] == "IN_PROGRESS"
    assert "notify_ref" not in tasks


def test_an_operator_branch_runs_as_it_always_does(aws: Aws) -> None:
    workflow = _test(
        {
            "name": "test_run_order",
            "workflowDef": ORDER,
            "taskRefToMockOutput": {
                "charge_ref": [{"status": "COMPLETED", "output": {"paid": "no"}}],
                "notify_ref": [{"status": "COMPLETED"}],
            },
        }
    )

    assert workflow["status"] == "FAILED"
    assert _by_reference(workflow)["stop_ref"][0]["status"] == "COMPLETED"


def test_a_registered_definition_and_a_sub_workflow_test_request(aws: Aws) -> None:
    register_workflow(
        {
            "name": "test_run_child",
            "version": 1,
            "tasks": [{"name": "pack", "taskReferenceName": "pack_ref", "type": "SIMPLE"}],
            "outputParameters": {"box": "${pack_ref.output.box}"},
        }
    )
    register_workflow(
        {
            "name": "test_run_parent",
            "version": 1,
            "tasks": [
                {
                    "name": "child",
                    "taskReferenceName": "child_ref",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {"name": "test_run_child", "version": 1},
                }
            ],
            "outputParameters": {"box": "${child_ref.output.box}"},
        }
    )

    workflow = _test(
        {
            "name": "test_run_parent",
            "version": 1,
            "subWorkflowTestRequest": {
                "child_ref": {
                    "name": "test_run_child",
                    "taskRefToMockOutput": {
                        "pack_ref": [{"status": "COMPLETED", "output": {"box": "b-7"}}]
                    },
                }
            },
        }
    )

    assert workflow["status"] == "COMPLETED"
    assert workflow["output"] == {"box": "b-7"}
    (child_task,) = workflow["tasks"]
    assert child_task["status"] == "COMPLETED"
    assert call_api("GET", f"/api/workflow/{child_task['subWorkflowId']}").status == 404


def test_what_cannot_run_in_memory_or_is_malformed_is_refused(aws: Aws) -> None:
    # An HTTP task with no mock: the run calls nothing, so it cannot stand in for it.
    message = _refused({"name": "test_run_order", "workflowDef": ORDER})
    assert "notify_ref (HTTP) has no mock" in message

    bad_status = {"charge_ref": [{"status": "SKIPPED"}], "notify_ref": [{"status": "COMPLETED"}]}
    message = _refused(
        {"name": "test_run_order", "workflowDef": ORDER, "taskRefToMockOutput": bad_status}
    )
    assert "taskRefToMockOutput.charge_ref[0].status must be one of" in message
    assert "must be a list" in _refused(
        {"name": "test_run_order", "workflowDef": ORDER, "taskRefToMockOutput": {"a": {}}}
    )
    unknown = call_api("POST", "/api/workflow/test", {"name": "no_such_workflow"})
    assert unknown.status == 404, unknown.body


def test_a_loop_and_a_fork_take_their_mocks_by_reference(aws: Aws) -> None:
    definition = {
        "name": "test_run_loop",
        "version": 1,
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop_ref",
                "type": "DO_WHILE",
                "loopCondition": "$.loop_ref['iteration'] < 3",
                "loopOver": [{"name": "step", "taskReferenceName": "step_ref", "type": "SIMPLE"}],
            },
            {
                "name": "fork",
                "taskReferenceName": "fork_ref",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": "left", "taskReferenceName": "left_ref", "type": "SIMPLE"}],
                    [{"name": "right", "taskReferenceName": "right_ref", "type": "SIMPLE"}],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join_ref",
                "type": "JOIN",
                "joinOn": ["left_ref", "right_ref"],
            },
        ],
        "outputParameters": {"right": "${right_ref.output.side}"},
    }
    workflow = _test(
        {
            "name": "test_run_loop",
            "workflowDef": definition,
            "taskRefToMockOutput": {
                # An iteration's own reference first, else the task's.
                "step_ref__2": [{"status": "COMPLETED", "output": {"n": "second"}}],
                "step_ref": [
                    {"status": "COMPLETED", "output": {"n": "first"}},
                    {"status": "COMPLETED", "output": {"n": "third"}},
                ],
                "left_ref": [{"status": "COMPLETED"}],
                "right_ref": [{"status": "COMPLETED", "output": {"side": "r"}}],
            },
        }
    )

    assert workflow["status"] == "COMPLETED", workflow.get("reasonForIncompletion")
    steps = [t for t in workflow["tasks"] if t["referenceTaskName"].startswith("step_ref")]
    assert [t["outputData"]["n"] for t in steps] == ["first", "second", "third"]
    assert workflow["output"] == {"right": "r"}


def test_an_event_task_completes_and_sends_nothing(aws: Aws) -> None:
    definition = {
        "name": "test_run_event",
        "version": 1,
        "tasks": [
            {"name": "tell", "taskReferenceName": "tell_ref", "type": "EVENT", "sink": "sqs:orders"}
        ],
    }
    workflow = _test({"name": "test_run_event", "workflowDef": definition})

    assert workflow["status"] == "COMPLETED"
    assert workflow["tasks"][0]["outputData"]["event_produced"] == "sqs:orders"
    sent = aws.sqs.receive_message(QueueUrl=aws.queue_urls["orders"], WaitTimeSeconds=0)
    assert not sent.get("Messages")


def test_a_task_without_a_mock_stops_the_clock_too(aws: Aws) -> None:
    definition = {
        "name": "test_run_stop",
        "version": 1,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork_ref",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": "work", "taskReferenceName": "work_ref", "type": "SIMPLE"}],
                    [
                        {
                            "name": "nap",
                            "taskReferenceName": "nap_ref",
                            "type": "WAIT",
                            "inputParameters": {"duration": "1 hour"},
                        }
                    ],
                ],
            },
            {"name": "join", "taskReferenceName": "join_ref", "type": "JOIN"},
        ],
    }
    workflow = _test({"name": "test_run_stop", "workflowDef": definition})

    assert workflow["status"] == "RUNNING"
    tasks = _by_reference(workflow)
    assert tasks["work_ref"][0]["status"] == "SCHEDULED"
    # As in Conductor, the run ends at the unmocked task: the WAIT's hour never passes.
    assert tasks["nap_ref"][0]["status"] == "IN_PROGRESS"
