"""The store's commits: revision conditions, lost races, retries and staged tasks."""

from __future__ import annotations

import pytest

from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.definitions import WorkflowDef
from baton.engine.state import TaskStatus, WorkflowStatus
from baton.store.metadata import MetadataStore
from baton.store.models import TaskItem
from baton.store.workflows import RevisionConflict, WorkflowExists, WorkflowStore
from tests import seed

T0 = 1_700_000_000_000


def _two_waits() -> WorkflowDef:
    return WorkflowDef.from_json(
        {
            "name": "two_waits",
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": [
                        [{"name": "a", "taskReferenceName": "a", "type": "WAIT"}],
                        [{"name": "b", "taskReferenceName": "b", "type": "WAIT"}],
                    ],
                },
                {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": ["a", "b"]},
            ],
        }
    )


def _create(store: WorkflowStore, definition: WorkflowDef, workflow_id: str = "wf-1") -> None:
    store.create(decider.start(definition, workflow_id=workflow_id, workflow_input={}, now=T0))


def _complete(workflow, reference: str, now: int):
    task = decider.find_task(workflow, reference=reference)
    assert task is not None
    return decider.update_task(
        workflow, task.task_id, TaskUpdate(status=TaskStatus.COMPLETED, output={reference: 1}), now
    )


def test_a_commit_from_a_stale_revision_is_refused(aws):
    store = WorkflowStore(clock=lambda: T0)
    _create(store, _two_waits())
    first_read = store.require("wf-1")
    second_read = store.require("wf-1")
    store._commit(_complete(first_read, "a", T0 + 1), expected_revision=first_read.revision)
    with pytest.raises(RevisionConflict):
        store._commit(_complete(second_read, "b", T0 + 2), expected_revision=second_read.revision)
    # Nothing of the refused decision landed.
    workflow = store.require("wf-1")
    statuses = {t.reference_task_name: t.status for t in workflow.tasks}
    assert statuses["a"] == TaskStatus.COMPLETED
    assert statuses["b"] == TaskStatus.IN_PROGRESS


def test_a_commit_that_loses_a_race_reloads_decides_again_and_lands(aws):
    store = WorkflowStore(clock=lambda: T0, sleep=lambda _: None)
    rival = WorkflowStore(clock=lambda: T0)
    _create(store, _two_waits())
    calls = 0

    def complete_b(workflow):
        nonlocal calls
        calls += 1
        if calls == 1:
            # Another function completes `a` between this one's read and its commit.
            rival.mutate("wf-1", lambda wf: _complete(wf, "a", T0 + 1))
        return _complete(workflow, "b", T0 + 2)

    decision = store.mutate("wf-1", complete_b)
    assert calls == 2
    assert store.stats.retries == 1
    assert decision.workflow.status == WorkflowStatus.COMPLETED
    workflow = store.require("wf-1")
    assert workflow.status == WorkflowStatus.COMPLETED
    join = next(t for t in workflow.tasks if t.reference_task_name == "join")
    assert join.output_data == {"a": {"a": 1}, "b": {"b": 1}}


def test_tasks_of_a_commit_that_never_landed_are_not_read(aws):
    store = WorkflowStore(clock=lambda: T0)
    definition = WorkflowDef.from_json(seed.event_testing())
    _create(store, definition)
    stale = store.require("wf-1")
    store.mutate("wf-1", lambda wf: decider.terminate(wf, "stop", T0 + 1))
    # A decision on the stale state schedules new tasks (the EVENT task): they are written,
    # then the commit is refused.
    late = decider.decide(stale, T0 + 10_000, event_queues=frozenset({"conductor_doug_testing"}))
    assert late.new_task_ids
    with pytest.raises(RevisionConflict):
        store._commit(late, expected_revision=stale.revision)
    workflow = store.require("wf-1")
    assert workflow.status == WorkflowStatus.TERMINATED
    assert {t.task_id for t in workflow.tasks}.isdisjoint(late.new_task_ids)
    # and the refused commit cleaned up after itself
    keys = {item.task_key for item in TaskItem.query("wf-1")}
    assert all(t.store_key in keys for t in workflow.tasks)
    assert len(keys) == len(workflow.tasks)


def test_creating_a_workflow_twice_is_recognised(aws):
    store = WorkflowStore(clock=lambda: T0)
    _create(store, _two_waits())
    with pytest.raises(WorkflowExists):
        _create(store, _two_waits())
    assert len(store.require("wf-1").tasks) == 4


def test_a_wide_fork_is_stored_past_the_transaction_limit(aws):
    branches = [
        [{"name": f"w{i}", "taskReferenceName": f"w{i}", "type": "WAIT"}] for i in range(150)
    ]
    definition = WorkflowDef.from_json(
        {
            "name": "wide",
            "tasks": [
                {"name": "f", "taskReferenceName": "f", "type": "FORK_JOIN", "forkTasks": branches},
                {
                    "name": "j",
                    "taskReferenceName": "j",
                    "type": "JOIN",
                    "joinOn": [f"w{i}" for i in range(150)],
                },
            ],
        }
    )
    store = WorkflowStore(clock=lambda: T0)
    _create(store, definition, "wide-1")
    assert len(store.require("wide-1").tasks) == 152
    # Terminating it changes all 150 open WAITs and the JOIN at once.
    store.mutate("wide-1", lambda wf: decider.terminate(wf, "stop", T0 + 1))
    workflow = store.require("wide-1")
    assert workflow.status == WorkflowStatus.TERMINATED
    waits = [t for t in workflow.tasks if t.task_type == "WAIT"]
    assert len(waits) == 150
    assert all(t.status == TaskStatus.CANCELED for t in waits)
    assert next(t for t in workflow.tasks if t.task_type == "JOIN").status == TaskStatus.CANCELED


def test_definition_snapshots_are_stored_once_by_content(aws):
    definition = _two_waits()
    first = MetadataStore().save_snapshot(definition)
    # Another store (another process) finds the same snapshot under the same id.
    elsewhere = MetadataStore()
    assert elsewhere.save_snapshot(_two_waits()) == first
    assert elsewhere.load_snapshot(first).to_json() == definition.to_json()


def test_a_finished_workflow_and_all_its_tasks_expire_after_the_retention(aws):
    store = WorkflowStore(clock=lambda: T0, retention_days=30)
    _create(store, _two_waits())
    assert all(item.expires_at is None for item in TaskItem.query("wf-1"))
    # The last decision touches only `b` and the JOIN; the FORK and `a` expire all the same.
    store.mutate("wf-1", lambda wf: _complete(wf, "a", T0 + 1))
    store.mutate("wf-1", lambda wf: _complete(wf, "b", T0 + 2))
    assert store.require("wf-1").status == WorkflowStatus.COMPLETED
    items = list(TaskItem.query("wf-1"))
    assert len(items) == 4
    assert all(item.expires_at is not None for item in items)


def test_no_retention_means_nothing_expires(aws):
    store = WorkflowStore(clock=lambda: T0, retention_days=0)
    _create(store, _two_waits())
    store.mutate("wf-1", lambda wf: decider.terminate(wf, "stop", T0 + 1))
    assert all(item.expires_at is None for item in TaskItem.query("wf-1"))
