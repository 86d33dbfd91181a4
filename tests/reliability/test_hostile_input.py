"""Hostile input to the API function: never a 5xx, always Conductor's error body, nothing
half-written, and nothing else disturbed.

Requests go through the real API handler (Powertools' resolver) as API Gateway's proxy
integration delivers them, under moto. The routes come from the served OpenAPI document.

Strings that become DynamoDB keys (names, correlation ids, idempotency keys) longer than
DynamoDB allows, and definitions larger than an item, are tested on their own
(`test_values_too_large_for_dynamodb_are_refused_with_a_400`); the generated bodies stay
within those sizes so that the fuzzing reaches everything else.
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.support import register_workflow, start, wait_workflow, workflow
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import ApiResponse, call_api

MAX_PAYLOAD_BYTES = 256 * 1024
# What a client error may be: bad request, no such thing (also a method a path does not have:
# Powertools answers an unknown method with the not-found handler), or a conflict.
CLIENT_ERRORS = {400, 404, 409}
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
# Query parameters the handlers read, given values of the wrong type as often as not.
QUERY_NAMES = (
    "version",
    "priority",
    "includeTasks",
    "includeClosed",
    "activeOnly",
    "overwrite",
    "correlationId",
    "reason",
    "workerid",
)
EXAMPLES = 150

# Text as API Gateway can deliver it: any Unicode but lone surrogates (they cannot be UTF-8).
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
odd_segments = st.one_of(
    text,
    st.sampled_from(
        [
            "%2F",
            "%00",
            "%ZZ",
            "%",
            "%E2%82",
            "%F0%9F%92%A9",
            "..",
            ".",
            " ",
            "\x00",
            "null",
            "-1",
            "sqs:conductor_doug_testing",
            "${workflow.input}",
            "' OR '1'='1",
        ]
    ),
    st.integers(min_value=1, max_value=5000).map(lambda n: "x" * n),
    st.integers(min_value=1, max_value=2000).map(lambda n: "é" * n),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
conductor_shaped = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "version": json_values,
        "tasks": json_values,
        "input": json_values,
        "event": json_values,
        "actions": json_values,
        "workflowInstanceId": json_values,
        "taskId": json_values,
        "status": json_values,
        "outputData": json_values,
        "idempotencyKey": json_values,
        "idempotencyStrategy": json_values,
        "priority": json_values,
        "taskToDomain": json_values,
        "workflowDef": json_values,
    },
)
# Bodies no route can take: not JSON, or JSON that cannot be read or stored.
MALFORMED_BODIES = {
    "unterminated": "{",
    "not json": "not json",
    "single quotes": "{'single': 'quotes'}",
    "trailing comma": "[1, 2,]",
    "bare NaN": "NaN",
    "a NUL": "\x00",
    "lone high surrogate escape": '{"name": "\\ud800", "input": {"x": "\\ud800"}}',
    "lone low surrogate escape": '{"name": "x", "outputData": {"x": "\\udfff"}}',
    "raw lone surrogate": '{"name": "\ud800"}',
    "nested past the parser's limit": "[" * 100_000 + "]" * 100_000,
    "objects nested past the parser's limit": '{"a":' * 50_000 + "1" + "}" * 50_000,
}
# Bodies that are JSON but odd for most routes: each route decides, none may fail with a 5xx.
ODD_BODIES = {
    "an array": "[1, 2, 3]",
    "a string": '"text"',
    "null": "null",
    "wrong types": json.dumps(
        {"name": 7, "version": "one", "tasks": "all", "input": [], "status": {}, "actions": 1}
    ),
    "an input over 256 KB": json.dumps({"name": "x", "input": {"blob": "x" * 300_000}}),
    "an output over 256 KB": json.dumps({"outputData": {"blob": "x" * 300_000}}),
}
bodies = st.one_of(
    st.none(),
    st.just(""),
    json_values.map(json.dumps),
    conductor_shaped.map(json.dumps),
    st.sampled_from(sorted({**MALFORMED_BODIES, **ODD_BODIES}.values())),
    st.integers(min_value=1, max_value=150_000).map(
        lambda n: json.dumps({"name": "x" * min(n, 1000), "description": "x" * n})
    ),
    st.integers(min_value=1, max_value=300_000).map(
        lambda n: json.dumps({"input": {"blob": "x" * n}, "outputData": {"blob": "x" * n}})
    ),
)
queries = st.dictionaries(
    st.sampled_from(QUERY_NAMES),
    st.one_of(
        text,
        st.sampled_from(["abc", "-1", "1e3", "99999999999999999999", "maybe", "True", ""]),
    ),
    max_size=4,
)


def assert_conductor_answer(response: ApiResponse, request: str) -> None:
    assert response.status < 500, f"{request} -> {response.status} {response.body[:500]}"
    if response.status < 400:
        return
    assert response.status in CLIENT_ERRORS, f"{request} -> {response.status}"
    body = json.loads(response.body)
    assert set(body) >= {"status", "message", "instance", "retryable"}, request
    assert body["status"] == response.status
    assert isinstance(body["message"], str) and body["message"], request
    assert isinstance(body["instance"], str)
    assert body["retryable"] is False, request


def served_routes() -> list[tuple[str, str]]:
    document = call_api("GET", "/api/openapi.json").json()
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


def fill(path: str, data: st.DataObject) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: data.draw(odd_segments), path)


def test_the_openapi_document_lists_the_routes_conductor_clients_use(aws: Aws) -> None:
    routes = served_routes()
    assert ("POST", "/api/workflow/{name}") in routes
    assert ("POST", "/api/tasks/{workflow_id}/{reference}/{status}") in routes
    assert ("GET", "/api/event/executions/{name}") in routes
    assert len(routes) >= 25


def test_a_method_a_path_does_not_have_gets_conductors_404(aws: Aws) -> None:
    """Powertools' resolver has no 405: an unknown method goes to the not-found handler."""
    routes = served_routes()
    patterns = [
        (method, re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))))
        for method, path in routes
    ]
    for _, template in routes:
        path = re.sub(r"\{[^}]+\}", "x", template)
        served = {method for method, pattern in patterns if pattern.fullmatch(path)}
        assert served, path
        for method in sorted(set(METHODS) - served):
            response = call_api(method, path)
            assert_conductor_answer(response, f"{method} {path}")
            assert response.status == 404, f"{method} {path}"
            assert response.json()["message"] == f"No route for {method} {path}"


