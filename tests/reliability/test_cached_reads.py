"""A decision reads what changed: each environment keeps the workflows it loaded and catches up
through the workflow item's log of changes, and still sees the truth.

Several environments are several `Baton` services (each with its own store and what it keeps)
against one moto; the timers function is the runtime's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability.support import fork_of_waits, register_workflow, start, sweep, workflow
from tests.reliability.test_fan_in import fire, lose_next_race, timer_messages
from tests.runtime.conftest import Aws

NAME = "cached_reads_fork"


@pytest.fixture(autouse=True)
def small_workflows_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The log holds one task id per task, so that these few-branch forks have one; and
    every task update decides, however wide the fork (what these tests commit is a log)."""
    from baton.store import changes, workflows

    monkeypatch.setattr(changes, "TASKS_PER_LOGGED_ID", 1)
    monkeypatch.setattr(workflows, "WIDE_TASKS", 10**6)


class Reads:
    """The task items the store reads, by kind: every task (Query) or some (BatchGetItem)."""

    def __init__(self) -> None:
        self.queries = 0
        self.batch_keys = 0


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    from baton.store.models import TaskItem

    counted = Reads()
    query, batch_get = TaskItem.query, TaskItem.batch_get

    def counting_query(*args: Any, **options: Any) -> Any:
        if options.get("consistent_read"):
            counted.queries += 1
        return query(*args, **options)

    def counting_batch_get(keys: Any, **options: Any) -> Any:
        keys = list(keys)
        counted.batch_keys += len(keys)
        return batch_get(keys, **options)

    monkeypatch.setattr(TaskItem, "query", counting_query)
    monkeypatch.setattr(TaskItem, "batch_get", counting_batch_get)
    yield counted


def environment() -> Any:
    """Another execution environment of the functions: a service with a store of its own."""
    from baton.service import Baton

    return Baton()


def started(width: int) -> tuple[str, dict[str, str]]:
    register_workflow(fork_of_waits(width, name=NAME))
    workflow_id = start(NAME)
    ids = {t["referenceTaskName"]: t["taskId"] for t in workflow(workflow_id)["tasks"]}
    return workflow_id, ids


def complete(service: Any, workflow_id: str, task_id: str, output: dict[str, Any]) -> None:
    from baton.engine.decider import TaskUpdate
    from baton.engine.state import TaskStatus

    service.update_task(
        workflow_id, task_id, TaskUpdate(status=TaskStatus.COMPLETED, output=output)
    )


def snapshot(service: Any, workflow_id: str) -> Any:
    """What the engine sees, without the store's own bookkeeping per environment."""
    loaded = service.store.require(workflow_id)
    return (
        loaded.revision,
        loaded.status,
        sorted((t.task_id, t.status, t.version, t.store_key, t.output_data) for t in loaded.tasks),
    )


def test_an_environment_behind_by_a_few_commits_reads_only_the_tasks_they_wrote(
    aws: Aws, reads: Reads
) -> None:
    workflow_id, ids = started(6)
    behind, ahead = environment(), environment()
    behind.store.load(workflow_id)  # kept at the start's revision
    for i in range(3):
        complete(ahead, workflow_id, ids[f"wait_{i}_ref"], {"branch": i})

    reads.queries = reads.batch_keys = 0
    caught_up = behind.store.require(workflow_id, fresh_task_ids=())
    # Three commits, each wrote one WAIT: three task items read by key, no Query.
    assert (reads.queries, reads.batch_keys) == (0, 3)
    assert snapshot(environment(), workflow_id)[2] == sorted(
        (t.task_id, t.status, t.version, t.store_key, t.output_data) for t in caught_up.tasks
    )
    # Caught up, it reads nothing more but the tasks it is asked to read afresh.
    reads.queries = reads.batch_keys = 0
    behind.store.require(workflow_id, fresh_task_ids={ids["wait_5_ref"]})
    assert (reads.queries, reads.batch_keys) == (0, 1)


def test_what_an_environment_keeps_is_not_changed_by_the_engine(aws: Aws) -> None:
    workflow_id, _ids = started(2)
    service = environment()
    first = service.store.require(workflow_id, fresh_task_ids=())
    for task in first.tasks:
        task.output_data["touched"] = True
        task.version += 7
    again = service.store.require(workflow_id, fresh_task_ids=())
    assert all("touched" not in t.output_data for t in again.tasks)
    assert [t.version for t in again.tasks] == [1] * len(again.tasks)


