"""`/api/event`: event handlers, and the record of what they did."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.errors import validation_failed
from baton.api.requests import json_object, query_bool
from baton.api.routing import refuse_if_shadowed
from baton.engine.definitions import EventHandler
from baton.engine.validation import validate_event_handler
from baton.runtime import baton

router = Router()

# The routes that reach a handler by its name, and the handlers of an event.
_NAME_ROUTES = (("DELETE", "/api/event/<name>"), ("GET", "/api/event/executions/<name>"))
_EVENT_ROUTES = (("GET", "/api/event/<event>"),)


def _checked_handler() -> EventHandler:
    body = json_object(router, what="an EventHandler")
    errors = validate_event_handler(body)
    if errors:
        raise validation_failed(errors)
    handler = EventHandler.from_json(body)
    refuse_if_shadowed(router, "Event handler name", "name", handler.name, _NAME_ROUTES)
    refuse_if_shadowed(router, "Event", "event", handler.event, _EVENT_ROUTES)
    return handler


def _empty() -> Response[str]:
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body="")


@router.post("/api/event")
def add_event_handler() -> Response[str]:
    baton().put_event_handler(_checked_handler(), create=True)
    return _empty()


@router.put("/api/event")
def update_event_handler() -> Response[str]:
    baton().put_event_handler(_checked_handler(), create=False)
    return _empty()


@router.get("/api/event")
def all_event_handlers() -> list[dict[str, Any]]:
    return baton().event_handlers()


@router.get("/api/event/<event>")
def event_handlers_for(event: str) -> list[dict[str, Any]]:
    active_only = query_bool(router, "activeOnly", True)
    return baton().event_handlers_for(event, active_only=active_only)


@router.delete("/api/event/<name>")
def remove_event_handler(name: str) -> Response[str]:
    baton().delete_event_handler(name)
    return _empty()


@router.get("/api/event/executions/<name>")
def event_executions(name: str) -> list[dict[str, Any]]:
    return baton().event_executions(name)
