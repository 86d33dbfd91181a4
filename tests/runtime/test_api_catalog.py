"""The definition catalog, a workflow's status summary, health and version, through the API
handler: Conductor's MetadataResource listings, WorkflowResource's `/status`,
HealthCheckResource and VersionResource."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
from pynamodb.connection.base import Connection

import baton
from baton.store.models import MetadataItem, TaskItem
from tests.runtime.lambda_events import call_api

ROOT = Path(__file__).resolve().parents[2]


def _definition(name: str, version: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
        **extra,
    }


def _register(*definitions: dict[str, Any]) -> None:
    for definition in definitions:
        response = call_api("POST", "/api/metadata/workflow", definition)
        assert response.status == 200, response.body


@pytest.fixture
def catalog(aws):
    # `order#eu` begins with `order#`, the prefix of `order`'s keys: listings must tell them apart.
    _register(
        _definition("order"),
        _definition("order", 2, description="second"),
        _definition("order#eu"),
        _definition("billing", 3),
    )
    return aws


class _DynamoCalls:
    """Every DynamoDB operation pynamodb sends, with its parameters."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        original = Connection.dispatch

        def recording(connection: Connection, name: str, kwargs: dict[str, Any]) -> Any:
            self.calls.append((name, kwargs))
            return original(connection, name, kwargs)

        monkeypatch.setattr(Connection, "dispatch", recording)

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]


# -- the catalog -----------------------------------------------------------------------------


def test_names_and_versions_maps_each_name_to_its_versions_in_order(catalog):
    response = call_api("GET", "/api/metadata/workflow/names-and-versions")
    assert response.status == 200
    found = response.json()
    assert sorted(found) == ["billing", "order", "order#eu"]
    assert [(s["name"], s["version"]) for s in found["order"]] == [("order", 1), ("order", 2)]
    assert [s["version"] for s in found["order#eu"]] == [1]
    assert [s["version"] for s in found["billing"]] == [3]
    assert all(isinstance(s["updateTime"], int) and s["updateTime"] > 0 for s in found["order"])
    # Summaries carry no definition body.
    assert all(set(s) <= {"name", "version", "createTime", "updateTime"} for s in found["order"])


def test_names_are_distinct_and_sorted(catalog):
    response = call_api("GET", "/api/metadata/workflow/names")
    assert response.status == 200
    assert response.json() == ["billing", "order", "order#eu"]


def test_latest_versions_gives_each_definition_once_at_its_highest_version(catalog):
    response = call_api("GET", "/api/metadata/workflow/latest-versions")
    assert response.status == 200
    latest = response.json()
    assert [(d["name"], d["version"]) for d in latest] == [
        ("billing", 3),
        ("order", 2),
        ("order#eu", 1),
    ]
    assert latest[1]["description"] == "second"
    assert latest[1]["tasks"][0]["taskReferenceName"] == "hold"


def test_versions_of_one_name_leave_out_names_that_share_its_prefix(catalog):
    response = call_api("GET", "/api/metadata/workflow/order/versions")
    assert response.status == 200
    assert [(s["name"], s["version"]) for s in response.json()] == [("order", 1), ("order", 2)]
    eu = call_api("GET", "/api/metadata/workflow/order%23eu/versions")
    assert [(s["name"], s["version"]) for s in eu.json()] == [("order#eu", 1)]


def test_versions_of_an_unknown_name_are_an_empty_list_as_in_conductor(catalog):
    response = call_api("GET", "/api/metadata/workflow/nothing_here/versions")
    assert response.status == 200
    assert response.json() == []


def test_empty_catalog_lists_nothing(aws):
    assert call_api("GET", "/api/metadata/workflow/names-and-versions").json() == {}
    assert call_api("GET", "/api/metadata/workflow/names").json() == []
    assert call_api("GET", "/api/metadata/workflow/latest-versions").json() == []


