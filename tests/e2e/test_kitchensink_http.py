"""Conductor's kitchensink workflow (docs/devguide/labs/kitchensink.md of conductor-oss) over
HTTP against `python -m embedded`, with its sub-workflow `sub_flow_1` and the TaskDefs
Conductor's sample loader registers, run to the end by workers that poll and update over REST.

The definitions are as published; one thing is adapted: the HTTP task's uri
(`http://localhost:9200/conductor/_search?size=10`, Conductor's Elasticsearch) points at a
local server answering a search result of the same shape. The workers answer as the docs'
sample workers do (`mod`, `taskToExecute`, `oddEven`, and for `task_4` the dynamic fork's
tasks and inputs); `oddEven` picks the DECISION's branch, so both branches run. No event
handler takes the EVENT task's message (`conductor:kitchensink:event_0`): Conductor drops it,
Baton keeps it until it ends in the internal event queue's DLQ (the README says so).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.e2e.runtime_process import RuntimeProcess, http_json, wait_until
from tests.http.server import Answer, local_server

pytestmark = pytest.mark.slow

COMPLETION_TIMEOUT_SECONDS = 60.0

# docs/devguide/labs/kitchensink.md, as printed.
KITCHENSINK: dict[str, Any] = json.loads(
    """
{
  "name": "kitchensink",
  "description": "kitchensink workflow",
  "version": 1,
  "tasks": [
    {
      "name": "task_1",
      "taskReferenceName": "task_1",
      "inputParameters": {
        "mod": "${workflow.input.mod}",
        "oddEven": "${workflow.input.oddEven}"
      },
      "type": "SIMPLE"
    },
    {
      "name": "event_task",
      "taskReferenceName": "event_0",
      "inputParameters": {
        "mod": "${workflow.input.mod}",
        "oddEven": "${workflow.input.oddEven}"
      },
      "type": "EVENT",
      "sink": "conductor"
    },
    {
      "name": "dyntask",
      "taskReferenceName": "task_2",
      "inputParameters": {
        "taskToExecute": "${workflow.input.task2Name}"
      },
      "type": "DYNAMIC",
      "dynamicTaskNameParam": "taskToExecute"
    },
    {
      "name": "oddEvenDecision",
      "taskReferenceName": "oddEvenDecision",
      "inputParameters": {
        "oddEven": "${task_2.output.oddEven}"
      },
      "type": "DECISION",
      "caseValueParam": "oddEven",
      "decisionCases": {
        "0": [
          {
            "name": "task_4",
            "taskReferenceName": "task_4",
            "inputParameters": {
              "mod": "${task_2.output.mod}",
              "oddEven": "${task_2.output.oddEven}"
            },
            "type": "SIMPLE"
          },
          {
            "name": "dynamic_fanout",
            "taskReferenceName": "fanout1",
            "inputParameters": {
              "dynamicTasks": "${task_4.output.dynamicTasks}",
              "input": "${task_4.output.inputs}"
            },
            "type": "FORK_JOIN_DYNAMIC",
            "dynamicForkTasksParam": "dynamicTasks",
            "dynamicForkTasksInputParamName": "input"
          },
          {
            "name": "dynamic_join",
            "taskReferenceName": "join1",
            "type": "JOIN"
          }
        ],
        "1": [
          {
            "name": "fork_join",
            "taskReferenceName": "forkx",
            "type": "FORK_JOIN",
            "forkTasks": [
              [
                {
                  "name": "task_10",
                  "taskReferenceName": "task_10",
                  "type": "SIMPLE"
                },
                {
                  "name": "sub_workflow_x",
                  "taskReferenceName": "wf3",
                  "inputParameters": {
                    "mod": "${task_1.output.mod}",
                    "oddEven": "${task_1.output.oddEven}"
                  },
                  "type": "SUB_WORKFLOW",
                  "subWorkflowParam": {
                    "name": "sub_flow_1",
                    "version": 1
                  }
                }
              ],
              [
                {
                  "name": "task_11",
                  "taskReferenceName": "task_11",
                  "type": "SIMPLE"
                },
                {
                  "name": "sub_workflow_x",
                  "taskReferenceName": "wf4",
                  "inputParameters": {
                    "mod": "${task_1.output.mod}",
                    "oddEven": "${task_1.output.oddEven}"
                  },
                  "type": "SUB_WORKFLOW",
                  "subWorkflowParam": {
                    "name": "sub_flow_1",
                    "version": 1
                  }
                }
              ]
            ]
          },
          {
            "name": "join",
            "taskReferenceName": "join2",
            "type": "JOIN",
            "joinOn": [
              "wf3",
              "wf4"
            ]
          }
        ]
      }
    },
    {
      "name": "search_elasticsearch",
      "taskReferenceName": "get_es_1",
      "inputParameters": {
        "http_request": {
          "uri": "http://localhost:9200/conductor/_search?size=10",
          "method": "GET"
        }
      },
      "type": "HTTP"
    },
    {
      "name": "task_30",
      "taskReferenceName": "task_30",
      "inputParameters": {
        "statuses": "${get_es_1.output..status}",
        "workflowIds": "${get_es_1.output..workflowId}"
      },
      "type": "SIMPLE"
    }
  ],
  "outputParameters": {
    "statues": "${get_es_1.output..status}",
    "workflowIds": "${get_es_1.output..workflowId}"
  },
  "ownerEmail": "example@email.com",
  "schemaVersion": 2
}
"""
)

# server/src/main/resources/sub_flow_1.json of conductor-oss, as published.
SUB_FLOW_1: dict[str, Any] = {
    "name": "sub_flow_1",
    "description": "A Simple sub-workflow with 2 tasks",
    "version": 1,
    "tasks": [
        {"name": "task_5", "taskReferenceName": "task_5", "inputParameters": {}, "type": "SIMPLE"},
        {"name": "task_6", "taskReferenceName": "task_6", "type": "SIMPLE"},
    ],
    "outputParameters": {},
    "schemaVersion": 2,
}

# Conductor's sample loader registers task_1 ... task_40 and search_elasticsearch, each with
# one retry and a 120 s timeout.
WORKER_TASKS = ("task_1", "task_4", "task_5", "task_6", "task_10", "task_11", "task_30")
TASK_DEFS = [
    {
        "name": name,
        "description": name,
        "retryCount": 1,
        "timeoutSeconds": 120,
        "responseTimeoutSeconds": 120,
    }
    for name in (*WORKER_TASKS, "search_elasticsearch")
]

# What an Elasticsearch search of Conductor's index answers, in shape.
SEARCH_ANSWER = {
    "took": 1,
    "hits": {
        "total": 2,
        "hits": [
            {"_id": "w1", "_source": {"workflowId": "w1", "status": "COMPLETED"}},
            {"_id": "w2", "_source": {"workflowId": "w2", "status": "FAILED"}},
        ],
    },
}


def _worker_output(task_type: str, odd_even: int) -> dict[str, Any]:
    """What the docs' sample workers answer."""
    output: dict[str, Any] = {"mod": 5, "taskToExecute": "task_1", "oddEven": odd_even}
    if task_type == "task_4":
        output["dynamicTasks"] = [
            {"name": "task_1", "taskReferenceName": "task_1_1", "type": "SIMPLE"},
            {
                "name": "sub_workflow_4",
                "taskReferenceName": "wf_dyn",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "sub_flow_1"},
            },
        ]
        output["inputs"] = {"task_1_1": {}, "wf_dyn": {}}
    return output


