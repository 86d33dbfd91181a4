"""Applying event handlers to one message, as Conductor's event processor does.

Each action of each matching handler takes effect once per message even when SQS delivers the
message twice: completing an ended task changes nothing, a workflow started by an action gets
an id derived from the message, so a second start finds it exists, and variable updates (which
may append) go through Powertools' idempotency utility. Each outcome is kept
as an event execution (`GET /api/event/executions/{handler}`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from baton.engine import events, js
from baton.engine.decider import TaskUpdate
from baton.engine.events import PlannedAction
from baton.engine.state import TaskStatus
from baton.errors import NotFound
from baton.idempotency import once
from baton.service import Baton, StartRequest
from baton.store.clock import now_ms

_START_NAMESPACE = uuid.UUID("1d0f5c0a-8f0e-4a8e-9a53-5b8c0e7f7a11")


class MessageFailed(Exception):
    """The message could not be handled; it is left on the queue to be retried (then DLQ)."""


@dataclass
class MessageOutcome:
    event: str
    message_id: str
    executions: list[dict[str, Any]] = field(default_factory=list)


def _started_workflow_id(message_id: str, handler: str, index: int) -> str:
    return str(uuid.uuid5(_START_NAMESPACE, f"{message_id}/{handler}/{index}"))


def handle_message(baton: Baton, *, event: str, message_id: str, body: str) -> MessageOutcome:
    """Run every active handler of `event` on the message. Raises MessageFailed to retry it."""
    outcome = MessageOutcome(event=event, message_id=message_id)
    handlers = baton.metadata.event_handlers_for(event, active_only=True)
    if not handlers:
        raise MessageFailed(
            f"No active event handler for {event}; the message stays on the queue and goes "
            "to its dead-letter queue if none is added"
        )
    try:
        payload: Any = json.loads(body)
    except ValueError:
        _record(outcome, handlers[0].name, "-", "FAILED", {"error": "message body is not JSON"})
        _keep(baton, outcome)
        raise MessageFailed(f"Message {message_id} on {event} is not JSON") from None
    failures: list[str] = []
    for handler in handlers:
        try:
            if not events.matches(handler, payload):
                _record(outcome, handler.name, "-", "SKIPPED", {"condition": handler.condition})
                continue
        except js.ScriptError as error:
            _record(outcome, handler.name, "-", "FAILED", {"error": f"condition: {error}"})
            failures.append(f"{handler.name}: {error}")
            continue
        for action in events.plan(handler, payload, message_id=message_id, event=event):
            try:
                result = _carry_out(baton, action, message_id=message_id, event=event)
            except Exception as error:
                _record(outcome, handler.name, action, "FAILED", {"error": str(error)})
                failures.append(f"{handler.name}[{action.index}] {action.action}: {error}")
                continue
            _record(outcome, handler.name, action, "COMPLETED", result)
    _keep(baton, outcome)
    if failures:
        raise MessageFailed("; ".join(failures))
    return outcome


def _keep(baton: Baton, outcome: MessageOutcome) -> None:
    """Save the message's executions, failures included, for `GET /api/event/executions`."""
    for execution in outcome.executions:
        execution["messageId"] = outcome.message_id
        baton.metadata.record_event_execution(execution)


def _record(
    outcome: MessageOutcome,
    handler: str,
    action: PlannedAction | str,
    status: str,
    output: dict[str, Any],
) -> None:
    index = action.index if isinstance(action, PlannedAction) else "-"
    outcome.executions.append(
        {
            "id": f"{outcome.message_id}_{index}",
            "name": handler,
            "event": outcome.event,
            "created": now_ms(),
            "status": status,
            "action": action.action if isinstance(action, PlannedAction) else None,
            "output": output,
        }
    )


def _carry_out(
    baton: Baton, action: PlannedAction, *, message_id: str, event: str
) -> dict[str, Any]:
    body = action.body
    if action.action in ("complete_task", "fail_task"):
        workflow_id = body.get("workflowId")
        if not workflow_id:
            raise ValueError("the action names no workflowId")
        status = TaskStatus.COMPLETED if action.action == "complete_task" else TaskStatus.FAILED
        update = TaskUpdate(
            status=status,
            output=body.get("output") or {},
            reason_for_incompletion=body.get("reasonForIncompletion"),
        )
        if body.get("taskId"):
            baton.update_task(str(workflow_id), str(body["taskId"]), update)
            return {"workflowId": workflow_id, "taskId": body["taskId"]}
        reference = body.get("taskRefName")
        if not reference:
            raise ValueError("the action names neither taskId nor taskRefName")
        task_id = baton.update_task_by_reference(str(workflow_id), str(reference), update)
        if task_id is None:
            raise NotFound(f"No task {reference} in workflow {workflow_id}")
        return {"workflowId": workflow_id, "taskId": task_id}
    if action.action == "start_workflow":
        version = body.get("version")
        workflow_id = baton.start(
            StartRequest(
                name=str(body.get("name") or ""),
                version=int(version)
                if isinstance(version, int | str) and str(version).isdigit()
                else None,
                input=body.get("input") or {},
                correlation_id=body.get("correlationId"),
                task_to_domain=body.get("taskToDomain") or {},
                workflow_id=_started_workflow_id(message_id, action.handler, action.index),
                event=event,
            )
        )
        return {"workflowId": workflow_id}
    if action.action == "terminate_workflow":
        workflow_id = str(body.get("workflowId") or "")
        workflow = baton.store.require(workflow_id)
        if not workflow.status.is_terminal:
            baton.terminate(workflow_id, body.get("terminationReason"))
        return {"workflowId": workflow_id}
    if action.action == "update_workflow_variables":
        workflow_id = str(body.get("workflowId") or "")
        variables = body.get("variables") or {}

        def update_variables() -> dict[str, Any]:
            baton.update_variables(
                workflow_id, variables, append_array=bool(body.get("appendArray", False))
            )
            return {"workflowId": workflow_id}

        # Appending is not idempotent: remember that this message's action ran.
        return once(f"{event}/{message_id}/{action.handler}/{action.index}", update_variables)
    raise ValueError(f"Action {action.action} is not supported")
