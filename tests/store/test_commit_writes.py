"""Which DynamoDB writes a commit makes: a decision that changes the workflow item alone is
a plain conditional write, never a TransactWriteItems (DynamoDB bills a transactional write
twice)."""

from __future__ import annotations

from bench.metering import metering
from tests.reliability.support import register_workflow, start, wait_workflow, workflow
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api


def test_a_start_pause_and_resume_write_the_workflow_item_without_a_transaction(
    aws: Aws,
) -> None:
    definition = wait_workflow("commit_writes", "hold")
    register_workflow(definition)
    with metering() as meter:
        workflow_id = start("commit_writes")
        assert call_api("PUT", f"/api/workflow/{workflow_id}/pause").status == 200
        assert call_api("PUT", f"/api/workflow/{workflow_id}/resume").status == 200
    assert workflow(workflow_id)["status"] == "RUNNING"
    assert meter.calls["dynamodb.TransactWriteItems"] == 0
    # The start's PutItem; the pause's and the resume's UpdateItem on the workflow item.
    assert meter.calls["dynamodb.PutItem"] >= 1
    assert meter.calls["dynamodb.UpdateItem"] >= 2


def test_a_decision_that_changes_a_task_commits_both_in_one_transaction(aws: Aws) -> None:
    register_workflow(wait_workflow("commit_writes_task", "hold"))
    workflow_id = start("commit_writes_task")
    with metering() as meter:
        completed = call_api("POST", f"/api/tasks/{workflow_id}/hold/COMPLETED", {})
        assert completed.status == 200
    assert workflow(workflow_id)["status"] == "COMPLETED"
    assert meter.calls["dynamodb.TransactWriteItems"] == 1
