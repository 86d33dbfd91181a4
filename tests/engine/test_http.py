"""HTTP in the decider: registration checks, the dispatch effect, its repairs, and the pure
parts of a call (the request read from the input, the response made into an outcome)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from baton.engine import decider
from baton.engine.effects import CallSystemTask
from baton.engine.state import TaskStatus, WorkflowStatus
from baton.engine.tasks import TASK_TYPES
from baton.engine.tasks.http import (
    CALL_LEASE_SECONDS,
    MISSING_METHOD,
    MISSING_URI,
    InvalidRequest,
    build_call,
    outcome_of,
    parse_body,
)
from baton.engine.validation import validate_workflow_def
from tests.engine.support import SECOND, T0, by_ref, simple, start, task, update, workflow_def

REQUEST = {"uri": "http://service.test/orders", "method": "POST", "body": {"id": 1}}


def http(ref: str = "call", **fields):
    fields.setdefault("inputParameters", {"http_request": dict(REQUEST)})
    return task("HTTP", ref, **fields)


def _errors(*tasks):
    data = {"name": "wf", "version": 1, "schemaVersion": 2, "tasks": list(tasks)}
    return {e.path: e.message for e in validate_workflow_def(data)}


# -- registration --------------------------------------------------------------------------


def test_a_request_without_uri_or_method_is_refused_at_registration():
    errors = _errors(http(inputParameters={"http_request": {"body": 1}}))
    assert set(errors) == {
        "tasks[0].inputParameters.http_request.uri",
        "tasks[0].inputParameters.http_request.method",
    }
    assert "required for taskType: HTTP" in errors["tasks[0].inputParameters.http_request.uri"]


def test_the_flat_form_and_expressions_are_accepted():
    assert _errors(http(inputParameters={"uri": "http://x.test", "method": "GET"})) == {}
    assert _errors(http(inputParameters={"http_request": "${workflow.input.request}"})) == {}
    assert _errors(http(inputParameters={"uri": "${workflow.input.u}", "method": "${m}"})) == {}


def test_a_flat_form_missing_its_method_is_refused():
    errors = _errors(http(inputParameters={"uri": "http://x.test"}))
    assert list(errors) == ["tasks[0].inputParameters.method"]


def test_an_unknown_method_is_refused():
    errors = _errors(http(inputParameters={"http_request": {"uri": "http://x", "method": "FETCH"}}))
    assert "FETCH" in errors["tasks[0].inputParameters.http_request.method"]


def test_eureka_addressing_is_refused_rather_than_ignored():
    request = {**REQUEST, "vipAddress": "orders-service"}
    errors = _errors(http(inputParameters={"http_request": request}))
    assert list(errors) == ["tasks[0].inputParameters.http_request.vipAddress"]


def test_workflow_secrets_are_refused_rather_than_sent_as_null():
    request = {**REQUEST, "headers": {"X-Secret": "${workflow.secrets.HTTP_TOKEN}"}}
    errors = _errors(http(inputParameters={"http_request": request}))
    path = 'tasks[0].inputParameters.http_request.headers["X-Secret"]'
    assert list(errors) == [path]
    assert "not supported" in errors[path]


# -- decisions -----------------------------------------------------------------------------


def test_a_due_task_is_dispatched_once_and_stays_scheduled():
    decision = start(workflow_def(http(), simple("after")))
    call = by_ref(decision.workflow, "call")
    assert call.status == TaskStatus.SCHEDULED
    assert call.input_data["http_request"] == REQUEST
    assert call.dispatched_at == T0
    effects = [e for e in decision.effects if isinstance(e, CallSystemTask)]
    assert effects == [CallSystemTask(task_id=call.task_id, retry_count=0)]
    # Deciding again before the redispatch deadline sends nothing more.
    again = decider.decide(decision.workflow, T0 + 10 * SECOND)
    assert not [e for e in again.effects if isinstance(e, CallSystemTask)]


def test_a_lost_dispatch_is_sent_again_after_its_deadline():
    decision = start(workflow_def(http()))
    call = by_ref(decision.workflow, "call")
    later = T0 + CALL_LEASE_SECONDS * SECOND
    assert decider.decide(decision.workflow, later - 1).effects == []
    again = decider.decide(decision.workflow, later)
    assert [e for e in again.effects if isinstance(e, CallSystemTask)] == [
        CallSystemTask(task_id=call.task_id, retry_count=0)
    ]


def test_a_start_delay_postpones_the_dispatch():
    decision = start(workflow_def(http(startDelay=30)))
    assert not [e for e in decision.effects if isinstance(e, CallSystemTask)]
    call = by_ref(decision.workflow, "call")
    assert call.dispatched_at == 0
    later = decider.decide(decision.workflow, T0 + 30 * SECOND)
    assert [e.task_id for e in later.effects if isinstance(e, CallSystemTask)] == [call.task_id]


def test_an_input_that_is_no_request_fails_the_task_without_a_call():
    definition = workflow_def(http(inputParameters={"http_request": "${workflow.input.req}"}))
    decision = start(definition, {"req": {"uri": "http://x.test"}})
    call = by_ref(decision.workflow, "call")
    assert call.status == TaskStatus.FAILED
    assert call.reason_for_incompletion == MISSING_METHOD
    assert decision.workflow.status == WorkflowStatus.FAILED


def _claimed(workflow, now):
    """The workflow as the system-task function's claim leaves it."""
    call = by_ref(workflow, "call")
    claimed = decider.hand_out(call, "baton-system-task", now)
    workflow.tasks = [claimed if t.task_id == call.task_id else t for t in workflow.tasks]
    return workflow


