"""The timers function: delayed timer messages, early arrivals, and the scheduled sweep."""

from __future__ import annotations

import json

from baton import runtime
from baton.handlers import timers
from tests.runtime.lambda_events import FakeContext, call_api, scheduled_event, sqs_event

ONE_WAIT = {
    "name": "one_wait",
    "version": 1,
    "tasks": [
        {
            "name": "w",
            "taskReferenceName": "w",
            "type": "WAIT",
            "inputParameters": {"duration": "${workflow.input.wait}"},
        },
    ],
}
LONG_WAIT = "20 minutes"


class Clock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def _start(wait: str, clock: Clock) -> tuple[str, int]:
    call_api("POST", "/api/metadata/workflow", ONE_WAIT)
    workflow_id = call_api("POST", "/api/workflow/one_wait", {"wait": wait}).body
    task = call_api("GET", f"/api/workflow/{workflow_id}").json()["tasks"][0]
    return workflow_id, task["waitTimeout"]


def _timer_message(workflow_id: str, due_at: int) -> dict:
    body = json.dumps({"workflowId": workflow_id, "taskId": "t", "dueAt": due_at})
    return {"MessageId": "m-1", "Body": body}


def _wait_status(workflow_id: str) -> str:
    return call_api("GET", f"/api/workflow/{workflow_id}").json()["tasks"][0]["status"]


def test_a_short_wait_is_armed_as_a_delayed_message(aws):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    _start("5s", clock)
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=aws.queue_urls["baton-timers"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_a_long_wait_is_left_to_the_sweep(aws):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    workflow_id, due_at = _start(LONG_WAIT, clock)
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=aws.queue_urls["baton-timers"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "0"
    # Six minutes later it is within SQS's 15-minute reach: the sweep arms it.
    clock.now = due_at - 14 * 60_000 - 30_000
    report = timers.handler(scheduled_event(), FakeContext())
    assert report["armed"] == 1
    # Overdue (say, the armed message was lost): the sweep fires it.
    clock.now = due_at + 5_000
    timers.handler(scheduled_event(), FakeContext())
    assert _wait_status(workflow_id) == "COMPLETED"


def test_a_timer_that_fires_due_completes_the_wait(aws):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    workflow_id, due_at = _start("5s", clock)
    clock.now = due_at
    result = timers.handler(
        sqs_event("baton-timers", [_timer_message(workflow_id, due_at)]), FakeContext()
    )
    assert result == {"batchItemFailures": []}
    assert _wait_status(workflow_id) == "COMPLETED"


def test_a_timer_a_little_early_waits_for_its_time(aws, monkeypatch):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    workflow_id, due_at = _start("5s", clock)
    clock.now = due_at - 400
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += int(seconds * 1000)

    monkeypatch.setattr(timers.time, "sleep", sleep)
    timers.handler(sqs_event("baton-timers", [_timer_message(workflow_id, due_at)]), FakeContext())
    assert slept == [0.4]
    assert _wait_status(workflow_id) == "COMPLETED"


def test_a_timer_far_too_early_is_armed_again(aws):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    workflow_id, due_at = _start("5s", clock)
    aws.receive("baton-timers")  # nothing visible yet; the armed message is delayed
    clock.now = due_at - 4_000
    timers.handler(sqs_event("baton-timers", [_timer_message(workflow_id, due_at)]), FakeContext())
    assert _wait_status(workflow_id) == "IN_PROGRESS"
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=aws.queue_urls["baton-timers"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "2"


def test_a_timer_for_a_workflow_that_is_gone_is_dropped(aws):
    result = timers.handler(
        sqs_event("baton-timers", [_timer_message("no-such-workflow", 0)]), FakeContext()
    )
    assert result == {"batchItemFailures": []}


WORKER_FLOW = {
    "name": "worker_with_timeout",
    "version": 1,
    "tasks": [{"name": "crunch", "taskReferenceName": "crunch", "type": "SIMPLE"}],
}


def test_a_task_whose_worker_died_is_handed_out_again(aws):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    task_def = {
        "name": "crunch",
        "retryCount": 2,
        "retryDelaySeconds": 0,
        "responseTimeoutSeconds": 30,
    }
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    call_api("POST", "/api/metadata/workflow", WORKER_FLOW)
    workflow_id = call_api("POST", "/api/workflow/worker_with_timeout", {}).body
    first = call_api("GET", "/api/tasks/poll/crunch", query={"workerid": "w1"}).json()
    assert call_api("GET", "/api/tasks/poll/crunch").status == 204
    # The worker never reports back; half a minute later its timer fires.
    clock.now += 31_000
    timers.handler(
        sqs_event("baton-timers", [_timer_message(workflow_id, clock.now)]), FakeContext()
    )
    tasks = call_api("GET", f"/api/workflow/{workflow_id}").json()["tasks"]
    assert [t["status"] for t in tasks] == ["TIMED_OUT", "SCHEDULED"]
    second = call_api("GET", "/api/tasks/poll/crunch", query={"workerid": "w2"}).json()
    assert second["taskId"] != first["taskId"]
    assert second["retryCount"] == 1


def test_a_workflow_that_cannot_be_decided_does_not_stop_the_sweep(aws, monkeypatch):
    clock = Clock(runtime.baton().clock())
    service = runtime.baton()
    service.clock = clock
    first, due_at = _start("5s", clock)
    second, _ = _start("5s", clock)
    wake = service.wake

    def wake_failing_for_the_first(workflow_id: str):
        if workflow_id == first:
            raise RuntimeError("this workflow's change cannot be stored")
        return wake(workflow_id)

    monkeypatch.setattr(service, "wake", wake_failing_for_the_first)
    clock.now = due_at + 5_000
    report = timers.handler(scheduled_event(), FakeContext())
    assert report["failed"] == 1
    assert report["fired"] == 1
    assert _wait_status(first) == "IN_PROGRESS"
    assert _wait_status(second) == "COMPLETED"
