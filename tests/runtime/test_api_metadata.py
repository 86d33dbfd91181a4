"""`/api/metadata` and `/api/event` through the API handler, with Conductor's error bodies."""

from __future__ import annotations

from tests import seed
from tests.runtime.lambda_events import call_api


def _assert_conductor_error(response, status: int, fragment: str) -> None:
    assert response.status == status
    body = response.json()
    assert body["status"] == status
    assert fragment in body["message"]
    assert set(body) >= {"status", "message", "instance", "retryable"}


def test_register_and_read_the_tutorial_workflow(aws):
    definition = seed.event_testing()
    assert call_api("POST", "/api/metadata/workflow", definition).status == 200
    read = call_api("GET", "/api/metadata/workflow/event_testing").json()
    assert read["name"] == "event_testing"
    assert read["version"] == 1
    assert read["tasks"][0]["forkTasks"][1][1]["sink"] == "sqs:conductor_doug_testing"
    listed = call_api("GET", "/api/metadata/workflow").json()
    assert [d["name"] for d in listed] == ["event_testing"]


def test_registering_twice_is_a_conflict_unless_overwrite(aws):
    definition = seed.event_testing()
    call_api("POST", "/api/metadata/workflow", definition)
    _assert_conductor_error(
        call_api("POST", "/api/metadata/workflow", definition), 409, "already exists"
    )
    # Conductor's Python SDK writes the flag as Python prints booleans.
    again = call_api("POST", "/api/metadata/workflow", definition, {"overwrite": "True"})
    assert again.status == 200


def test_versions_and_delete(aws):
    definition = seed.event_testing()
    call_api("POST", "/api/metadata/workflow", definition)
    call_api("POST", "/api/metadata/workflow", {**definition, "version": 2})
    assert call_api("GET", "/api/metadata/workflow/event_testing").json()["version"] == 2
    first = call_api("GET", "/api/metadata/workflow/event_testing", query={"version": "1"})
    assert first.json()["version"] == 1
    assert call_api("DELETE", "/api/metadata/workflow/event_testing/2").status == 200
    assert call_api("GET", "/api/metadata/workflow/event_testing").json()["version"] == 1
    _assert_conductor_error(
        call_api("DELETE", "/api/metadata/workflow/event_testing/2"), 404, "event_testing"
    )


def test_unknown_workflow_def_is_404(aws):
    _assert_conductor_error(
        call_api("GET", "/api/metadata/workflow/nope"), 404, "No such workflow found by name"
    )


def test_invalid_definition_lists_every_problem_and_stores_nothing(aws):
    broken = {
        "name": "broken",
        "tasks": [
            {
                "name": "a",
                "taskReferenceName": "a",
                "type": "WAIT",
                "inputParameters": {"duration": "10s", "until": "2030-01-01"},
            },
            {"name": "b", "taskReferenceName": "a", "type": "EVENT"},
        ],
    }
    response = call_api("POST", "/api/metadata/workflow", broken)
    _assert_conductor_error(response, 400, "Validation failed")
    errors = response.json()["validationErrors"]
    assert len(errors) >= 3
    assert all(set(e) >= {"path", "message"} for e in errors)
    assert call_api("GET", "/api/metadata/workflow/broken").status == 404


def test_malformed_json_is_400(aws):
    _assert_conductor_error(call_api("POST", "/api/metadata/workflow", "{not json"), 400, "JSON")
    _assert_conductor_error(call_api("POST", "/api/metadata/workflow", "[1, 2]"), 400, "object")


def test_unknown_route_is_404_in_conductor_shape(aws):
    _assert_conductor_error(call_api("GET", "/api/nothing/here"), 404, "No route")


def test_task_defs(aws):
    task_def = {
        "name": "worker_task",
        "retryCount": 2,
        "timeoutSeconds": 60,
        "responseTimeoutSeconds": 30,
    }
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    read = call_api("GET", "/api/metadata/taskdefs/worker_task").json()
    assert read["retryCount"] == 2
    assert read["retryLogic"] == "FIXED"
    assert [d["name"] for d in call_api("GET", "/api/metadata/taskdefs").json()] == ["worker_task"]
    assert call_api("DELETE", "/api/metadata/taskdefs/worker_task").status == 200
    _assert_conductor_error(
        call_api("GET", "/api/metadata/taskdefs/worker_task"), 404, "worker_task"
    )


def test_token_endpoint_is_404_without_key_auth(aws):
    # Conductor's Python SDK treats a 404 here as "no auth configured" and carries on.
    response = call_api("POST", "/api/token", {"keyId": "k", "keySecret": "s"})
    assert response.status == 404


def test_event_handler_lifecycle(aws):
    handler = seed.complete_task_event()
    assert call_api("POST", "/api/event", handler).status == 200
    _assert_conductor_error(call_api("POST", "/api/event", handler), 409, "already exists")
    # The SDK percent-encodes the event name's colon.
    found = call_api("GET", "/api/event/sqs%3Aconductor_doug_testing")
    assert [h["name"] for h in found.json()] == ["complete_task_event"]
    assert call_api("PUT", "/api/event", {**handler, "active": False}).status == 200
    assert call_api("GET", "/api/event/sqs:conductor_doug_testing").json() == []
    inactive = call_api(
        "GET", "/api/event/sqs:conductor_doug_testing", query={"activeOnly": "false"}
    )
    assert [h["active"] for h in inactive.json()] == [False]
    assert call_api("DELETE", "/api/event/complete_task_event", "{}").status == 200
    assert call_api("GET", "/api/event").json() == []
    _assert_conductor_error(call_api("DELETE", "/api/event/complete_task_event"), 404, "not found")


def test_event_handler_on_a_queue_that_is_not_provisioned_says_how_to_add_it(aws):
    handler = {**seed.complete_task_event(), "event": "sqs:not_there"}
    response = call_api("POST", "/api/event", handler)
    _assert_conductor_error(response, 400, "eventQueues")
    assert call_api("GET", "/api/event").json() == []


def test_a_path_segment_longer_than_a_key_is_400(aws):
    response = call_api("GET", "/api/workflow/" + "x" * 2000)
    _assert_conductor_error(response, 400, "longer than")