def test_every_route_that_reads_a_body_refuses_malformed_ones_with_a_400(aws: Aws) -> None:
    register_workflow(wait_workflow("reliability_target", "hold_ref"))
    # Path parameters that name things that exist, so the bodies reach past the lookups.
    existing = {
        "name": "reliability_target",
        "version": "1",
        "workflow_id": start("reliability_target"),
        "reference": "hold_ref",
        "status": "COMPLETED",
        "event": "sqs:orders",
        "task_type": "reliability_target",
    }
    # Every POST and PUT reads its body, but pausing and resuming a workflow, requeueing a
    # task type (no body, as in Conductor), a task's log (its body is text, any text), and the
    # token route, which answers 404 unless Conductor's key scheme is on (it is off here).
    routes = [
        (method, path)
        for method, path in served_routes()
        if method in ("POST", "PUT")
        and not path.endswith(("/pause", "/resume", "/token", "/log"))
        and "/queue/requeue/" not in path
    ]
    assert len(routes) >= 10
    for method, template in routes:
        path = re.sub(r"\{([^}]+)\}", lambda match: existing.get(match[1], "x"), template)
        for what, body in MALFORMED_BODIES.items():
            response = call_api(method, path, body)
            assert_conductor_answer(response, f"{method} {path} with {what}")
            assert response.status == 400, f"{method} {path} with {what}: {response.status}"
        for what, body in ODD_BODIES.items():
            assert_conductor_answer(call_api(method, path, body), f"{method} {path} with {what}")


def test_fuzzed_requests_on_every_route_get_no_5xx_and_leave_other_data_alone(
    aws: Aws,
) -> None:
    sentinel = wait_workflow("reliability_sentinel", "hold_ref")
    register_workflow(sentinel)
    running = start("reliability_sentinel", {"keep": "me"})
    definition_before = call_api("GET", "/api/metadata/workflow/reliability_sentinel").json()
    workflow_before = workflow(running)
    routes = served_routes()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        method, template = data.draw(st.sampled_from(routes))
        if data.draw(st.integers(0, 7)) == 0:
            method = data.draw(st.sampled_from(METHODS))  # sometimes, a method it does not have
        path = fill(template, data)
        body = data.draw(bodies)
        query = data.draw(queries) or None
        response = call_api(method, path, body, query)
        assert_conductor_answer(response, f"{method} {path[:200]!r} {query} {str(body)[:200]!r}")

    fuzz()

    assert call_api("GET", "/api/metadata/workflow/reliability_sentinel").json() == (
        definition_before
    )
    assert workflow(running) == workflow_before


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(METHODS),
    segments=st.lists(odd_segments, min_size=0, max_size=6),
    body=bodies,
)
def test_fuzzed_paths_anywhere_under_the_api_get_no_5xx(
    aws: Aws, method: str, segments: list[str], body: str | None
) -> None:
    path = "/api/" + "/".join(segments)
    response = call_api(method, path, body)
    assert_conductor_answer(response, f"{method} {path[:200]!r} {str(body)[:200]!r}")


def stored_workflow_count() -> int:
    dynamodb = boto3.client("dynamodb")
    return int(dynamodb.scan(TableName="baton-workflows", Select="COUNT")["Count"])


def assert_too_large(response: ApiResponse) -> None:
    assert response.status == 400, response.body
    body = response.json()
    assert body["status"] == 400
    assert body["retryable"] is False
    assert str(MAX_PAYLOAD_BYTES) in body["message"]


