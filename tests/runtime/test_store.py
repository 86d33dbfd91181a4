"""The store's commits: revision conditions, lost races, retries and staged tasks."""

from __future__ import annotations

import json
import time
import zlib
from datetime import UTC, datetime

import pytest

from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.definitions import WorkflowDef
from baton.engine.state import TaskStatus, WorkflowStatus, task_prefix_of, workflow_task_prefix
from baton.store.metadata import MetadataStore
from baton.store.models import TaskItem, WorkflowItem
from baton.store.workflows import RevisionConflict, WorkflowExists, WorkflowStore
from tests import seed

T0 = 1_700_000_000_000
DAY = 86_400


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


def _expiry(item) -> float:
    return item.expires_at.timestamp()


def test_tasks_expire_after_the_retention_and_outlive_their_workflow(aws):
    store = WorkflowStore(clock=lambda: T0, retention_days=30)
    _create(store, _two_waits())
    written = time.time()
    # Written with their expiry: the retention and a day's slack from now.
    assert all(
        written + 31 * DAY - 60 < _expiry(item) < written + 31 * DAY + 60
        for item in TaskItem.query("wf-1")
    )
    store.mutate("wf-1", lambda wf: _complete(wf, "a", T0 + 1))
    store.mutate("wf-1", lambda wf: _complete(wf, "b", T0 + 2))
    assert store.require("wf-1").status == WorkflowStatus.COMPLETED
    workflow_expiry = WorkflowItem.get("wf-1").expires_at.timestamp()
    items = list(TaskItem.query("wf-1"))
    assert len(items) == 4
    assert all(_expiry(item) >= workflow_expiry for item in items)


def test_a_workflow_ending_long_after_a_task_was_written_rewrites_its_expiry(aws):
    now = [T0]
    store = WorkflowStore(clock=lambda: now[0], retention_days=30)
    _create(store, _two_waits())
    fork = next(i for i in TaskItem.query("wf-1") if json.loads(i.body)["taskType"] == "FORK")
    fork.update(actions=[TaskItem.expires_at.set(datetime.now(UTC))])  # as if long ago
    now[0] = T0 + 2 * DAY * 1000
    store.mutate("wf-1", lambda wf: _complete(wf, "a", now[0]))
    store.mutate("wf-1", lambda wf: _complete(wf, "b", now[0]))
    workflow_expiry = WorkflowItem.get("wf-1").expires_at.timestamp()
    assert all(_expiry(item) >= workflow_expiry for item in TaskItem.query("wf-1"))


def _keep_for_an_hour(store: WorkflowStore, start: int) -> int:
    """Sweeps a minute apart for 64 minutes: every long-running workflow's tasks read once."""
    return sum(store.keep_long_running(start + minute * 60_000) for minute in range(64))


def test_the_sweep_keeps_the_tasks_of_a_workflow_running_close_to_their_expiry(aws):
    store = WorkflowStore(clock=lambda: T0, retention_days=30)
    _create(store, _two_waits())
    _create(store, _two_waits(), workflow_id="wf-2")
    for item in TaskItem.query("wf-1"):
        # As written under a shorter retention: about to expire.
        item.update(actions=[TaskItem.expires_at.set(datetime.now(UTC))])
    # Started less than a day ago: no task of theirs can be close to its expiry.
    assert _keep_for_an_hour(store, T0) == 0
    # A day on: wf-1's tasks are pushed past the retention, wf-2's were far from expiring.
    assert _keep_for_an_hour(store, T0 + DAY * 1000) == 1
    far = time.time() + 37 * DAY
    assert all(_expiry(item) > far for item in TaskItem.query("wf-1"))
    assert all(_expiry(item) < far for item in TaskItem.query("wf-2"))
    assert _keep_for_an_hour(store, T0 + 2 * DAY * 1000) == 0
    # An ended workflow is no longer looked at.
    store.mutate("wf-2", lambda wf: decider.terminate(wf, "stop", T0))
    for item in TaskItem.query("wf-2"):
        item.update(actions=[TaskItem.expires_at.set(datetime.now(UTC))])
    assert _keep_for_an_hour(store, T0 + 3 * DAY * 1000) == 0


