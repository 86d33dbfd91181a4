"""The API function: Conductor's REST API behind an API Gateway HTTP API (payload format 1.0)."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton import web_ui
from baton.api import (
    admin,
    conductor_routes,
    events,
    lifecycle,
    metadata,
    queue_admin,
    response_limit,
    search,
    server,
    tasks,
    workflows,
)
from baton.api.errors import ApiError, error_body, error_response, proxy_error, strict_json
from baton.api.requests import json_body
from baton.api.routing import ConductorResolver, encoded_path
from baton.auth import KEY_ID_CONTEXT, TOKEN_HEADER, modes
from baton.errors import as_baton_error
from baton.runtime import logger, metrics, tracer

TOKEN_RESOURCE = "/api/token"
# The error code on which Conductor's SDKs fetch a new token and try again.
INVALID_TOKEN = "INVALID_TOKEN"

# Every JSON answer is strict JSON (no NaN or Infinity), which every client can read.
app = ConductorResolver(serializer=strict_json)
for area in (metadata, workflows, lifecycle, tasks, events, queue_admin, server, search, admin):
    app.include_router(area.router)


def _unsupported(route: conductor_routes.ConductorRoute) -> Any:
    def answer(**_: str) -> Response[str]:
        raise ApiError(501, conductor_routes.unsupported_message(route))

    return answer


# Conductor's operations that Baton does not serve yet hold their paths with a 501, so that no
# `{param}` route of another operation takes them (see baton.api.conductor_routes).
for _route in conductor_routes.CONDUCTOR_ROUTES:
    if _route.status == conductor_routes.UNSUPPORTED:
        rule = re.sub(r"\{(\w+)\}", r"<\1>", _route.path)
        app.route(rule, method=_route.method, include_in_schema=False)(_unsupported(_route))


@app.get("/api/openapi.json")
def openapi_document() -> Response[str]:
    # Built on demand: a few milliseconds no cold start needs to pay.
    from baton.api import openapi

    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=strict_json(openapi.document()),
    )


@app.post("/api/token")
def token() -> Response[str]:
    # Without Conductor's key scheme there is no token to give: a 404 tells Conductor's SDKs
    # to carry on without one.
    if modes.current_mode() != modes.CONDUCTOR_KEYS:
        raise ApiError(404, "Token authentication is not enabled on this Baton")
    from baton.auth.api import token_response

    status, body = token_response(json_body(app, default={}))
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=strict_json(body)
    )


@app.not_found
def not_found(_: Exception) -> Response[str]:
    event = app.current_event
    return error_response(ApiError(404, f"No route for {event.http_method} {event.path}"))


@app.exception_handler(Exception)
def error(error: Exception) -> Response[str]:
    # The one place an error becomes a status (baton.errors names each class's).
    answer = as_baton_error(error)
    if answer.status >= 500 and answer is not error:
        logger.exception("Unhandled error")
    return error_response(answer)


def _invalid_token() -> dict[str, Any]:
    """401 in Conductor's body plus the error code on which Conductor's SDKs renew a token."""
    error = ApiError(401, f"Send a valid token from POST /api/token in the {TOKEN_HEADER} header")
    return {
        **proxy_error(error),
        "body": strict_json({**error_body(error), "error": INVALID_TOKEN}),
    }


def _needs_a_key(event: dict[str, Any]) -> bool:
    """In the key mode, whether the request is one the authorizer found no valid token on.

    Every route but the token's and the UI's is behind the authorizer (infra/api.py), which
    names the key of a valid token in its context; whatever lacks one is refused here, so a
    route that somehow escaped the authorizer is closed too.
    """
    if modes.current_mode() != modes.CONDUCTOR_KEYS or web_ui.is_ui_request(event):
        return False
    if event.get("resource") == TOKEN_RESOURCE and event.get("httpMethod") == "POST":
        return False
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    # Payload 1.0 puts the authorizer's context beside principalId, as a REST API does; 2.0
    # nests it under `lambda`. Read either, so the check never depends on which one arrives.
    nested = authorizer.get("lambda")
    nested_key = nested.get(KEY_ID_CONTEXT) if isinstance(nested, dict) else None
    return not (authorizer.get(KEY_ID_CONTEXT) or nested_key)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The UI's routes (`/`, `/{proxy+}`) serve its built files and never reach the API.
    if web_ui.is_ui_request(event):
        return web_ui.answer(event)
    if _needs_a_key(event):
        return _invalid_token()
    # An HTTP API passes the path decoded (`sqs%3Aqueue` arrives as `sqs:queue`); the resolver
    # routes one canonical encoding of it and hands each route its parameters decoded
    # (baton.api.routing).
    if isinstance(event.get("path"), str):
        segments = event["path"].split("/")
        # Segments become DynamoDB keys, which hold at most 1,024 bytes (sort keys).
        if any(len(part.encode("utf-8", "surrogatepass")) > 1024 for part in segments):
            return proxy_error(ApiError(400, "A path segment is longer than 1,024 bytes"))
        event = {**event, "path": encoded_path(segments)}
    return response_limit.fit(
        app.resolve(event, context), str(event.get("httpMethod")), str(event.get("path"))
    )
