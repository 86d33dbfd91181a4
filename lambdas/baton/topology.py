"""The queues Baton runs on, described once for the CDK stacks and the embedded runtime.

Tables are described by the pynamodb models in `baton.store.models`; queues are described here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Consumer = Literal["events", "timers", "system_tasks"]

# The tutorial's queue: provisioned unless the `eventQueues` context says otherwise.
DEFAULT_EVENT_QUEUES: tuple[str, ...] = ("conductor_doug_testing",)

# Function timeouts in seconds; each SQS queue's visibility timeout is six times its
# consumer's timeout, as AWS advises for event source mappings.
# The system-task function's timeout is above an HTTP call's own limit (MAX_CALL_SECONDS in
# baton.engine.tasks.http) and below the lease after which an unreported call times out.
FUNCTION_TIMEOUT_SECONDS: dict[str, int] = {
    "api": 29,
    "events": 30,
    "timers": 60,
    "system_tasks": 60,
}
MAX_RECEIVE_COUNT = 5
BATCH_SIZE = 10
# SQS caps DelaySeconds at 15 minutes: longer waits are armed by the scheduled sweep.
MAX_TIMER_DELAY_SECONDS = 900
FIFO_SUFFIX = ".fifo"


@dataclass(frozen=True)
class QueueSpec:
    """One SQS queue with its dead-letter queue, consumed by one function."""

    name: str
    consumer: Consumer
    internal: bool
    max_receive_count: int = MAX_RECEIVE_COUNT
    batch_size: int = BATCH_SIZE
    # A FIFO queue (its name ends in `.fifo`, as SQS requires, and so does its DLQ's).
    fifo: bool = False

    @property
    def dlq_name(self) -> str:
        if self.fifo:
            return f"{self.name.removesuffix(FIFO_SUFFIX)}_dlq{FIFO_SUFFIX}"
        return f"{self.name}_dlq"

    @property
    def visibility_timeout_seconds(self) -> int:
        return 6 * FUNCTION_TIMEOUT_SECONDS[self.consumer]


def timer_queue(prefix: str) -> QueueSpec:
    """The internal queue whose delayed messages fire WAIT timers."""
    return QueueSpec(name=f"{prefix}-timers", consumer="timers", internal=True)


def decision_queue(prefix: str) -> QueueSpec:
    """The internal FIFO queue of "decide now" asks (a task update written onto its task
    alone), one message group per workflow: SQS hands out one batch of a group at a time,
    so one timers environment decides a workflow at a time, and a batch of asks folds into
    one decision. FIFO has no per-message delay: WAIT timers stay on the timer queue."""
    return QueueSpec(
        name=f"{prefix}-decisions{FIFO_SUFFIX}", consumer="timers", internal=True, fifo=True
    )


def internal_event_queue(prefix: str) -> QueueSpec:
    """The internal queue that carries messages published to `conductor:` sinks."""
    return QueueSpec(name=f"{prefix}-internal-events", consumer="events", internal=True)


def system_task_queue(prefix: str) -> QueueSpec:
    """The internal queue whose messages ask the system-task function to run a task's call.

    One message per batch: each HTTP call may take up to the function's timeout, and one slow
    call must not delay the others behind it.
    """
    return QueueSpec(
        name=f"{prefix}-system-tasks", consumer="system_tasks", internal=True, batch_size=1
    )


def event_queues(names: tuple[str, ...] | list[str]) -> list[QueueSpec]:
    """The event queues that `sqs:<name>` sinks and event handlers may use."""
    return [QueueSpec(name=name, consumer="events", internal=False) for name in names]


def all_queues(prefix: str, event_queue_names: tuple[str, ...] | list[str]) -> list[QueueSpec]:
    return [
        timer_queue(prefix),
        decision_queue(prefix),
        internal_event_queue(prefix),
        system_task_queue(prefix),
        *event_queues(event_queue_names),
    ]
