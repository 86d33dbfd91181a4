"""Decisions that change more existing tasks than one transaction holds.

The store commits the workflow item with as many tasks as fit and writes the rest after the
commit (`WorkflowStore._write_after_commit`). Here a FORK of 150 branches (140 WAITs, then
10 worker tasks) is terminated while some of those later tasks are changed by others (a
worker's result written alone, a claim), and with a crash right after the commit: GET, poll
and search must show one consistent workflow, and no caller gets a 5xx. A retry of that
workflow (a running decision as wide) crashes the same way and runs on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.reliability.support import (
    Clock,
    register_workflow,
    start,
    use_clock,
    workflow,
)
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api

WAITS = 140
WORKERS = 10
WORKER_TYPE = "wide_worker"
NAME = "wide_terminate"


class EnvironmentDied(BaseException):
    """The Lambda environment stopped right here: nothing after this point runs."""


def _definition(worker_def: dict[str, Any] | None = None) -> dict[str, Any]:
    branches = [
        [
            {
                "name": f"wait_{i}",
                "taskReferenceName": f"wait_{i}_ref",
                "type": "WAIT",
                "inputParameters": {"duration": "1 hour"},
            }
        ]
        for i in range(WAITS)
    ]
    worker: dict[str, Any] = {"name": WORKER_TYPE, "type": "SIMPLE"}
    if worker_def is not None:
        worker["taskDefinition"] = {"name": WORKER_TYPE, **worker_def}
    branches += [[{**worker, "taskReferenceName": f"work_{i}_ref"}] for i in range(WORKERS)]
    references = [branch[0]["taskReferenceName"] for branch in branches]
    return {
        "name": NAME,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork_ref",
                "type": "FORK_JOIN",
                "forkTasks": branches,
            },
            {"name": "join", "taskReferenceName": "join_ref", "type": "JOIN", "joinOn": references},
        ],
    }


@pytest.fixture
def clock(aws: Aws) -> Iterator[Clock]:
    register_workflow(_definition())
    moving = Clock(1_800_000_000_000)
    use_clock(moving)
    yield moving


def _after_commit(monkeypatch: pytest.MonkeyPatch, first: Callable[[list[Any]], None]) -> None:
    """Run `first` with the tasks a decision writes after its commit, once, before the first
    of those writes."""
    from baton.store import workflows

    split = workflows._split_for_transaction
    later: list[Any] = []
    write = workflows.WorkflowStore._write_after_commit
    done: list[bool] = []

    def splitting(decision: Any, changed: list[Any], room: int) -> tuple[list[Any], list[Any]]:
        inline, rest = split(decision, changed, room)
        later[:] = rest
        return inline, rest

    def writing(self: Any, *args: Any, **kwargs: Any) -> None:
        if not done:
            done.append(True)
            first(list(later))
        write(self, *args, **kwargs)

    monkeypatch.setattr(workflows, "_split_for_transaction", splitting)
    monkeypatch.setattr(workflows.WorkflowStore, "_write_after_commit", writing)


def _crash_after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    from baton.store import workflows

    def dying(self: Any, *args: Any, **kwargs: Any) -> None:
        raise EnvironmentDied("after the commit, before the tasks past the transaction")

    monkeypatch.setattr(workflows.WorkflowStore, "_write_after_commit", dying)


def _stored_items(workflow_id: str) -> dict[str, Any]:
    from baton.store.models import TaskItem

    return {str(item.task_key): item for item in TaskItem.query(workflow_id, consistent_read=True)}


def _poll(count: int = 10) -> list[dict[str, Any]]:
    response = call_api(
        "GET", f"/api/tasks/poll/batch/{WORKER_TYPE}", query={"count": str(count), "timeout": "0"}
    )
    assert response.status == 200, response.body
    return list(response.json())


def _assert_consistent_end(workflow_id: str, status: str) -> dict[str, Any]:
    """GET, poll, both searches and the queue agree: the workflow has ended, none of its
    tasks is open, no poll hands one out, and what polls found is written as it reads."""
    shown = workflow(workflow_id)
    assert shown["status"] == status
    open_tasks = [t for t in shown["tasks"] if t["status"] in ("SCHEDULED", "IN_PROGRESS")]
    assert open_tasks == []
    assert _poll() == []
    found = call_api("GET", "/api/workflow/search", query={"query": f"workflowId='{workflow_id}'"})
    assert found.status == 200, found.body
    assert [r["status"] for r in found.json()["results"]] == [status]
    tasks = call_api(
        "GET", "/api/tasks/search", query={"query": f"workflowId='{workflow_id}'", "size": "1000"}
    )
    assert tasks.status == 200, tasks.body
    by_id = {t["taskId"]: t["status"] for t in shown["tasks"]}
    assert {t["taskId"]: t["status"] for t in tasks.json()["results"]} == by_id
    queue = call_api("GET", "/api/tasks/queue/sizes", query={"taskType": WORKER_TYPE})
    assert queue.status == 200, queue.body
    assert queue.json() == {WORKER_TYPE: 0}
    # The poll settled the worker tasks left in its queue: their items say CANCELED too (one
    # a worker holds may still say IN_PROGRESS: it reads CANCELED, and is in no queue).
    worker_ids = tuple(t["taskId"] for t in shown["tasks"] if t["taskType"] == WORKER_TYPE)
    workers = [
        item
        for item in _stored_items(workflow_id).values()
        if str(item.task_key).startswith(worker_ids)
    ]
    assert len(workers) == WORKERS
    assert "SCHEDULED" not in {item.status for item in workers}
    assert all(item.poll_key is None or item.status == "IN_PROGRESS" for item in workers)
    # Nor are they pending in the admin list.
    pending = call_api("GET", f"/api/admin/task/{WORKER_TYPE}")
    assert pending.status == 200, pending.body
    assert pending.json() == []
    return shown


def test_a_terminate_whose_later_tasks_changed_meanwhile_answers_200_and_keeps_their_endings(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton import runtime
    from baton.engine import decider
    from baton.engine.decider import TaskUpdate
    from baton.engine.state import TaskStatus

    workflow_id = start(NAME)
    service = runtime.baton()
    store = service.store
    before = store.require(workflow_id)
    changed_meanwhile: dict[str, str] = {}

    def others_meanwhile(later: list[Any]) -> None:
        # Each read the workflow before the terminate's commit (`before`) and wrote its task
        # alone, or claimed it, after that commit and before the terminate's later writes.
        by_ref = {t.reference_task_name: t for t in before.tasks}
        later_refs = [t.reference_task_name for t in later]
        wait_done, wait_progress = [r for r in later_refs if r.startswith("wait_")][-2:]
        worker = next(r for r in later_refs if r.startswith("work_"))
        now = clock()
        completed = decider.updated_task(
            before,
            by_ref[wait_done].task_id,
            TaskUpdate(status=TaskStatus.COMPLETED, output={"first": True}),
            now,
        )
        assert completed is not None and store._write_alone(before, completed)
        progress = decider.updated_task(
            before,
            by_ref[wait_progress].task_id,
            TaskUpdate(status=TaskStatus.IN_PROGRESS, output={"halfway": True}),
            now,
        )
        assert progress is not None and store._write_alone(before, progress)
        claim = store.claim(
            workflow_id,
            by_ref[worker].store_key,
            lambda task: decider.hand_out(task, "w1", now),
            now,
            known=(before, by_ref[worker]),
        )
        assert claim is not None
        changed_meanwhile.update(
            {wait_done: "COMPLETED", wait_progress: "CANCELED", worker: "CANCELED"}
        )

    _after_commit(monkeypatch, others_meanwhile)
    response = call_api("DELETE", f"/api/workflow/{workflow_id}", query={"reason": "enough"})
    assert response.status == 200, response.body
    monkeypatch.undo()
    use_clock(clock)
    assert len(changed_meanwhile) == 3

    shown = _assert_consistent_end(workflow_id, "TERMINATED")
    statuses = {t["referenceTaskName"]: t for t in shown["tasks"]}
    for reference, status in changed_meanwhile.items():
        assert statuses[reference]["status"] == status
    # The worker's COMPLETED got there first and stays, with its output; the IN_PROGRESS
    # update's output stays on the task its cancellation wrote.
    (done,) = [r for r, s in changed_meanwhile.items() if s == "COMPLETED"]
    assert statuses[done]["outputData"] == {"first": True}
    (halfway,) = [r for r in changed_meanwhile if r.startswith("wait_") and r != done]
    assert statuses[halfway]["outputData"] == {"halfway": True}
    # Every item says what GET shows: nothing was left open by the after-commit writes.
    items = _stored_items(workflow_id)
    assert sorted(str(i.status) for i in items.values()) == sorted(
        t["status"] for t in shown["tasks"]
    )


def test_a_crash_after_a_terminates_commit_leaves_a_consistent_workflow(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow_id = start(NAME)
    # Two worker tasks are out with workers when the terminate comes.
    claimed = _poll(2)
    assert len(claimed) == 2
    _crash_after_commit(monkeypatch)
    with pytest.raises(EnvironmentDied):
        call_api("DELETE", f"/api/workflow/{workflow_id}", query={"reason": "enough"})
    monkeypatch.undo()
    use_clock(clock)

    # The items past the transaction still say SCHEDULED or IN_PROGRESS ...
    left_open = [
        i for i in _stored_items(workflow_id).values() if i.status in ("SCHEDULED", "IN_PROGRESS")
    ]
    assert len(left_open) > WORKERS
    # ... yet the workflow reads as ended, everywhere.
    shown = _assert_consistent_end(workflow_id, "TERMINATED")
    assert {t["status"] for t in shown["tasks"] if t["taskType"] != "FORK"} == {"CANCELED"}
    ended = shown["endTime"]
    assert all(t["endTime"] == ended for t in shown["tasks"] if t["taskType"] != "FORK")

    # A worker that held a task reports it: accepted, and nothing changes.
    result = call_api(
        "POST",
        "/api/tasks",
        {
            "workflowInstanceId": workflow_id,
            "taskId": claimed[0]["taskId"],
            "status": "COMPLETED",
            "outputData": {"late": True},
        },
    )
    assert result.status == 200, result.body
    assert workflow(workflow_id)["status"] == "TERMINATED"
    # Terminating again is accepted too (already TERMINATED: left as it is).
    again = call_api("DELETE", f"/api/workflow/{workflow_id}", query={"reason": "again"})
    assert again.status == 200, again.body


def test_a_retry_as_wide_that_crashes_after_its_commit_runs_on(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow_id = start(NAME)
    response = call_api("DELETE", f"/api/workflow/{workflow_id}", query={"reason": "enough"})
    assert response.status == 200, response.body
    # The retry marks each of the 151 canceled tasks retried (past the transaction for most)
    # and schedules a new attempt of each, and the crash comes before the marks are written.
    _crash_after_commit(monkeypatch)
    with pytest.raises(EnvironmentDied):
        call_api("POST", f"/api/workflow/{workflow_id}/retry")
    monkeypatch.undo()
    use_clock(clock)

    from baton.store.workflows import task_body_text

    # Most old attempts' items do not say they were retried ...
    bodies = [json.loads(task_body_text(i)) for i in _stored_items(workflow_id).values()]
    unmarked = [b for b in bodies if b["status"] == "CANCELED" and not b.get("retried")]
    assert len(unmarked) > WORKERS
    # ... yet they read so, and the workflow runs its new attempts.
    shown = workflow(workflow_id)
    assert shown["status"] == "RUNNING"
    old = [t for t in shown["tasks"] if t["status"] == "CANCELED"]
    assert len(old) == WAITS + WORKERS
    assert all(t["retried"] for t in old)
    fresh = [t for t in shown["tasks"] if t["status"] in ("SCHEDULED", "IN_PROGRESS")]
    assert len([t for t in fresh if t["taskType"] != "JOIN"]) == WAITS + WORKERS
    # It runs on to the end: the WAITs end together an hour on, the workers' tasks are
    # polled and completed.
    clock.now += 3_600_000 + 1
    from baton import runtime

    # As the WAITs' timer asks: a decision changes at most 90 tasks that were open, then
    # carries the rest over to the next (each fits its transaction).
    commits = runtime.baton().store.stats.commits
    runtime.baton().wake(workflow_id)
    assert runtime.baton().store.stats.commits == commits + 1
    runtime.baton().wake(workflow_id)  # as the carry-over timer asks
    waits = [t for t in workflow(workflow_id)["tasks"] if t["taskType"] == "WAIT"]
    assert [t["status"] for t in waits if not t["retried"]] == ["COMPLETED"] * WAITS
    for task in _poll(WORKERS):
        done = call_api(
            "POST",
            "/api/tasks",
            {"workflowInstanceId": workflow_id, "taskId": task["taskId"], "status": "COMPLETED"},
        )
        assert done.status == 200, done.body
    finished = workflow(workflow_id)
    assert finished["status"] == "COMPLETED", finished.get("reasonForIncompletion")


@pytest.mark.parametrize("ending", ["FAILED", "TIMED_OUT"])
def test_a_crash_after_a_wide_failure_or_timeout_leaves_a_consistent_workflow(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    from baton import runtime

    name = f"wide_{ending.lower()}"
    register_workflow(
        {**_definition(), "name": name, "timeoutSeconds": 60, "timeoutPolicy": "TIME_OUT_WF"}
    )
    clock = Clock(1_800_000_000_000)
    use_clock(clock)
    workflow_id = start(name)
    (held,) = _poll(1)
    if ending == "FAILED":
        # A worker task fails for good. With this many tasks open the update is written onto
        # its task alone and asks for a decision: that decision fails the workflow and
        # cancels every other branch.
        failed_update = call_api(
            "POST",
            "/api/tasks",
            {
                "workflowInstanceId": workflow_id,
                "taskId": held["taskId"],
                "status": "FAILED_WITH_TERMINAL_ERROR",
                "reasonForIncompletion": "broken",
            },
        )
        assert failed_update.status == 200, failed_update.body
        assert workflow(workflow_id)["status"] == "RUNNING"
    _crash_after_commit(monkeypatch)
    with pytest.raises(EnvironmentDied):
        if ending == "FAILED":
            # As the update's timer message asks, naming its task.
            runtime.baton().wake(workflow_id, fresh_task_ids={held["taskId"]})
        else:
            clock.now += 61_000
            runtime.baton().wake(workflow_id)  # as the workflow's timeout timer asks
    monkeypatch.undo()
    use_clock(clock)

    shown = _assert_consistent_end(workflow_id, ending)
    failed = {"FAILED": "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT": "CANCELED"}[ending]
    statuses = {t["taskId"]: t["status"] for t in shown["tasks"]}
    assert statuses.pop(held["taskId"]) == failed
    assert set(statuses.values()) == {"COMPLETED", "CANCELED"}  # the FORK, and the rest


def test_a_terminate_whose_later_writes_all_fail_answers_200(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.exceptions import UpdateError

    from baton.store.models import TaskItem

    workflow_id = start(NAME)
    update = TaskItem.update
    after_commit: list[bool] = []

    def throttled(self: TaskItem, *args: Any, **kwargs: Any) -> Any:
        if after_commit:
            raise UpdateError("Throughput exceeds the current capacity (throttled)")
        return update(self, *args, **kwargs)

    monkeypatch.setattr(TaskItem, "update", throttled)
    _after_commit(monkeypatch, lambda later: after_commit.append(True))
    response = call_api("DELETE", f"/api/workflow/{workflow_id}", query={"reason": "enough"})
    assert response.status == 200, response.body
    monkeypatch.undo()
    use_clock(clock)
    assert after_commit == [True]
    _assert_consistent_end(workflow_id, "TERMINATED")


def test_a_sweep_settles_the_tasks_a_crash_after_a_wide_ending_left_open(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton import runtime
    from tests.reliability.support import sweep

    # A limit, so that the tasks workers hold are counted (listed while IN_PROGRESS), and a
    # response timeout, so that each has a due entry.
    limited = {"concurrentExecLimit": 5, "responseTimeoutSeconds": 60}
    register_workflow({**_definition(limited), "name": "wide_limited"})
    workflow_id = start("wide_limited")
    claimed = _poll(2)
    assert len(claimed) == 2
    store = runtime.baton().store
    assert store.running(WORKER_TYPE) == 2
    _crash_after_commit(monkeypatch)
    with pytest.raises(EnvironmentDied):
        call_api("DELETE", f"/api/workflow/{workflow_id}", query={"reason": "enough"})
    monkeypatch.undo()
    use_clock(clock)

    def due_keys() -> set[str]:
        return {e.task_key for e in store.due_entries(2**62) if e.workflow_id == workflow_id}

    # The held tasks and the WAITs past the transaction are still open, each with its due
    # entry, and the held ones still count against the limit.
    left_due = due_keys()
    held = {t["taskId"] for t in claimed}
    assert {k.split("#")[0] for k in left_due} >= held
    assert len(left_due) > WORKERS
    assert store.running(WORKER_TYPE) == 2

    # Past the response timeout and the WAITs' hour: the sweep decides nothing, and writes
    # each of those tasks as it reads, CANCELED, out of the due index and the running count.
    clock.now += 3_600_000 + 1
    commits = store.stats.commits
    report = sweep()
    assert (report["settled"], report["fired"], report["failed"]) == (len(left_due), 0, 0)
    assert store.stats.commits == commits
    assert due_keys() == set()
    assert store.running(WORKER_TYPE) == 0
    items = _stored_items(workflow_id)
    assert {str(items[key].status) for key in left_due} == {"CANCELED"}
    assert all(items[key].poll_key is None for key in left_due)
    _assert_consistent_end(workflow_id, "TERMINATED")

    # A second sweep finds nothing of it: nothing written.
    versions = {key: int(item.version) for key, item in _stored_items(workflow_id).items()}
    again = sweep()
    assert (again["settled"], again["fired"]) == (0, 0)
    assert {k: int(i.version) for k, i in _stored_items(workflow_id).items()} == versions
    assert workflow(workflow_id)["status"] == "TERMINATED"