def test_a_claim_whose_result_never_comes_times_out_and_is_retried():
    task_def = {"name": "call", "retryCount": 1, "retryDelaySeconds": 0}
    decision = start(workflow_def(http(taskDefinition=task_def)))
    workflow = _claimed(decision.workflow, T0 + SECOND)
    call = by_ref(workflow, "call")
    # The lease runs from the dispatch (T0), through the claim: one deadline for both.
    due = T0 + CALL_LEASE_SECONDS * SECOND
    assert TASK_TYPES["HTTP"].deadline(call) == due
    assert decider.decide(workflow, due - 1).changed_tasks == []
    after = decider.decide(workflow, due)
    attempts = [t for t in after.workflow.tasks if t.reference_task_name == "call"]
    assert [t.status for t in attempts] == [TaskStatus.TIMED_OUT, TaskStatus.SCHEDULED]
    assert "did not complete within its responseTimeout of 300s" in (
        attempts[0].reason_for_incompletion or ""
    )
    assert [e for e in after.effects if isinstance(e, CallSystemTask)] == [
        CallSystemTask(task_id=attempts[1].task_id, retry_count=1)
    ]
    assert call.task_id == attempts[0].task_id


def test_an_async_complete_result_waits_for_an_update_without_a_lease():
    decision = start(workflow_def(http(asyncComplete=True)))
    assert by_ref(decision.workflow, "call").input_data["asyncComplete"] is True
    workflow = _claimed(decision.workflow, T0 + SECOND)
    reported = update(
        workflow,
        "call",
        T0 + 2 * SECOND,
        TaskStatus.IN_PROGRESS,
        output={"response": {"statusCode": 200}},
    ).workflow
    assert by_ref(reported, "call").status == TaskStatus.IN_PROGRESS
    much_later = decider.decide(reported, T0 + 10 * CALL_LEASE_SECONDS * SECOND)
    assert by_ref(much_later.workflow, "call").status == TaskStatus.IN_PROGRESS
    done = update(reported, "call", T0 + 3 * SECOND, output={"done": True}).workflow
    assert done.status == WorkflowStatus.COMPLETED


def test_http_tasks_snapshot_their_task_def_for_retries():
    from baton.engine.tasks import TASK_DEF_TYPES

    assert "HTTP" in TASK_DEF_TYPES


