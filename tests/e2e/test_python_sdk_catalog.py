"""Conductor's Python SDK (conductor-python) on the definition catalog, a workflow's status
summary, health and version, against `python -m embedded`.

The SDK has client methods for the status summary (`WorkflowClient.get_workflow_status`) and the
definition listing (`MetadataClient.get_all_workflow_defs`); the catalog, health and version
routes it has no method for are called through its ApiClient, as a generated client of
Conductor's OpenAPI document would, deserializing into the SDK's own models.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api_client import ApiClient
from conductor.client.http.models import WorkflowDef
from conductor.client.http.models.workflow_status import WorkflowStatus
from conductor.client.http.rest import ApiException
from conductor.client.metadata_client import MetadataClient
from conductor.client.orkes_clients import OrkesClients
from conductor.client.workflow_client import WorkflowClient

from tests.e2e.runtime_process import RuntimeProcess

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PLAIN = "catalog_sdk_plain"
AGENT = "catalog_sdk_agent"


def _definition(api: ApiClient, name: str, version: int, **extra: Any) -> WorkflowDef:
    data = {
        "name": name,
        "version": version,
        "tasks": [
            {
                "name": "mark",
                "taskReferenceName": "mark",
                "type": "SET_VARIABLE",
                "inputParameters": {"stage": "done"},
            }
        ],
        "outputParameters": {"echo": "${workflow.input.x}"},
        **extra,
    }
    definition = api.deserialize_class(data, "WorkflowDef")
    assert isinstance(definition, WorkflowDef)
    return definition


@pytest.fixture(scope="module")
def clients(runtime: RuntimeProcess) -> tuple[MetadataClient, WorkflowClient]:
    orkes = OrkesClients(configuration=Configuration(server_api_url=runtime.api_url))
    metadata, workflows = orkes.get_metadata_client(), orkes.get_workflow_client()
    api = workflows.api_client
    metadata.register_workflow_def(_definition(api, PLAIN, 1), overwrite=True)
    metadata.register_workflow_def(_definition(api, PLAIN, 2), overwrite=True)
    metadata.register_workflow_def(
        _definition(api, AGENT, 1, metadata={"classifier": "agent"}), overwrite=True
    )
    return metadata, workflows


def _get(api: ApiClient, path: str, response_type: str, query: list[Any] | None = None) -> Any:
    return api.call_api(
        path,
        "GET",
        query_params=query or [],
        header_params={"Accept": "application/json, text/plain"},
        response_type=response_type,
        auth_settings=["api_key"],
        _return_http_data_only=True,
    )


def test_status_summary_through_the_sdk(clients):
    _, workflows = clients
    workflow_id = workflows.start_workflow_by_name(PLAIN, {"x": 7}, correlationId="sdk-7")
    brief = workflows.get_workflow_status(workflow_id)
    assert isinstance(brief, WorkflowStatus)
    assert (brief.workflow_id, brief.correlation_id, brief.status) == (
        workflow_id,
        "sdk-7",
        "COMPLETED",
    )
    assert brief.output is None and brief.variables is None
    full = workflows.get_workflow_status(workflow_id, include_output=True, include_variables=True)
    assert full.output == {"echo": 7}
    assert full.variables == {"stage": "done"}


def test_status_summary_of_an_unknown_workflow_is_404(clients):
    _, workflows = clients
    with pytest.raises(ApiException) as raised:
        workflows.get_workflow_status("no-such-workflow")
    assert raised.value.status == 404


def test_catalog_through_the_sdks_api_client(clients):
    _, workflows = clients
    api = workflows.api_client
    names = _get(api, "/metadata/workflow/names", "list[str]")
    assert names == sorted(names) and {PLAIN, AGENT} <= set(names)
    versions = _get(api, f"/metadata/workflow/{PLAIN}/versions", "list[object]")
    assert [(v["name"], v["version"]) for v in versions] == [(PLAIN, 1), (PLAIN, 2)]
    by_name = _get(api, "/metadata/workflow/names-and-versions", "dict(str, list[object])")
    assert [v["version"] for v in by_name[PLAIN]] == [1, 2]
    latest = _get(api, "/metadata/workflow/latest-versions", "list[WorkflowDef]")
    assert {(d.name, d.version) for d in latest} >= {(PLAIN, 2), (AGENT, 1)}
    agents = _get(api, "/metadata/workflow", "list[WorkflowDef]", [("classifier", "agent")])
    assert [d.name for d in agents] == [AGENT]


def test_every_version_is_listed_by_the_metadata_client(clients):
    metadata, _ = clients
    listed = {(d.name, d.version) for d in metadata.get_all_workflow_defs()}
    assert {(PLAIN, 1), (PLAIN, 2), (AGENT, 1)} <= listed


def test_health_and_version_through_the_sdks_api_client(clients):
    _, workflows = clients
    api = workflows.api_client
    health = _get(api, "/health", "object")
    assert health["healthy"] is True
    assert {i["details"]["name"] for i in health["indicators"]} == {
        "Workflows",
        "Tasks",
        "Metadata",
    }
    version = _get(api, "/version", "str")
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
