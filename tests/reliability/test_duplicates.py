"""Every message delivered twice: each action still takes effect once.

SQS delivers at least once, and Baton's sweep resends an EVENT message whose send it could not
confirm (same `baton-message-id` attribute, new SQS message id). Both kinds of duplicate go
through the real events function under moto.
"""

from __future__ import annotations

import uuid

from tests.reliability.support import (
    MESSAGE_ID_ATTRIBUTE,
    complete_task_handler,
    deliver,
    executions,
    failed_ids,
    receive_all,
    register_handler,
    register_workflow,
    send,
    start,
    task,
    wait_workflow,
    workflow,
)
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api

QUEUE = "orders"
STARTED = "reliability_started_by_message"
STARTER = "reliability_start_on_order"


def _register_starter() -> None:
    register_workflow(wait_workflow(STARTED, "approval_ref"))
    register_handler(
        {
            "name": STARTER,
            "event": f"sqs:{QUEUE}",
            "actions": [
                {
                    "action": "start_workflow",
                    "start_workflow": {
                        "name": STARTED,
                        "correlationId": "${orderId}",
                        "input": {"orderId": "${orderId}"},
                    },
                }
            ],
            "active": True,
        }
    )


def _started_for(order_id: str) -> list[dict]:
    response = call_api(
        "GET", f"/api/workflow/{STARTED}/correlated/{order_id}", query={"includeClosed": "true"}
    )
    assert response.status == 200, response.body
    return list(response.json())


def test_the_same_sqs_message_delivered_twice_starts_one_workflow(aws: Aws) -> None:
    _register_starter()
    order_id = f"order-{uuid.uuid4()}"
    send(aws, QUEUE, {"orderId": order_id})
    (message,) = receive_all(aws, QUEUE, 1)

    first = deliver(QUEUE, [message])
    second = deliver(QUEUE, [message])

    assert first == second == {"batchItemFailures": []}
    (started,) = _started_for(order_id)
    assert started["input"]["orderId"] == order_id
    assert [e["output"]["workflowId"] for e in executions(STARTER)] == [started["workflowId"]]


def test_a_resend_with_the_same_baton_message_id_starts_one_workflow(aws: Aws) -> None:
    _register_starter()
    order_id = f"order-{uuid.uuid4()}"
    baton_message_id = str(uuid.uuid4())
    # The original and the resend: two SQS messages, one Baton message id.
    for _ in range(2):
        send(aws, QUEUE, {"orderId": order_id}, {MESSAGE_ID_ATTRIBUTE: baton_message_id})
    original, resent = receive_all(aws, QUEUE, 2)
    assert original["MessageId"] != resent["MessageId"]

    assert deliver(QUEUE, [original]) == {"batchItemFailures": []}
    assert deliver(QUEUE, [resent]) == {"batchItemFailures": []}

    (started,) = _started_for(order_id)
    (execution,) = executions(STARTER)
    assert execution["messageId"] == baton_message_id
    assert execution["output"]["workflowId"] == started["workflowId"]


def test_an_appending_variable_update_delivered_twice_appends_once(aws: Aws) -> None:
    """Appending is the one action that is not idempotent by itself."""
    register_workflow(wait_workflow("reliability_collector", "collect_ref"))
    register_handler(
        {
            "name": "reliability_append_item",
            "event": f"sqs:{QUEUE}",
            "actions": [
                {
                    "action": "update_workflow_variables",
                    "update_workflow_variables": {
                        "workflowId": "${workflowInstanceId}",
                        "variables": {"items": ["${item}"]},
                        "appendArray": True,
                    },
                }
            ],
            "active": True,
        }
    )
    workflow_id = start("reliability_collector")
    send(aws, QUEUE, {"workflowInstanceId": workflow_id, "item": "first"})
    # The second item, then its resend: a new SQS message with the same Baton message id.
    second = {"workflowInstanceId": workflow_id, "item": "second"}
    send(aws, QUEUE, second, {MESSAGE_ID_ATTRIBUTE: "second-item"})
    send(aws, QUEUE, second, {MESSAGE_ID_ATTRIBUTE: "second-item"})
    first, second_sent, second_resent = receive_all(aws, QUEUE, 3)

    for batch in ([first], [first], [second_sent], [second_resent], [second_sent]):
        assert deliver(QUEUE, batch) == {"batchItemFailures": []}

    assert workflow(workflow_id)["variables"]["items"] == ["first", "second"]


def test_a_completed_task_keeps_its_first_output_when_a_different_message_arrives(
    aws: Aws,
) -> None:
    register_workflow(wait_workflow("reliability_approval", "approval_ref"))
    register_handler(
        complete_task_handler(
            "reliability_approve",
            f"sqs:{QUEUE}",
            "approval_ref",
            output={"decision": "${decision}"},
        )
    )
    workflow_id = start("reliability_approval")
    send(aws, QUEUE, {"workflowInstanceId": workflow_id, "decision": "approve"})
    (approve,) = receive_all(aws, QUEUE, 1)
    assert deliver(QUEUE, [approve]) == {"batchItemFailures": []}
    first = task(workflow_id, "approval_ref")

    send(aws, QUEUE, {"workflowInstanceId": workflow_id, "decision": "reject"})
    (reject,) = receive_all(aws, QUEUE, 1)
    second_delivery = deliver(QUEUE, [reject])
    redelivery = deliver(QUEUE, [approve])

    assert failed_ids(second_delivery) == failed_ids(redelivery) == set()
    after = task(workflow_id, "approval_ref")
    assert first["status"] == after["status"] == "COMPLETED"
    assert after["outputData"]["decision"] == "approve"
    assert after["outputData"]["conductor.event.messageId"] == approve["MessageId"]
    assert after == first
