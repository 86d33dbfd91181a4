"""The system-task function's work: claim a system task, carry out its call, report back.

A message from the system-task queue names a task and its attempt. The task is claimed first
(SCHEDULED -> IN_PROGRESS, a write conditioned on the task's version, as a worker's poll claims
a task), so of two deliveries of one message only one calls; the other finds the task claimed
and does nothing. The result goes back through the service as a task update, like a worker's.
A crash between the claim and the report leaves the task IN_PROGRESS with its lease in the due
index: once the lease has passed, a decision times the task out and it is retried per its
TaskDef (see `baton.engine.tasks.http`). A call gets only what is left of the lease, and a
message that comes too late to call within it is dropped (the lease's end dispatches again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from baton import outbound
from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.definitions import JsonObject
from baton.engine.state import TaskStatus, WorkflowStatus
from baton.engine.tasks import task_type_for
from baton.engine.tasks.http import (
    MIN_CALL_SECONDS,
    SYSTEM_TASK_WORKER,
    InvalidRequest,
    Outcome,
    build_call,
    call_seconds_left,
    failure,
    is_async_complete,
    outcome_of,
)
from baton.errors import NotFound, PayloadTooLarge
from baton.service import Baton

_log = logging.getLogger(__name__)

Result = Literal["called", "gone", "not-due", "claimed-elsewhere", "lease-ended"]
# Sends a request within a number of seconds.
Call = Callable[[outbound.Request, outbound.OutboundPolicy, float], outbound.Response]


class BadMessage(ValueError):
    """A system-task message that names no task; it ends in the queue's DLQ."""


@dataclass(frozen=True)
class SystemTaskMessage:
    workflow_id: str
    task_id: str
    retry_count: int

    @classmethod
    def parse(cls, body: str) -> SystemTaskMessage:
        try:
            data = json.loads(body)
            return cls(str(data["workflowId"]), str(data["taskId"]), int(data["retryCount"]))
        except (ValueError, KeyError, TypeError) as error:
            raise BadMessage(f"Not a system-task message: {body[:200]!r}") from error


def _call(
    request: outbound.Request, policy: outbound.OutboundPolicy, seconds: float
) -> outbound.Response:
    return outbound.call(request, policy, total_seconds=seconds)


@dataclass
class SystemTaskRunner:
    baton: Baton
    policy: outbound.OutboundPolicy = field(
        default_factory=outbound.OutboundPolicy.from_environment
    )
    call: Call = _call

    def run(self, message: SystemTaskMessage) -> Result:
        """Claim the task the message names and carry out its call, once per attempt."""
        store = self.baton.store
        workflow = store.load(message.workflow_id)
        task = workflow.task_by_id(message.task_id) if workflow is not None else None
        if (
            workflow is None
            or task is None
            or workflow.status != WorkflowStatus.RUNNING
            or task.retry_count != message.retry_count
            or task.status != TaskStatus.SCHEDULED
        ):
            return "gone"  # ended, or another delivery already claimed this attempt
        if task_type_for(task).name != "HTTP":
            raise BadMessage(f"Task {task.task_id} is a {task.task_type} task, not a system task")
        now = self.baton.clock()
        if task.dispatched_at and call_seconds_left(task, now) < MIN_CALL_SECONDS:
            # Too late to call within the lease: its end dispatches the task again.
            return "lease-ended"
        claim = store.claim(
            workflow.workflow_id,
            task.store_key,
            lambda t: decider.hand_out(t, SYSTEM_TASK_WORKER, now),
            now,
            known=(workflow, task),
        )
        if claim is None:
            return "claimed-elsewhere" if task.pollable_from() <= now else "not-due"
        outcome = self._outcome(
            claim.task.input_data,
            async_complete=is_async_complete(task),
            seconds=call_seconds_left(claim.task, now),
        )
        self._report(message, outcome)
        return "called"

    def _outcome(self, input_data: JsonObject, *, async_complete: bool, seconds: float) -> Outcome:
        try:
            spec = build_call(input_data)
        except InvalidRequest as error:
            return Outcome(TaskStatus.FAILED, {}, str(error))
        request = outbound.Request(
            method=spec.method,
            url=spec.uri,
            headers=spec.headers,
            body=spec.body,
            connect_timeout_seconds=spec.connect_timeout_ms / 1000,
            read_timeout_seconds=spec.read_timeout_ms / 1000,
        )
        try:
            response = self.call(request, self.policy, seconds)
        except (outbound.OutboundRefused, outbound.OutboundFailed) as error:
            return failure(str(error))
        return outcome_of(
            response.status,
            response.reason,
            response.headers,
            response.body,
            async_complete=async_complete,
        )

    def _report(self, message: SystemTaskMessage, outcome: Outcome) -> None:
        update = TaskUpdate(
            status=outcome.status,
            output=outcome.output,
            reason_for_incompletion=outcome.reason,
            worker_id=SYSTEM_TASK_WORKER,
        )
        try:
            try:
                self.baton.update_task(message.workflow_id, message.task_id, update)
            except PayloadTooLarge as error:
                # The response is more than a task output may hold: keep all but its body.
                response = outcome.output.get("response")
                kept = (
                    {k: v for k, v in response.items() if k != "body"}
                    if isinstance(response, dict)
                    else {}
                )
                self.baton.update_task(
                    message.workflow_id,
                    message.task_id,
                    TaskUpdate(
                        status=TaskStatus.FAILED,
                        output={"response": kept},
                        reason_for_incompletion=f"The HTTP response cannot be kept: {error}",
                        worker_id=SYSTEM_TASK_WORKER,
                    ),
                )
        except NotFound:
            _log.info("The task's workflow is gone; its result is dropped")
