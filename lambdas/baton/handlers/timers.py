"""The timers function: fires WAIT timers, decides what the decision queue asks, sweeps.

A timer message is a delayed SQS message armed when the WAIT was committed, or one due at
once (a decision that ran out of budget). An ask on the decision queue (FIFO, one message
group per workflow) is a task update written onto its task alone: SQS hands out one batch
of a workflow's asks at a time, so one environment decides a workflow at a time. Both carry
the same body, and the messages of one workflow that are due in one batch are folded into
one decision, which reads the tasks the messages name afresh (and of the others only what
changed since this environment last read them). A workflow's records share its decision's
outcome, so a failed decision fails all of them, as a FIFO batch's failures must be
reported (with the records after them in their group). The EventBridge schedule runs the
sweep, which arms timers that come within SQS's 15-minute delay limit, fires overdue ones
and resends messages whose send was never confirmed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
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
from baton.store.changes import StoredTask, from_carried

processor = BatchProcessor(event_type=EventType.SQS)
# A timer that arrives at most this early waits in the function; earlier ones are re-armed.
EARLY_TOLERANCE_MS = 1000


def _due_at(body: str) -> tuple[str, int, str | None] | None:
    """(workflow id, due time, task id) of a timer message, or None if it is not one (its
    own record fails on it)."""
    try:
        timer = json.loads(body)
        task_id = timer.get("taskId")
        return (
            str(timer["workflowId"]),
            int(timer["dueAt"]),
            str(task_id) if task_id is not None else None,
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _written(body: str) -> StoredTask | None:
    """The task item an ask carries, if it carries one that reads."""
    try:
        return from_carried(json.loads(body).get("written"))
    except (ValueError, AttributeError):
        return None


@dataclass
class TimerBatch:
    """One batch of timer messages: each workflow with timers due is decided once, at the
    latest of its due times, and every one of its records shares that decision's outcome."""

    latest_due: dict[str, int] = field(default_factory=dict)
    # Per workflow: the tasks its messages name (a task written alone is in no log of the
    # workflow's changes: its decision reads it afresh), and the task items written alone
    # that asks carry, by key (the latest version of each), which it need not read.
    task_ids: dict[str, set[str]] = field(default_factory=dict)
    written: dict[str, dict[str, StoredTask]] = field(default_factory=dict)
    # Per workflow: the time its decision was made at, and how it failed (None: it did not).
    decided: dict[str, tuple[int, Exception | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, event: dict[str, Any], now: int) -> TimerBatch:
        batch = cls()
        for record in event.get("Records") or []:
            found = _due_at(str(record.get("body", "")))
            if found is None or found[1] > now + EARLY_TOLERANCE_MS:
                continue
            workflow_id, due_at, task_id = found
            batch.latest_due[workflow_id] = max(due_at, batch.latest_due.get(workflow_id, due_at))
            named = batch.task_ids.setdefault(workflow_id, set())
            if task_id is not None:
                named.add(task_id)
            item = _written(str(record.get("body", "")))
            if item is not None and item.task_id == task_id:
                written = batch.written.setdefault(workflow_id, {})
                kept = written.get(item.store_key)
                if kept is None or kept.version < item.version:
                    written[item.store_key] = item
        return batch

    def fire(self, record: SQSRecord) -> None:
        timer = json.loads(record.body)
        service = baton()
        now = service.clock()
        workflow_id = timer["workflowId"]
        due_at = int(timer["dueAt"])
        if due_at > now + EARLY_TOLERANCE_MS:
            # Woken early (a long wait re-armed in steps): arm the rest of the way.
            service.messaging.arm_timer(
                workflow_id=workflow_id, task_id=timer["taskId"], due_at=due_at, now=now
            )
            return
        decided = self.decided.get(workflow_id)
        if decided is None or decided[0] < due_at:
            # Not decided in this batch yet, or before this timer was due.
            decided = self.decided[workflow_id] = self._decide(workflow_id, due_at, timer)
        failure = decided[1]
        if failure is not None:
            raise failure
        emit_metric(telemetry.TIMER_LATENESS_MS, max(0, service.clock() - due_at))

    def _decide(
        self, workflow_id: str, due_at: int, timer: dict[str, Any]
    ) -> tuple[int, Exception | None]:
        service = baton()
        latest = max(due_at, self.latest_due.get(workflow_id, due_at))
        now = service.clock()
        if latest > now:
            # A little early (SQS delays count whole seconds): deciding now would find the
            # WAIT not yet due and nothing would wake it again before the sweep.
            time.sleep((latest - now) / 1000)
        as_of = service.clock()
        try:
            service.wake(
                workflow_id,
                fresh_task_ids=self.task_ids.get(workflow_id, set()),
                written=self.written.get(workflow_id),
            )
        except NotFound:
            logger.warning("Timer for a workflow that no longer exists", extra=timer)
        except Exception as error:
            # Its records fail and SQS delivers them again; what failed is logged here.
            logger.exception("Timer decision failed", extra={"workflow_id": workflow_id})
            return as_of, error
        return as_of, None


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
    batch = TimerBatch.of(event, baton().clock())
    return dict(
        process_partial_response(
            event=event, record_handler=batch.fire, processor=processor, context=context
        )
    )
