"""The timers function: fires WAIT timers from the timer queue, and sweeps every minute.

A timer message is a delayed SQS message armed when the WAIT was committed; the EventBridge
schedule runs the sweep, which arms timers that come within SQS's 15-minute delay limit,
fires overdue ones and resends messages whose send was never confirmed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import telemetry
from baton.errors import NotFound
from baton.runtime import baton, emit_metric, logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)
# A timer that arrives at most this early waits in the function; earlier ones are re-armed.
EARLY_TOLERANCE_MS = 1000


def fire(record: SQSRecord) -> None:
    timer = json.loads(record.body)
    service = baton()
    now = service.clock()
    due_at = int(timer["dueAt"])
    if due_at > now + EARLY_TOLERANCE_MS:
        # Woken early (a long wait re-armed in steps): arm the rest of the way.
        service.messaging.arm_timer(
            workflow_id=timer["workflowId"], task_id=timer["taskId"], due_at=due_at, now=now
        )
        return
    if due_at > now:
        # A little early (SQS delays count whole seconds): deciding now would find the WAIT
        # not yet due and nothing would wake it again before the sweep.
        time.sleep((due_at - now) / 1000)
    try:
        service.wake(timer["workflowId"])
    except NotFound:
        logger.warning("Timer for a workflow that no longer exists", extra=timer)
        return
    emit_metric(telemetry.TIMER_LATENESS_MS, max(0, service.clock() - due_at))


def _is_scheduled_event(event: dict[str, Any]) -> bool:
    return event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if _is_scheduled_event(event):
        report = baton().sweep()
        logger.info("Sweep finished", extra=report)
        return report
    return dict(
        process_partial_response(
            event=event, record_handler=fire, processor=processor, context=context
        )
    )
