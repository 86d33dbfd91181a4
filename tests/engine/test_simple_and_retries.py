"""SIMPLE: scheduled for a worker; retried per its TaskDef; optional; failing the workflow."""

from __future__ import annotations

import pytest

from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    T0,
    by_ref,
    complete,
    fail,
    simple,
    start,
    update,
    workflow_def,
)


def _task_def(**fields):
    return {"name": "work", "retryCount": 3, "retryDelaySeconds": 0, "timeoutSeconds": 0, **fields}


def _one_task(*, after: bool = True, **fields):
    tasks = [simple("work", inputParameters={"id": "${workflow.input.id}"}, **fields)]
    if after:
        tasks.append(simple("after"))
    return workflow_def(*tasks)


def _attempts(workflow, base: str = "work"):
    return [t for t in workflow.tasks if t.reference_task_name == base]


def test_a_simple_task_is_scheduled_for_a_worker_with_its_input_resolved():
    decision = start(_one_task(), {"id": "o-1"})
    task = by_ref(decision.workflow, "work")
    assert task.status == TaskStatus.SCHEDULED
    # A worker task's type is its name.
    assert task.task_type == task.task_def_name == "work"
    assert task.input_data == {"id": "o-1"}
    assert task.scheduled_time == T0
    assert task.start_time == 0
    assert task.retry_count == 0
    assert decision.effects == []


def test_a_completed_task_schedules_the_next_one():
    wf = start(_one_task(), {"id": "o-1"}).workflow
    wf = complete(wf, "work", T0 + 5, result=1)
    task = by_ref(wf, "work")
    assert (task.status, task.end_time, task.output_data) == (
        TaskStatus.COMPLETED,
        T0 + 5,
        {"result": 1},
    )
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED


def test_without_a_task_def_a_failure_is_not_retried_and_fails_the_workflow():
    wf = start(_one_task()).workflow
    wf = fail(wf, "work", T0 + 1, reason="boom")
    task = by_ref(wf, "work")
    assert len(_attempts(wf)) == 1
    assert wf.status == WorkflowStatus.FAILED
    assert wf.end_time == T0 + 1
    assert wf.reason_for_incompletion == (
        f"Task {task.task_id} failed with status: FAILED and reason: 'boom'"
    )
    assert wf.failed_reference_task_names == ["work"]
    assert wf.to_json()["failedTaskNames"] == ["work"]


def test_a_failure_with_no_reason_reads_null_as_in_conductors_message():
    wf = start(_one_task()).workflow
    wf = update(wf, "work", T0 + 1, TaskStatus.FAILED).workflow
    task = by_ref(wf, "work")
    assert wf.reason_for_incompletion == (
        f"Task {task.task_id} failed with status: FAILED and reason: 'null'"
    )


def test_a_failed_task_with_retries_left_is_scheduled_again_as_a_new_attempt():
    wf = start(_one_task(taskDefinition=_task_def(retryDelaySeconds=7)), {"id": "o-1"}).workflow
    first = by_ref(wf, "work")
    decision = update(wf, "work", T0 + 1, TaskStatus.FAILED, reason="flaky")
    wf = decision.workflow
    old, retry = _attempts(wf)
    assert old.task_id == first.task_id
    assert (old.status, old.retried) == (TaskStatus.FAILED, True)
    assert retry.status == TaskStatus.SCHEDULED
    assert retry.task_id != old.task_id
    assert retry.retry_count == 1
    assert retry.retried_task_id == old.task_id
    assert retry.input_data == {"id": "o-1"}
    assert retry.callback_after_seconds == 7
    assert retry.scheduled_time == T0 + 1
    assert decision.new_task_ids == {retry.task_id}
    assert wf.status == WorkflowStatus.RUNNING


@pytest.mark.parametrize(
    ("logic", "expected_delays"),
    [
        ("FIXED", [4, 4, 4]),
        ("LINEAR_BACKOFF", [4 * 3 * 1, 4 * 3 * 2, 4 * 3 * 3]),
        ("EXPONENTIAL_BACKOFF", [4 * 1, 4 * 2, 4 * 4]),
    ],
)
def test_retry_delays_follow_the_retry_logic(logic, expected_delays):
    task_def = _task_def(retryLogic=logic, retryDelaySeconds=4, backoffScaleFactor=3)
    wf = start(_one_task(taskDefinition=task_def)).workflow
    delays = []
    for attempt in range(3):
        wf = fail(wf, "work", T0 + attempt + 1)
        delays.append(_attempts(wf)[-1].callback_after_seconds)
    assert delays == expected_delays