def test_an_oversized_input_is_refused_with_a_400_and_nothing_is_stored(aws: Aws) -> None:
    register_workflow(wait_workflow("reliability_large", "hold_ref"))
    before = stored_workflow_count()
    oversized = {"blob": "x" * MAX_PAYLOAD_BYTES}

    assert_too_large(call_api("POST", "/api/workflow/reliability_large", oversized))
    assert_too_large(
        call_api("POST", "/api/workflow", {"name": "reliability_large", "input": oversized})
    )
    assert_too_large(
        call_api(
            "POST",
            "/api/workflow",
            {
                "name": "reliability_large",
                "input": oversized,
                "correlationId": "large",
                "idempotencyKey": "large-1",
            },
        )
    )

    assert stored_workflow_count() == before
    listed = call_api(
        "GET", "/api/workflow/reliability_large/correlated/large", query={"includeClosed": "true"}
    )
    assert listed.json() == []


def test_an_oversized_output_is_refused_with_a_400_and_the_workflow_is_unchanged(
    aws: Aws,
) -> None:
    register_workflow(wait_workflow("reliability_large_output", "hold_ref"))
    workflow_id = start("reliability_large_output")
    before = workflow(workflow_id)
    (hold,) = before["tasks"]
    oversized = {"blob": "x" * MAX_PAYLOAD_BYTES}

    assert_too_large(call_api("POST", f"/api/tasks/{workflow_id}/hold_ref/COMPLETED", oversized))
    assert_too_large(
        call_api(
            "POST",
            "/api/tasks",
            {
                "workflowInstanceId": workflow_id,
                "taskId": hold["taskId"],
                "status": "COMPLETED",
                "outputData": oversized,
            },
        )
    )

    assert workflow(workflow_id) == before


def test_payloads_each_under_the_limit_but_too_large_together_are_not_a_retryable_500(
    aws: Aws,
) -> None:
    register_workflow(
        {
            "name": "reliability_large_together",
            "version": 1,
            "schemaVersion": 2,
            "tasks": [{"name": "hold", "taskReferenceName": "hold_ref", "type": "WAIT"}],
            "outputParameters": {"input": "${workflow.input}", "result": "${hold_ref.output}"},
        }
    )
    under_the_limit = "x" * (MAX_PAYLOAD_BYTES - 56 * 1024)
    workflow_id = start("reliability_large_together", {"blob": under_the_limit})

    response = call_api(
        "POST", f"/api/tasks/{workflow_id}/hold_ref/COMPLETED", {"blob": under_the_limit}
    )

    assert response.status < 500, response.body


WAIT_ONLY = [{"name": "hold", "taskReferenceName": "hold_ref", "type": "WAIT"}]
COMPLETE_TASK = {
    "action": "complete_task",
    "complete_task": {"workflowId": "${workflowInstanceId}", "taskRefName": "hold_ref"},
}
TOO_LONG_FOR_A_KEY = "n" * 2100  # DynamoDB: 2048 bytes for a partition key, 1024 for a sort key
LARGER_THAN_AN_ITEM = "d" * 450_000  # DynamoDB: 400 KB for an item


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param(
            "POST", "/api/metadata/taskdefs", [{"name": TOO_LONG_FOR_A_KEY}], id="task def name"
        ),
        pytest.param(
            "POST",
            "/api/metadata/workflow",
            {"name": TOO_LONG_FOR_A_KEY, "version": 1, "tasks": WAIT_ONLY},
            id="workflow def name",
        ),
        pytest.param(
            "POST",
            "/api/event",
            {
                "name": TOO_LONG_FOR_A_KEY,
                "event": "sqs:orders",
                "actions": [COMPLETE_TASK],
                "active": True,
            },
            id="event handler name",
        ),
        pytest.param(
            "POST",
            "/api/event",
            {
                "name": "reliability_long_event",
                "event": f"conductor:reliability:{TOO_LONG_FOR_A_KEY}",
                "actions": [COMPLETE_TASK],
                "active": True,
            },
            id="event handler event",
        ),
        pytest.param(
            "POST",
            "/api/workflow",
            {
                "name": "reliability_inline",
                "workflowDef": {"name": "reliability_inline", "version": 1, "tasks": WAIT_ONLY},
                "correlationId": TOO_LONG_FOR_A_KEY,
            },
            id="correlation id",
        ),
        pytest.param(
            "POST",
            "/api/workflow",
            {
                "name": "reliability_inline",
                "workflowDef": {"name": "reliability_inline", "version": 1, "tasks": WAIT_ONLY},
                "idempotencyKey": TOO_LONG_FOR_A_KEY,
            },
            id="idempotency key",
        ),
        pytest.param(
            "POST",
            "/api/metadata/workflow",
            {
                "name": "reliability_huge_def",
                "version": 1,
                "description": LARGER_THAN_AN_ITEM,
                "tasks": WAIT_ONLY,
            },
            id="workflow def size",
        ),
        pytest.param(
            "PUT",
            "/api/metadata/taskdefs",
            {"name": "reliability_huge_task", "description": LARGER_THAN_AN_ITEM},
            id="task def size",
        ),
    ],
)
def test_values_too_large_for_dynamodb_are_refused_with_a_400(
    aws: Aws, method: str, path: str, body: Any
) -> None:
    response = call_api(method, path, body)

    assert response.status == 400, response.body
    assert_conductor_answer(response, f"{method} {path}")
