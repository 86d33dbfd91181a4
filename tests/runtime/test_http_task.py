"""HTTP tasks end to end under moto: the API starts the workflow, the decision sends the call
to the system-task queue, the system-task function claims, calls a local server, reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from baton import runtime, settings
from baton.engine.tasks.http import CALL_LEASE_SECONDS
from baton.handlers import system_tasks, timers
from baton.outbound import MAX_RESPONSE_BODY_BYTES
from baton.system_tasks import SystemTaskMessage, SystemTaskRunner
from tests.http.server import Answer, LocalServer, local_server
from tests.runtime.lambda_events import FakeContext, call_api, scheduled_event, sqs_event

QUEUE = "baton-system-tasks"


class Clock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def server(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.setenv(settings.HTTP_ALLOW_LOOPBACK, "true")
    system_tasks.runner.cache_clear()
    with local_server() as local:
        yield local
    system_tasks.runner.cache_clear()


def _flow(request: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "name": "http_flow",
        "version": 1,
        "tasks": [
            {
                "name": "call_service",
                "taskReferenceName": "call",
                "type": "HTTP",
                "inputParameters": {"http_request": request},
                **fields,
            }
        ],
        "outputParameters": {"answer": "${call.output.response.body}"},
    }


def _start(flow: dict[str, Any], workflow_input: dict[str, Any] | None = None) -> str:
    assert call_api("POST", "/api/metadata/workflow", flow).status == 200
    return str(call_api("POST", "/api/workflow/http_flow", workflow_input or {}).body)


def _deliver(aws: Any) -> list[dict[str, Any]]:
    """Run every message waiting on the system-task queue through the function once."""
    messages = aws.receive(QUEUE)
    if messages:
        system_tasks.handler(sqs_event(QUEUE, messages), FakeContext())
    return messages


def _workflow(workflow_id: str) -> dict[str, Any]:
    return dict(call_api("GET", f"/api/workflow/{workflow_id}").json())


def test_a_call_completes_the_task_with_conductors_response(aws, server):
    server.routes["/orders"] = Answer(200, {"id": 7, "items": [1, 2]}, {"X-Id": "r-1"})
    request = {
        "uri": server.url("/orders"),
        "method": "POST",
        "headers": {"X-Trace": "${workflow.input.trace}"},
        "body": {"order": "${workflow.input.order}"},
    }
    workflow_id = _start(_flow(request), {"trace": "t-9", "order": "o-1"})
    assert _workflow(workflow_id)["tasks"][0]["status"] == "SCHEDULED"
    assert server.seen == []  # nothing was called inside the decision
    assert len(_deliver(aws)) == 1
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "COMPLETED"
    task = workflow["tasks"][0]
    assert task["status"] == "COMPLETED"
    assert task["workerId"] == "baton-system-task"
    response = task["outputData"]["response"]
    assert response["statusCode"] == 200
    assert response["reasonPhrase"] == "OK"
    assert response["body"] == {"id": 7, "items": [1, 2]}
    assert response["headers"]["X-Id"] == ["r-1"]
    assert workflow["output"] == {"answer": {"id": 7, "items": [1, 2]}}
    seen = server.seen[0]
    assert json.loads(seen.body) == {"order": "o-1"}
    assert seen.headers["X-Trace"] == "t-9"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"


def test_the_flat_input_form_works_too(aws, server):
    server.routes["/ping"] = Answer(200, "pong", {"Content-Type": "text/plain"})
    flow = _flow({})
    flow["tasks"][0]["inputParameters"] = {"uri": server.url("/ping"), "method": "GET"}
    workflow_id = _start(flow)
    _deliver(aws)
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "COMPLETED"
    assert task["outputData"]["response"]["body"] == "pong"


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_a_status_outside_2xx_fails_the_task(aws, server, status):
    server.routes["/x"] = Answer(status, "it broke")
    workflow_id = _start(_flow({"uri": server.url("/x"), "method": "GET"}))
    _deliver(aws)
    workflow = _workflow(workflow_id)
    task = workflow["tasks"][0]
    assert task["status"] == "FAILED"
    assert task["reasonForIncompletion"].startswith(f"Failed to invoke HTTP task due to: {status}")
    assert task["reasonForIncompletion"].endswith("it broke")
    assert task["outputData"]["response"]["statusCode"] == status
    assert workflow["status"] == "FAILED"


def test_a_failed_call_is_retried_per_its_task_def(aws, server):
    answers = iter([Answer(500, "busy"), Answer(200, {"ok": True})])
    server.routes["/flaky"] = lambda seen: next(answers)
    task_def = {"name": "call_service", "retryCount": 2, "retryDelaySeconds": 0}
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    workflow_id = _start(_flow({"uri": server.url("/flaky"), "method": "GET"}))
    _deliver(aws)
    _deliver(aws)
    workflow = _workflow(workflow_id)
    assert [(t["status"], t["retryCount"]) for t in workflow["tasks"]] == [
        ("FAILED", 0),
        ("COMPLETED", 1),
    ]
    assert workflow["status"] == "COMPLETED"
    assert server.calls("/flaky") == 2


def test_async_complete_leaves_the_task_in_progress_for_an_update(aws, server):
    server.routes["/job"] = Answer(202, {"job": "j-1"})
    workflow_id = _start(_flow({"uri": server.url("/job"), "method": "POST"}, asyncComplete=True))
    _deliver(aws)
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "IN_PROGRESS"
    assert task["outputData"]["response"]["body"] == {"job": "j-1"}
    result = {
        "workflowInstanceId": workflow_id,
        "taskId": task["taskId"],
        "status": "COMPLETED",
        "outputData": {"finished": True},
    }
    assert call_api("POST", "/api/tasks", result).status == 200
    assert _workflow(workflow_id)["status"] == "COMPLETED"


def test_a_refused_address_fails_the_task_with_the_reason(aws, server, monkeypatch):
    monkeypatch.setenv(settings.HTTP_ALLOW_LOOPBACK, "false")
    system_tasks.runner.cache_clear()
    workflow_id = _start(_flow({"uri": server.url("/"), "method": "GET"}))
    _deliver(aws)
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "FAILED"
    assert "loopback" in task["reasonForIncompletion"]
    assert "httpAllowedNetworks" in task["reasonForIncompletion"]
    assert server.seen == []


def test_a_metadata_address_is_refused_even_locally(aws, server):
    workflow_id = _start(
        _flow({"uri": "http://169.254.169.254/latest/meta-data/", "method": "GET"})
    )
    _deliver(aws)
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "FAILED"
    assert "link-local" in task["reasonForIncompletion"]


def test_a_read_timeout_fails_the_task(aws, server):
    server.routes["/slow"] = Answer(200, "late", delay=1.0)
    request = {"uri": server.url("/slow"), "method": "GET", "readTimeOut": 50}
    workflow_id = _start(_flow(request))
    _deliver(aws)
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "FAILED"
    assert "timed out" in task["reasonForIncompletion"].lower()


def test_a_response_too_large_for_an_item_is_kept_whole_in_the_payload_bucket(aws, server):
    body = "x" * (300 * 1024)
    server.routes["/big"] = Answer(200, body)
    workflow_id = _start(_flow({"uri": server.url("/big"), "method": "GET"}))
    _deliver(aws)
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "COMPLETED"
    assert task["outputData"]["response"]["body"] == body


def test_a_response_past_the_body_limit_fails_clearly(aws, server):
    server.routes["/huge"] = Answer(200, "x" * (MAX_RESPONSE_BODY_BYTES + 1))
    workflow_id = _start(_flow({"uri": server.url("/huge"), "method": "GET"}))
    _deliver(aws)
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "FAILED"
    assert str(MAX_RESPONSE_BODY_BYTES) in task["reasonForIncompletion"]


def test_a_redelivered_message_calls_once(aws, server):
    server.routes["/once"] = Answer(200, {"n": 1})
    workflow_id = _start(_flow({"uri": server.url("/once"), "method": "POST"}))
    messages = aws.receive(QUEUE)
    assert len(messages) == 1
    # SQS delivers the same message twice, to the same or to another container.
    system_tasks.handler(sqs_event(QUEUE, messages), FakeContext())
    result = system_tasks.handler(sqs_event(QUEUE, messages), FakeContext())
    assert result == {"batchItemFailures": []}
    assert server.calls("/once") == 1
    assert _workflow(workflow_id)["status"] == "COMPLETED"


def test_two_deliveries_racing_for_one_attempt_call_once(aws, server):
    server.routes["/once"] = Answer(200, {"n": 1})
    workflow_id = _start(_flow({"uri": server.url("/once"), "method": "POST"}))
    message = SystemTaskMessage.parse(aws.receive(QUEUE)[0]["Body"])
    service = runtime.baton()
    # Both deliveries read the task while it is still SCHEDULED; the claim decides.
    stale = [service.store.load(workflow_id)]  # read by the second while still SCHEDULED
    results = [SystemTaskRunner(service).run(message)]
    original_load = service.store.load

    def load(wid: str) -> Any:
        return stale.pop() if stale else original_load(wid)

    service.store.load = load  # type: ignore[method-assign]
    try:
        results.append(SystemTaskRunner(service).run(message))
    finally:
        service.store.load = original_load  # type: ignore[method-assign]
    assert sorted(results) == ["called", "claimed-elsewhere"]
    assert server.calls("/once") == 1


def test_a_message_for_an_earlier_attempt_is_dropped(aws, server):
    server.routes["/x"] = Answer(200, "ok")
    workflow_id = _start(_flow({"uri": server.url("/x"), "method": "GET"}))
    task_id = _workflow(workflow_id)["tasks"][0]["taskId"]
    stale = SystemTaskMessage(workflow_id, task_id, retry_count=3)
    assert SystemTaskRunner(runtime.baton()).run(stale) == "gone"
    assert server.seen == []


def test_a_malformed_message_is_a_batch_item_failure(aws, server):
    gone = json.dumps({"workflowId": "no-such-workflow", "taskId": "t", "retryCount": 0})
    messages = [{"MessageId": "m-1", "Body": "not json"}, {"MessageId": "m-2", "Body": gone}]
    result = system_tasks.handler(sqs_event(QUEUE, messages), FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_a_crash_between_claim_and_report_times_out_and_retries(aws, server, monkeypatch):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    server.routes["/x"] = Answer(200, {"ok": True})
    task_def = {"name": "call_service", "retryCount": 1, "retryDelaySeconds": 0}
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    workflow_id = _start(_flow({"uri": server.url("/x"), "method": "GET"}))

    def crash(self: SystemTaskRunner, message: Any, outcome: Any) -> None:
        raise SystemExit("the function's container died before reporting")

    monkeypatch.setattr(SystemTaskRunner, "_report", crash)
    with pytest.raises(SystemExit):
        _deliver(aws)
    monkeypatch.undo()
    monkeypatch.setenv(settings.HTTP_ALLOW_LOOPBACK, "true")
    task = _workflow(workflow_id)["tasks"][0]
    assert task["status"] == "IN_PROGRESS"  # claimed, called, never reported
    assert server.calls("/x") == 1
    # Redelivered, the message finds the attempt claimed: no second call for it.
    _deliver(aws)
    assert server.calls("/x") == 1
    # The lease passes; the sweep finds the task in the due index and times it out.
    clock.now += CALL_LEASE_SECONDS * 1000
    timers.handler(scheduled_event(), FakeContext())
    tasks = _workflow(workflow_id)["tasks"]
    assert [(t["status"], t["retryCount"]) for t in tasks] == [
        ("TIMED_OUT", 0),
        ("SCHEDULED", 1),
    ]
    _deliver(aws)
    assert _workflow(workflow_id)["status"] == "COMPLETED"
    assert server.calls("/x") == 2


def test_a_lost_dispatch_is_sent_again_by_the_sweep(aws, server):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    server.routes["/x"] = Answer(200, "ok")
    workflow_id = _start(_flow({"uri": server.url("/x"), "method": "GET"}))
    assert len(aws.receive(QUEUE)) == 1  # received and lost: never handled, never deleted
    aws.sqs.purge_queue(QueueUrl=aws.queue_urls[QUEUE])
    clock.now += CALL_LEASE_SECONDS * 1000
    timers.handler(scheduled_event(), FakeContext())
    assert len(_deliver(aws)) == 1
    assert _workflow(workflow_id)["status"] == "COMPLETED"
    assert server.calls("/x") == 1


def test_registering_a_request_without_uri_is_refused(aws):
    flow = _flow({"method": "GET"})
    response = call_api("POST", "/api/metadata/workflow", flow)
    assert response.status == 400
    body = response.json()
    assert "uri" in json.dumps(body)


def test_a_message_too_late_for_its_lease_does_not_call_and_the_lease_end_dispatches_again(
    aws, server
):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    server.routes["/late"] = Answer(200, "ok")
    workflow_id = _start(_flow({"uri": server.url("/late"), "method": "GET"}))
    message = SystemTaskMessage.parse(aws.receive(QUEUE)[0]["Body"])
    aws.sqs.purge_queue(QueueUrl=aws.queue_urls[QUEUE])
    # Delivered with less than a second of its lease left: no claim, no call.
    clock.now += CALL_LEASE_SECONDS * 1000 - 500
    assert SystemTaskRunner(runtime.baton()).run(message) == "lease-ended"
    assert server.calls("/late") == 0
    assert _workflow(workflow_id)["tasks"][0]["status"] == "SCHEDULED"
    clock.now += 500
    timers.handler(scheduled_event(), FakeContext())
    assert len(_deliver(aws)) == 1
    assert _workflow(workflow_id)["status"] == "COMPLETED"
    assert server.calls("/late") == 1


def test_a_registered_task_defs_response_timeout_is_the_calls_lease(aws, server):
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    task_def = {"name": "call_service", "retryCount": 0, "responseTimeoutSeconds": 20}
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    seconds: list[float] = []

    def record(request: Any, policy: Any, within: float) -> Any:
        seconds.append(within)
        raise SystemExit("the function's container died during the call")

    workflow_id = _start(_flow({"uri": server.url("/x"), "method": "GET"}))
    message = SystemTaskMessage.parse(aws.receive(QUEUE)[0]["Body"])
    clock.now += 5_000
    with pytest.raises(SystemExit):
        SystemTaskRunner(runtime.baton(), call=record).run(message)
    assert seconds == [15.0]  # what is left of the 20 s lease
    clock.now += 15_000
    timers.handler(scheduled_event(), FakeContext())
    workflow = _workflow(workflow_id)
    assert workflow["status"] == "TIMED_OUT"
    assert "responseTimeout of 20s" in workflow["tasks"][0]["reasonForIncompletion"]


def test_a_dynamic_task_named_http_calls_through_the_system_task_function(aws, server):
    server.routes["/dyn"] = Answer(200, {"ok": True})
    flow = {
        "name": "http_flow",
        "version": 1,
        "tasks": [
            {
                "name": "pick",
                "taskReferenceName": "call",
                "type": "DYNAMIC",
                "dynamicTaskNameParam": "taskToRun",
                "inputParameters": {
                    "taskToRun": "${workflow.input.kind}",
                    "http_request": {"uri": server.url("/dyn"), "method": "GET"},
                },
            }
        ],
        "outputParameters": {"answer": "${call.output.response.body}"},
    }
    workflow_id = _start(flow, {"kind": "HTTP"})
    assert _workflow(workflow_id)["tasks"][0]["taskType"] == "HTTP"
    assert len(_deliver(aws)) == 1
    done = _workflow(workflow_id)
    assert done["status"] == "COMPLETED"
    assert done["output"] == {"answer": {"ok": True}}
    assert server.calls("/dyn") == 1
