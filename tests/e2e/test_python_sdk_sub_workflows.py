"""A parent and a failing child through Conductor's Python SDK against `python -m embedded`:
the child's failure fails the parent's SUB_WORKFLOW task and the parent;
`retry_workflow(..., resume_subworkflow_tasks=True)` retries the child and the parent waits for
it again (Conductor's WorkflowExecutorOps.retry); a plain retry starts a new child."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conductor.client.configuration.configuration import Configuration
from conductor.client.orkes_clients import OrkesClients
from conductor.client.task_client import TaskClient
from conductor.client.workflow_client import WorkflowClient

from tests.e2e.runtime_process import RuntimeProcess, wait_until

pytestmark = pytest.mark.slow

PARENT = "sdk_parent"
CHILD = "sdk_child"
TIMEOUT_SECONDS = 20.0


@dataclass
class Sdk:
    workflows: WorkflowClient
    tasks: TaskClient


@pytest.fixture(scope="module")
def sdk(runtime: RuntimeProcess) -> Iterator[Sdk]:
    clients = OrkesClients(configuration=Configuration(server_api_url=runtime.api_url))
    workflows = clients.get_workflow_client()
    metadata = clients.get_metadata_client()
    for definition in (
        {
            "name": CHILD,
            "version": 1,
            "tasks": [
                {"name": "reserve", "taskReferenceName": "reserve", "type": "SIMPLE"},
            ],
            "outputParameters": {"reserved": "${reserve.output.result.reserved}"},
        },
        {
            "name": PARENT,
            "version": 1,
            "tasks": [
                {
                    "name": "reserve_stock",
                    "taskReferenceName": "reserve_stock",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {"name": CHILD, "version": 1},
                },
                {"name": "notify", "taskReferenceName": "notify", "type": "NOOP"},
            ],
            "outputParameters": {"reserved": "${reserve_stock.output.reserved}"},
        },
    ):
        metadata.register_workflow_def(
            workflows.api_client.deserialize_class(definition, "WorkflowDef"), overwrite=True
        )
    yield Sdk(workflows=workflows, tasks=clients.get_task_client())


def _status(sdk: Sdk, workflow_id: str) -> str:
    return str(sdk.workflows.get_workflow_status(workflow_id).status)


def _becomes(sdk: Sdk, workflow_id: str, status: str) -> None:
    wait_until(
        lambda: True if _status(sdk, workflow_id) == status else None,
        timeout=TIMEOUT_SECONDS,
        what=f"{workflow_id} to be {status}",
        interval=0.1,
    )


def _sub_workflow_task(sdk: Sdk, parent_id: str) -> Any:
    parent = sdk.workflows.get_workflow(parent_id, include_tasks=True)
    return [t for t in parent.tasks if t.reference_task_name == "reserve_stock"][-1]


def _failed_child(sdk: Sdk) -> tuple[str, str]:
    parent_id = sdk.workflows.start_workflow_by_name(PARENT, {"order": 7})
    child_id = _sub_workflow_task(sdk, parent_id).sub_workflow_id
    assert child_id
    sdk.tasks.update_task_by_ref_name(child_id, "reserve", "FAILED", {"why": "no stock"})
    _becomes(sdk, child_id, "FAILED")
    _becomes(sdk, parent_id, "FAILED")
    return parent_id, child_id


def test_a_failing_child_fails_its_parent(sdk: Sdk) -> None:
    parent_id, child_id = _failed_child(sdk)
    child = sdk.workflows.get_workflow(child_id, include_tasks=False)
    assert child.parent_workflow_id == parent_id
    task = _sub_workflow_task(sdk, parent_id)
    assert task.status == "FAILED"
    assert child_id in task.reason_for_incompletion


def test_retry_resuming_sub_workflow_tasks_resumes_the_child_and_its_parent(sdk: Sdk) -> None:
    parent_id, child_id = _failed_child(sdk)
    sdk.workflows.retry_workflow(parent_id, resume_subworkflow_tasks=True)
    assert _status(sdk, child_id) == "RUNNING"
    assert _status(sdk, parent_id) == "RUNNING"
    task = _sub_workflow_task(sdk, parent_id)
    assert (task.status, task.sub_workflow_id, task.retry_count) == ("IN_PROGRESS", child_id, 0)

    sdk.tasks.update_task_by_ref_name(child_id, "reserve", "COMPLETED", {"reserved": 3})
    _becomes(sdk, child_id, "COMPLETED")
    _becomes(sdk, parent_id, "COMPLETED")
    parent = sdk.workflows.get_workflow(parent_id, include_tasks=True)
    assert parent.output == {"reserved": 3}
    assert [(t.reference_task_name, t.status) for t in parent.tasks] == [
        ("reserve_stock", "COMPLETED"),
        ("notify", "COMPLETED"),
    ]


def test_a_plain_retry_starts_a_new_child(sdk: Sdk) -> None:
    parent_id, child_id = _failed_child(sdk)
    sdk.workflows.retry_workflow(parent_id)
    task = _sub_workflow_task(sdk, parent_id)
    assert task.status == "IN_PROGRESS"
    assert task.retry_count == 1
    assert task.sub_workflow_id not in (None, child_id)
    assert _status(sdk, child_id) == "FAILED"
