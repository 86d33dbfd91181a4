"""What a decision asks the outside world to do once its commit has landed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from baton.engine.definitions import JsonObject


@dataclass(frozen=True)
class PublishMessage:
    """An EVENT task's message. Its id is the task id, so a resend is recognisable."""

    message_id: str
    task_id: str
    provider: Literal["sqs", "conductor"]
    # The SQS queue name for `sqs:` sinks; the event name (`conductor:<workflow>:<x>`) otherwise.
    queue: str
    payload: JsonObject

    @property
    def event_name(self) -> str:
        """The event name handlers listen on: `sqs:<queue>` or `conductor:<workflow>:<x>`."""
        return f"sqs:{self.queue}" if self.provider == "sqs" else self.queue


@dataclass(frozen=True)
class ArmTimer:
    """Wake the workflow at `due_at` (epoch ms): a WAIT ends or a delayed retry becomes due."""

    task_id: str
    due_at: int
    # A decision that ran out of budget resumes here (`Run.carry_over`); the store indexes
    # it from the task's mark, after a grace period, instead of at `due_at`.
    carry_over: bool = False


@dataclass(frozen=True)
class CallSystemTask:
    """Carry out a system task's I/O (an HTTP call) outside the decision: the message goes to
    the system-task queue, whose function claims the task before it calls. `retry_count` names
    the attempt, so a message for an earlier attempt is recognised and dropped."""

    task_id: str
    retry_count: int


Effect = PublishMessage | ArmTimer | CallSystemTask


def message_from_output(task_id: str, output: JsonObject) -> PublishMessage:
    """The message an EVENT task published, rebuilt from its output (the payload plus
    `event_produced`, which names the queue or the event)."""
    produced = str(output.get("event_produced", ""))
    payload = {k: v for k, v in output.items() if k != "event_produced"}
    if produced.startswith("sqs:"):
        return PublishMessage(task_id, task_id, "sqs", produced.removeprefix("sqs:"), payload)
    return PublishMessage(task_id, task_id, "conductor", produced, payload)
