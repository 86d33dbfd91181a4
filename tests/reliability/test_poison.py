"""Poison messages: one bad record never holds back the rest, and none is dropped silently.

The first test sends one SQS batch through the real events function under moto: good records
beside records that cannot be handled. The others run the embedded runtime (real handlers,
pollers playing Lambda's event source mapping, one-second visibility timeout, maxReceiveCount
2): a message that keeps failing, or that no handler reads, ends in its queue's DLQ.
"""

from __future__ import annotations

import json
import uuid

from tests.reliability.conftest import (
    EMBEDDED_HANDLED_QUEUE,
    EMBEDDED_MAX_RECEIVE_COUNT,
    EMBEDDED_UNHANDLED_QUEUE,
    EmbeddedBaton,
    wait_for,
)
from tests.reliability.support import (
    EVENT_ATTRIBUTE,
    INTERNAL_QUEUE,
    complete_task_handler,
    deliver,
    executions,
    failed_ids,
    receive_all,
    register_handler,
    register_workflow,
    send,
    start,
    statuses,
    wait_workflow,
)
from tests.runtime.conftest import Aws

# Events on Baton's internal queue, where each message names its event in an attribute, as
# `conductor:` sinks publish them: one batch from one queue can carry several events.
WORK = "conductor:reliability:work"
MISSING_TASK = "conductor:reliability:missing_task"
SPIN = "conductor:reliability:spin"
WORKFLOW = "reliability_poison_target"


def test_one_batch_of_good_and_poison_records_fails_exactly_the_poison(aws: Aws) -> None:
    register_workflow(wait_workflow(WORKFLOW, "task_1_ref"))
    register_handler(complete_task_handler("reliability_work", WORK, "task_1_ref"))
    register_handler(
        complete_task_handler("reliability_missing_task", MISSING_TASK, "no_such_task_ref")
    )
    register_handler(
        complete_task_handler("reliability_spin", SPIN, "task_1_ref", condition="while(true){}")
    )
    good_a, good_b, untouched_c, untouched_d = (start(WORKFLOW) for _ in range(4))
    records = {
        "not json": (WORK, "this is not JSON {"),
        "good a": (WORK, {"workflowInstanceId": good_a}),
        "no fields": (WORK, {"unrelated": True}),
        "spinning condition": (SPIN, {"workflowInstanceId": untouched_d}),
        "unknown workflow": (WORK, {"workflowInstanceId": f"no-such-workflow-{uuid.uuid4()}"}),
        "good b": (WORK, {"workflowInstanceId": good_b}),
        "missing task": (MISSING_TASK, {"workflowInstanceId": untouched_c}),
    }
    for event, body in records.values():
        send(aws, INTERNAL_QUEUE, body, {EVENT_ATTRIBUTE: event})
    batch = receive_all(aws, INTERNAL_QUEUE, len(records))
    ids = dict(zip(records, (m["MessageId"] for m in batch), strict=True))

    result = deliver(INTERNAL_QUEUE, batch)

    poison = {name for name in records if not name.startswith("good")}
    assert failed_ids(result) == {ids[name] for name in poison}
    assert (
        statuses(good_a) == statuses(good_b) == {"task_1_ref": "COMPLETED", "workflow": "COMPLETED"}
    )
    for untouched in (untouched_c, untouched_d):
        assert statuses(untouched) == {"task_1_ref": "IN_PROGRESS", "workflow": "RUNNING"}

    # Every outcome is kept as an event execution of the handler it concerned.
    recorded = {
        e["messageId"]: e
        for handler in ("reliability_work", "reliability_missing_task", "reliability_spin")
        for e in executions(handler)
    }
    assert set(recorded) == set(ids.values())
    assert {name: recorded[ids[name]]["status"] for name in records} == {
        name: "COMPLETED" if name.startswith("good") else "FAILED" for name in records
    }
    assert recorded[ids["not json"]]["output"]["error"] == "message body is not JSON"
    assert "workflowId" in recorded[ids["no fields"]]["output"]["error"]
    assert "No such workflow" in recorded[ids["unknown workflow"]]["output"]["error"]
    assert "no_such_task_ref" in recorded[ids["missing task"]]["output"]["error"]
    assert "timed out" in recorded[ids["spinning condition"]]["output"]["error"]
    assert recorded[ids["spinning condition"]]["name"] == "reliability_spin"


def _dead_letters(baton: EmbeddedBaton, queue: str) -> list[dict]:
    response = baton.sqs.receive_message(
        QueueUrl=baton.queue_url(f"{queue}_dlq"), MaxNumberOfMessages=10, WaitTimeSeconds=1
    )
    return list(response.get("Messages", []))


def _delivery_count(baton: EmbeddedBaton, message_id: str) -> int:
    return len(
        [d for d in baton.deliveries() if d["kind"] == "delivered" and d["messageId"] == message_id]
    )


def test_a_message_that_keeps_failing_ends_in_the_dlq_while_good_ones_go_through(
    embedded_baton: EmbeddedBaton,
) -> None:
    baton = embedded_baton
    definition = wait_workflow("reliability_poison_neighbour", "task_1_ref")
    assert baton.call("POST", "/metadata/workflow", definition)[0] == 200
    status, workflow_id = baton.call("POST", "/workflow/reliability_poison_neighbour", {})
    assert status == 200
    queue_url = baton.queue_url(EMBEDDED_HANDLED_QUEUE)
    poison_id = baton.sqs.send_message(QueueUrl=queue_url, MessageBody="not JSON at all")[
        "MessageId"
    ]
    baton.sqs.send_message(
        QueueUrl=queue_url, MessageBody=json.dumps({"workflowInstanceId": workflow_id})
    )

    (dead,) = wait_for(
        lambda: _dead_letters(baton, EMBEDDED_HANDLED_QUEUE), "the poison message in the DLQ"
    )
    assert dead["MessageId"] == poison_id
    assert dead["Body"] == "not JSON at all"
    # It was tried as often as the redrive policy allows before it was moved, never acked.
    assert _delivery_count(baton, poison_id) == EMBEDDED_MAX_RECEIVE_COUNT
    # The tutorial's handler (seeded by the runtime) recorded the failure.
    status, body = baton.call("GET", "/event/executions/complete_task_event")
    (failure,) = [e for e in json.loads(body) if e["messageId"] == poison_id]
    assert failure["status"] == "FAILED"
    # Its neighbour was handled on the first delivery.
    status, body = baton.call("GET", f"/workflow/{workflow_id}")
    assert json.loads(body)["status"] == "COMPLETED"
    assert wait_for(lambda: baton.queue_is_empty(EMBEDDED_HANDLED_QUEUE), "an empty queue")


def test_a_message_no_handler_reads_ends_in_the_dlq(embedded_baton: EmbeddedBaton) -> None:
    baton = embedded_baton
    body = json.dumps({"orderId": str(uuid.uuid4())})
    sent = baton.sqs.send_message(
        QueueUrl=baton.queue_url(EMBEDDED_UNHANDLED_QUEUE), MessageBody=body
    )["MessageId"]

    (dead,) = wait_for(
        lambda: _dead_letters(baton, EMBEDDED_UNHANDLED_QUEUE), "the unhandled message in the DLQ"
    )
    assert (dead["MessageId"], dead["Body"]) == (sent, body)
    assert _delivery_count(baton, sent) == EMBEDDED_MAX_RECEIVE_COUNT
    assert baton.queue_is_empty(EMBEDDED_UNHANDLED_QUEUE)
