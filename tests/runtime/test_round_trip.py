"""The tutorial's round trip through the real handlers, under moto, with a movable clock."""

from __future__ import annotations

import json

from baton import runtime
from baton.handlers import events, timers
from tests import seed
from tests.runtime.lambda_events import FakeContext, call_api, scheduled_event, sqs_event


class Clock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def _register() -> None:
    assert call_api("POST", "/api/metadata/workflow", seed.event_testing()).status == 200
    assert call_api("POST", "/api/event", seed.complete_task_event()).status == 200


def _statuses(workflow_id: str) -> dict[str, str]:
    workflow = call_api("GET", f"/api/workflow/{workflow_id}").json()
    return {t["referenceTaskName"]: t["status"] for t in workflow["tasks"]} | {
        "workflow": workflow["status"]
    }


def test_event_testing_round_trip(aws):
    _register()
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    started = call_api("POST", "/api/workflow/event_testing", {})
    assert started.status == 200
    assert started.headers["Content-Type"].startswith("text/plain")
    workflow_id = started.body
    assert _statuses(workflow_id) == {
        "fork_ref": "COMPLETED",
        "task_1_ref": "IN_PROGRESS",
        "task_2_ref": "IN_PROGRESS",
        "join_ref": "IN_PROGRESS",
        "workflow": "RUNNING",
    }
    # The 10 s WAIT was armed as a delayed message on the timer queue.
    timer_attributes = aws.sqs.get_queue_attributes(
        QueueUrl=aws.queue_urls["baton-timers"], AttributeNames=["All"]
    )["Attributes"]
    assert timer_attributes["ApproximateNumberOfMessagesDelayed"] == "1"

    # Ten seconds later the scheduled sweep finds the WAIT overdue and fires it.
    clock.now += 10_000
    timers.handler(scheduled_event(), FakeContext())
    statuses = _statuses(workflow_id)
    assert statuses["task_2_ref"] == "COMPLETED"
    assert statuses["send_sqs_message_ref"] == "COMPLETED"
    assert statuses["task_1_ref"] == "IN_PROGRESS"

    (message,) = aws.receive("conductor_doug_testing")
    payload = json.loads(message["Body"])
    assert payload["workflowInstanceId"] == workflow_id
    assert payload["sink"] == "sqs:conductor_doug_testing"
    assert payload["workflowType"] == "event_testing"
    assert payload["workflowVersion"] == 1
    assert payload["asyncComplete"] is False
    assert payload["correlationId"] is None

    result = events.handler(sqs_event("conductor_doug_testing", [message]), FakeContext())
    assert result == {"batchItemFailures": []}
    statuses = _statuses(workflow_id)
    assert statuses["task_1_ref"] == "COMPLETED"
    assert statuses["join_ref"] == "COMPLETED"
    assert statuses["workflow"] == "COMPLETED"

    task_1 = next(
        t
        for t in call_api("GET", f"/api/workflow/{workflow_id}").json()["tasks"]
        if t["referenceTaskName"] == "task_1_ref"
    )
    assert task_1["outputData"]["conductor.event.name"] == "sqs:conductor_doug_testing"
    executions = call_api("GET", "/api/event/executions/complete_task_event").json()
    assert [e["status"] for e in executions] == ["COMPLETED"]


def test_a_message_delivered_twice_acts_once(aws):
    _register()
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    workflow_id = call_api("POST", "/api/workflow/event_testing", {}).body
    clock.now += 10_000
    timers.handler(scheduled_event(), FakeContext())
    (message,) = aws.receive("conductor_doug_testing")
    first = events.handler(sqs_event("conductor_doug_testing", [message]), FakeContext())
    before = call_api("GET", f"/api/workflow/{workflow_id}").json()
    second = events.handler(sqs_event("conductor_doug_testing", [message]), FakeContext())
    after = call_api("GET", f"/api/workflow/{workflow_id}").json()
    assert first == second == {"batchItemFailures": []}
    assert before == after