def test_a_deleted_version_leaves_the_listings(catalog):
    assert call_api("DELETE", "/api/metadata/workflow/order/2").status == 200
    listed = call_api("GET", "/api/metadata/workflow/names-and-versions").json()
    assert [s["version"] for s in listed["order"]] == [1]
    latest = call_api("GET", "/api/metadata/workflow/latest-versions").json()
    assert ("order", 1) in [(d["name"], d["version"]) for d in latest]


def test_listings_query_keys_only_and_never_scan(catalog, monkeypatch):
    calls = _DynamoCalls(monkeypatch)
    call_api("GET", "/api/metadata/workflow/names-and-versions")
    call_api("GET", "/api/metadata/workflow/names")
    call_api("GET", "/api/metadata/workflow/order/versions")
    assert calls.operations == ["Query", "Query", "Query"]
    for _, kwargs in calls.calls:
        assert kwargs["TableName"] == MetadataItem.Meta.table_name
        # Only the key and the update time are read, never a definition's body.
        projected = {
            kwargs["ExpressionAttributeNames"][n] for n in kwargs["ExpressionAttributeNames"]
        }
        assert "body" not in projected
        assert kwargs["ProjectionExpression"]
    calls.calls.clear()
    call_api("GET", "/api/metadata/workflow/latest-versions")
    # The keys, then the latest bodies by key.
    assert calls.operations == ["Query", "BatchGetItem"]
    assert "Scan" not in calls.operations


# -- the classifier filter -------------------------------------------------------------------


@pytest.fixture
def classified(aws):
    _register(
        _definition("plain"),
        _definition("tagged_agent", metadata={"classifier": "agent"}),
        _definition("sdk_agent", metadata={"agent_sdk": "python"}),
        _definition("custom", metadata={"classifier": "Pipeline"}),
        _definition("described", metadata={"team": "payments"}),
    )
    return aws


def _names(query: dict[str, str] | None) -> list[str]:
    response = call_api("GET", "/api/metadata/workflow", query=query)
    assert response.status == 200, response.body
    return sorted(d["name"] for d in response.json())


def test_classifier_keeps_the_definitions_it_names(classified):
    assert _names({"classifier": "agent"}) == ["sdk_agent", "tagged_agent"]
    # Untagged definitions, and those whose metadata names no classifier, are `workflow`.
    assert _names({"classifier": "workflow"}) == ["described", "plain"]
    # Compared ignoring case and surrounding spaces, as Conductor does.
    assert _names({"classifier": " PIPELINE "}) == ["custom"]
    assert _names({"classifier": "nothing"}) == []


def test_no_or_blank_classifier_lists_every_definition(classified):
    everything = ["custom", "described", "plain", "sdk_agent", "tagged_agent"]
    assert _names(None) == everything
    assert _names({"classifier": "  "}) == everything


def test_definitions_keep_their_metadata(classified):
    read = call_api("GET", "/api/metadata/workflow/tagged_agent").json()
    assert read["metadata"] == {"classifier": "agent"}


# -- a workflow's status summary -------------------------------------------------------------

FINISHED = {
    "name": "finished_at_once",
    "version": 1,
    "tasks": [
        {
            "name": "mark",
            "taskReferenceName": "mark",
            "type": "SET_VARIABLE",
            "inputParameters": {"stage": "done"},
        }
    ],
    "outputParameters": {"echo": "${workflow.input.x}"},
}


def _start(name: str, body: dict[str, Any], query: dict[str, str] | None = None) -> str:
    response = call_api("POST", f"/api/workflow/{name}", body, query)
    assert response.status == 200, response.body
    return response.body


def test_status_summary_by_default_is_id_correlation_and_status(aws):
    _register(FINISHED)
    workflow_id = _start("finished_at_once", {"x": 5}, {"correlationId": "order-7"})
    response = call_api("GET", f"/api/workflow/{workflow_id}/status")
    assert response.status == 200
    assert response.json() == {
        "workflowId": workflow_id,
        "correlationId": "order-7",
        "status": "COMPLETED",
    }


