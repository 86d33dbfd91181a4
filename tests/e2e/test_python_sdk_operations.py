"""Conductor's Python SDK (conductor-python) on task search and the workflow test run,
against `python -m embedded`.

`WorkflowClient.test_workflow` sends a WorkflowTestRequest; its mocks are given as dicts,
because the SDK's own TaskMock serializes its private fields (`_status`, `_output`), which
neither Conductor nor Baton reads. The SDK's
TaskClient has no search method, so task search goes through its generated TaskResourceApi
(`search1`, `search_v21`), deserializing into the SDK's own models.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api.task_resource_api import TaskResourceApi
from conductor.client.http.models.workflow_test_request import WorkflowTestRequest
from conductor.client.http.rest import ApiException
from conductor.client.orkes_clients import OrkesClients
from conductor.client.workflow_client import WorkflowClient

from tests.e2e.runtime_process import RuntimeProcess

pytestmark = pytest.mark.slow

NAME = "sdk_operations_order"
DEFINITION = {
    "name": NAME,
    "version": 1,
    "tasks": [
        {"name": "sdk_ops_charge", "taskReferenceName": "charge_ref", "type": "SIMPLE"},
        {"name": "sdk_ops_ship", "taskReferenceName": "ship_ref", "type": "SIMPLE"},
    ],
    "outputParameters": {"paid": "${charge_ref.output.paid}"},
}


@pytest.fixture(scope="module")
def workflows(runtime: RuntimeProcess) -> Iterator[WorkflowClient]:
    orkes = OrkesClients(configuration=Configuration(server_api_url=runtime.api_url))
    client = orkes.get_workflow_client()
    definition = client.api_client.deserialize_class(DEFINITION, "WorkflowDef")
    orkes.get_metadata_client().register_workflow_def(definition, overwrite=True)
    yield client


def test_test_workflow_runs_on_the_mocks_and_stores_nothing(workflows):
    request = WorkflowTestRequest(
        name=NAME,
        version=1,
        input={"amount": 3},
        task_ref_to_mock_output={
            "charge_ref": [{"status": "COMPLETED", "output": {"paid": True}}],
            "ship_ref": [{"status": "COMPLETED", "output": {"box": 1}, "executionTime": 200}],
        },
    )
    workflow = workflows.test_workflow(request)

    assert workflow.status == "COMPLETED"
    assert workflow.output == {"paid": True}
    assert [t.status for t in workflow.tasks] == ["COMPLETED", "COMPLETED"]
    with pytest.raises(ApiException) as raised:
        workflows.get_workflow(workflow.workflow_id, include_tasks=False)
    assert raised.value.status == 404


def test_task_search_through_the_generated_task_api(workflows):
    workflow_id = workflows.start_workflow_by_name(NAME, {}, correlationId="sdk-ops-1")
    tasks = TaskResourceApi(workflows.api_client)

    found = tasks.search1(query=f"workflowId = '{workflow_id}'", size=10)
    assert found.total_hits == 1
    (summary,) = found.results
    assert (summary.workflow_id, summary.task_def_name, summary.status) == (
        workflow_id,
        "sdk_ops_charge",
        "SCHEDULED",
    )

    full = tasks.search_v21(query="correlationId = 'sdk-ops-1' AND status = SCHEDULED")
    assert [t.reference_task_name for t in full.results] == ["charge_ref"]

    with pytest.raises(ApiException) as raised:
        tasks.search1(query="status = SCHEDULED")
    assert raised.value.status == 400
