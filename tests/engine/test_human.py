"""HUMAN: IN_PROGRESS until updated from outside; no worker ever polls it."""

from __future__ import annotations

from baton.engine.state import TaskStatus, WorkflowStatus
from baton.engine.tasks import TASK_TYPES
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    IN_PROGRESS,
    SECOND,
    T0,
    by_ref,
    complete,
    fail,
    simple,
    start,
    task,
    workflow_def,
)


def _approval():
    return workflow_def(
        task("HUMAN", "approve", inputParameters={"amount": "${workflow.input.amount}"}),
        simple("ship"),
    )


def test_a_human_task_is_in_progress_from_the_start_and_nothing_moves_it_on():
    wf = start(_approval(), {"amount": 5}).workflow
    approval = by_ref(wf, "approve")
    assert (approval.task_type, approval.status) == ("HUMAN", IN_PROGRESS)
    assert approval.start_time == T0
    assert approval.input_data == {"amount": 5}
    assert not TASK_TYPES["HUMAN"].polled_by_workers
    assert TASK_TYPES["HUMAN"].deadline(approval) is None  # no timer: it waits for a person
    assert [t.reference_task_name for t in wf.tasks] == ["approve"]


def test_completing_it_through_the_update_api_carries_its_output_on():
    wf = start(_approval(), {"amount": 5}).workflow
    wf = complete(wf, "approve", T0 + 60 * SECOND, approved=True)
    assert by_ref(wf, "approve").status == COMPLETED
    assert by_ref(wf, "approve").output_data == {"approved": True}
    assert by_ref(wf, "ship").status == TaskStatus.SCHEDULED


def test_failing_it_fails_the_workflow():
    wf = fail(start(_approval()).workflow, "approve", T0 + SECOND, "rejected")
    assert wf.status == WorkflowStatus.FAILED
    assert "rejected" in (wf.reason_for_incompletion or "")


def test_a_human_task_needs_nothing_beyond_a_name_and_reference():
    assert validate_workflow_def(_approval().to_json()) == []