def test_status_summary_includes_output_and_variables_when_asked(aws):
    _register(FINISHED)
    workflow_id = _start("finished_at_once", {"x": 5})
    # Conductor's Python SDK writes the flags as Python prints booleans.
    response = call_api(
        "GET",
        f"/api/workflow/{workflow_id}/status",
        query={"includeOutput": "True", "includeVariables": "true"},
    )
    # No correlation id: the key is left out, as Conductor leaves out nulls.
    assert response.json() == {
        "workflowId": workflow_id,
        "output": {"echo": 5},
        "variables": {"stage": "done"},
        "status": "COMPLETED",
    }
    only_output = call_api(
        "GET", f"/api/workflow/{workflow_id}/status", query={"includeOutput": "true"}
    ).json()
    assert set(only_output) == {"workflowId", "output", "status"}


def test_status_summary_of_a_running_workflow(aws):
    _register(_definition("waiting"))
    workflow_id = _start("waiting", {})
    assert call_api("GET", f"/api/workflow/{workflow_id}/status").json()["status"] == "RUNNING"


def test_status_summary_errors(aws):
    missing = call_api("GET", "/api/workflow/no-such-id/status")
    assert missing.status == 404
    assert missing.json()["message"] == "Workflow with id: no-such-id not found."
    _register(_definition("waiting"))
    workflow_id = _start("waiting", {})
    bad = call_api("GET", f"/api/workflow/{workflow_id}/status", query={"includeOutput": "maybe"})
    assert bad.status == 400
    assert "includeOutput" in bad.json()["message"]


# -- health and version ----------------------------------------------------------------------


def test_health_reports_each_table(aws):
    response = call_api("GET", "/api/health")
    assert response.status == 200
    status = response.json()
    assert status["healthy"] is True
    assert [i["details"]["name"] for i in status["indicators"]] == [
        "Workflows",
        "Tasks",
        "Metadata",
    ]
    assert all(i["healthy"] is True and "errorMessage" not in i for i in status["indicators"])
    assert status["indicators"][1]["details"]["table"] == TaskItem.Meta.table_name


def test_health_is_503_naming_the_table_that_does_not_answer(aws):
    boto3.client("dynamodb").delete_table(TableName=TaskItem.Meta.table_name)
    response = call_api("GET", "/api/health")
    assert response.status == 503
    status = response.json()
    assert status["healthy"] is False
    by_name = {i["details"]["name"]: i for i in status["indicators"]}
    assert by_name["Tasks"]["healthy"] is False
    assert by_name["Tasks"]["errorMessage"] == by_name["Tasks"]["details"]["error"]
    assert by_name["Tasks"]["errorMessage"]
    assert by_name["Workflows"]["healthy"] is True
    assert by_name["Metadata"]["healthy"] is True


def test_health_writes_nothing(aws, monkeypatch):
    calls = _DynamoCalls(monkeypatch)
    call_api("GET", "/api/health")
    assert sorted(calls.operations) == ["GetItem", "GetItem", "Query"]


def test_version_is_the_projects_version_as_text(aws):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    response = call_api("GET", "/api/version")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.body == pyproject["project"]["version"] == baton.__version__


# -- task definitions ------------------------------------------------------------------------


def test_task_defs_registered_twice_in_one_list_keep_the_later(aws):
    # Conductor saves the list one by one; DynamoDB refuses a batch holding one key twice
    # (moto only when the two items are the same, DynamoDB whenever the keys are).
    same = {"name": "same", "retryCount": 2}
    assert call_api("POST", "/api/metadata/taskdefs", [same, same]).status == 200
    first = {"name": "twice", "retryCount": 1}
    later = {"name": "twice", "retryCount": 5}
    response = call_api("POST", "/api/metadata/taskdefs", [first, later])
    assert response.status == 200, response.body
    assert call_api("GET", "/api/metadata/taskdefs/twice").json()["retryCount"] == 5
