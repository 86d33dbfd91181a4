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

import base64
import json
import re
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton.service import MAX_TASK_PAYLOAD_BYTES, MAX_WORKFLOW_PAYLOAD_BYTES
from tests.reliability.support import register_workflow, start, wait_workflow, workflow
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import ApiResponse, FakeContext, api_event, call_api


def call_raw(event: dict[str, Any]) -> ApiResponse:
    from baton.handlers import api

    result = api.handler(event, FakeContext())
    return ApiResponse(status=result["statusCode"], body=result.get("body") or "", headers={})


# What a client error may be: bad request, no such thing (also a method a path does not have:
# Powertools answers an unknown method with the not-found handler), a conflict, or a payload
# over its hard limit.
CLIENT_ERRORS = {400, 404, 409, 413}
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
    if response.status == 501:
        # One of Conductor's operations Baton does not serve (baton.api.conductor_routes).
        assert "does not support yet" in response.json()["message"], request
        return
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
        and not reads_no_body(path)
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


def assert_too_large(response: ApiResponse, limit: int) -> None:
    assert response.status == 413, response.body[:500]
    body = response.json()
    assert body["status"] == 413
    assert body["retryable"] is False
    assert str(limit) in body["message"]


def test_an_oversized_input_is_refused_with_a_413_and_nothing_is_stored(aws: Aws) -> None:
    register_workflow(wait_workflow("reliability_large", "hold_ref"))
    before = stored_workflow_count()
    oversized = {"blob": "x" * MAX_WORKFLOW_PAYLOAD_BYTES}
    limit = MAX_WORKFLOW_PAYLOAD_BYTES

    assert_too_large(call_api("POST", "/api/workflow/reliability_large", oversized), limit)
    assert_too_large(
        call_api("POST", "/api/workflow", {"name": "reliability_large", "input": oversized}),
        limit,
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
        ),
        limit,
    )

    assert stored_workflow_count() == before
    listed = call_api(
        "GET", "/api/workflow/reliability_large/correlated/large", query={"includeClosed": "true"}
    )
    assert listed.json() == []


def test_an_oversized_output_is_refused_with_a_413_and_the_workflow_is_unchanged(
    aws: Aws,
) -> None:
    register_workflow(wait_workflow("reliability_large_output", "hold_ref"))
    workflow_id = start("reliability_large_output")
    before = workflow(workflow_id)
    (hold,) = before["tasks"]
    oversized = {"blob": "x" * MAX_TASK_PAYLOAD_BYTES}
    limit = MAX_TASK_PAYLOAD_BYTES

    assert_too_large(
        call_api("POST", f"/api/tasks/{workflow_id}/hold_ref/COMPLETED", oversized), limit
    )
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
        ),
        limit,
    )

    assert workflow(workflow_id) == before


