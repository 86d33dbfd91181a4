"""HUMAN: IN_PROGRESS until updated from outside; no worker ever polls it."""

from __future__ import annotations

from baton.engine import decider
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
    update,
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


# -- its TaskDef's timeouts, as Conductor's DeciderService applies them ----------------------


def _approval_with(**task_def):
    return workflow_def(
        task("HUMAN", "approve", taskDefinition={"name": "approve", **task_def}), simple("ship")
    )


def test_a_human_task_takes_the_task_def_registered_under_its_name():
    assert TASK_TYPES["HUMAN"].uses_registered_task_def


def test_no_update_within_the_response_timeout_times_it_out_and_retries_it():
    definition = _approval_with(responseTimeoutSeconds=60, retryCount=1, retryDelaySeconds=0)
    wf = start(definition).workflow
    assert TASK_TYPES["HUMAN"].deadline(by_ref(wf, "approve")) == T0 + 60 * SECOND
    assert decider.decide(wf, T0 + 60 * SECOND - 1).changed_tasks == []
    after = decider.decide(wf, T0 + 60 * SECOND).workflow
    attempts = [t for t in after.tasks if t.reference_task_name == "approve"]
    assert [t.status for t in attempts] == [TaskStatus.TIMED_OUT, IN_PROGRESS]
    assert "responseTimeout: 60 exceeded" in (attempts[0].reason_for_incompletion or "")
    assert after.status == WorkflowStatus.RUNNING


def test_an_in_progress_update_restarts_the_response_timeout():
    wf = start(_approval_with(responseTimeoutSeconds=60)).workflow
    wf = update(
        wf, "approve", T0 + 50 * SECOND, TaskStatus.IN_PROGRESS, output={"seen": 1}
    ).workflow
    assert TASK_TYPES["HUMAN"].deadline(by_ref(wf, "approve")) == T0 + 110 * SECOND
    assert by_ref(decider.decide(wf, T0 + 100 * SECOND).workflow, "approve").status == IN_PROGRESS


def test_timeout_seconds_with_time_out_wf_times_the_workflow_out():
    definition = _approval_with(
        timeoutSeconds=120, responseTimeoutSeconds=0, timeoutPolicy="TIME_OUT_WF"
    )
    wf = start(definition).workflow
    after = decider.decide(wf, T0 + 120 * SECOND).workflow
    assert by_ref(after, "approve").status == TaskStatus.TIMED_OUT
    assert after.status == WorkflowStatus.TIMED_OUT
    assert "Timeout configured as 120 seconds" in (after.reason_for_incompletion or "")


def test_alert_only_and_async_complete_leave_it_waiting():
    alert = start(
        _approval_with(timeoutSeconds=10, responseTimeoutSeconds=0, timeoutPolicy="ALERT_ONLY")
    )
    assert TASK_TYPES["HUMAN"].deadline(by_ref(alert.workflow, "approve")) is None
    assert by_ref(
        decider.decide(alert.workflow, T0 + 3600 * SECOND).workflow, "approve"
    ).status == (IN_PROGRESS)
    async_def = workflow_def(
        task(
            "HUMAN",
            "approve",
            asyncComplete=True,
            taskDefinition={"name": "approve", "responseTimeoutSeconds": 5},
        )
    )
    waiting = start(async_def).workflow
    assert TASK_TYPES["HUMAN"].deadline(by_ref(waiting, "approve")) is None