def test_max_retry_delay_caps_the_backoff():
    task_def = _task_def(
        retryLogic="EXPONENTIAL_BACKOFF", retryDelaySeconds=10, maxRetryDelaySeconds=25
    )
    wf = start(_one_task(taskDefinition=task_def)).workflow
    delays = []
    for attempt in range(3):
        wf = fail(wf, "work", T0 + attempt + 1)
        delays.append(_attempts(wf)[-1].callback_after_seconds)
    assert delays == [10, 20, 25]


def test_exhausted_retries_fail_the_workflow_naming_the_last_attempt():
    wf = start(_one_task(taskDefinition=_task_def(retryCount=2))).workflow
    for attempt in range(3):
        wf = fail(wf, "work", T0 + attempt + 1, reason=f"attempt {attempt}")
    attempts = _attempts(wf)
    assert [t.retry_count for t in attempts] == [0, 1, 2]
    assert [t.retried for t in attempts] == [True, True, False]
    assert wf.status == WorkflowStatus.FAILED
    assert wf.reason_for_incompletion == (
        f"Task {attempts[-1].task_id} failed with status: FAILED and reason: 'attempt 2'"
    )
    assert wf.failed_reference_task_names == ["work"]
    assert all(t.reference_task_name != "after" for t in wf.tasks)


def test_the_workflow_tasks_retry_count_overrides_the_task_def():
    wf = start(_one_task(retryCount=1, taskDefinition=_task_def(retryCount=5))).workflow
    wf = fail(wf, "work", T0 + 1)
    assert wf.status == WorkflowStatus.RUNNING
    wf = fail(wf, "work", T0 + 2)
    assert len(_attempts(wf)) == 2
    assert wf.status == WorkflowStatus.FAILED


def test_a_retry_that_succeeds_lets_the_workflow_go_on():
    wf = start(_one_task(taskDefinition=_task_def())).workflow
    wf = fail(wf, "work", T0 + 1)
    wf = complete(wf, "work", T0 + 2, ok=True)
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED
    wf = complete(wf, "after", T0 + 3)
    assert wf.status == WorkflowStatus.COMPLETED


def test_a_terminal_error_is_never_retried_and_the_reason_gives_the_workflow_status():
    # Conductor's message names the status the workflow ends with, not the task's.
    wf = start(_one_task(taskDefinition=_task_def())).workflow
    wf = update(wf, "work", T0 + 1, TaskStatus.FAILED_WITH_TERMINAL_ERROR, reason="fatal").workflow
    task = by_ref(wf, "work")
    assert len(_attempts(wf)) == 1
    assert task.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert wf.status == WorkflowStatus.FAILED
    assert wf.reason_for_incompletion == (
        f"Task {task.task_id} failed with status: FAILED and reason: 'fatal'"
    )
    assert wf.failed_reference_task_names == ["work"]


def test_a_canceled_task_terminates_the_workflow():
    wf = start(_one_task(taskDefinition=_task_def())).workflow
    wf = update(wf, "work", T0 + 1, TaskStatus.CANCELED, reason="stopped").workflow
    task = by_ref(wf, "work")
    assert len(_attempts(wf)) == 1
    assert wf.status == WorkflowStatus.TERMINATED
    assert wf.reason_for_incompletion == (
        f"Task {task.task_id} failed with status: TERMINATED and reason: 'stopped'"
    )


def test_an_optional_task_that_fails_for_good_completes_with_errors_and_the_workflow_goes_on():
    wf = start(_one_task(optional=True, taskDefinition=_task_def(retryCount=1))).workflow
    wf = fail(wf, "work", T0 + 1)
    assert wf.status == WorkflowStatus.RUNNING
    wf = fail(wf, "work", T0 + 2, reason="still broken")
    attempts = _attempts(wf)
    assert [t.status for t in attempts] == [TaskStatus.FAILED, TaskStatus.COMPLETED_WITH_ERRORS]
    assert attempts[-1].reason_for_incompletion == "still broken"
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED
    wf = complete(wf, "after", T0 + 3)
    assert wf.status == WorkflowStatus.COMPLETED
