"""Synchronous execution and signals: answer once a workflow ends or waits on a task.

`POST /api/workflow/execute/{name}/{version}` waits inside one API request, which API Gateway
ends at 29 seconds, so the wait is bounded well below that. It sleeps on the process's wake-up
signal (a commit of this workflow in this process wakes it at once) and reads the workflow
again once a second for what other processes committed: no tight polling loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from baton import wakeup
from baton.engine.definitions import JsonObject
from baton.engine.state import Workflow, base_reference

if TYPE_CHECKING:
    from baton.service import Baton, StartRequest

# API Gateway's integration timeout is 29 s: what the wait may take of it.
MAX_WAIT_SECONDS = 25
DEFAULT_WAIT_SECONDS = 10


def workflow_signal(workflow_id: str) -> wakeup.SignalKey:
    """The wake-up key a commit of this workflow bumps."""
    return ("#workflow", workflow_id)


# Workflows a request in this process is waiting on (with how many requests wait on each):
# only their commits are signalled, so the signal keeps no state for any other workflow.
_awaited: dict[str, int] = {}
_awaited_lock = threading.Lock()


def signal_commit(workflow_id: str) -> None:
    """A commit of `workflow_id` landed: wake the requests of this process waiting on it."""
    if workflow_id in _awaited:
        wakeup.work_signal.notify({workflow_signal(workflow_id): []})


@contextlib.contextmanager
def _awaiting(workflow_id: str) -> Iterator[None]:
    with _awaited_lock:
        _awaited[workflow_id] = _awaited.get(workflow_id, 0) + 1
    try:
        yield
    finally:
        with _awaited_lock:
            left = _awaited.pop(workflow_id) - 1
            if left:
                _awaited[workflow_id] = left


def reached(workflow: Workflow, task_refs: tuple[str, ...] = ()) -> bool:
    """The workflow has ended, waits on a WAIT task, or a task of `task_refs` has ended: where
    Conductor's WorkflowSignalResponder stops waiting."""
    if workflow.status.is_terminal:
        return True
    return any(
        (t.task_type == "WAIT" and not t.status.is_terminal)
        or (base_reference(t.reference_task_name) in task_refs and t.status.is_terminal)
        for t in workflow.tasks
        if not t.retried
    )


def workflow_run(workflow: Workflow, request_id: str | None, *, timed_out: bool) -> JsonObject:
    """Conductor's SignalResponse for the TARGET_WORKFLOW strategy (a WorkflowRun to its
    SDKs): the workflow as it is, and whether the wait ran out."""
    full = workflow.to_json(include_tasks=True)
    run: JsonObject = {
        "responseType": "TARGET_WORKFLOW",
        "workflowId": full["workflowId"],
        "targetWorkflowId": full["workflowId"],
        "status": full["status"],
        "targetWorkflowStatus": full["status"],
        "input": full["input"],
        "output": full["output"],
        "variables": full["variables"],
        "tasks": full["tasks"],
        "priority": full["priority"],
        "createTime": full["createTime"],
        "updateTime": full["updateTime"],
        "signalTimeout": timed_out,
    }
    for optional in ("correlationId", "reasonForIncompletion"):
        if optional in full:
            run[optional] = full[optional]
    if request_id:
        run["requestId"] = request_id
    return run


def await_run(
    service: Baton,
    workflow_id: str,
    *,
    task_refs: tuple[str, ...],
    seconds: float,
    request_id: str | None,
) -> JsonObject:
    """Wait up to `seconds` (at most MAX_WAIT_SECONDS) for the workflow to reach a point where
    Conductor answers (`reached`); answer its run as it is then."""
    key = workflow_signal(workflow_id)
    deadline = time.monotonic() + min(max(seconds, 0.0), MAX_WAIT_SECONDS)
    with _awaiting(workflow_id):
        while True:
            since = {key: wakeup.work_signal.generation(key)}
            workflow = service.store.require(workflow_id)
            remaining = deadline - time.monotonic()
            if reached(workflow, task_refs):
                return workflow_run(workflow, request_id, timed_out=False)
            if remaining <= 0:
                return workflow_run(workflow, request_id, timed_out=True)
            wakeup.work_signal.wait([key], since, min(remaining, wakeup.RECHECK_SECONDS))


def execute(
    service: Baton,
    request: StartRequest,
    *,
    wait_until_task_ref: str | None,
    wait_for_seconds: int,
    request_id: str | None,
) -> JsonObject:
    """Start the workflow and wait up to `wait_for_seconds` (at most MAX_WAIT_SECONDS) for it to
    end, block on a WAIT, or end `wait_until_task_ref`; answer its run as it is then."""
    workflow_id = service.start(request)
    refs = (wait_until_task_ref,) if wait_until_task_ref else ()
    return await_run(
        service, workflow_id, task_refs=refs, seconds=wait_for_seconds, request_id=request_id
    )
