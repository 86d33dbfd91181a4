"""The events function: applies event handlers to messages from the event queues.

Each record is handled on its own (Powertools' BatchProcessor): a message that fails is
reported back to SQS as a batch item failure and redelivered, then moved to the queue's DLQ
after maxReceiveCount; the good records of the same batch are not held back. A message
delivered twice acts once (see `baton.event_processing`).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import settings, telemetry
from baton.event_processing import handle_message
from baton.idempotency import remember_lambda_context
from baton.messaging import EVENT_ATTRIBUTE, MESSAGE_ID_ATTRIBUTE
from baton.runtime import baton, emit_metric, logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def _queue_name(record: SQSRecord) -> str:
    return record.event_source_arn.rsplit(":", 1)[-1]


def _attribute(record: SQSRecord, name: str) -> str | None:
    attribute = (record.raw_event.get("messageAttributes") or {}).get(name) or {}
    value = attribute.get("stringValue")
    return value if isinstance(value, str) else None


def event_name(record: SQSRecord) -> str:
    """`sqs:<queue>` for an event queue; the `conductor:...` name on the internal queue."""
    internal_url = os.environ.get(settings.INTERNAL_EVENT_QUEUE_URL, "")
    if internal_url and internal_url.rstrip("/").rsplit("/", 1)[-1] == _queue_name(record):
        return _attribute(record, EVENT_ATTRIBUTE) or f"sqs:{_queue_name(record)}"
    return f"sqs:{_queue_name(record)}"


def record_handler(record: SQSRecord) -> dict[str, Any]:
    message = {
        "event": event_name(record),
        # A message Baton published carries the EVENT task's id: a resend has the same one.
        "messageId": _attribute(record, MESSAGE_ID_ATTRIBUTE) or record.message_id,
        "body": record.body,
    }
    logger.append_keys(event=message["event"], message_id=message["messageId"])
    try:
        outcome = handle_message(
            baton(), event=message["event"], message_id=message["messageId"], body=message["body"]
        )
    except Exception:
        emit_metric(telemetry.EVENT_MESSAGES_FAILED, 1)
        logger.exception("Event message failed; it will be retried")
        raise
    emit_metric(telemetry.EVENT_MESSAGES_HANDLED, 1)
    return {"executions": len(outcome.executions)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    remember_lambda_context(context)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
