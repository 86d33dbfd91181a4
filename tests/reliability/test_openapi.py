"""The served OpenAPI document describes every route, and fuzzing from it finds no 5xx.

The document (`GET /api/openapi.json`, kept by hand in baton.api.openapi) is checked against
the router in both directions. schemathesis then generates requests from it, path and query
parameters and bodies by Conductor's models, and sends them to the API handler through the
embedded gateway's own conversion (HTTP request to proxy event, proxy result to HTTP answer),
under moto. Bounded in examples; no deadline is asserted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from baton.api import openapi
from baton.api.conductor_routes import CONDUCTOR_ROUTES, UNSUPPORTED
from baton.api.routing import shape
from embedded.gateway import MalformedRequest, error_reply, http_reply, proxy_event
from tests.reliability.support import register_workflow, start, wait_workflow
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import FakeContext, call_api

EXAMPLES_PER_OPERATION = 40


def test_every_served_route_is_documented_and_every_documented_route_is_served(
    aws: Aws,
) -> None:
    from baton.handlers import api

    unsupported = {(r.method, shape(r.path)) for r in CONDUCTOR_ROUTES if r.status == UNSUPPORTED}
    served = {(m, shape(rule)) for m, rule in api.app.rules()} - unsupported
    document = call_api("GET", "/api/openapi.json").json()
    documented = {
        (method.upper(), shape(path)) for path, ops in document["paths"].items() for method in ops
    }

    assert documented == served
    # Each documented rule is one the router registers, parameter names included.
    assert {(m, r) for m, r in openapi.OPERATIONS} <= set(api.app.rules())


def test_the_document_describes_bodies_query_parameters_and_conductors_models(aws: Aws) -> None:
    document = call_api("GET", "/api/openapi.json").json()
    paths = document["paths"]
    schemas = document["components"]["schemas"]
    for model in ("WorkflowDef", "WorkflowTask", "TaskDef", "StartWorkflowRequest", "TaskResult"):
        assert model in schemas
    for model in ("EventHandler", "Workflow", "Task", "ErrorResponse"):
        assert model in schemas
    start_request = paths["/api/workflow"]["post"]["requestBody"]["content"]["application/json"]
    assert start_request["schema"] == {"$ref": "#/components/schemas/StartWorkflowRequest"}
    start_by_name = paths["/api/workflow/{name}"]["post"]
    query = {p["name"]: p["schema"] for p in start_by_name["parameters"] if p["in"] == "query"}
    assert query["priority"] == {"type": "integer", "minimum": 0, "maximum": 99}
    for path, operations in paths.items():
        for method, operation in operations.items():
            # These take no body (Conductor's controllers read none).
            bodiless = ("/pause", "/resume", "/requeue/{task_type}", "/retry", "/restart")
            bodiless += ("/resetcallbacks",)
            if (
                method in ("post", "put")
                and not path.endswith(bodiless)
                and not path.startswith("/api/workflow/decide/")
            ):
                assert "requestBody" in operation, f"{method} {path}"
            names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}


class LambdaBehindTheGateway:
    """A WSGI app that plays API Gateway in front of the API handler, as the embedded one does."""

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        from baton.handlers import api

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not target:
            target = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
            if environ.get("QUERY_STRING"):
                target += "?" + environ["QUERY_STRING"]
        headers = [
            (key[5:].replace("_", "-").title(), value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        try:
            event = proxy_event(
                method=environ["REQUEST_METHOD"],
                target=target,
                headers=headers,
                body=body,
                source_ip="127.0.0.1",
            )
        except MalformedRequest as error:
            # A path the HTTP API refuses is answered by the gateway, never by the function.
            reply = error_reply(error.status, str(error))
        else:
            reply = http_reply(api.handler(event, FakeContext()))
        start_response(f"{reply.status} -", reply.headers)
        return [reply.body]


def bounded(node: Any) -> Any:
    """The document with arrays of at most two items and free-form objects of at most three
    keys: generating unbounded nested WorkflowDefs takes seconds per example, and these sizes
    still reach every field and every kind of value."""
    if isinstance(node, list):
        return [bounded(item) for item in node]
    if not isinstance(node, dict):
        return node
    copied = {key: bounded(value) for key, value in node.items()}
    if copied.get("in") == "query" and copied.get("name") == "timeout":
        # A long poll waits its whole timeout when nothing is ready: keep examples quick.
        copied["schema"] = {**copied["schema"], "maximum": 20}
    if copied.get("type") == "array":
        copied.setdefault("maxItems", 2)
    if copied.get("type") == "object" and "properties" not in copied:
        copied.setdefault("maxProperties", 3)
    return copied


# The operations, read from the document as served (it needs no AWS to build).
SCHEMA = schemathesis.openapi.from_dict(bounded(openapi.document()))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def assert_conductor_answer(case: Any, response: Any) -> None:
    request = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:200]!r}"
    assert response.status_code < 500, f"{request} -> {response.status_code} {response.text}"
    content_type = response.headers.get("Content-Type", [""])[0]
    if response.status_code >= 400:
        body = json.loads(response.text)
        assert set(body) >= {"status", "message", "instance", "retryable"}, request
        assert body["status"] == response.status_code, request
        assert isinstance(body["message"], str) and body["message"], request
    elif content_type.startswith("application/json"):
        # Every JSON answer is strict JSON.
        json.loads(response.text, parse_constant=pytest.fail)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_requests_generated_from_the_document_get_no_5xx_and_conductors_errors(
    aws: Aws, operation: Any
) -> None:
    register_workflow(wait_workflow("fuzz_target", "hold_ref"))
    start("fuzz_target")
    app = LambdaBehindTheGateway()
    SCHEMA.app = app
    # Requests that fit the document, and requests that break it in one place or another.
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        # CI replays the same examples every run, so it fails on a regression, not on a new
        # find; a developer's run explores new ones.
        derandomize=bool(os.environ.get("CI")),
    )
    @given(case=cases)
    def fuzz(case: Any) -> None:
        assert_conductor_answer(case, case.call(app=app))

    fuzz()
