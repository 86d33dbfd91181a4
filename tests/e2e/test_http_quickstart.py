"""Conductor's quickstart workflows (docs/quickstart of conductor-oss) over HTTP against
`python -m embedded`, their HTTP task pointed at a server on this machine instead of Orkes'
public test endpoint: they register as printed and complete.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.e2e.runtime_process import RuntimeProcess, http_json, wait_until
from tests.http.server import Answer, local_server

pytestmark = pytest.mark.slow

COMPLETION_TIMEOUT_SECONDS = 40.0
# What Orkes' test endpoint answers, in shape.
API_TESTER_ANSWER = {"hostName": "tester-1", "apiRandomDelay": "0 ms", "randomInt": 42}

# docs/quickstart/first-workflow.md, as printed.
FIRST_WORKFLOW: dict[str, Any] = {
    "name": "hello_workflow",
    "description": "Fetch a test response and return a compact summary.",
    "version": 1,
    "schemaVersion": 2,
    "tasks": [
        {
            "name": "fetch_data",
            "taskReferenceName": "fetch_ref",
            "type": "HTTP",
            "inputParameters": {
                "http_request": {
                    "uri": "https://orkes-api-tester.orkesconductor.com/api",
                    "method": "GET",
                }
            },
        },
        {
            "name": "summarize_response",
            "taskReferenceName": "summary_ref",
            "type": "JSON_JQ_TRANSFORM",
            "inputParameters": {
                "response": "${fetch_ref.output.response.body}",
                "queryExpression": (
                    '{host: .response.hostName, randomValue: .response.randomInt, summary: ("Host "'
                    ' + .response.hostName + " responded with random value " + '
                    "(.response.randomInt|tostring))}"
                ),
            },
        },
    ],
    "outputParameters": {
        "summary": "${summary_ref.output.result.summary}",
        "host": "${summary_ref.output.result.host}",
        "randomValue": "${summary_ref.output.result.randomValue}",
    },
}

# docs/quickstart/workflow.json, as printed.
QUICKSTART_WORKFLOW: dict[str, Any] = {
    "name": "hello_workflow_inline",
    "version": 1,
    "tasks": [
        {
            "name": "fetch_data",
            "taskReferenceName": "fetch_ref",
            "type": "HTTP",
            "inputParameters": {
                "http_request": {
                    "uri": "https://orkes-api-tester.orkesconductor.com/api",
                    "method": "GET",
                }
            },
        },
        {
            "name": "parse_response",
            "taskReferenceName": "parse_ref",
            "type": "INLINE",
            "inputParameters": {
                "data": "${fetch_ref.output.response.body}",
                "evaluatorType": "graaljs",
                "expression": (
                    "(function() { var d = $.data; return { summary: 'Host ' + d.hostName + "
                    "' responded in ' + d.apiRandomDelay + ' with random value ' + d.randomInt, "
                    "host: d.hostName, randomValue: d.randomInt }; })()"
                ),
            },
        },
    ],
    "outputParameters": {
        "summary": "${parse_ref.output.result.summary}",
        "apiResponse": "${fetch_ref.output.response.body}",
    },
    "schemaVersion": 2,
    "ownerEmail": "dev@example.com",
}


def _pointed_at(definition: dict[str, Any], uri: str) -> dict[str, Any]:
    pointed = copy.deepcopy(definition)
    pointed["tasks"][0]["inputParameters"]["http_request"]["uri"] = uri
    return pointed


def _run(runtime: RuntimeProcess, definition: dict[str, Any]) -> dict[str, Any]:
    api = runtime.api_url
    status, _, body = http_json("POST", f"{api}/metadata/workflow", definition)
    assert status == 200, body
    status, _, workflow_id = http_json("POST", f"{api}/workflow/{definition['name']}", {})
    assert status == 200, workflow_id

    def ended() -> dict[str, Any] | None:
        _, _, workflow = http_json("GET", f"{api}/workflow/{workflow_id}")
        return workflow if workflow["status"] != "RUNNING" else None

    return wait_until(
        ended, timeout=COMPLETION_TIMEOUT_SECONDS, what="the workflow to end", runtime=runtime
    )


def test_the_first_workflow_of_the_quickstart_completes(runtime: RuntimeProcess) -> None:
    with local_server() as server:
        server.routes["/api"] = Answer(200, API_TESTER_ANSWER)
        workflow = _run(runtime, _pointed_at(FIRST_WORKFLOW, server.url("/api")))
    assert workflow["status"] == "COMPLETED", workflow
    assert workflow["output"] == {
        "summary": "Host tester-1 responded with random value 42",
        "host": "tester-1",
        "randomValue": 42,
    }
    fetch = workflow["tasks"][0]
    assert fetch["taskType"] == "HTTP"
    assert fetch["outputData"]["response"]["statusCode"] == 200
    assert server.calls("/api") == 1


def test_the_quickstart_workflow_json_completes(runtime: RuntimeProcess) -> None:
    with local_server() as server:
        server.routes["/api"] = Answer(200, API_TESTER_ANSWER)
        workflow = _run(runtime, _pointed_at(QUICKSTART_WORKFLOW, server.url("/api")))
    assert workflow["status"] == "COMPLETED", workflow
    assert workflow["output"] == {
        "summary": "Host tester-1 responded in 0 ms with random value 42",
        "apiResponse": API_TESTER_ANSWER,
    }


def test_a_private_address_is_refused_locally(runtime: RuntimeProcess) -> None:
    refused = _pointed_at(FIRST_WORKFLOW, "http://10.255.255.1/api")
    refused["name"] = "hello_workflow_private"
    workflow = _run(runtime, refused)
    assert workflow["status"] == "FAILED"
    fetch = workflow["tasks"][0]
    assert fetch["status"] == "FAILED"
    assert "private address" in fetch["reasonForIncompletion"]
