"""Event handlers, decided without I/O: does a message match, and what does each action do.

As in Conductor's SimpleActionProcessor, an action's body is resolved with `${...}` against
the message payload (`${workflowInstanceId}` is the payload's field).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from baton.engine import js, params
from baton.engine.definitions import EventHandler, JsonObject

SUPPORTED_ACTIONS = frozenset(
    {
        "complete_task",
        "fail_task",
        "start_workflow",
        "terminate_workflow",
        "update_workflow_variables",
    }
)
MESSAGE_ID_KEY = "conductor.event.messageId"
EVENT_NAME_KEY = "conductor.event.name"


@dataclass(frozen=True)
class PlannedAction:
    """One action of a handler, resolved against one message, ready to carry out."""

    handler: str
    index: int
    action: str
    body: JsonObject

    @property
    def execution_id(self) -> str:
        """Conductor's event execution id suffix: `<messageId>_<index>`."""
        return str(self.index)


def expand(payload: Any) -> Any:
    """Conductor's JsonUtils.expand: JSON objects or arrays held in strings are parsed."""
    if isinstance(payload, dict):
        return {k: expand(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [expand(v) for v in payload]
    if isinstance(payload, str) and payload[:1] in ("{", "["):
        try:
            return expand(json.loads(payload))
        except ValueError:
            return payload
    return payload


def matches(handler: EventHandler, payload: Any) -> bool:
    """Whether the handler's condition holds for the payload (no condition: it does).

    Raises `js.ScriptError` when the condition cannot be evaluated.
    """
    condition = (handler.condition or "").strip()
    if not condition:
        return True
    bindings = expand(payload)
    return js.is_truthy(js.evaluate(condition, bindings if isinstance(bindings, dict) else {}))


def _resolve(template: JsonObject, payload: Any) -> JsonObject:
    document = payload if isinstance(payload, dict) else {}
    resolved = params.resolve(template, document)
    return resolved if isinstance(resolved, dict) else {}


def plan(
    handler: EventHandler, payload: Any, *, message_id: str, event: str
) -> list[PlannedAction]:
    """Each action of `handler`, resolved against `payload`."""
    planned: list[PlannedAction] = []
    for index, action in enumerate(handler.actions):
        source = expand(payload) if action.expand_inline_json else payload
        body = action.body
        if action.action in ("complete_task", "fail_task"):
            extra_output = body.get("output")
            # As Conductor's SimpleActionProcessor: the task's new output is this whole map,
            # resolved, reasonForIncompletion included; nulls are left out as its JSON omits them.
            template: JsonObject = {
                "workflowId": body.get("workflowId"),
                "taskId": body.get("taskId"),
                "taskRefName": body.get("taskRefName"),
                "reasonForIncompletion": body.get("reasonForIncompletion"),
                **(extra_output if isinstance(extra_output, dict) else {}),
            }
            output = {k: v for k, v in _resolve(template, source).items() if v is not None}
            output[MESSAGE_ID_KEY] = message_id
            output[EVENT_NAME_KEY] = event
            reason = output.get("reasonForIncompletion")
            resolved: JsonObject = {
                "workflowId": output.get("workflowId"),
                "taskId": output.get("taskId"),
                "taskRefName": output.get("taskRefName"),
                "output": output,
                "reasonForIncompletion": None if reason is None else params.java_text(reason),
            }
        elif action.action == "start_workflow":
            dynamic = _resolve(
                {
                    "input": body.get("input") or {},
                    "correlationId": body.get("correlationId"),
                    "taskToDomain": body.get("taskToDomain") or "${taskToDomain}",
                },
                source,
            )
            workflow_input = dynamic.get("input") if isinstance(dynamic.get("input"), dict) else {}
            resolved = {
                "name": body.get("name"),
                "version": body.get("version"),
                "correlationId": dynamic.get("correlationId"),
                "input": {
                    **(workflow_input or {}),
                    MESSAGE_ID_KEY: message_id,
                    EVENT_NAME_KEY: event,
                },
                "taskToDomain": dynamic.get("taskToDomain")
                if isinstance(dynamic.get("taskToDomain"), dict)
                else {},
            }
        else:
            resolved = _resolve(dict(body), source)
        planned.append(
            PlannedAction(handler=handler.name, index=index, action=action.action, body=resolved)
        )
    return planned
