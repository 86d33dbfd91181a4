"""A name Baton accepts is reachable through every route that takes it; others are refused.

Workflow names follow Conductor's `@ValidNameConstraint` (less whitespace); task, task
reference and event handler names, for which Conductor has no rule, may hold any printable
character but `/`. Over HTTP, through the embedded runtime's gateway, with names percent-encoded
as Conductor's SDKs encode path parameters (every reserved character).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.reliability.conftest import EmbeddedBaton
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api

# One of each character class Conductor's workflow-name rule allows.
WORKFLOW_NAME = "Az09_-<>{}#"
# Printable characters that a URL path must escape, and some it need not.
ODD_NAME = "q#\"\\`&+=;,@!$'()*[] é😀漢"


def encoded(name: str) -> str:
    return quote(name, safe="")


def ok(answer: tuple[int, str], what: str) -> str:
    status, body = answer
    assert status == 200, f"{what}: {status} {body}"
    return body


def test_names_of_every_allowed_character_class_round_trip_over_http(
    embedded_baton: EmbeddedBaton,
) -> None:
    call = embedded_baton.call
    task_name = f"task {ODD_NAME}"
    reference = f"ref {ODD_NAME}"
    handler_name = f"handler {ODD_NAME}"
    event = f"conductor:{WORKFLOW_NAME}:{ODD_NAME}"

    ok(call("POST", "/metadata/taskdefs", [{"name": task_name}]), "register the task")
    definition = {
        "name": WORKFLOW_NAME,
        "version": 1,
        "tasks": [{"name": task_name, "taskReferenceName": reference, "type": "SIMPLE"}],
    }
    ok(call("POST", "/metadata/workflow", definition), "register the workflow")
    handler = {
        "name": handler_name,
        "event": event,
        "active": True,
        "actions": [
            {
                "action": "complete_task",
                "complete_task": {"workflowId": "${workflowId}", "taskRefName": reference},
            }
        ],
    }
    ok(call("POST", "/event", handler), "add the handler")

    got = json.loads(ok(call("GET", f"/metadata/workflow/{encoded(WORKFLOW_NAME)}"), "get"))
    assert got["name"] == WORKFLOW_NAME
    task_def = json.loads(ok(call("GET", f"/metadata/taskdefs/{encoded(task_name)}"), "get"))
    assert task_def["name"] == task_name
    handlers = json.loads(ok(call("GET", f"/event/{encoded(event)}"), "handlers for the event"))
    assert [h["name"] for h in handlers] == [handler_name]

    workflow_id = ok(call("POST", f"/workflow/{encoded(WORKFLOW_NAME)}", {}), "start")
    task = json.loads(ok(call("GET", f"/tasks/poll/{encoded(task_name)}"), "poll"))
    assert task["referenceTaskName"] == reference
    updated = f"/tasks/{workflow_id}/{encoded(reference)}/COMPLETED"
    assert ok(call("POST", updated, {"done": True}), "update by reference") == task["taskId"]
    correlated = f"/workflow/{encoded(WORKFLOW_NAME)}/correlated/none"
    assert ok(call("GET", correlated), "correlated") == "[]"
    finished = json.loads(ok(call("GET", f"/workflow/{workflow_id}"), "get the workflow"))
    assert finished["status"] == "COMPLETED"

    ok(call("DELETE", f"/event/{encoded(handler_name)}"), "remove the handler")
    ok(call("DELETE", f"/metadata/workflow/{encoded(WORKFLOW_NAME)}/1"), "unregister")
    ok(call("DELETE", f"/metadata/taskdefs/{encoded(task_name)}"), "remove the task")
    assert call("GET", f"/metadata/workflow/{encoded(WORKFLOW_NAME)}")[0] == 404
    assert call("GET", f"/metadata/taskdefs/{encoded(task_name)}")[0] == 404
    assert json.loads(ok(call("GET", f"/event/{encoded(event)}"), "handlers")) == []


UNREACHABLE_CHARACTERS = {
    "a slash": "a/b",
    "NUL": "a\x00b",
    "a zero-width space": "a\u200bb",
    "a newline": "a\nb",
    "a right-to-left override": "a\u202eb",
    # An HTTP API ends a path at an encoded `?` and decodes it twice.
    "a question mark": "a?b",
    "a percent sign": "a%b",
}
REFUSED_WORKFLOW_NAMES = {
    **UNREACHABLE_CHARACTERS,
    "a question mark": "a?b",
    "a double quote": 'a"b',
    "a backslash": "a\\b",
    "a backquote": "a`b",
    "an emoji": "a😀b",
    "a dot": "a.b",
    "a colon": "a:b",
    "a space": "a b",
    "a letter outside ASCII": "café",
}


def wait_definition(name: str, reference: str = "hold_ref") -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "tasks": [{"name": "hold", "taskReferenceName": reference, "type": "WAIT"}],
    }


def assert_refused(response: Any, path: str) -> None:
    assert response.status == 400, response.body
    errors = response.json()["validationErrors"]
    assert [e["path"] for e in errors] == [path], errors


@pytest.mark.parametrize("name", REFUSED_WORKFLOW_NAMES.values(), ids=REFUSED_WORKFLOW_NAMES)
def test_workflow_names_outside_conductors_rule_are_refused(aws: Aws, name: str) -> None:
    response = call_api("POST", "/api/metadata/workflow", wait_definition(name))
    assert_refused(response, "name")
    assert call_api("GET", "/api/metadata/workflow").json() == []


@pytest.mark.parametrize("name", UNREACHABLE_CHARACTERS.values(), ids=UNREACHABLE_CHARACTERS)
def test_other_names_that_no_path_could_reach_are_refused(aws: Aws, name: str) -> None:
    assert_refused(call_api("POST", "/api/metadata/taskdefs", [{"name": name}]), "[0].name")
    assert_refused(
        call_api("POST", "/api/metadata/workflow", wait_definition("refs", reference=name)),
        "tasks[0].taskReferenceName",
    )
    handler = {
        "name": name,
        "event": "conductor:wf:q",
        "actions": [{"action": "complete_task", "complete_task": {"taskId": "t"}}],
    }
    assert_refused(call_api("POST", "/api/event", handler), "name")
    assert call_api("GET", "/api/metadata/taskdefs").json() == []
    assert call_api("GET", "/api/event").json() == []
