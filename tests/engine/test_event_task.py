"""EVENT: publishes its resolved input and the workflow's identity to a sink, once."""

from __future__ import annotations

import pytest

from baton.engine import decider
from baton.engine.effects import PublishMessage
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    SECOND,
    T0,
    by_ref,
    complete,
    event,
    simple,
    start,
    workflow_def,
)

QUEUES = frozenset({"orders", "audit"})


def _publish(sink: str = "sqs:orders", *, queues=QUEUES, workflow_input=None, **fields):
    definition = workflow_def(
        event("publish", sink, inputParameters={"orderId": "${workflow.input.orderId}"}, **fields),
        simple("after"),
        name="order_flow",
        version=3,
    )
    return start(
        definition,
        workflow_input if workflow_input is not None else {"orderId": "o-1"},
        correlation_id="corr-1",
        task_to_domain={"after": "blue"},
        event_queues=queues,
    )


def _message(decision) -> PublishMessage:
    messages = [e for e in decision.effects if isinstance(e, PublishMessage)]
    assert len(messages) == 1, decision.effects
    return messages[0]


def test_the_message_carries_the_resolved_input_and_the_workflows_identity():
    message = _message(_publish())
    assert message.payload == {
        "orderId": "o-1",
        "sink": "sqs:orders",
        "asyncComplete": False,
        "workflowInstanceId": "wf-1",
        "workflowType": "order_flow",
        "workflowVersion": 3,
        "correlationId": "corr-1",
        "taskToDomain": {"after": "blue"},
    }


def test_the_task_input_gains_the_sink_and_async_complete():
    task = by_ref(_publish().workflow, "publish")
    assert task.input_data == {"orderId": "o-1", "sink": "sqs:orders", "asyncComplete": False}


def test_the_task_output_is_the_payload_and_the_queue_it_went_to():
    decision = _publish()
    task = by_ref(decision.workflow, "publish")
    assert task.output_data == {**_message(decision).payload, "event_produced": "sqs:orders"}


def test_the_message_id_is_the_task_id_and_the_task_completes():
    decision = _publish()
    task = by_ref(decision.workflow, "publish")
    message = _message(decision)
    assert message.message_id == message.task_id == task.task_id
    assert (message.provider, message.queue, message.event_name) == ("sqs", "orders", "sqs:orders")
    assert task.task_type == "EVENT"
    assert task.status == TaskStatus.COMPLETED
    assert task.start_time == task.end_time == T0
    assert by_ref(decision.workflow, "after").status == TaskStatus.SCHEDULED


def test_the_message_is_published_once():
    wf = _publish().workflow
    assert decider.decide(wf, T0 + SECOND, event_queues=QUEUES).effects == []


def test_async_complete_keeps_the_task_in_progress_until_it_is_updated():
    decision = _publish(asyncComplete=True)
    task = by_ref(decision.workflow, "publish")
    assert task.status == TaskStatus.IN_PROGRESS
    assert task.input_data["asyncComplete"] is True
    assert _message(decision).payload["asyncComplete"] is True
    assert all(t.reference_task_name != "after" for t in decision.workflow.tasks)

    later = decider.decide(decision.workflow, T0 + 60 * SECOND, event_queues=QUEUES)
    assert not later.changed
    assert later.effects == []

    wf = complete(decision.workflow, "publish", T0 + 61 * SECOND, reply="ok")
    assert by_ref(wf, "publish").status == TaskStatus.COMPLETED
    assert by_ref(wf, "publish").output_data == {"reply": "ok"}
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED


@pytest.mark.parametrize(
    ("sink", "event_name"),
    [
        ("conductor", "conductor:order_flow:publish"),
        ("conductor:order-status", "conductor:order_flow:order-status"),
    ],
)
def test_conductor_sinks_name_an_event_of_the_workflow(sink, event_name):
    decision = _publish(sink)
    message = _message(decision)
    assert message.provider == "conductor"
    assert message.event_name == event_name
    task = by_ref(decision.workflow, "publish")
    assert task.output_data["event_produced"] == event_name
    assert task.status == TaskStatus.COMPLETED


def test_a_sink_given_by_an_expression_is_resolved():
    # Conductor's mapper resolves the sink with the other inputs; Baton's validation allows it.
    decision = _publish("sqs:${workflow.input.queue}", workflow_input={"queue": "audit"})
    task = by_ref(decision.workflow, "publish")
    assert task.input_data["sink"] == "sqs:audit"
    assert task.status == TaskStatus.COMPLETED
    assert _message(decision).queue == "audit"
    assert task.output_data["event_produced"] == "sqs:audit"


def test_an_sqs_queue_not_provisioned_fails_the_task_and_publishes_nothing():
    decision = _publish("sqs:elsewhere")
    wf = decision.workflow
    task = by_ref(wf, "publish")
    assert task.status == TaskStatus.FAILED
    assert "elsewhere" in (task.reason_for_incompletion or "")
    assert decision.effects == []
    assert wf.status == WorkflowStatus.FAILED


def test_without_a_list_of_queues_any_sqs_queue_is_published_to():
    message = _message(_publish("sqs:anything", queues=None))
    assert message.queue == "anything"


def test_an_unsupported_conductor_sink_fails_the_task_with_conductors_message():
    decision = _publish("conductorx")
    task = by_ref(decision.workflow, "publish")
    assert task.status == TaskStatus.FAILED
    assert task.reason_for_incompletion == "Invalid / Unsupported sink specified: conductorx"
    assert decision.effects == []


def test_an_async_complete_event_times_out_per_its_task_def_but_never_for_its_response():
    from baton.engine.tasks import TASK_TYPES

    assert TASK_TYPES["EVENT"].uses_registered_task_def
    task_def = {
        "name": "publish",
        "timeoutSeconds": 30,
        "responseTimeoutSeconds": 5,
        "timeoutPolicy": "TIME_OUT_WF",
    }
    decision = _publish(asyncComplete=True, taskDefinition=task_def)
    published = by_ref(decision.workflow, "publish")
    assert published.status == TaskStatus.IN_PROGRESS
    assert TASK_TYPES["EVENT"].deadline(published) == T0 + 30 * SECOND
    waiting = decider.decide(decision.workflow, T0 + 29 * SECOND).workflow
    assert by_ref(waiting, "publish").status == TaskStatus.IN_PROGRESS
    later = decider.decide(decision.workflow, T0 + 30 * SECOND).workflow
    assert by_ref(later, "publish").status == TaskStatus.TIMED_OUT
    assert later.status == WorkflowStatus.TIMED_OUT