def test_payloads_each_under_the_limit_but_too_large_for_an_item_together_are_kept(
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
    workflow_id = start(
        "reliability_large_together", {"blob": "x" * (MAX_WORKFLOW_PAYLOAD_BYTES - 56 * 1024)}
    )

    response = call_api(
        "POST",
        f"/api/tasks/{workflow_id}/hold_ref/COMPLETED",
        {"blob": "x" * (MAX_TASK_PAYLOAD_BYTES - 56 * 1024)},
    )

    # Kept in S3 (baton.store.payloads): the workflow completes with its 8 MB output.
    assert response.status == 200, response.body[:500]
    # Too large to return in one answer with its output, but its status reads.
    status = call_api("GET", f"/api/workflow/{workflow_id}/status")
    assert status.json()["status"] == "COMPLETED"


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


def reads_no_body(path: str) -> bool:
    """Retry, restart, reset callbacks and decide of one workflow read no body, as in
    Conductor (their bulk forms read a list of ids)."""
    one = path.endswith(("/retry", "/restart", "/resetcallbacks")) and "/bulk/" not in path
    return one or "/decide/" in path


def body_routes(*, json_only: bool = False) -> list[tuple[str, str]]:
    """Every POST and PUT route that reads a body (not pause, resume, requeue or the token
    route); with `json_only`, not the task log route either, whose body is plain text."""
    return [
        (method, path)
        for method, path in served_routes()
        if method in ("POST", "PUT")
        and not path.endswith(("/pause", "/resume", "/token"))
        and "/queue/requeue/" not in path
        and not reads_no_body(path)
        and not (json_only and path.endswith("/log"))
    ]


def existing_path(template: str) -> str:
    """`template` with parameters naming things that exist, so a body reaches past lookups."""
    if call_api("GET", "/api/metadata/workflow/reliability_existing").status == 404:
        register_workflow(wait_workflow("reliability_existing", "hold_ref"))
    existing = {
        "name": "reliability_existing",
        "workflow_id": start("reliability_existing"),
        "reference": "hold_ref",
        "status": "COMPLETED",
    }
    return re.sub(r"\{([^}]+)\}", lambda match: existing.get(match[1], "x"), template)


NOT_UTF8 = {
    "latin-1": '{"name": "caf\xe9"}'.encode("latin-1"),
    "a lone continuation byte": b'{"name": "\x80"}',
    "a truncated sequence": b'{"name": "\xe2\x82"}',
    "an encoded surrogate": b'{"name": "\xed\xa0\x80"}',
    "UTF-16": '{"name": "x"}'.encode("utf-16"),
}


def test_a_body_that_is_not_utf8_is_a_400_on_every_route_that_reads_one(aws: Aws) -> None:
    """API Gateway hands such bodies over base64-encoded; they used to raise a 500."""
    routes = body_routes()
    assert len(routes) >= 10
    for method, template in routes:
        path = existing_path(template)
        for what, raw in NOT_UTF8.items():
            event = api_event(method, path)
            event["body"] = base64.b64encode(raw).decode()
            event["isBase64Encoded"] = True
            response = call_raw(event)
            assert_conductor_answer(response, f"{method} {path} with {what}")
            assert response.status == 400, f"{method} {path} with {what}: {response.body}"
            assert "UTF-8" in response.json()["message"]


NOT_STRICT_JSON = {
    "NaN": '{"name": "x", "input": {"v": NaN}, "outputData": {"v": NaN}}',
    "Infinity": '{"name": "x", "input": {"v": Infinity}, "outputData": {"v": Infinity}}',
    "-Infinity": '{"name": "x", "input": {"v": -Infinity}, "outputData": {"v": -Infinity}}',
    "a number past a double": '{"name": "x", "input": {"v": 1e400}, "outputData": {"v": 1e400}}',
}


def test_nan_and_infinity_are_refused_with_a_400_on_every_route_that_reads_a_body(
    aws: Aws,
) -> None:
    for method, template in body_routes(json_only=True):
        path = existing_path(template)
        for what, body in NOT_STRICT_JSON.items():
            response = call_api(method, path, body)
            assert response.status == 400, f"{method} {path} with {what}: {response.body}"
            assert "strict JSON" in response.json()["message"]


def test_a_workflow_started_with_nan_is_not_stored_and_every_answer_is_strict_json(
    aws: Aws,
) -> None:
    register_workflow(wait_workflow("reliability_strict", "hold_ref"))
    before = stored_workflow_count()
    assert call_api("POST", "/api/workflow/reliability_strict", '{"v": NaN}').status == 400
    assert stored_workflow_count() == before

    workflow_id = start("reliability_strict", {"v": 1.5})
    answer = call_api("GET", f"/api/workflow/{workflow_id}")
    json.loads(answer.body, parse_constant=lambda name: pytest.fail(f"{name} in an answer"))


def test_answers_are_strict_json_even_for_a_value_that_is_not() -> None:
    """The second line: a non-finite float that reached an answer is written null."""
    from baton.api.errors import strict_json

    written = strict_json({"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5]})

    assert json.loads(written) == {"a": None, "b": [None, None, 1.5]}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"priority": "-5"}, "priority"),
        ({"priority": "100"}, "priority"),
        ({"priority": "1" * 42}, "priority"),
        ({"priority": "true"}, "priority"),
        ({"priority": "5.0"}, "priority"),
        ({"version": "-1"}, "version"),
        ({"version": "1" + "0" * 40}, "version"),
        ({"version": "2147483648"}, "version"),
    ],
)
def test_start_by_name_refuses_out_of_bounds_priority_and_version(
    aws: Aws, query: dict[str, str], message: str
) -> None:
    register_workflow(wait_workflow("reliability_bounds", "hold_ref"))  # a fresh moto per test
    before = stored_workflow_count()

    response = call_api("POST", "/api/workflow/reliability_bounds", {}, query)

    assert response.status == 400, response.body
    assert message in response.json()["message"]
    assert stored_workflow_count() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("priority", -5, "priority: -5 should be minimum 0"),
        ("priority", 100, "priority: 100 should be maximum 99"),
        ("priority", 10**41, "should be maximum 99"),
        ("priority", True, "priority must be an integer, not a boolean"),
        ("priority", "5", "priority must be an integer, not a string"),
        ("version", -1, "version: -1 should be minimum 0"),
        ("version", 10**40, "should be maximum 2147483647"),
        ("version", False, "version must be an integer, not a boolean"),
    ],
)
def test_a_start_request_refuses_out_of_bounds_priority_and_version(
    aws: Aws, field: str, value: Any, message: str
) -> None:
    register_workflow(wait_workflow("reliability_bounds", "hold_ref"))
    before = stored_workflow_count()

    response = call_api("POST", "/api/workflow", {"name": "reliability_bounds", field: value})

    assert response.status == 400, response.body
    assert message in response.json()["message"]
    assert stored_workflow_count() == before


