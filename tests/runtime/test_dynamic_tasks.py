"""DYNAMIC, FORK_JOIN_DYNAMIC, HUMAN and DO_WHILE over items through the API handler, under
moto: workers poll and complete the tasks as Conductor's clients do."""

from __future__ import annotations

from typing import Any

import boto3

from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api
from tests.runtime.test_carry_over import fire_timers


def _register(definition: dict[str, Any], *task_defs: dict[str, Any]) -> None:
    if task_defs:
        assert call_api("POST", "/api/metadata/taskdefs", list(task_defs)).status == 200
    response = call_api("POST", "/api/metadata/workflow", definition)
    assert response.status == 200, response.body


def _start(name: str, workflow_input: dict[str, Any]) -> str:
    response = call_api("POST", f"/api/workflow/{name}", workflow_input)
    assert response.status == 200, response.body
    return str(response.body)


def _workflow(workflow_id: str) -> dict[str, Any]:
    response = call_api("GET", f"/api/workflow/{workflow_id}")
    assert response.status == 200, response.body
    return dict(response.json())


def _by_ref(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["referenceTaskName"]: t for t in workflow["tasks"]}


def _poll(task_type: str, count: int) -> list[dict[str, Any]]:
    response = call_api(
        "GET", f"/api/tasks/poll/batch/{task_type}", query={"workerid": "w1", "count": str(count)}
    )
    assert response.status == 200, response.body
    return list(response.json())


def _complete(workflow_id: str, task_id: str, output: dict[str, Any]) -> None:
    result = {
        "workflowInstanceId": workflow_id,
        "taskId": task_id,
        "status": "COMPLETED",
        "outputData": output,
    }
    response = call_api("POST", "/api/tasks", result)
    assert response.status == 200, response.body


def _stored_task_items(workflow_id: str) -> list[dict[str, Any]]:
    pages = (
        boto3.client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName="baton-tasks",
            KeyConditionExpression="workflowId = :id",
            ExpressionAttributeValues={":id": {"S": workflow_id}},
            ConsistentRead=True,
        )
    )
    return [item for page in pages for item in page["Items"]]


FAN_OUT = {
    "name": "fan_out",
    "version": 1,
    "schemaVersion": 2,
    "tasks": [
        {
            "name": "fan",
            "taskReferenceName": "fan",
            "type": "FORK_JOIN_DYNAMIC",
            "inputParameters": {
                "forkTaskName": "resize",
                "forkTaskInputs": "${workflow.input.images}",
            },
        },
        {"name": "gather", "taskReferenceName": "gather", "type": "JOIN"},
        {"name": "done", "taskReferenceName": "done", "type": "NOOP"},
    ],
}


def test_dynamic_fork_branches_completed_by_workers_complete_the_join_once(aws: Aws) -> None:
    _register(FAN_OUT, {"name": "resize", "retryCount": 0, "responseTimeoutSeconds": 60})
    workflow_id = _start("fan_out", {"images": ["a.png", "b.png", "c.png"]})
    polled = _poll("resize", 10)
    assert sorted(t["referenceTaskName"] for t in polled) == ["_resize_0", "_resize_1", "_resize_2"]
    assert {t["inputData"]["input"] for t in polled} == {"a.png", "b.png", "c.png"}
    # The branch's TaskDef was applied, and its definition read back from its own item.
    assert {t["responseTimeoutSeconds"] for t in polled} == {60}
    assert {t["workflowTask"]["name"] for t in polled} == {"resize"}
    for task in polled:
        _complete(workflow_id, task["taskId"], {"resized": task["inputData"]["input"]})
        if task is not polled[-1]:
            assert _by_ref(_workflow(workflow_id))["gather"]["status"] == "IN_PROGRESS"
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "COMPLETED"
    tasks = _by_ref(workflow)
    assert tasks["fan"]["taskType"] == "FORK"
    assert tasks["fan"]["inputData"]["forkedTasks"] == ["_resize_0", "_resize_1", "_resize_2"]
    assert [t["referenceTaskName"] for t in workflow["tasks"]].count("gather") == 1
    assert tasks["gather"]["inputData"]["joinOn"] == ["_resize_0", "_resize_1", "_resize_2"]
    assert tasks["gather"]["outputData"] == {
        f"_resize_{i}": {"resized": name} for i, name in enumerate(["a.png", "b.png", "c.png"])
    }


