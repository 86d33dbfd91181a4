"""Synchronous execution and signals: answer once a workflow ends or waits on a task.

`POST /api/workflow/execute/{name}/{version}` waits inside one API request, which API Gateway
ends at 29 seconds, so the wait is bounded well below that. It sleeps on the process's wake-up
signal (a commit of this workflow in this process wakes it at once) and reads the workflow
again once a second for what other processes committed: no tight polling loop.
"""

from __future__ import annotations

import time
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
