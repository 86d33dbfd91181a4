"""Retry, restart, rerun and skip racing other changes to the same workflow: each is committed
on the revision it read, so the loser decides again on what the winner wrote."""

from __future__ import annotations

import pytest

from baton.engine import decider, lifecycle
from baton.engine.decider import TaskUpdate
from baton.engine.definitions import WorkflowDef
from baton.engine.state import TaskStatus, WorkflowStatus
from baton.errors import Conflict, NotFound
from baton.store.models import TaskItem
from baton.store.workflows import WorkflowStore

T0 = 1_700_000_000_000


def _definition() -> WorkflowDef:
    return WorkflowDef.from_json(
        {
            "name": "two_steps",
            "tasks": [
                {"name": "first", "taskReferenceName": "first", "type": "SIMPLE"},
                {"name": "second", "taskReferenceName": "second", "type": "SIMPLE"},
            ],
        }
    )


def _report(workflow, reference: str, status: TaskStatus, now: int):
    task = decider.find_task(workflow, reference=reference)
    assert task is not None
    return decider.update_task(workflow, task.task_id, TaskUpdate(status=status), now)


def _stores() -> tuple[WorkflowStore, WorkflowStore]:
    return WorkflowStore(clock=lambda: T0, sleep=lambda _: None), WorkflowStore(clock=lambda: T0)


def _failed(store: WorkflowStore) -> None:
    store.create(decider.start(_definition(), workflow_id="wf", workflow_input={}, now=T0))
    store.mutate("wf", lambda wf: _report(wf, "first", TaskStatus.COMPLETED, T0 + 1))
    store.mutate("wf", lambda wf: _report(wf, "second", TaskStatus.FAILED, T0 + 2))
    assert store.require("wf").status == WorkflowStatus.FAILED


def _racing(store: WorkflowStore, rival_change, change):
    """`change` on `store`, with `rival_change` committed between its first read and commit."""
    rival = WorkflowStore(clock=lambda: T0)
    calls = 0

    def contested(workflow):
        nonlocal calls
        calls += 1
        if calls == 1:
            rival.mutate("wf", rival_change)
        return change(workflow)

    try:
        return store.mutate("wf", contested)
    finally:
        assert calls == 2, "the change should have been decided again after losing the race"


def test_two_retries_at_once_make_one_new_attempt(aws):
    store, _ = _stores()
    _failed(store)
    with pytest.raises(NotFound, match="still running"):
        _racing(
            store,
            lambda wf: lifecycle.retry(wf, T0 + 3),
            lambda wf: lifecycle.retry(wf, T0 + 4),
        )
    workflow = store.require("wf")
    assert workflow.status == WorkflowStatus.RUNNING
    attempts = [t for t in workflow.tasks if t.reference_task_name == "second"]
    assert [(t.retry_count, t.status) for t in attempts] == [
        (0, TaskStatus.FAILED),
        (1, TaskStatus.SCHEDULED),
    ]


def test_a_restart_that_loses_to_a_retry_is_refused_and_the_retry_stands(aws):
    store, _ = _stores()
    _failed(store)
    with pytest.raises(Conflict, match="not in terminal state"):
        _racing(
            store,
            lambda wf: lifecycle.retry(wf, T0 + 3),
            lambda wf: lifecycle.restart(wf, wf.definition, T0 + 4),
        )
    workflow = store.require("wf")
    assert [t.reference_task_name for t in workflow.tasks] == ["first", "second", "second"]


def test_a_skip_that_loses_to_the_update_that_schedules_its_task_is_refused(aws):
    store, _ = _stores()
    store.create(decider.start(_definition(), workflow_id="wf", workflow_input={}, now=T0))
    # Completing `first` schedules `second` between the skip's read and its commit: decided
    # again, the skip finds `second` scheduled and is refused, as Conductor refuses it.
    with pytest.raises(Conflict, match="already been processed"):
        _racing(
            store,
            lambda wf: _report(wf, "first", TaskStatus.COMPLETED, T0 + 1),
            lambda wf: lifecycle.skip_task(wf, "second", T0 + 2, task_output={"skipped": True}),
        )
    workflow = store.require("wf")
    assert {t.reference_task_name: t.status for t in workflow.tasks} == {
        "first": TaskStatus.COMPLETED,
        "second": TaskStatus.SCHEDULED,
    }


def test_a_retry_racing_a_late_update_of_the_failed_task_changes_it_once(aws):
    store, _ = _stores()
    _failed(store)
    # A worker's late result for the failed task lands first: the workflow has ended, so it
    # changes nothing, and the retry is decided on the same state.
    decision = store.mutate("wf", lambda wf: lifecycle.retry(wf, T0 + 3))
    assert decision.workflow.status == WorkflowStatus.RUNNING
    old = next(t for t in store.require("wf").tasks if t.retried)
    late = store.mutate(
        "wf",
        lambda wf: decider.update_task(
            wf, old.task_id, TaskUpdate(status=TaskStatus.COMPLETED), T0 + 4
        ),
    )
    assert not late.changed
    workflow = store.require("wf")
    assert workflow.status == WorkflowStatus.RUNNING
    assert [t.status for t in workflow.tasks if not t.retried][-1] == TaskStatus.SCHEDULED


def test_a_restart_leaves_the_old_run_unread_and_deleted(aws):
    store, _ = _stores()
    _failed(store)
    old_ids = {t.task_id for t in store.require("wf").tasks}
    store.mutate("wf", lambda wf: lifecycle.restart(wf, wf.definition, T0 + 3))
    workflow = store.require("wf")
    assert [t.reference_task_name for t in workflow.tasks] == ["first"]
    assert workflow.tasks[0].task_id not in old_ids
    stored = {item.task_key.split("#")[0] for item in TaskItem.query("wf")}
    assert stored == {workflow.tasks[0].task_id}
    assert store.workflow_id_for_task(next(iter(old_ids))) is None
