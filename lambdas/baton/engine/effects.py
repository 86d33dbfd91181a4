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

    # Recorded on its task with the commit (`Task.pending_effect`) until confirmed done.
    owed = True

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
    # A timer is its own record (the due index), never an owed effect.
    owed = False


@dataclass(frozen=True)
class StartWorkflow:
    """Start the workflow a SUB_WORKFLOW or START_WORKFLOW task asks for; what to start is
    read from the task, and its id is derived from the task id (`child_workflow_id`)."""

    task_id: str
    owed = True


@dataclass(frozen=True)
class TerminateChild:
    """A SUB_WORKFLOW task was canceled (its workflow ended): terminate its child."""

    task_id: str
    child_workflow_id: str
    reason: str
    owed = True


@dataclass(frozen=True)
class ReportToParent:
    """This workflow, a SUB_WORKFLOW's child, ended: move its parent's task to match.

    `task_id` is the task of this workflow the owed effect is recorded on (the parent's task
    is in another workflow)."""

    task_id: str
    parent_workflow_id: str
    parent_task_id: str
    owed = True


@dataclass(frozen=True)
class StartFailureWorkflow:
    """This workflow failed or timed out: start its failure workflow, `name` (at `version`,
    latest when None), under the id its output names (`conductor.failure_workflow`).
    `task_id` is the task of this workflow the owed effect is recorded on."""

    task_id: str
    workflow_id: str
    name: str
    version: int | None
    owed = True


@dataclass(frozen=True)
class TimeoutAlert:
    """A workflow with timeoutPolicy ALERT_ONLY ran past its timeoutSeconds: a metric and a
    log line, and the workflow runs on."""

    task_id: str
    reason: str
    owed = False


@dataclass(frozen=True)
class CallSystemTask:
    """Carry out a system task's I/O (an HTTP call) outside the decision: the message goes to
    the system-task queue, whose function claims the task before it calls. `retry_count` names
    the attempt, so a message for an earlier attempt is recognised and dropped."""

    task_id: str
    retry_count: int
    # A lost message is repaired by the task's redispatch timer, not by an owed record.
    owed = False


Effect = (
    PublishMessage
    | ArmTimer
    | CallSystemTask
    | StartWorkflow
    | TerminateChild
    | ReportToParent
    | StartFailureWorkflow
    | TimeoutAlert
)


def message_from_output(task_id: str, output: JsonObject) -> PublishMessage:
    """The message an EVENT task published, rebuilt from its output (the payload plus
    `event_produced`, which names the queue or the event)."""
    produced = str(output.get("event_produced", ""))
    payload = {k: v for k, v in output.items() if k != "event_produced"}
    if produced.startswith("sqs:"):
        return PublishMessage(task_id, task_id, "sqs", produced.removeprefix("sqs:"), payload)
    return PublishMessage(task_id, task_id, "conductor", produced, payload)
