"""Conductor's official Python SDK (conductor-python) as the client of `python -m embedded`.

The tutorial's definition is registered again under another name (`event_testing_sdk`, same
EVENT sink) with a handler of its own (`complete_task_event_sdk`, same event and action, and a
condition on the workflow type). This module has its own runtime, so the seeded
`complete_task_event` handler, which also receives every message on the queue, acts only on
this module's workflows: completing `task_1_ref` of the workflow named in the message, as the
new handler does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api.event_resource_api import EventResourceApi
from conductor.client.http.models import (
    Action,
    EventHandler,
    StartWorkflowRequest,
    TaskDetails,
    WorkflowDef,
)
from conductor.client.http.models.workflow import Workflow
from conductor.client.http.rest import ApiException
from conductor.client.metadata_client import MetadataClient
from conductor.client.orkes_clients import OrkesClients
from conductor.client.task_client import TaskClient
from conductor.client.workflow_client import WorkflowClient

from tests import seed
from tests.e2e.runtime_process import RuntimeProcess, http_json, queue_depth, wait_until

pytestmark = pytest.mark.slow

WORKFLOW = "event_testing_sdk"
HANDLER = "complete_task_event_sdk"
QUEUE = "conductor_doug_testing"
SINK = f"sqs:{QUEUE}"
SEEDED_HANDLER = "complete_task_event"
COMPLETION_TIMEOUT_SECONDS = 40.0


@dataclass
class Sdk:
    metadata: MetadataClient
    workflows: WorkflowClient
    tasks: TaskClient
    events: EventResourceApi


@pytest.fixture(scope="module")
def sdk(runtime: RuntimeProcess) -> Iterator[Sdk]:
    clients = OrkesClients(configuration=Configuration(server_api_url=runtime.api_url))
    workflows = clients.get_workflow_client()
    yield Sdk(
        metadata=clients.get_metadata_client(),
        workflows=workflows,
        tasks=clients.get_task_client(),
        events=EventResourceApi(workflows.api_client),
    )


@pytest.fixture(scope="module")
def registered(sdk: Sdk) -> WorkflowDef:
    """The seed's definition as the SDK's WorkflowDef, renamed, and its handler, registered."""
    definition_json = seed.event_testing() | {"name": WORKFLOW}
    definition = sdk.workflows.api_client.deserialize_class(definition_json, "WorkflowDef")
    assert isinstance(definition, WorkflowDef)
    sdk.metadata.register_workflow_def(definition, overwrite=True)
    handler = EventHandler(
        name=HANDLER,
        event=SINK,
        condition=f"$.workflowType == '{WORKFLOW}'",
        actions=[
            Action(
                action="complete_task",
                complete_task=TaskDetails(
                    workflow_id="${workflowInstanceId}", task_ref_name="task_1_ref", output={}
                ),
            )
        ],
        active=True,
    )
    sdk.events.add_event_handler(handler)
    return definition


def _statuses(workflow: Workflow) -> dict[str, str]:
    return {t.reference_task_name: t.status for t in workflow.tasks} | {"workflow": workflow.status}


def _tasks(workflow: Workflow) -> dict[str, Any]:
    return {t.reference_task_name: t for t in workflow.tasks}


def test_definitions_registered_through_the_sdk_read_back(sdk: Sdk, registered: WorkflowDef):
    stored = sdk.metadata.get_workflow_def(WORKFLOW, version=1)
    assert stored.name == WORKFLOW
    assert stored.version == 1
    fork, join = stored.tasks
    assert fork.type == "FORK_JOIN"
    assert [[t.task_reference_name for t in branch] for branch in fork.fork_tasks] == [
        ["task_1_ref"],
        ["task_2_ref", "send_sqs_message_ref"],
    ]
    assert fork.fork_tasks[1][1].sink == SINK
    assert join.join_on == ["task_1_ref", "send_sqs_message_ref"]

    handlers = sdk.events.get_event_handlers_for_event(SINK, active_only=True)
    by_name = {h.name: h for h in handlers}
    assert set(by_name) == {SEEDED_HANDLER, HANDLER}
    mine = by_name[HANDLER]
    assert mine.event == SINK
    assert mine.active is True
    assert mine.condition == f"$.workflowType == '{WORKFLOW}'"
    (action,) = mine.actions
    assert action.action == "complete_task"
    assert action.complete_task.workflow_id == "${workflowInstanceId}"
    assert action.complete_task.task_ref_name == "task_1_ref"


def test_round_trip_with_task_1_completed_through_the_task_api(
    sdk: Sdk, registered: WorkflowDef, runtime: RuntimeProcess
):
    workflow_id = sdk.workflows.start_workflow_by_name(WORKFLOW, {"orderId": 7})
    assert isinstance(workflow_id, str)
    assert workflow_id

    started = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    assert started.workflow_id == workflow_id
    assert started.workflow_name == WORKFLOW
    assert started.input == {"orderId": 7}
    assert _statuses(started) == {
        "fork_ref": "COMPLETED",
        "task_1_ref": "IN_PROGRESS",
        "task_2_ref": "IN_PROGRESS",
        "join_ref": "IN_PROGRESS",
        "workflow": "RUNNING",
    }

    # Complete task_1 before task_2's ten seconds are up, so before the message is sent. The
    # SDK wraps the output as {"result": output}, as Conductor's server then stores it.
    task_id = sdk.tasks.update_task_by_ref_name(
        workflow_id, "task_1_ref", "COMPLETED", {"approvedBy": "sdk"}
    )
    assert task_id == _tasks(started)["task_1_ref"].task_id
    after_update = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    assert _statuses(after_update) == {
        "fork_ref": "COMPLETED",
        "task_1_ref": "COMPLETED",
        "task_2_ref": "IN_PROGRESS",
        "join_ref": "IN_PROGRESS",
        "workflow": "RUNNING",
    }
    task_1 = _tasks(after_update)["task_1_ref"]
    assert task_1.output_data == {"result": {"approvedBy": "sdk"}}

    seen: dict[str, str] = {}

    def completed() -> Workflow | None:
        workflow = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
        seen.update(_statuses(workflow))
        assert workflow.status in ("RUNNING", "COMPLETED"), workflow
        return workflow if workflow.status == "COMPLETED" else None

    finished = wait_until(
        completed,
        timeout=COMPLETION_TIMEOUT_SECONDS,
        what=f"workflow {workflow_id} to complete (last seen: {seen})",
        runtime=runtime,
    )
    tasks = _tasks(finished)
    assert _statuses(finished) == {
        "fork_ref": "COMPLETED",
        "task_1_ref": "COMPLETED",
        "task_2_ref": "COMPLETED",
        "send_sqs_message_ref": "COMPLETED",
        "join_ref": "COMPLETED",
        "workflow": "COMPLETED",
    }
    event_output = tasks["send_sqs_message_ref"].output_data
    assert event_output["workflowInstanceId"] == workflow_id
    assert event_output["workflowType"] == WORKFLOW
    assert event_output["sink"] == SINK
    assert event_output["correlationId"] is None
    task_2 = tasks["task_2_ref"]
    assert task_2.end_time - task_2.start_time >= 10_000

    # The message still arrives and both handlers act on it (the workflow type matches this
    # handler's condition): completing an ended task changes nothing and is not a failure.
    message_id = tasks["send_sqs_message_ref"].task_id

    def executions_for_message() -> dict[str, dict[str, Any]] | None:
        found: dict[str, dict[str, Any]] = {}
        for name in (HANDLER, SEEDED_HANDLER):
            status, _, executions = http_json("GET", f"{runtime.api_url}/event/executions/{name}")
            assert status == 200, executions
            found |= {e["name"]: e for e in executions if e.get("messageId") == message_id}
        return found if len(found) == 2 else None

    executions = wait_until(
        executions_for_message,
        timeout=15,
        what=f"both handlers' executions for message {message_id}",
        runtime=runtime,
    )
    for execution in executions.values():
        assert execution["status"] == "COMPLETED", execution
        assert execution["output"]["workflowId"] == workflow_id
        assert execution["output"]["taskId"] == task_1.task_id

    unchanged = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    assert unchanged.status == "COMPLETED"
    assert unchanged.end_time == finished.end_time
    task_1_now = _tasks(unchanged)["task_1_ref"]
    assert task_1_now.status == "COMPLETED"
    assert task_1_now.output_data == {"result": {"approvedBy": "sdk"}}
    assert task_1_now.update_time == task_1.update_time
    wait_until(
        lambda: True if queue_depth(runtime, QUEUE) == 0 else None,
        timeout=10,
        what=f"{QUEUE} to be empty",
        runtime=runtime,
    )
    assert queue_depth(runtime, f"{QUEUE}_dlq") == 0


def test_start_request_pause_resume_terminate(sdk: Sdk, registered: WorkflowDef):
    correlation_id = f"sdk-{uuid.uuid4()}"
    workflow_id = sdk.workflows.start_workflow(
        StartWorkflowRequest(
            name=WORKFLOW, version=1, input={"orderId": 8}, correlation_id=correlation_id
        )
    )
    assert isinstance(workflow_id, str)
    assert workflow_id

    workflow = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    assert workflow.status == "RUNNING"
    assert workflow.correlation_id == correlation_id
    assert workflow.workflow_version == 1
    assert workflow.input == {"orderId": 8}

    sdk.workflows.pause_workflow(workflow_id)
    assert sdk.workflows.get_workflow(workflow_id, include_tasks=True).status == "PAUSED"
    sdk.workflows.resume_workflow(workflow_id)
    resumed = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    assert resumed.status == "RUNNING"
    assert _statuses(resumed)["task_1_ref"] == "IN_PROGRESS"

    sdk.workflows.terminate_workflow(workflow_id, reason="stopped by the SDK test")
    terminated = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    assert terminated.status == "TERMINATED"
    assert terminated.reason_for_incompletion == "stopped by the SDK test"
    statuses = _statuses(terminated)
    assert statuses["task_1_ref"] == "CANCELED"
    assert statuses["task_2_ref"] == "CANCELED"
    assert "send_sqs_message_ref" not in statuses

    # An ended workflow cannot be paused: Conductor answers 409.
    with pytest.raises(ApiException) as raised:
        sdk.workflows.pause_workflow(workflow_id)
    assert raised.value.status == 409


def test_get_workflow_of_an_unknown_id_raises_404(sdk: Sdk):
    unknown = str(uuid.uuid4())
    with pytest.raises(ApiException) as raised:
        sdk.workflows.get_workflow(unknown, include_tasks=True)
    assert raised.value.status == 404
    body = json.loads(raised.value.body)
    assert body["status"] == 404
    assert unknown in body["message"]


def test_search_through_the_sdk(sdk: Sdk, registered: WorkflowDef, runtime: RuntimeProcess):
    """WorkflowClient.search (GET /api/workflow/search), as the SDK sends and parses it (the
    SDK has no call for search-v2, and its TaskClient none for task search)."""
    correlation_id = f"sdk-search-{uuid.uuid4()}"
    started = [
        sdk.workflows.start_workflow(
            StartWorkflowRequest(
                name=WORKFLOW, version=1, input={"n": n}, correlation_id=correlation_id
            )
        )
        for n in range(3)
    ]
    sdk.workflows.terminate_workflow(started[0], reason="searched for")
    query = f"workflowType = '{WORKFLOW}' AND correlationId = '{correlation_id}'"

    def all_three() -> Any:
        found = sdk.workflows.search(query=query)
        return found if len(found.results) == 3 else None

    # The search indexes follow each commit a moment later (eventually consistent).
    found = wait_until(all_three, timeout=10, what="the three workflows in search", runtime=runtime)
    summaries = found.results
    assert [s.workflow_id for s in summaries] == list(reversed(started))  # newest first
    assert {s.workflow_type for s in summaries} == {WORKFLOW}
    assert all(s.correlation_id == correlation_id for s in summaries)
    assert json.loads(summaries[-1].input) == {"n": 0}

    def terminated() -> Any:
        found = sdk.workflows.search(query=f"{query} AND status IN (TERMINATED)")
        return found if len(found.results) == 1 else None

    ended = wait_until(terminated, timeout=10, what="the terminated workflow", runtime=runtime)
    assert ended.results[0].workflow_id == started[0]
    assert ended.results[0].status == "TERMINATED"

    by_id = sdk.workflows.search(free_text=started[1])
    assert [s.workflow_id for s in by_id.results] == [started[1]]
    paged = sdk.workflows.search(start=1, size=1, query=query)
    # The SDK's model (ScrollableSearchResultWorkflowSummary) has no totalHits to read.
    assert [s.workflow_id for s in paged.results] == [started[1]]

    with pytest.raises(ApiException) as raised:
        sdk.workflows.search(query="endTime > 0")
    assert raised.value.status == 400
    assert "not indexed" in json.loads(raised.value.body)["message"]