def test_a_log_that_does_not_reach_back_reads_every_task(
    aws: Aws, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton.store import changes

    monkeypatch.setattr(changes, "LOG_REVISIONS", 2)
    workflow_id, ids = started(4)
    behind, ahead = environment(), environment()
    behind.store.load(workflow_id)
    for i in range(3):
        complete(ahead, workflow_id, ids[f"wait_{i}_ref"], {"branch": i})

    reads.queries = reads.batch_keys = 0
    loaded = behind.store.require(workflow_id, fresh_task_ids=())
    assert (reads.queries, reads.batch_keys) == (1, 0)
    assert snapshot(behind, workflow_id) == snapshot(environment(), workflow_id)
    assert {t.reference_task_name: t.status.value for t in loaded.tasks}["wait_2_ref"] == (
        "COMPLETED"
    )


def test_a_commit_too_wide_for_the_log_makes_older_readers_read_every_task(
    aws: Aws, reads: Reads
) -> None:
    from baton.store.changes import LOG_TASK_IDS

    # The start wrote more tasks than the log holds ids: it is logged as not known.
    workflow_id, ids = started(LOG_TASK_IDS + 1)
    service = environment()
    reads.queries = reads.batch_keys = 0
    service.store.require(workflow_id, fresh_task_ids=())
    assert reads.queries == 1  # nothing kept yet
    complete(environment(), workflow_id, ids["wait_0_ref"], {"branch": 0})
    reads.queries = reads.batch_keys = 0
    service.store.require(workflow_id, fresh_task_ids=())
    assert (reads.queries, reads.batch_keys) == (0, 1)


def written_alone(
    monkeypatch: pytest.MonkeyPatch, width: int = 3
) -> tuple[str, dict[str, str], Any, Any]:
    """A FORK whose `wait_0_ref` update, in environment `writer`, loses its race to
    `wait_1_ref`'s in environment `rival` and is written onto its task alone. Both
    environments, and the timers function, had loaded the workflow before."""
    from baton import runtime

    workflow_id, ids = started(width)
    writer, rival = environment(), environment()
    for service in (writer, rival, runtime.baton()):
        service.store.load(workflow_id)
    lost = lose_next_race(
        monkeypatch, lambda: complete(rival, workflow_id, ids["wait_1_ref"], {"branch": 1})
    )
    complete(writer, workflow_id, ids["wait_0_ref"], {"branch": 0})
    assert lost == [workflow_id]
    assert writer.store.stats.written_alone == 1
    return workflow_id, ids, writer, rival


def join_of(workflow_id: str) -> dict[str, Any]:
    (join,) = [t for t in workflow(workflow_id)["tasks"] if t["taskType"] == "JOIN"]
    return dict(join)


def test_a_task_written_alone_is_taken_from_its_ask_by_the_decision_it_asks(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, reads: Reads
) -> None:
    workflow_id, ids, _, _ = written_alone(monkeypatch, width=2)
    (message,) = timer_messages(aws)
    assert json.loads(message["Body"])["taskId"] == ids["wait_0_ref"]

    reads.queries = reads.batch_keys = 0
    assert fire([message])["batchItemFailures"] == []
    # The timers function caught up (the rival's commit: its task, by key) and took the
    # task the message named as the message carries it.
    assert reads.queries == 0
    assert reads.batch_keys == 1
    current = workflow(workflow_id)
    assert current["status"] == "COMPLETED"
    assert join_of(workflow_id)["outputData"] == {
        "wait_0_ref": {"branch": 0},
        "wait_1_ref": {"branch": 1},
    }


def test_a_decision_that_does_not_know_of_a_task_written_alone_leaves_it_owed(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton import runtime

    workflow_id, ids, _, rival = written_alone(monkeypatch)
    (message,) = timer_messages(aws)
    # The rival still holds wait_0 as it was: its decision on wait_2 cannot complete the JOIN.
    complete(rival, workflow_id, ids["wait_2_ref"], {"branch": 2})
    assert join_of(workflow_id)["status"] == "IN_PROGRESS"
    assert runtime.baton().store.require(workflow_id).task_by_id(ids["wait_0_ref"]).continue_at
    # The message the written-alone task asked for decides it.
    assert fire([message])["batchItemFailures"] == []
    assert workflow(workflow_id)["status"] == "COMPLETED"
    assert join_of(workflow_id)["outputData"] == {f"wait_{i}_ref": {"branch": i} for i in range(3)}
    assert runtime.baton().store.due_entries(2**62) == []


def test_the_message_of_a_task_written_alone_delivered_twice_decides_once(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton import runtime

    workflow_id, _ids, _, _ = written_alone(monkeypatch, width=2)
    (message,) = timer_messages(aws)
    store = runtime.baton().store
    before = store.stats.commits
    assert fire([message, message])["batchItemFailures"] == []
    assert store.stats.commits == before + 1
    after = workflow(workflow_id)
    assert fire([message])["batchItemFailures"] == []
    assert store.stats.commits == before + 1
    assert workflow(workflow_id) == after
    assert after["status"] == "COMPLETED"


def test_a_task_written_alone_whose_message_is_lost_is_decided_by_the_sweep(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton import runtime
    from baton.messaging import Messaging
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS
    from tests.reliability.support import Clock, use_clock

    def ask_failing(self: Messaging, **ask: Any) -> None:
        raise ConnectionError("the decision message was not sent")

    clock = Clock(1_800_000_000_000)
    workflow_id, ids = started(2)
    writer, rival = environment(), environment()
    for service in (writer, rival, runtime.baton()):
        service.clock = service.store.clock = clock
        service.store.load(workflow_id)
    lose_next_race(
        monkeypatch, lambda: complete(rival, workflow_id, ids["wait_1_ref"], {"branch": 1})
    )
    ask_decision = Messaging.ask_decision
    monkeypatch.setattr(Messaging, "ask_decision", ask_failing)
    complete(writer, workflow_id, ids["wait_0_ref"], {"branch": 0})
    monkeypatch.setattr(Messaging, "ask_decision", ask_decision)
    use_clock(clock)
    assert timer_messages(aws) == []
    assert workflow(workflow_id)["status"] == "RUNNING"

    clock.now += PENDING_EFFECT_GRACE_MS + 1
    sweep()  # the timers function's environment still holds wait_0 as it was before
    assert workflow(workflow_id)["status"] == "COMPLETED"
    assert join_of(workflow_id)["outputData"] == {
        "wait_0_ref": {"branch": 0},
        "wait_1_ref": {"branch": 1},
    }


def test_the_workflow_read_by_a_user_shows_a_task_written_alone(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow_id, _ids, _, rival = written_alone(monkeypatch)
    # The rival's environment kept wait_0 as it was, yet its GET reads the truth.
    shown = {t["referenceTaskName"]: t for t in rival.get(workflow_id, include_tasks=True)["tasks"]}
    assert shown["wait_0_ref"]["status"] == "COMPLETED"
    assert shown["wait_0_ref"]["outputData"] == {"branch": 0}
    assert shown["wait_1_ref"]["status"] == "COMPLETED"
    assert shown["join_ref"]["status"] == "IN_PROGRESS"


def test_a_decision_that_loses_to_a_task_written_alone_reads_it_and_lands(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision that writes a task whose item was written alone since this environment
    read it fails that task's version condition at the same revision: it reads the task
    afresh and decides again instead of losing every attempt."""
    from baton.engine import lifecycle

    workflow_id, _ids, _, rival = written_alone(monkeypatch)
    timer_messages(aws)
    # Terminating writes every task that has not ended; the rival holds wait_0 as running.
    before = rival.store.stats.retries
    rival.store.mutate(
        workflow_id,
        lambda current: lifecycle.terminate(current, "stop", rival.clock()),
        fresh_task_ids=(),
    )
    assert rival.store.stats.retries == before + 1
    final = workflow(workflow_id)
    assert final["status"] == "TERMINATED"
    shown = {t["referenceTaskName"]: t for t in final["tasks"]}
    assert shown["wait_0_ref"]["status"] == "COMPLETED"
    assert shown["wait_0_ref"]["outputData"] == {"branch": 0}
    assert shown["wait_2_ref"]["status"] == "CANCELED"


def test_a_decision_that_keeps_losing_reads_every_task_once_and_catches_up_after(
    aws: Aws, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its first attempts a losing decision reads every task once; its later attempts
    catch up from that read instead of reading everything again, so that they are as fast
    as the rivals they race."""
    from baton.engine import lifecycle
    from baton.store.workflows import CAUGHT_UP_ATTEMPTS

    losses = CAUGHT_UP_ATTEMPTS + 3
    workflow_id, ids = started(losses + 2)
    loser, rival = environment(), environment()
    loser.store.sleep = lambda _seconds: None
    commit = loser.store._commit
    rival_commits = iter(range(losses))

    def losing_commit(decision: Any, **options: Any) -> None:
        # Before each of the loser's first attempts lands, a rival commits a completion.
        branch = next(rival_commits, None)
        if branch is not None:
            complete(rival, workflow_id, ids[f"wait_{branch}_ref"], {"branch": branch})
        commit(decision, **options)

    monkeypatch.setattr(loser.store, "_commit", losing_commit)
    loser.store.load(workflow_id)
    rival.store.load(workflow_id)  # so that the rival's own reads are by key
    reads.queries = 0
    loser.store.mutate(
        workflow_id,
        lambda current: lifecycle.terminate(current, "stop", loser.clock()),
        fresh_task_ids=(),
    )
    assert loser.store.stats.retries == losses
    assert reads.queries == 1
    final = {t["referenceTaskName"]: t["status"] for t in workflow(workflow_id)["tasks"]}
    assert [final[f"wait_{i}_ref"] for i in range(losses + 2)] == ["COMPLETED"] * losses + [
        "CANCELED"
    ] * 2