# -- the request and the response ----------------------------------------------------------


def test_the_request_is_read_from_http_request_or_the_flat_inputs():
    nested = build_call({"http_request": {**REQUEST, "headers": {"X-Trace": "t-1"}}})
    flat = build_call({**REQUEST, "headers": {"X-Trace": "t-1"}})
    assert nested == flat
    assert nested.method == "POST"
    assert nested.body == b'{"id":1}'
    assert nested.headers == {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Trace": "t-1",
    }


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"method": "GET"}, MISSING_URI),
        ({"uri": "http://x.test"}, MISSING_METHOD),
        ({"uri": "http://x.test", "method": "GET", "headers": {"X": "a\r\nB: c"}}, "line break"),
        ({"uri": "http://x.test", "method": "GET", "readTimeOut": "soon"}, "milliseconds"),
    ],
)
def test_requests_baton_cannot_send_are_refused(request_, message):
    with pytest.raises(InvalidRequest, match=message.replace(".", r"\.")[:40]):
        build_call({"http_request": request_})


def test_text_and_form_bodies():
    text = build_call(
        {"uri": "http://x", "method": "PUT", "body": "hi", "contentType": "text/plain"}
    )
    assert text.body == b"hi"
    form = build_call(
        {
            "uri": "http://x",
            "method": "POST",
            "body": {"a": 1, "b": "x y"},
            "contentType": "application/x-www-form-urlencoded",
        }
    )
    assert form.body == b"a=1&b=x+y"


