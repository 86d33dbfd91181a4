"""The tutorial's SQS round trip over HTTP against `python -m embedded`, with the standard library.

The runtime registered `event_testing` and `complete_task_event` when it started; this test
starts the workflow and follows it until the message its EVENT task sent through SQS has
completed `task_1` through the handler.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.runtime_process import RuntimeProcess, http_json, queue_depth, wait_until

pytestmark = pytest.mark.slow

QUEUE = "conductor_doug_testing"
SINK = f"sqs:{QUEUE}"
HANDLER = "complete_task_event"
COMPLETION_TIMEOUT_SECONDS = 40.0


def _workflow(runtime: RuntimeProcess, workflow_id: str) -> dict[str, Any]:
    status, _, workflow = http_json("GET", f"{runtime.api_url}/workflow/{workflow_id}")
    assert status == 200, workflow
    return dict(workflow)


def _tasks(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["referenceTaskName"]: task for task in workflow["tasks"]}


def _statuses(workflow: dict[str, Any]) -> dict[str, str]:
    return {ref: task["status"] for ref, task in _tasks(workflow).items()} | {
        "workflow": workflow["status"]
    }


def test_event_testing_round_trip(runtime: RuntimeProcess) -> None:
    api = runtime.api_url
    status, content_type, workflow_id = http_json("POST", f"{api}/workflow/event_testing", {})
    assert status == 200, workflow_id
    assert content_type.startswith("text/plain")
    assert isinstance(workflow_id, str)
    assert workflow_id

    # Right away both WAITs are pending: task_1 for the message, task_2 for its 10 s.
    assert _statuses(_workflow(runtime, workflow_id)) == {
        "fork_ref": "COMPLETED",
        "task_1_ref": "IN_PROGRESS",
        "task_2_ref": "IN_PROGRESS",
        "join_ref": "IN_PROGRESS",
        "workflow": "RUNNING",
    }

    seen: dict[str, str] = {}

    def completed() -> dict[str, Any] | None:
        workflow = _workflow(runtime, workflow_id)
        seen.update(_statuses(workflow))
        assert workflow["status"] in ("RUNNING", "COMPLETED"), workflow
        return workflow if workflow["status"] == "COMPLETED" else None

    workflow = wait_until(
        completed,
        timeout=COMPLETION_TIMEOUT_SECONDS,
        what=f"workflow {workflow_id} to complete (last seen: {seen})",
        runtime=runtime,
    )
    tasks = _tasks(workflow)
    assert _statuses(workflow) == {
        "fork_ref": "COMPLETED",
        "task_1_ref": "COMPLETED",
        "task_2_ref": "COMPLETED",
        "send_sqs_message_ref": "COMPLETED",
        "join_ref": "COMPLETED",
        "workflow": "COMPLETED",
    }

    # The EVENT task published the tutorial's payload to the queue.
    event_task = tasks["send_sqs_message_ref"]
    assert event_task["taskType"] == "EVENT"
    output = event_task["outputData"]
    assert output["workflowInstanceId"] == workflow_id
    assert output["sink"] == SINK
    assert output["workflowType"] == "event_testing"
    assert output["workflowVersion"] == 1
    assert output["asyncComplete"] is False
    assert output["correlationId"] is None
    assert output["event_produced"] == SINK

    # task_2 waited its ten seconds, by its own clock.
    task_2 = tasks["task_2_ref"]
    assert task_2["taskType"] == "WAIT"
    assert task_2["endTime"] - task_2["startTime"] >= 10_000, task_2

    # task_1 was completed by the handler, which read ${workflowInstanceId} from the message.
    task_1 = tasks["task_1_ref"]
    assert task_1["taskType"] == "WAIT"
    assert task_1["outputData"]["conductor.event.name"] == SINK
    assert task_1["outputData"]["workflowId"] == workflow_id
    message_id = task_1["outputData"]["conductor.event.messageId"]
    # As in Conductor, the EVENT task's message carries the task's id.
    assert message_id == event_task["taskId"]
    assert task_1["endTime"] >= task_2["endTime"]

    # The handler's execution for this message is on record (it is written as the message is
    # acknowledged, which may be a moment after the workflow completes).
    def execution() -> dict[str, Any] | None:
        status, _, executions = http_json("GET", f"{api}/event/executions/{HANDLER}")
        assert status == 200, executions
        mine = [e for e in executions if e.get("messageId") == message_id]
        return mine[0] if mine else None

    found = wait_until(execution, timeout=10, what=f"{HANDLER}'s execution", runtime=runtime)
    assert found["status"] == "COMPLETED", found
    assert found["name"] == HANDLER
    assert found["event"] == SINK
    assert found["action"] == "complete_task"
    assert found["output"]["workflowId"] == workflow_id
    assert found["output"]["taskId"] == task_1["taskId"]

    # The message went through the SQS queue: it exists, the message was acknowledged
    # (deleted) and nothing went to its dead-letter queue.
    sqs = runtime.sqs()
    try:
        assert sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"].endswith("/" + QUEUE)
    finally:
        sqs.close()
    wait_until(
        lambda: True if queue_depth(runtime, QUEUE) == 0 else None,
        timeout=10,
        what=f"{QUEUE} to be empty",
        runtime=runtime,
    )
    assert queue_depth(runtime, f"{QUEUE}_dlq") == 0
