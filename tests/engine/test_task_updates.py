"""Results reported from outside: a worker, the task API or an event handler action."""

from __future__ import annotations

from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    T0,
    by_ref,
    complete,
    simple,
    start,
    update,
    wait,
    workflow_def,
)


def _two_steps():
    return workflow_def(simple("first"), wait("second"), simple("third"))


def test_completing_a_task_replaces_its_output_and_schedules_what_follows():
    wf = start(_two_steps()).workflow
    wf = decider.update_task(
        wf,
        by_ref(wf, "first").task_id,
        TaskUpdate(status=TaskStatus.COMPLETED, output={"a": 1}, worker_id="worker-7"),
        T0 + 3,
    ).workflow
    first = by_ref(wf, "first")
    assert first.status == TaskStatus.COMPLETED
    assert first.output_data == {"a": 1}
    assert first.worker_id == "worker-7"
    assert (first.start_time, first.end_time, first.update_time) == (T0 + 3, T0 + 3, T0 + 3)
    assert by_ref(wf, "second").status == TaskStatus.IN_PROGRESS


def test_an_update_by_reference_merges_into_the_output_when_asked_to():
    wf = start(_two_steps()).workflow
    wf = decider.update_task(
        wf,
        by_ref(wf, "first").task_id,
        TaskUpdate(status=TaskStatus.IN_PROGRESS, output={"a": 1, "b": 1}),
        T0 + 1,
    ).workflow
    wf = decider.update_task(
        wf,
        by_ref(wf, "first").task_id,
        TaskUpdate(status=TaskStatus.COMPLETED, output={"b": 2}, merge_output=True),
        T0 + 2,
    ).workflow
    assert by_ref(wf, "first").output_data == {"a": 1, "b": 2}


def test_an_in_progress_update_records_the_output_and_leaves_the_task_pending():
    wf = start(_two_steps()).workflow
    decision = update(wf, "first", T0 + 1, TaskStatus.IN_PROGRESS, output={"progress": 50})
    first = by_ref(decision.workflow, "first")
    assert first.status == TaskStatus.IN_PROGRESS
    assert first.output_data == {"progress": 50}
    assert first.end_time == 0
    assert [t.reference_task_name for t in decision.workflow.tasks] == ["first"]


def test_failing_a_task_from_outside_records_the_reason():
    wf = start(_two_steps()).workflow
    wf = update(wf, "first", T0 + 1, TaskStatus.FAILED, reason="worker gave up").workflow
    first = by_ref(wf, "first")
    assert first.status == TaskStatus.FAILED
    assert first.reason_for_incompletion == "worker gave up"
    assert wf.status == WorkflowStatus.FAILED


def test_an_update_to_an_ended_task_changes_nothing():
    wf = start(_two_steps()).workflow
    wf = complete(wf, "first", T0 + 1, a=1)
    first = by_ref(wf, "first")
    for status in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.IN_PROGRESS):
        decision = decider.update_task(
            wf, first.task_id, TaskUpdate(status=status, output={"a": 2}), T0 + 2
        )
        assert not decision.changed
        assert decision.changed_tasks == []
        assert decision.effects == []
        assert decision.workflow is wf
    assert by_ref(wf, "first").output_data == {"a": 1}


def test_an_update_to_a_task_of_an_ended_workflow_changes_nothing():
    wf = start(_two_steps()).workflow
    wf = decider.terminate(wf, "stop", T0 + 1).workflow
    first = by_ref(wf, "first")
    assert first.status == TaskStatus.CANCELED
    decision = decider.update_task(
        wf, first.task_id, TaskUpdate(status=TaskStatus.COMPLETED), T0 + 2
    )
    assert not decision.changed
    assert decision.workflow is wf
    assert wf.status == WorkflowStatus.TERMINATED


def test_an_update_to_an_unknown_task_changes_nothing():
    wf = start(_two_steps()).workflow
    decision = decider.update_task(wf, "no-such-task", TaskUpdate(TaskStatus.COMPLETED), T0 + 1)
    assert not decision.changed
    assert decision.workflow is wf


def test_find_task_by_id_or_by_reference():
    wf = start(_two_steps()).workflow
    first = by_ref(wf, "first")
    assert decider.find_task(wf, task_id=first.task_id) is first
    assert decider.find_task(wf, reference="first") is first
    assert decider.find_task(wf, reference="third") is None
    assert decider.find_task(wf, task_id="missing") is None
    assert decider.find_task(wf) is None


def test_find_task_by_reference_prefers_the_pending_attempt():
    task_def = {"name": "first", "retryCount": 1, "retryDelaySeconds": 0, "timeoutSeconds": 0}
    wf = start(workflow_def(simple("first", taskDefinition=task_def))).workflow
    wf = update(wf, "first", T0 + 1, TaskStatus.FAILED).workflow
    found = decider.find_task(wf, reference="first")
    assert found is not None
    assert (found.retry_count, found.status) == (1, TaskStatus.SCHEDULED)
