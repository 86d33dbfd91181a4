"""SQS: publishing EVENT messages, arming WAIT timers and dispatching system tasks."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from baton import settings
from baton.engine.effects import PublishMessage
from baton.topology import MAX_TIMER_DELAY_SECONDS

# Message attributes Baton sets: the Conductor message id (the EVENT task's id), so a message
# sent twice is recognised, and the event name on the internal `conductor:` queue.
MESSAGE_ID_ATTRIBUTE = "baton-message-id"
EVENT_ATTRIBUTE = "baton-event"


class UnknownQueue(Exception):
    """An `sqs:` sink names a queue that is not provisioned."""


def _string_attribute(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


@dataclass
class Messaging:
    """Sends to the queues named in the environment (set by CDK or the embedded runtime)."""

    event_queue_urls: dict[str, str] = field(
        default_factory=lambda: json.loads(os.environ.get(settings.EVENT_QUEUE_URLS) or "{}")
    )
    timer_queue_url: str = field(
        default_factory=lambda: os.environ.get(settings.TIMER_QUEUE_URL, "")
    )
    decision_queue_url: str = field(
        default_factory=lambda: os.environ.get(settings.DECISION_QUEUE_URL, "")
    )
    internal_event_queue_url: str = field(
        default_factory=lambda: os.environ.get(settings.INTERNAL_EVENT_QUEUE_URL, "")
    )
    system_task_queue_url: str = field(
        default_factory=lambda: os.environ.get(settings.SYSTEM_TASK_QUEUE_URL, "")
    )

    @cached_property
    def sqs(self) -> Any:
        # botocore directly: boto3 would add its own import time for nothing used here.
        import botocore.session

        return botocore.session.get_session().create_client(
            "sqs", endpoint_url=os.environ.get(settings.ENDPOINT_URL) or None
        )

    @property
    def event_queue_names(self) -> frozenset[str]:
        return frozenset(self.event_queue_urls)

    def publish(self, message: PublishMessage) -> None:
        """Send an EVENT task's message to its queue (at least once: callers resend on doubt)."""
        attributes = {MESSAGE_ID_ATTRIBUTE: _string_attribute(message.message_id)}
        if message.provider == "sqs":
            url = self.event_queue_urls.get(message.queue)
            if url is None:
                raise UnknownQueue(f"No event queue named '{message.queue}' is provisioned")
        else:
            url = self.internal_event_queue_url
            attributes[EVENT_ATTRIBUTE] = _string_attribute(message.queue)
        self.sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(message.payload, separators=(",", ":")),
            MessageAttributes=attributes,
        )

    def arm_timer(self, *, workflow_id: str, task_id: str, due_at: int, now: int) -> bool:
        """Send a delayed message that fires at `due_at`; False if it is too far off for SQS."""
        delay = max(0, math.ceil((due_at - now) / 1000))
        if delay > MAX_TIMER_DELAY_SECONDS:
            return False
        self.sqs.send_message(
            QueueUrl=self.timer_queue_url,
            MessageBody=json.dumps({"workflowId": workflow_id, "taskId": task_id, "dueAt": due_at}),
            DelaySeconds=delay,
        )
        return True

    def ask_decision(
        self,
        *,
        workflow_id: str,
        task_id: str,
        deduplication_id: str,
        now: int,
        written: dict[str, object] | None = None,
    ) -> None:
        """Ask for a decision of the workflow now, on the FIFO decision queue: its message
        group is the workflow, so one decider at a time takes its asks and folds a batch of
        them into one decision. `deduplication_id` names this ask (the task's write): sent
        twice, SQS keeps one. `written`: the task item as written alone, carried so that the
        decider need not read it back (baton.store.changes.carried). Without a decision
        queue (an older deployment's environment), the ask is a timer due now."""
        ask: dict[str, object] = {"workflowId": workflow_id, "taskId": task_id, "dueAt": now}
        if written is not None:
            ask["written"] = written
        body = json.dumps(ask, separators=(",", ":"))
        if not self.decision_queue_url:
            self.arm_timer(workflow_id=workflow_id, task_id=task_id, due_at=now, now=now)
            return
        self.sqs.send_message(
            QueueUrl=self.decision_queue_url,
            MessageBody=body,
            MessageGroupId=workflow_id,
            MessageDeduplicationId=deduplication_id,
        )

    def dispatch_system_task(self, *, workflow_id: str, task_id: str, retry_count: int) -> None:
        """Ask the system-task function to run a task's call (at least once: it claims first)."""
        self.sqs.send_message(
            QueueUrl=self.system_task_queue_url,
            MessageBody=json.dumps(
                {"workflowId": workflow_id, "taskId": task_id, "retryCount": retry_count}
            ),
        )
