"""Retry, restart, rerun, skip, terminate, remove and the bulk operations through Conductor's
Python SDK (conductor-python's WorkflowClient and WorkflowBulkResourceApi) against
`python -m embedded`."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.api.workflow_bulk_resource_api import WorkflowBulkResourceApi
from conductor.client.http.api.workflow_resource_api import WorkflowResourceApi
from conductor.client.http.models import (
    RerunWorkflowRequest,
    SkipTaskRequest,
    StartWorkflowRequest,
    WorkflowDef,
)
from conductor.client.http.rest import ApiException
from conductor.client.orkes_clients import OrkesClients
from conductor.client.task_client import TaskClient
from conductor.client.workflow_client import WorkflowClient

from tests.e2e.runtime_process import RuntimeProcess

pytestmark = pytest.mark.slow

WORKFLOW = "sdk_lifecycle"
ONE_STEP = "sdk_one_step"


@dataclass
class Sdk:
    workflows: WorkflowClient
    tasks: TaskClient
    bulk: WorkflowBulkResourceApi


@pytest.fixture(scope="module")
def sdk(runtime: RuntimeProcess) -> Iterator[Sdk]:
    clients = OrkesClients(configuration=Configuration(server_api_url=runtime.api_url))
    workflows = clients.get_workflow_client()
    definition = workflows.api_client.deserialize_class(
        {
            "name": WORKFLOW,
            "version": 1,
            "tasks": [
                {"name": "charge", "taskReferenceName": "charge", "type": "SIMPLE"},
                {"name": "ship", "taskReferenceName": "ship", "type": "SIMPLE"},
            ],
            # The SDK sends a task's output by reference under `result`.
            "outputParameters": {"shipped": "${ship.output.result.shipped}"},
        },
        "WorkflowDef",
    )
    assert isinstance(definition, WorkflowDef)
    clients.get_metadata_client().register_workflow_def(definition, overwrite=True)
    one_step = workflows.api_client.deserialize_class(
        {
            "name": ONE_STEP,
            "version": 1,
            "tasks": [{"name": "pack", "taskReferenceName": "pack", "type": "SIMPLE"}],
            "outputParameters": {"packed": "${pack.output.packed}"},
        },
        "WorkflowDef",
    )
    clients.get_metadata_client().register_workflow_def(one_step, overwrite=True)
    yield Sdk(
        workflows=workflows,
        tasks=clients.get_task_client(),
        bulk=WorkflowBulkResourceApi(workflows.api_client),
    )


def _failed_at_ship(sdk: Sdk) -> str:
    workflow_id = sdk.workflows.start_workflow_by_name(WORKFLOW, {"order": 1})
    sdk.tasks.update_task_by_ref_name(workflow_id, "charge", "COMPLETED", {"charged": True})
    sdk.tasks.update_task_by_ref_name(workflow_id, "ship", "FAILED", {})
    assert sdk.workflows.get_workflow_status(workflow_id).status == "FAILED"
    return workflow_id


def _statuses(sdk: Sdk, workflow_id: str) -> list[tuple[str, str]]:
    workflow = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    return [(t.reference_task_name, t.status) for t in workflow.tasks]


def test_retry_workflow_runs_the_failed_task_again(sdk: Sdk):
    workflow_id = _failed_at_ship(sdk)
    sdk.workflows.retry_workflow(workflow_id)
    assert _statuses(sdk, workflow_id) == [
        ("charge", "COMPLETED"),
        ("ship", "FAILED"),
        ("ship", "SCHEDULED"),
    ]
    sdk.tasks.update_task_by_ref_name(workflow_id, "ship", "COMPLETED", {"shipped": "yes"})
    status = sdk.workflows.get_workflow_status(workflow_id, include_output=True)
    assert status.status == "COMPLETED"
    assert status.output == {"shipped": "yes"}


def test_restart_workflow_starts_over(sdk: Sdk):
    workflow_id = _failed_at_ship(sdk)
    sdk.workflows.restart_workflow(workflow_id)
    assert _statuses(sdk, workflow_id) == [("charge", "SCHEDULED")]
    assert sdk.workflows.get_workflow_status(workflow_id).status == "RUNNING"


def test_rerun_workflow_from_a_task_with_new_input(sdk: Sdk):
    workflow_id = _failed_at_ship(sdk)
    ship = next(
        t
        for t in sdk.workflows.get_workflow(workflow_id, include_tasks=True).tasks
        if t.reference_task_name == "ship"
    )
    answer = sdk.workflows.rerun_workflow(
        workflow_id,
        RerunWorkflowRequest(re_run_from_task_id=ship.task_id, task_input={"carrier": "b"}),
    )
    assert answer == workflow_id
    rerun = sdk.workflows.get_workflow(workflow_id, include_tasks=True)
    assert [(t.reference_task_name, t.status) for t in rerun.tasks] == [
        ("charge", "COMPLETED"),
        ("ship", "SCHEDULED"),
    ]
    assert rerun.tasks[1].input_data == {"carrier": "b"}


def test_skip_task_from_workflow(sdk: Sdk):
    workflow_id = sdk.workflows.start_workflow_by_name(WORKFLOW, {})
    sdk.workflows.skip_task_from_workflow(workflow_id, "ship", SkipTaskRequest())
    sdk.tasks.update_task_by_ref_name(workflow_id, "charge", "COMPLETED", {})
    assert _statuses(sdk, workflow_id) == [("charge", "COMPLETED"), ("ship", "SKIPPED")]
    assert sdk.workflows.get_workflow_status(workflow_id).status == "COMPLETED"


def test_terminate_then_delete_workflow(sdk: Sdk):
    workflow_id = sdk.workflows.start_workflow_by_name(WORKFLOW, {})
    sdk.workflows.terminate_workflow(workflow_id, reason="not needed")
    assert sdk.workflows.get_workflow_status(workflow_id).status == "TERMINATED"
    sdk.workflows.delete_workflow(workflow_id)
    with pytest.raises(ApiException) as missing:
        sdk.workflows.get_workflow(workflow_id, include_tasks=False)
    assert missing.value.status == 404


def test_errors_come_back_as_conductors_statuses(sdk: Sdk):
    running = sdk.workflows.start_workflow_by_name(WORKFLOW, {})
    with pytest.raises(ApiException) as refused:
        sdk.workflows.restart_workflow(running)
    assert refused.value.status == 409
    with pytest.raises(ApiException) as unknown:
        sdk.workflows.retry_workflow(str(uuid.uuid4()))
    assert unknown.value.status == 404


def test_bulk_operations_with_an_unknown_id(sdk: Sdk):
    first = sdk.workflows.start_workflow_by_name(WORKFLOW, {})
    second = sdk.workflows.start_workflow_by_name(WORKFLOW, {})
    paused = sdk.bulk.pause_workflow([first, "unknown", second])
    assert paused.bulk_successful_results == [first, second]
    assert set(paused.bulk_error_results) == {"unknown"}
    resumed = sdk.bulk.resume_workflow([first, second])
    assert resumed.bulk_successful_results == [first, second]
    terminated = sdk.bulk.terminate([first, second], reason="bulk")
    assert terminated.bulk_successful_results == [first, second]
    retried = sdk.bulk.retry([first, "unknown"])
    assert retried.bulk_successful_results == [first]
    assert set(retried.bulk_error_results) == {"unknown"}
    restarted = sdk.bulk.restart([second])
    assert restarted.bulk_successful_results == [second]
    assert sdk.workflows.get_workflow_status(second).status == "RUNNING"


def test_get_running_workflow_lists_what_has_not_ended(sdk: Sdk):
    running = sdk.workflows.start_workflow_by_name(WORKFLOW, {})
    ended = _failed_at_ship(sdk)
    listed = WorkflowResourceApi(sdk.workflows.api_client).get_running_workflow(WORKFLOW, version=1)
    assert running in listed
    assert ended not in listed


def test_execute_workflow_answers_when_a_worker_finishes_it(sdk: Sdk):
    """The request waits while a worker (another client of the runtime) does the task; the
    commit of its result wakes the wait, and the answer is the ended workflow."""
    answer: dict[str, Any] = {}

    def execute() -> None:
        answer["run"] = sdk.workflows.execute_workflow(
            StartWorkflowRequest(name=ONE_STEP, version=1, input={}),
            request_id="req-1",
            wait_for_seconds=20,
        )

    waiting = threading.Thread(target=execute)
    waiting.start()
    task = None
    for _ in range(50):
        polled = sdk.tasks.batch_poll_tasks("pack", count=1, timeout_in_millisecond=500)
        if polled:
            task = polled[0]
            break
    assert task is not None, "the executed workflow's task was never handed out"
    sdk.tasks.update_task_by_ref_name(task.workflow_instance_id, "pack", "COMPLETED", {})
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    run = answer["run"]
    assert run.workflow_id == task.workflow_instance_id
    assert run.status == "COMPLETED"
    assert run.request_id == "req-1"