def test_no_retention_means_nothing_expires(aws):
    store = WorkflowStore(clock=lambda: T0, retention_days=0)
    _create(store, _two_waits())
    store.mutate("wf-1", lambda wf: decider.terminate(wf, "stop", T0 + 1))
    assert all(item.expires_at is None for item in TaskItem.query("wf-1"))


def test_a_large_task_body_is_stored_compressed_and_both_forms_read_back(aws):
    store = WorkflowStore(clock=lambda: T0)
    _create(store, _two_waits())
    workflow = store.require("wf-1")
    task = decider.find_task(workflow, reference="a")
    assert task is not None
    # An output of repetitive JSON: past one KB as text, far under it compressed.
    output = {"rows": [{"n": n, "label": "item"} for n in range(60)]}
    store._commit(
        decider.update_task(
            workflow, task.task_id, TaskUpdate(status=TaskStatus.COMPLETED, output=output), T0 + 1
        ),
        expected_revision=workflow.revision,
    )
    item = TaskItem.get("wf-1", task.store_key)
    assert item.body is None and item.packed_body is not None
    assert len(item.packed_body) < 700
    assert decider.find_task(store.require("wf-1"), reference="a").output_data == output
    # A small body stays text, and an item written as text before compression is read as is.
    other = decider.find_task(workflow, reference="b")
    assert other is not None
    plain = TaskItem.get("wf-1", other.store_key)
    assert plain.body is not None and plain.packed_body is None
    text = zlib.decompress(item.packed_body).decode()
    item.update(actions=[TaskItem.body.set(text), TaskItem.packed_body.remove()])
    assert decider.find_task(store.require("wf-1"), reference="a").output_data == output


def test_a_task_id_alone_finds_its_workflow_with_one_index_entry_per_workflow(aws):
    store = WorkflowStore(clock=lambda: T0)
    _create(store, _two_waits())
    _create(store, _two_waits(), workflow_id="wf-2")
    workflow = store.require("wf-1")
    items = list(TaskItem.query("wf-1"))
    # No task-id index entry: the id's first twelve hex digits name the workflow.
    assert all(item.task_id is None for item in items)
    for task in workflow.tasks:
        assert task_prefix_of(task.task_id) == workflow_task_prefix("wf-1")
        assert store.workflow_id_for_task(task.task_id) == "wf-1"
    # The prefix names the workflow; the rest of the id must name one of its tasks.
    made_up = workflow.tasks[0].task_id[:14] + "5000-8000-000000000000"
    assert store.workflow_id_for_task(made_up) is None
    assert store.workflow_id_for_task("no-such-task") is None
    # A task written before the prefix existed (a plain uuid5 id) is found by the task-id index.
    TaskItem(
        "wf-old",
        "0b0e4a4c-5a4f-5f7a-9d55-2f6b1e0c9a11#x",
        task_id="0b0e4a4c-5a4f-5f7a-9d55-2f6b1e0c9a11",
    ).save()
    assert store.workflow_id_for_task("0b0e4a4c-5a4f-5f7a-9d55-2f6b1e0c9a11") == "wf-old"


def test_an_ended_workflow_rewrites_only_tasks_that_would_expire_before_it(aws):
    store = WorkflowStore(clock=lambda: T0, retention_days=30)
    _create(store, _two_waits())
    short = datetime.now(UTC)  # as written under a shorter retention
    for item in TaskItem.query("wf-1"):
        if json.loads(item.body)["taskType"] == "FORK":
            item.update(actions=[TaskItem.expires_at.set(short)])
    store.mutate("wf-1", lambda wf: _complete(wf, "a", T0 + 1))
    store.mutate("wf-1", lambda wf: _complete(wf, "b", T0 + 2))
    workflow_expiry = WorkflowItem.get("wf-1").expires_at.timestamp()
    items = {item.task_key: item for item in TaskItem.query("wf-1")}
    assert all(_expiry(item) >= workflow_expiry for item in items.values())
    # The JOIN and `b` were written by the last commit, `a` by the one before: only the FORK
    # (and nothing else) needed its expiry written again.
    fork = next(k for k, i in items.items() if json.loads(i.body)["taskType"] == "FORK")
    assert _expiry(items[fork]) > short.timestamp() + DAY
