"""A worker task's timeouts, from its TaskDef: responseTimeoutSeconds and timeoutSeconds."""

from __future__ import annotations

from typing import Any

from baton.engine import decider
from baton.engine.effects import ArmTimer
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import SECOND, T0, by_ref, simple, start, update, workflow_def


def _definition(**task_def: Any):
    task_definition = {"name": "work", "retryCount": 1, "retryDelaySeconds": 0, **task_def}
    return workflow_def(simple("work", taskDefinition=task_definition))


def _held_by_a_worker(**task_def: Any):
    """Started, then polled: IN_PROGRESS since T0 + 1 s."""
    workflow = start(_definition(**task_def)).workflow
    return update(workflow, "work", T0 + SECOND, status=TaskStatus.IN_PROGRESS).workflow


def test_taking_a_task_arms_a_timer_for_its_response_timeout():
    workflow = start(_definition(responseTimeoutSeconds=30)).workflow
    decision = update(workflow, "work", T0 + SECOND, status=TaskStatus.IN_PROGRESS)
    task = by_ref(decision.workflow, "work")
    assert ArmTimer(task_id=task.task_id, due_at=T0 + 31 * SECOND) in decision.effects


def test_a_worker_that_goes_silent_times_out_and_the_task_is_retried():
    workflow = _held_by_a_worker(responseTimeoutSeconds=30)
    assert not decider.decide(workflow, T0 + 30 * SECOND).changed
    decision = decider.decide(workflow, T0 + 31 * SECOND)
    attempts = [t for t in decision.workflow.tasks if t.reference_task_name == "work"]
    assert [t.status for t in attempts] == [TaskStatus.TIMED_OUT, TaskStatus.SCHEDULED]
    assert attempts[0].reason_for_incompletion.startswith("responseTimeout: 30 exceeded")
    assert attempts[1].retry_count == 1
    assert decision.workflow.status == WorkflowStatus.RUNNING


def test_an_update_from_the_worker_restarts_the_response_timeout():
    workflow = _held_by_a_worker(responseTimeoutSeconds=30)
    workflow = update(workflow, "work", T0 + 20 * SECOND, status=TaskStatus.IN_PROGRESS).workflow
    assert not decider.decide(workflow, T0 + 40 * SECOND).changed
    assert decider.decide(workflow, T0 + 50 * SECOND).changed


def test_retries_exhausted_by_timeouts_time_the_workflow_out():
    workflow = _held_by_a_worker(responseTimeoutSeconds=30, retryCount=0)
    decision = decider.decide(workflow, T0 + 31 * SECOND)
    assert decision.workflow.status == WorkflowStatus.TIMED_OUT


def test_total_timeout_with_time_out_wf_times_the_workflow_out_at_once():
    workflow = _held_by_a_worker(
        timeoutSeconds=60, responseTimeoutSeconds=50, timeoutPolicy="TIME_OUT_WF"
    )
    workflow = update(workflow, "work", T0 + 45 * SECOND, status=TaskStatus.IN_PROGRESS).workflow
    decision = decider.decide(workflow, T0 + 61 * SECOND)
    assert decision.workflow.status == WorkflowStatus.TIMED_OUT
    assert by_ref(decision.workflow, "work").status == TaskStatus.TIMED_OUT
    assert "Timeout policy configured to TIME_OUT_WF" in decision.workflow.reason_for_incompletion


def test_total_timeout_with_retry_retries():
    workflow = _held_by_a_worker(
        timeoutSeconds=60, responseTimeoutSeconds=50, timeoutPolicy="RETRY"
    )
    workflow = update(workflow, "work", T0 + 45 * SECOND, status=TaskStatus.IN_PROGRESS).workflow
    decision = decider.decide(workflow, T0 + 61 * SECOND)
    assert decision.workflow.status == WorkflowStatus.RUNNING
    assert by_ref(decision.workflow, "work").status == TaskStatus.SCHEDULED


def test_alert_only_never_times_out_the_task():
    workflow = _held_by_a_worker(
        timeoutSeconds=60, responseTimeoutSeconds=3600, timeoutPolicy="ALERT_ONLY"
    )
    assert not decider.decide(workflow, T0 + 120 * SECOND).changed


def test_a_task_without_a_task_def_never_times_out():
    workflow = start(workflow_def(simple("work"))).workflow
    workflow = update(workflow, "work", T0 + SECOND, status=TaskStatus.IN_PROGRESS).workflow
    assert not decider.decide(workflow, T0 + 10 * 3600 * SECOND).changed