def test_priorities_at_the_bounds_are_kept(aws: Aws) -> None:
    register_workflow(wait_workflow("reliability_bounds", "hold_ref"))
    for priority in (0, 99):
        by_name = call_api(
            "POST", "/api/workflow/reliability_bounds", {}, {"priority": str(priority)}
        )
        by_request = call_api(
            "POST", "/api/workflow", {"name": "reliability_bounds", "priority": priority}
        )
        for started in (by_name, by_request):
            assert started.status == 200, started.body
            assert workflow(started.body)["priority"] == priority


@pytest.mark.parametrize("version", [-1, 10**40, 2**31, "1e40", True])
def test_definitions_with_out_of_bounds_versions_are_refused(aws: Aws, version: Any) -> None:
    definition = {**wait_workflow("reliability_versions", "hold_ref"), "version": version}

    response = call_api("POST", "/api/metadata/workflow", definition)

    assert response.status == 400, response.body
    assert response.json()["validationErrors"][0]["path"] == "version"
    assert call_api("GET", "/api/metadata/workflow/reliability_versions").status == 404


@pytest.mark.parametrize("version", [-1, 10**40])
def test_a_start_workflow_action_with_an_out_of_bounds_version_is_refused(
    aws: Aws, version: int
) -> None:
    handler = {
        "name": "reliability_bounds_handler",
        "event": "conductor:reliability_bounds:q",
        "actions": [
            {"action": "start_workflow", "start_workflow": {"name": "x", "version": version}}
        ],
    }

    response = call_api("POST", "/api/event", handler)

    assert response.status == 400, response.body
    (error,) = response.json()["validationErrors"]
    assert error["path"] == "actions[0].start_workflow.version"
    assert call_api("GET", "/api/event").json() == []


# --- Definitions and payloads at Baton's documented limits ----------------------------------