def test_response_bodies_are_parsed_as_conductor_does():
    assert parse_body(b'{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_body(b"[1]") == [1]
    assert parse_body(b"42") == 42
    assert parse_body(b'"quoted"') == "quoted"
    assert parse_body(b"true") == "true"
    assert parse_body(b"plain text") == "plain text"
    assert parse_body(b"") is None


def test_two_hundreds_complete_and_other_statuses_fail():
    ok = outcome_of(201, "Created", {"X": ["1"]}, b'{"id": 7}', async_complete=False)
    assert ok.status == TaskStatus.COMPLETED
    assert ok.output == {
        "response": {
            "statusCode": 201,
            "reasonPhrase": "Created",
            "headers": {"X": ["1"]},
            "body": {"id": 7},
        }
    }
    assert outcome_of(204, "No Content", {}, b"", async_complete=True).status == (
        TaskStatus.IN_PROGRESS
    )
    for code in (199, 301, 404, 500):
        failed = outcome_of(code, "Nope", {}, b"why", async_complete=False)
        assert failed.status == TaskStatus.FAILED
        assert failed.reason == f"Failed to invoke HTTP task due to: {code} Nope: why"


def test_a_redispatched_task_keeps_its_attempt():
    decision = start(workflow_def(http()))
    call = by_ref(decision.workflow, "call")
    moved = replace(call, dispatched_at=T0 - CALL_LEASE_SECONDS * SECOND)
    decision.workflow.tasks = [moved]
    again = decider.decide(decision.workflow, T0)
    assert [e.retry_count for e in again.effects if isinstance(e, CallSystemTask)] == [0]


# -- TaskDef timeouts ----------------------------------------------------------------------


def test_a_shorter_response_timeout_shortens_the_lease_and_the_call():
    from baton.engine.tasks.http import MAX_CALL_SECONDS, MIN_LEASE_SECONDS, call_seconds_left

    task_def = {"name": "call", "retryCount": 0, "responseTimeoutSeconds": 30}
    decision = start(workflow_def(http(taskDefinition=task_def)))
    workflow = _claimed(decision.workflow, T0 + SECOND)
    call = by_ref(workflow, "call")
    assert TASK_TYPES["HTTP"].deadline(call) == T0 + 30 * SECOND
    # A claim gets what is left of the lease, never more than a call's own limit.
    assert call_seconds_left(call, T0 + SECOND) == 29
    assert call_seconds_left(call, T0 + 25 * SECOND) == 5
    after = decider.decide(workflow, T0 + 30 * SECOND)
    timed_out = by_ref(after.workflow, "call")
    assert timed_out.status == TaskStatus.TIMED_OUT
    assert "responseTimeout of 30s" in (timed_out.reason_for_incompletion or "")
    assert after.workflow.status == WorkflowStatus.TIMED_OUT
    # Never shorter than the floor; a long one leaves the lease at its default.
    tiny = start(workflow_def(http(taskDefinition={**task_def, "responseTimeoutSeconds": 1})))
    assert TASK_TYPES["HTTP"].deadline(by_ref(tiny.workflow, "call")) == (
        T0 + MIN_LEASE_SECONDS * SECOND
    )
    plain = start(workflow_def(http()))
    assert call_seconds_left(by_ref(plain.workflow, "call"), T0) == MAX_CALL_SECONDS


def test_timeout_seconds_applies_from_the_claim_to_an_async_complete_task():
    task_def = {"name": "call", "timeoutSeconds": 60, "timeoutPolicy": "TIME_OUT_WF"}
    decision = start(workflow_def(http(asyncComplete=True, taskDefinition=task_def)))
    workflow = _claimed(decision.workflow, T0 + SECOND)
    reported = update(
        workflow, "call", T0 + 2 * SECOND, TaskStatus.IN_PROGRESS, output={"response": {}}
    ).workflow
    call = by_ref(reported, "call")
    # Waiting for its update, only timeoutSeconds counts (no lease, no response timeout).
    assert TASK_TYPES["HTTP"].deadline(call) == T0 + 61 * SECOND
    assert decider.decide(reported, T0 + 61 * SECOND - 1).changed_tasks == []
    after = decider.decide(reported, T0 + 61 * SECOND)
    assert by_ref(after.workflow, "call").status == TaskStatus.TIMED_OUT
    assert after.workflow.status == WorkflowStatus.TIMED_OUT
    assert "Timeout policy configured to TIME_OUT_WF" in (
        after.workflow.reason_for_incompletion or ""
    )


def test_timeout_seconds_under_alert_only_never_ends_the_task():
    task_def = {"name": "call", "timeoutSeconds": 5, "timeoutPolicy": "ALERT_ONLY"}
    decision = start(workflow_def(http(asyncComplete=True, taskDefinition=task_def)))
    workflow = _claimed(decision.workflow, T0 + SECOND)
    reported = update(
        workflow, "call", T0 + 2 * SECOND, TaskStatus.IN_PROGRESS, output={"response": {}}
    ).workflow
    assert TASK_TYPES["HTTP"].deadline(by_ref(reported, "call")) is None
    later = decider.decide(reported, T0 + 3600 * SECOND)
    assert by_ref(later.workflow, "call").status == TaskStatus.IN_PROGRESS


def test_the_lease_is_left_to_the_sweep_and_costs_no_timer_message():
    from baton.engine.effects import ArmTimer

    decision = start(workflow_def(http()))
    call = by_ref(decision.workflow, "call")
    # Its end is in the due index (the sweep repairs from there), but no message is armed.
    assert TASK_TYPES["HTTP"].deadline(call) == T0 + CALL_LEASE_SECONDS * SECOND
    assert not [e for e in decision.effects if isinstance(e, ArmTimer)]
    # A startDelay or a timeoutSeconds must fire on time: those are armed.
    delayed = start(workflow_def(http(startDelay=30)))
    assert [e.due_at for e in delayed.effects if isinstance(e, ArmTimer)] == [T0 + 30 * SECOND]
    task_def = {"name": "call", "timeoutSeconds": 60}
    waiting = _claimed(
        start(workflow_def(http(asyncComplete=True, taskDefinition=task_def))).workflow, T0
    )
    reported = update(waiting, "call", T0 + SECOND, TaskStatus.IN_PROGRESS, output={"response": {}})
    assert [e.due_at for e in reported.effects if isinstance(e, ArmTimer)] == [T0 + 60 * SECOND]