def _work_once(api: str, odd_even: int) -> int:
    """Poll each worker task type once and complete what was handed out."""
    done = 0
    for task_type in WORKER_TASKS:
        status, _, task = http_json("GET", f"{api}/tasks/poll/{task_type}?workerid=sink-worker")
        if status != 200 or not isinstance(task, dict):
            continue
        result = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": _worker_output(task_type, odd_even),
            "workerId": "sink-worker",
        }
        status, _, body = http_json("POST", f"{api}/tasks", result)
        assert status == 200, body
        done += 1
    return done


def _register(api: str, search_uri: str) -> None:
    status, _, body = http_json("POST", f"{api}/metadata/taskdefs", TASK_DEFS)
    assert status == 200, body
    status, _, body = http_json("POST", f"{api}/metadata/workflow", SUB_FLOW_1)
    assert status == 200, body
    pointed = copy.deepcopy(KITCHENSINK)
    pointed["tasks"][4]["inputParameters"]["http_request"]["uri"] = search_uri
    status, _, body = http_json("PUT", f"{api}/metadata/workflow", [pointed])
    assert status == 200, body


def _run(runtime: RuntimeProcess, odd_even: int) -> dict[str, Any]:
    api = runtime.api_url
    status, _, workflow_id = http_json(
        "POST", f"{api}/workflow/kitchensink", {"task2Name": "task_5", "oddEven": odd_even}
    )
    assert status == 200, workflow_id

    def ended() -> dict[str, Any] | None:
        _work_once(api, odd_even)
        _, _, workflow = http_json("GET", f"{api}/workflow/{workflow_id}")
        return workflow if workflow["status"] != "RUNNING" else None

    return wait_until(
        ended, timeout=COMPLETION_TIMEOUT_SECONDS, what="kitchensink to end", runtime=runtime
    )


