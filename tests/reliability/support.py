"""Helpers shared by the reliability tests that run the handlers under moto (`aws` fixture)."""

from __future__ import annotations

import json
from typing import Any

from bench import fan_in
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import FakeContext, call_api, scheduled_event, sqs_event

TUTORIAL_QUEUE = "conductor_doug_testing"
INTERNAL_QUEUE = "baton-internal-events"
EVENT_ATTRIBUTE = "baton-event"
MESSAGE_ID_ATTRIBUTE = "baton-message-id"


class Clock:
    """A clock the test moves by hand (epoch milliseconds)."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def use_clock(clock: Clock) -> None:
    """Make the functions' service, and the store's commits, read `clock`."""
    from baton import runtime

    service = runtime.baton()
    service.clock = clock
    service.store.clock = clock


def register_workflow(definition: dict[str, Any]) -> None:
    response = call_api("POST", "/api/metadata/workflow", definition)
    assert response.status == 200, response.body


def register_handler(handler: dict[str, Any]) -> None:
    response = call_api("POST", "/api/event", handler)
    assert response.status == 200, response.body


def start(name: str, workflow_input: dict[str, Any] | None = None) -> str:
    response = call_api("POST", f"/api/workflow/{name}", workflow_input or {})
    assert response.status == 200, response.body
    return response.body


def workflow(workflow_id: str) -> dict[str, Any]:
    response = call_api("GET", f"/api/workflow/{workflow_id}")
    assert response.status == 200, response.body
    return dict(response.json())


def task(workflow_id: str, reference: str) -> dict[str, Any]:
    (found,) = [t for t in workflow(workflow_id)["tasks"] if t["referenceTaskName"] == reference]
    return dict(found)


def statuses(workflow_id: str) -> dict[str, str]:
    current = workflow(workflow_id)
    return {t["referenceTaskName"]: t["status"] for t in current["tasks"]} | {
        "workflow": current["status"]
    }


def executions(handler: str) -> list[dict[str, Any]]:
    response = call_api("GET", f"/api/event/executions/{handler}")
    assert response.status == 200, response.body
    return list(response.json())


def send(
    aws: Aws, queue: str, body: str | dict[str, Any], attributes: dict[str, str] | None = None
) -> None:
    """Send one message as a producer would (a dict body is sent as JSON)."""
    aws.sqs.send_message(
        QueueUrl=aws.queue_urls[queue],
        MessageBody=body if isinstance(body, str) else json.dumps(body),
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value}
            for name, value in (attributes or {}).items()
        },
    )


def receive_all(aws: Aws, queue: str, expected: int) -> list[dict[str, Any]]:
    """Exactly `expected` messages from `queue` (each received once)."""
    messages: list[dict[str, Any]] = []
    while len(messages) < expected:
        batch = aws.receive(queue)
        if not batch:
            break
        messages += batch
    assert len(messages) == expected, [m["Body"] for m in messages]
    return messages


def take(aws: Aws, queue: str, body: str | dict[str, Any]) -> dict[str, Any]:
    """Send one message and take it off the queue, to hand to the function by hand (a failed
    delivery of it then does not come back to mix with the next one)."""
    send(aws, queue, body)
    (message,) = receive_all(aws, queue, 1)
    aws.sqs.delete_message(QueueUrl=aws.queue_urls[queue], ReceiptHandle=message["ReceiptHandle"])
    return message


def deliver(queue: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """One invocation of the events function with `messages` as its SQS batch."""
    from baton.handlers import events

    return dict(events.handler(sqs_event(queue, messages), FakeContext()))


def sweep() -> dict[str, Any]:
    """One run of the timers function on the EventBridge schedule."""
    from baton.handlers import timers

    return dict(timers.handler(scheduled_event(), FakeContext()))


def failed_ids(result: dict[str, Any]) -> set[str]:
    return {failure["itemIdentifier"] for failure in result["batchItemFailures"]}


def left_on_queue(queue: str, messages: list[dict[str, Any]]) -> set[str]:
    """The messages the event source mapping would not delete after one invocation.

    When every record of a batch fails, Powertools' batch processor raises instead of listing
    them; Lambda reads a function error as every record failed, and so does this.
    """
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    try:
        return failed_ids(deliver(queue, messages))
    except BatchProcessingError:
        return {message["MessageId"] for message in messages}


def wait_workflow(name: str, *references: str) -> dict[str, Any]:
    """A workflow of WAIT tasks (no duration) in sequence: each waits for an update."""
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {"name": reference.removesuffix("_ref"), "taskReferenceName": reference, "type": "WAIT"}
            for reference in references
        ],
    }


def complete_task_handler(
    name: str, event: str, reference: str, output: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """An event handler completing `reference` in the payload's `workflowInstanceId`."""
    return {
        "name": name,
        "event": event,
        "actions": [
            {
                "action": "complete_task",
                "complete_task": {
                    "workflowId": "${workflowInstanceId}",
                    "taskRefName": reference,
                    "output": output or {},
                },
            }
        ],
        "active": True,
        **extra,
    }


def fork_of_waits(width: int, *, name: str = "reliability_wide_fork") -> dict[str, Any]:
    """A FORK of `width` WAIT branches (`wait_<i>_ref`) and the JOIN on all of them: the
    fan-in benchmark's definition."""
    return fan_in.fork_of_waits(width, name)