def stored_items() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table, to compare before and after a refused request."""
    dynamodb = boto3.client("dynamodb")
    found: dict[str, list[dict[str, Any]]] = {}
    for table in dynamodb.list_tables()["TableNames"]:
        items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
        found[table] = sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return found


def nested_value(levels: int) -> Any:
    value: Any = "${workflow.input.x}"
    for _ in range(levels):
        value = {"a": value}
    return value


def nested_tasks(levels: int) -> list[dict[str, Any]]:
    """SWITCH in SWITCH `levels` deep; each level alternates with a FORK of one branch."""
    inner: list[dict[str, Any]] = [
        {"name": "leaf", "taskReferenceName": "leaf", "type": "SET_VARIABLE"}
    ]
    for level in range(levels):
        inner = [
            {
                "name": f"s{level}",
                "taskReferenceName": f"s{level}",
                "type": "SWITCH",
                "evaluatorType": "value-param",
                "expression": "k",
                "inputParameters": {"k": "a"},
                "decisionCases": {"a": inner},
            }
        ]
    return inner


def definition_with(name: str, tasks: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"name": name, "version": 1, "schemaVersion": 2, "tasks": tasks, **fields}


def set_variable_with(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": "t", "taskReferenceName": "t", "type": "SET_VARIABLE", "inputParameters": inputs}
    ]


HOSTILE_DEFINITIONS = [
    pytest.param(definition_with("deep_switch", nested_tasks(160)), "levels deep", id="switches"),
    pytest.param(
        definition_with("deep_parameters", set_variable_with({"x": nested_value(480)})),
        "levels deep",
        id="parameters",
    ),
    pytest.param(
        definition_with(
            "wide",
            [{"name": f"t{i}", "taskReferenceName": f"t{i}", "type": "WAIT"} for i in range(3000)],
        ),
        "bytes as stored",
        id="3000 tasks",
    ),
    pytest.param(
        definition_with("whole_input", set_variable_with({"x": "${$}"})),
        "${$} names the whole",
        id="${$} input",
    ),
    pytest.param(
        definition_with(
            "whole_output", set_variable_with({"x": 1}), outputParameters={"all": "${$}"}
        ),
        "${$} names the whole",
        id="${$} output",
    ),
]


@pytest.mark.parametrize(("definition", "fragment"), HOSTILE_DEFINITIONS)
def test_definitions_past_the_limits_are_a_400_and_nothing_is_written(
    aws: Aws, definition: dict[str, Any], fragment: str
) -> None:
    register_workflow(wait_workflow("reliability_bystander", "hold_ref"))
    start("reliability_bystander")
    before = stored_items()
    requests = [
        ("POST", "/api/metadata/workflow", definition),
        ("PUT", "/api/metadata/workflow", [wait_workflow("reliability_second", "r"), definition]),
        ("POST", "/api/workflow", {"name": definition["name"], "workflowDef": definition}),
        ("POST", "/api/metadata/workflow/validate", definition),
    ]
    for method, path, body in requests:
        response = call_api(method, path, body)
        assert response.status == 400, (path, response.body)
        assert_conductor_answer(response, f"{method} {path}")
        assert any(fragment in error["message"] for error in response.json()["validationErrors"])
        assert stored_items() == before, path


def test_payloads_nested_past_the_limit_are_a_400_and_nothing_is_written(aws: Aws) -> None:
    register_workflow(wait_workflow("reliability_nested", "hold_ref"))
    running = start("reliability_nested")
    before = stored_items()
    deep = nested_value(480)
    requests = [
        ("POST", "/api/workflow/reliability_nested", {"x": deep}),
        ("POST", "/api/workflow", {"name": "reliability_nested", "input": {"x": deep}}),
        ("POST", f"/api/tasks/{running}/hold_ref/COMPLETED", {"x": deep}),
    ]
    for method, path, body in requests:
        response = call_api(method, path, body)
        assert response.status == 400, (path, response.body)
        assert_conductor_answer(response, f"{method} {path}")
        assert "levels deep" in response.json()["message"]
        assert stored_items() == before, path


def test_parameters_that_resolve_too_deep_fail_the_workflow_with_a_reason(aws: Aws) -> None:
    register_workflow(
        definition_with("reliability_grows_deep", set_variable_with({"x": nested_value(100)}))
    )
    nested_input = nested_value(100)
    response = call_api("POST", "/api/workflow/reliability_grows_deep", {"x": nested_input})
    assert response.status == 200, response.body
    failed = workflow(response.body)
    assert failed["status"] == "FAILED"
    assert "levels deep" in failed["reasonForIncompletion"]
