"""The system-task function: runs system tasks' calls (HTTP) from the system-task queue.

Each record is handled on its own (Powertools' BatchProcessor): a record that fails is
reported as a batch item failure and redelivered, then moved to the queue's DLQ after
maxReceiveCount. A redelivered record never calls twice: the task is claimed before the call
(see `baton.system_tasks`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import telemetry
from baton.runtime import baton, emit_metric, logger, metrics, tracer
from baton.system_tasks import SystemTaskMessage, SystemTaskRunner

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def runner() -> SystemTaskRunner:
    return SystemTaskRunner(baton())


def record_handler(record: SQSRecord) -> dict[str, Any]:
    message = SystemTaskMessage.parse(record.body)
    logger.append_keys(workflow_id=message.workflow_id, task_id=message.task_id)
    try:
        result = runner().run(message)
    except Exception:
        emit_metric(telemetry.SYSTEM_TASKS_FAILED, 1)
        logger.exception("System task failed; it will be retried")
        raise
    if result == "called":
        emit_metric(telemetry.SYSTEM_TASKS_RUN, 1)
    return {"result": result}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
