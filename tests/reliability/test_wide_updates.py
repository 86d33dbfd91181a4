"""A wide workflow's task updates do not decide: each reads the workflow item and its one task
item, writes the task alone and asks the timers function for the decision, which folds them.

Several environments are several `Baton` services (each with its own store and what it keeps)
against one moto; the timers function is the runtime's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability.conftest import EmbeddedBaton, wait_for
from tests.reliability.support import fork_of_waits, register_workflow, start, workflow
from tests.reliability.test_fan_in import DECISION_QUEUE, TIMER_QUEUE, fire, timer_messages
from tests.runtime.conftest import Aws

NAME = "wide_updates_fork"


class Reads:
    """The task items the store reads: Queries of every task item, Queries of one task's
    keys, keys read by BatchGetItem, and GetItems of a task item."""

    def __init__(self) -> None:
        self.whole = 0
        self.one_task = 0
        self.batch_keys = 0
        self.gets = 0


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    from baton.store.models import TaskItem

    counted = Reads()
    query, batch_get, get = TaskItem.query, TaskItem.batch_get, TaskItem.get

    def counting_query(*args: Any, **options: Any) -> Any:
        if options.get("consistent_read"):
            if len(args) > 1 or options.get("range_key_condition") is not None:
                counted.one_task += 1
            else:
                counted.whole += 1
        return query(*args, **options)

    def counting_batch_get(keys: Any, **options: Any) -> Any:
        keys = list(keys)
        counted.batch_keys += len(keys)
        return batch_get(keys, **options)

    def counting_get(*args: Any, **options: Any) -> Any:
        counted.gets += 1
        return get(*args, **options)

    monkeypatch.setattr(TaskItem, "query", counting_query)
    monkeypatch.setattr(TaskItem, "batch_get", counting_batch_get)
    monkeypatch.setattr(TaskItem, "get", counting_get)
    yield counted


def environment() -> Any:
    """Another execution environment of the API function: a service with a store of its own."""
    from baton.service import Baton

    return Baton()


def started(width: int) -> tuple[str, dict[str, str]]:
    register_workflow(fork_of_waits(width, name=f"{NAME}_{width}"))
    workflow_id = start(f"{NAME}_{width}")
    ids = {t["referenceTaskName"]: t["taskId"] for t in workflow(workflow_id)["tasks"]}
    return workflow_id, ids


def complete(service: Any, workflow_id: str, task_id: str, output: dict[str, Any]) -> None:
    from baton.engine.decider import TaskUpdate
    from baton.engine.state import TaskStatus

    service.update_task(
        workflow_id, task_id, TaskUpdate(status=TaskStatus.COMPLETED, output=output)
    )


def tasks_by_reference(workflow_id: str) -> dict[str, dict[str, Any]]:
    return {t["referenceTaskName"]: t for t in workflow(workflow_id)["tasks"]}


def test_an_update_of_a_wide_workflow_reads_its_one_task_and_asks_for_the_decision(
    aws: Aws, reads: Reads
) -> None:
    from baton.store.workflows import WIDE_OPEN_TASKS

    workflow_id, ids = started(WIDE_OPEN_TASKS)
    writer = environment()
    reads.__init__()  # type: ignore[misc]
    complete(writer, workflow_id, ids["wait_0_ref"], {"branch": 0})

    # One task item read (by its id's keys: this environment has never read the workflow),
    # nothing decided, the task written alone and a decision asked for it.
    assert (reads.whole, reads.one_task, reads.batch_keys, reads.gets) == (0, 1, 0, 0)
    assert writer.store.stats.commits == 0
    assert (writer.store.stats.written_alone, writer.store.stats.updates_alone) == (1, 1)
    current = tasks_by_reference(workflow_id)
    assert current["wait_0_ref"]["status"] == "COMPLETED"
    assert current["wait_0_ref"]["outputData"] == {"branch": 0}
    assert current["join_ref"]["status"] == "IN_PROGRESS"
    (message,) = timer_messages(aws)
    assert json.loads(message["Body"])["taskId"] == ids["wait_0_ref"]

    # The timers function's decision folds it and clears its mark.
    from baton import runtime

    assert fire([message])["batchItemFailures"] == []
    assert runtime.baton().store.stats.commits >= 1
    assert runtime.baton().store.due_entries(2**62) == []

    # Still without a copy of the workflow, the next update queries its task's keys again;
    # an environment that has read the workflow reads the task item by its key.
    reads.__init__()  # type: ignore[misc]
    complete(writer, workflow_id, ids["wait_1_ref"], {"branch": 1})
    assert (reads.whole, reads.one_task, reads.batch_keys, reads.gets) == (0, 1, 0, 0)
    writer.store.load(workflow_id)
    reads.__init__()  # type: ignore[misc]
    complete(writer, workflow_id, ids["wait_2_ref"], {"branch": 2})
    assert (reads.whole, reads.one_task, reads.batch_keys, reads.gets) == (0, 0, 0, 1)


def test_a_wide_fork_completed_by_updates_written_alone_ends_once_with_every_output(
    aws: Aws,
) -> None:
    from baton import runtime
    from baton.store.workflows import WIDE_OPEN_TASKS

    width = WIDE_OPEN_TASKS + 8
    workflow_id, ids = started(width)
    writers = [environment(), environment()]
    for i in range(width):
        complete(writers[i % 2], workflow_id, ids[f"wait_{i}_ref"], {"branch": i})
        if i == width // 2:
            # Halfway: the decisions asked so far are made.
            assert fire(timer_messages(aws))["batchItemFailures"] == []
    assert sum(w.store.stats.commits for w in writers) < width
    messages = timer_messages(aws)
    assert fire(messages)["batchItemFailures"] == []
    final = workflow(workflow_id)
    assert final["status"] == "COMPLETED"
    (join,) = [t for t in final["tasks"] if t["taskType"] == "JOIN"]
    assert join["outputData"] == {f"wait_{i}_ref": {"branch": i} for i in range(width)}
    assert runtime.baton().store.due_entries(2**62) == []
    # The same update again, to an ended task, is accepted and changes nothing.
    again = environment()
    complete(again, workflow_id, ids["wait_0_ref"], {"branch": "again"})
    assert (again.store.stats.commits, again.store.stats.written_alone) == (0, 0)
    assert workflow(workflow_id) == final


def test_a_wide_workflows_asks_go_to_the_fifo_queue_grouped_by_workflow(aws: Aws) -> None:
    from baton.store.workflows import WIDE_OPEN_TASKS

    workflow_id, ids = started(WIDE_OPEN_TASKS)
    writer = environment()
    for i in range(3):
        complete(writer, workflow_id, ids[f"wait_{i}_ref"], {"branch": i})
    # Nothing on the timer queue: the asks are on the decision queue, in the workflow's
    # group, each deduplicated by the write it follows (the task at its new version).
    assert aws.receive(TIMER_QUEUE) == []
    asks = aws.receive(DECISION_QUEUE)
    assert [json.loads(m["Body"])["taskId"] for m in asks] == [
        ids[f"wait_{i}_ref"] for i in range(3)
    ]
    assert {m["Attributes"]["MessageGroupId"] for m in asks} == {workflow_id}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in asks] == [
        f"{ids[f'wait_{i}_ref']}#2" for i in range(3)
    ]
    # While they are in flight, SQS hands out no other ask of the workflow: one decider.
    complete(writer, workflow_id, ids["wait_3_ref"], {"branch": 3})
    assert aws.receive(DECISION_QUEUE) == []
    assert fire(asks)["batchItemFailures"] == []


def test_an_update_of_a_narrow_workflow_still_decides_at_once(aws: Aws) -> None:
    from baton.store.workflows import WIDE_TASKS

    workflow_id, ids = started(WIDE_TASKS // 4)
    writer = environment()
    complete(writer, workflow_id, ids["wait_0_ref"], {"branch": 0})
    assert writer.store.stats.commits == 1
    assert writer.store.stats.written_alone == 0
    assert timer_messages(aws) == []


def test_an_environment_reads_none_of_its_own_commits_back(aws: Aws, reads: Reads) -> None:
    from baton.store.workflows import WIDE_TASKS

    workflow_id, ids = started(WIDE_TASKS // 4)
    writer = environment()
    complete(writer, workflow_id, ids["wait_0_ref"], {"branch": 0})
    reads.__init__()  # type: ignore[misc]
    # Its next decision reads the workflow item and the task it is about, nothing else.
    complete(writer, workflow_id, ids["wait_1_ref"], {"branch": 1})
    assert (reads.whole, reads.batch_keys) == (0, 1)
    assert writer.store.require(workflow_id) is not None
    mine = writer.store.require(workflow_id, fresh_task_ids=())
    theirs = environment().store.require(workflow_id)
    assert sorted((t.task_id, t.version, t.status, t.output_data) for t in mine.tasks) == sorted(
        (t.task_id, t.version, t.status, t.output_data) for t in theirs.tasks
    )


def test_a_decider_takes_the_task_items_the_asks_carry_instead_of_reading_them(
    aws: Aws, reads: Reads
) -> None:
    from baton import runtime
    from baton.store.workflows import WIDE_OPEN_TASKS

    width = WIDE_OPEN_TASKS + 4
    workflow_id, ids = started(width)
    decider = runtime.baton()
    decider.store.load(workflow_id)  # the timers environment holds the workflow as started
    writer = environment()
    for i in range(3):
        complete(writer, workflow_id, ids[f"wait_{i}_ref"], {"branch": i})
    asks = timer_messages(aws)
    assert all("written" in json.loads(m["Body"]) for m in asks)
    reads.__init__()  # type: ignore[misc]
    assert fire(asks)["batchItemFailures"] == []
    # The decision read the workflow item only: the three tasks came with their asks.
    assert (reads.whole, reads.one_task, reads.batch_keys, reads.gets) == (0, 0, 0, 0)
    # What it holds now is what the store holds.
    mine = decider.store.require(workflow_id, fresh_task_ids=())
    theirs = environment().store.require(workflow_id)
    assert sorted((t.task_id, t.version, t.status, t.output_data) for t in mine.tasks) == sorted(
        (t.task_id, t.version, t.status, t.output_data) for t in theirs.tasks
    )


def test_an_ask_older_than_its_task_item_leaves_the_next_ask_to_set_the_copy_right(
    aws: Aws,
) -> None:
    from baton import runtime
    from baton.engine.decider import TaskUpdate
    from baton.engine.state import TaskStatus
    from baton.store.workflows import WIDE_OPEN_TASKS

    width = WIDE_OPEN_TASKS + 4
    workflow_id, ids = started(width)
    decider = runtime.baton()
    decider.store.load(workflow_id)
    writer = environment()
    writer.update_task(
        workflow_id,
        ids["wait_0_ref"],
        TaskUpdate(status=TaskStatus.IN_PROGRESS, output={"progress": 1}),
    )
    (first,) = timer_messages(aws)
    # Written alone again before the first ask is decided: that ask's item is now old.
    complete(writer, workflow_id, ids["wait_0_ref"], {"branch": 0})
    (second,) = timer_messages(aws)
    assert fire([first])["batchItemFailures"] == []
    assert fire([second])["batchItemFailures"] == []

    def as_held(service: Any) -> list[tuple[Any, ...]]:
        held = service.store.require(workflow_id, fresh_task_ids=())
        return sorted((t.task_id, t.version, t.status, t.output_data) for t in held.tasks)

    assert as_held(decider) == as_held(environment())
    assert tasks_by_reference(workflow_id)["wait_0_ref"]["status"] == "COMPLETED"


def test_under_the_embedded_runtime_a_wide_fork_completes_through_the_decision_queue(
    embedded_baton: EmbeddedBaton,
) -> None:
    from baton.store.workflows import WIDE_OPEN_TASKS

    baton = embedded_baton
    name = f"{NAME}_embedded"
    width = WIDE_OPEN_TASKS
    assert baton.call("POST", "/metadata/workflow", fork_of_waits(width, name=name))[0] == 200
    status, workflow_id = baton.call("POST", f"/workflow/{name}", {})
    assert status == 200

    def read() -> dict[str, Any]:
        return dict(json.loads(baton.call("GET", f"/workflow/{workflow_id}")[1]))

    ids = {t["referenceTaskName"]: t["taskId"] for t in read()["tasks"]}
    for i in range(width):
        result = {
            "workflowInstanceId": workflow_id,
            "taskId": ids[f"wait_{i}_ref"],
            "status": "COMPLETED",
            "outputData": {"branch": i},
        }
        assert baton.call("POST", "/tasks", result)[0] == 200

    final = wait_for(lambda: read()["status"] == "COMPLETED" and read(), "the decisions")
    (join,) = [t for t in final["tasks"] if t["taskType"] == "JOIN"]
    assert join["outputData"] == {f"wait_{i}_ref": {"branch": i} for i in range(width)}
    # The asks were the decision queue's, handed to the timers function by its poller.
    queues = {d["queue"] for d in baton.deliveries() if workflow_id in d.get("body", "")}
    assert DECISION_QUEUE in queues
    assert TIMER_QUEUE not in queues
    wait_for(lambda: baton.queue_is_empty(DECISION_QUEUE), "the last asks to be done")
