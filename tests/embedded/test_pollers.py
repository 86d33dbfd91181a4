"""The pollers play Lambda's SQS event source mapping; the ticker plays the EventBridge rule."""

from __future__ import annotations

import time
from typing import Any

import pytest

from embedded import Runtime
from embedded.pollers import failed_message_ids, sqs_record
from tests.embedded.conftest import (
    FAILING_QUEUE,
    MAX_RECEIVE_COUNT,
    PARTIAL_QUEUE,
    TICK_SECONDS,
    VISIBILITY_TIMEOUT_SECONDS,
    StandIns,
    wait_for,
)


def queue_is_empty(runtime: Runtime, name: str) -> bool:
    attributes = runtime.sqs.get_queue_attributes(
        QueueUrl=runtime.queue_urls[name],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return set(attributes.values()) == {"0"}


@pytest.mark.slow
def test_a_failed_record_comes_back_after_its_visibility_timeout_and_the_rest_are_deleted(
    runtime: Runtime, stand_ins: StandIns
) -> None:
    stand_ins.fail_first_delivery.add("second")
    runtime.sqs.send_message_batch(
        QueueUrl=runtime.queue_urls[PARTIAL_QUEUE],
        Entries=[
            {
                "Id": body,
                "MessageBody": body,
                "MessageAttributes": {"kind": {"DataType": "String", "StringValue": body}},
            }
            for body in ("first", "second", "third")
        ],
    )

    wait_for(lambda: len(stand_ins.records(PARTIAL_QUEUE)) >= 4)
    wait_for(lambda: queue_is_empty(runtime, PARTIAL_QUEUE))

    deliveries: dict[str, list[dict[str, Any]]] = {}
    for record in stand_ins.records(PARTIAL_QUEUE):
        deliveries.setdefault(record["body"], []).append(record)
    assert {body: len(records) for body, records in deliveries.items()} == {
        "first": 1,
        "second": 2,
        "third": 1,
    }
    again = deliveries["second"][1]
    assert again["attributes"]["ApproximateReceiveCount"] == "2"
    assert again["messageId"] == deliveries["second"][0]["messageId"]
    assert again["messageAttributes"]["kind"]["stringValue"] == "second"
    assert again["messageAttributes"]["kind"]["dataType"] == "String"
    assert again["eventSource"] == "aws:sqs"
    assert again["eventSourceARN"] == runtime.queues[PARTIAL_QUEUE].arn
    assert again["awsRegion"] == runtime.region
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(again["attributes"])
    assert again["md5OfBody"]
    assert again["receiptHandle"]
    # Nothing of this queue reached its dead-letter queue.
    assert queue_is_empty(runtime, f"{PARTIAL_QUEUE}_dlq")


@pytest.mark.slow
def test_a_consumer_that_always_fails_sends_the_message_to_the_dlq(
    runtime: Runtime, stand_ins: StandIns
) -> None:
    started = time.monotonic()
    runtime.sqs.send_message(QueueUrl=runtime.queue_urls[FAILING_QUEUE], MessageBody="doomed")

    dlq_url = runtime.queue_urls[f"{FAILING_QUEUE}_dlq"]
    dead: list[dict[str, Any]] = []

    def dead_lettered() -> bool:
        dead.extend(
            runtime.sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages", [])
        )
        return bool(dead)

    wait_for(dead_lettered, timeout=15)
    assert [m["Body"] for m in dead] == ["doomed"]
    receives = [
        r["attributes"]["ApproximateReceiveCount"] for r in stand_ins.records(FAILING_QUEUE)
    ]
    assert receives == [str(n) for n in range(1, MAX_RECEIVE_COUNT + 1)]
    # Each redelivery waited out the visibility timeout.
    assert time.monotonic() - started >= (MAX_RECEIVE_COUNT - 1) * VISIBILITY_TIMEOUT_SECONDS


@pytest.mark.slow
def test_the_ticker_sends_scheduled_events_to_the_timers_handler(
    runtime: Runtime, stand_ins: StandIns
) -> None:
    wait_for(lambda: len(stand_ins.timer_events) >= 2, timeout=10 * TICK_SECONDS)

    event = stand_ins.timer_events[-1]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["version"] == "0"
    assert event["account"] == "123456789012"
    assert event["region"] == runtime.region
    assert event["resources"] == [f"arn:aws:events:{runtime.region}:123456789012:rule/baton-sweep"]
    assert event["detail"] == {}
    assert event["time"].endswith("Z")
    assert stand_ins.timer_events[0]["id"] != event["id"]


@pytest.mark.slow
def test_the_timer_queue_is_consumed_by_the_timers_handler(
    runtime: Runtime, stand_ins: StandIns
) -> None:
    timer_queue = runtime.queue_urls["baton-timers"]
    runtime.sqs.send_message(QueueUrl=timer_queue, MessageBody='{"taskId": "t1"}')

    def timer_records() -> list[dict[str, Any]]:
        return [
            record for event in list(stand_ins.timer_events) for record in event.get("Records", [])
        ]

    wait_for(lambda: bool(timer_records()))
    assert timer_records()[0]["body"] == '{"taskId": "t1"}'
    wait_for(lambda: queue_is_empty(runtime, "baton-timers"))


RECORDS = [{"messageId": "a"}, {"messageId": "b"}]


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        # Lambda fails the whole batch on an identifier it cannot match.
        ({"batchItemFailures": [{"itemIdentifier": "c"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, {"a", "b"}),
        ({"batchItemFailures": [{"id": "a"}]}, {"a", "b"}),
        ("not a response", {"a", "b"}),
    ],
)
def test_partial_batch_responses_are_read_as_lambda_reads_them(
    result: Any, failed: set[str]
) -> None:
    assert failed_message_ids(RECORDS, result) == failed


def test_binary_message_attributes_are_base64_in_the_record() -> None:
    record = sqs_record(
        {
            "MessageId": "m",
            "ReceiptHandle": "r",
            "Body": "b",
            "MD5OfBody": "x",
            "Attributes": {"ApproximateReceiveCount": "1"},
            "MessageAttributes": {"raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
        },
        queue_arn="arn:aws:sqs:us-east-1:123456789012:q",
        region="us-east-1",
    )
    assert record["messageAttributes"]["raw"] == {
        "binaryValue": "AAE=",
        "dataType": "Binary",
        "stringListValues": [],
        "binaryListValues": [],
    }