def _by_reference(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["referenceTaskName"]: task for task in workflow["tasks"]}


@pytest.fixture(scope="module")
def search_server() -> Any:
    with local_server() as server:
        server.routes["/conductor/_search"] = Answer(200, SEARCH_ANSWER)
        yield server


@pytest.fixture(scope="module")
def registered(runtime: RuntimeProcess, search_server: Any) -> RuntimeProcess:
    _register(runtime.api_url, search_server.url("/conductor/_search?size=10"))
    return runtime


def _assert_common_path(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert workflow["status"] == "COMPLETED", workflow.get("reasonForIncompletion")
    tasks = _by_reference(workflow)
    assert tasks["event_0"]["status"] == "COMPLETED"
    assert tasks["event_0"]["outputData"]["event_produced"] == "conductor:kitchensink:event_0"
    # DYNAMIC ran the worker task the input named, with its TaskDef.
    assert tasks["task_2"]["taskType"] == "task_5"
    assert tasks["get_es_1"]["outputData"]["response"]["statusCode"] == 200
    assert tasks["task_30"]["inputData"]["workflowIds"] == ["w1", "w2"]
    assert tasks["task_30"]["inputData"]["statuses"] == ["COMPLETED", "FAILED"]
    assert workflow["output"] == {"statues": ["COMPLETED", "FAILED"], "workflowIds": ["w1", "w2"]}
    return tasks


def test_the_even_branch_forks_dynamically_into_a_task_and_a_sub_workflow(
    registered: RuntimeProcess,
) -> None:
    workflow = _run(registered, odd_even=0)
    tasks = _assert_common_path(workflow)
    assert tasks["oddEvenDecision"]["outputData"]["caseOutput"] == ["0"]
    assert {"task_4", "fanout1", "task_1_1", "wf_dyn", "join1"} <= set(tasks)
    assert "forkx" not in tasks
    child_id = tasks["wf_dyn"]["subWorkflowId"]
    _, _, child = http_json("GET", f"{registered.api_url}/workflow/{child_id}")
    assert child["workflowName"] == "sub_flow_1"
    assert child["status"] == "COMPLETED"
    assert child["parentWorkflowId"] == workflow["workflowId"]
    assert tasks["join1"]["status"] == "COMPLETED"


def test_the_odd_branch_forks_into_two_sub_workflows(registered: RuntimeProcess) -> None:
    workflow = _run(registered, odd_even=1)
    tasks = _assert_common_path(workflow)
    assert tasks["oddEvenDecision"]["outputData"]["caseOutput"] == ["1"]
    assert {"forkx", "task_10", "wf3", "task_11", "wf4", "join2"} <= set(tasks)
    assert "task_4" not in tasks
    for reference in ("wf3", "wf4"):
        assert tasks[reference]["status"] == "COMPLETED"
        _, _, child = http_json(
            "GET", f"{registered.api_url}/workflow/{tasks[reference]['subWorkflowId']}"
        )
        assert child["workflowName"] == "sub_flow_1"
        assert child["workflowVersion"] == 1
        assert child["status"] == "COMPLETED"