def test_a_fork_of_sub_workflows_registers_and_starts_one_child_per_item(aws: Aws) -> None:
    child = {
        "name": "child",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
    }
    assert call_api("POST", "/api/metadata/workflow", child).status == 200
    definition = {**FAN_OUT, "name": "fan_out_children"}
    definition["tasks"] = [dict(t) for t in FAN_OUT["tasks"]]
    definition["tasks"][0]["inputParameters"] = {
        "forkTaskWorkflow": "child",
        "forkTaskInputs": "${workflow.input.items}",
    }
    response = call_api("POST", "/api/metadata/workflow", definition)
    assert response.status == 200, response.body
    started = call_api("POST", "/api/workflow/fan_out_children", {"items": [1, 2]})
    assert started.status == 200, started.body
    workflow = call_api("GET", f"/api/workflow/{started.body}").json()
    children = [t for t in workflow["tasks"] if t["taskType"] == "SUB_WORKFLOW"]
    assert len(children) == 2
    for task in children:
        assert call_api("GET", f"/api/workflow/{task['subWorkflowId']}").status == 200


def test_a_dynamic_task_runs_the_worker_task_its_input_names(aws: Aws) -> None:
    definition = {
        "name": "shipping",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "ship",
                "taskReferenceName": "ship",
                "type": "DYNAMIC",
                "dynamicTaskNameParam": "taskToRun",
                "inputParameters": {"taskToRun": "${workflow.input.how}"},
            }
        ],
    }
    _register(definition, {"name": "ship_by_air", "retryCount": 0})
    workflow_id = _start("shipping", {"how": "ship_by_air"})
    (task,) = _poll("ship_by_air", 5)
    assert task["taskType"] == "ship_by_air"
    _complete(workflow_id, task["taskId"], {"shipped": True})
    assert _workflow(workflow_id)["status"] == "COMPLETED"

    unknown = _workflow(_start("shipping", {"how": "teleport"}))
    assert unknown["status"] == "FAILED"
    assert "Cannot find task by name teleport" in unknown["reasonForIncompletion"]


def test_a_human_task_is_never_polled_and_ends_by_the_update_api(aws: Aws) -> None:
    definition = {
        "name": "approval",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [{"name": "approve", "taskReferenceName": "approve", "type": "HUMAN"}],
    }
    _register(definition)
    workflow_id = _start("approval", {})
    assert _by_ref(_workflow(workflow_id))["approve"]["status"] == "IN_PROGRESS"
    assert _poll("approve", 5) == []
    assert _poll("HUMAN", 5) == []
    response = call_api(
        "POST", f"/api/tasks/{workflow_id}/approve/COMPLETED", {"approvedBy": "ann"}
    )
    assert response.status == 200, response.body
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "COMPLETED"
    assert _by_ref(workflow)["approve"]["outputData"] == {"approvedBy": "ann"}


def test_a_loop_over_items_hands_each_item_to_its_worker(aws: Aws) -> None:
    definition = {
        "name": "each_item",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "each",
                "taskReferenceName": "each",
                "type": "DO_WHILE",
                "items": "${workflow.input.orders}",
                "loopOver": [
                    {
                        "name": "bill",
                        "taskReferenceName": "bill",
                        "inputParameters": {
                            "order": "${each.output.loopItem}",
                            "index": "${each.output.loopIndex}",
                        },
                    }
                ],
            }
        ],
    }
    _register(definition)
    workflow_id = _start("each_item", {"orders": [{"id": 7}, {"id": 8}]})
    billed = []
    for _ in range(2):
        (task,) = _poll("bill", 5)
        billed.append(task["inputData"])
        _complete(workflow_id, task["taskId"], {"billed": task["inputData"]["order"]["id"]})
    assert billed == [{"order": {"id": 7}, "index": 0}, {"order": {"id": 8}, "index": 1}]
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "COMPLETED"
    each = _by_ref(workflow)["each"]
    assert each["outputData"]["iteration"] == 2
    assert each["outputData"]["2"] == {"bill": {"billed": 8}}


def test_two_thousand_iterations_with_keep_last_n_keep_the_store_small(aws: Aws) -> None:
    definition = {
        "name": "long_loop_kept",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < 2000",
                "inputParameters": {"keepLastN": 3},
                "loopOver": [
                    {
                        "name": "tick",
                        "taskReferenceName": "tick",
                        "type": "INLINE",
                        "inputParameters": {
                            "evaluatorType": "value-param",
                            "expression": "n",
                            "n": "${loop.output.iteration}",
                        },
                    }
                ],
            }
        ],
    }
    _register(definition)
    workflow_id = _start("long_loop_kept", {})
    for _ in range(100):
        if _workflow(workflow_id)["status"] != "RUNNING":
            break
        fire_timers(aws)
        # Every commit keeps at most keepLastN iterations stored, plus the loop and the next.
        assert len(_stored_task_items(workflow_id)) <= 5
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "COMPLETED"
    loop = _by_ref(workflow)["loop"]
    assert loop["outputData"]["iteration"] == 2000
    assert sorted(k for k in loop["outputData"] if k.isdigit()) == ["1998", "1999", "2000"]
    assert loop["outputData"]["2000"] == {"tick": {"result": 2000}}
    assert sorted(_by_ref(workflow)) == ["loop", "tick__1998", "tick__1999", "tick__2000"]
    assert len(_stored_task_items(workflow_id)) == 4
