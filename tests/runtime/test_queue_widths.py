"""A quiet queue lives in one poll-index shard (an empty poll is one query); a backlog spreads
it over every shard while it lasts, and it narrows again once the other shards are empty."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from botocore.client import BaseClient

from baton import runtime
from baton.store import queues
from baton.store.models import POLL_SHARDS, TaskItem
from tests.runtime.lambda_events import call_api
from tests.runtime.test_api_worker_protocol import Clock, _batch, _start


@pytest.fixture
def clock(aws: Any) -> Clock:
    moved = Clock(runtime.baton().clock())
    runtime.baton().clock = moved
    runtime.baton().store.clock = moved
    definition = {
        "name": "one_step",
        "version": 1,
        "tasks": [{"name": "work", "taskReferenceName": "work_ref", "type": "SIMPLE"}],
    }
    assert call_api("POST", "/api/metadata/workflow", definition).status == 200
    return moved


@contextmanager
def _requests() -> Iterator[list[tuple[str, str | None]]]:
    """Every DynamoDB request made inside: (operation, index or None)."""
    made: list[tuple[str, str | None]] = []
    original = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            made.append((operation, params.get("IndexName")))
        return original(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", counted):
        yield made


def _shards_listing(task_type: str = "work") -> Counter[int]:
    """How many SCHEDULED tasks each shard of the queue lists (the mark left out)."""
    listed: Counter[int] = Counter()
    for item in TaskItem.scan():
        key = item.poll_key
        if key and key.startswith(f"{task_type}##") and not queues.is_mark(str(item.workflow_id)):
            listed[int(key.rsplit("#", 1)[1])] += 1
    return listed


def _wide_mark_listed(task_type: str = "work") -> bool:
    return any(
        queues.is_mark(str(item.workflow_id))
        for item in TaskItem.by_poll_key.query(queues.poll_key(task_type, None, 0))
    )


def _drain(task_type: str = "work") -> list[str]:
    received: list[str] = []
    while batch := _batch(task_type, count=10):
        received += [task["taskId"] for task in batch]
    return received


def test_an_empty_poll_of_a_quiet_queue_is_one_query_of_the_poll_index(clock: Clock) -> None:
    assert _batch(count=5) == []  # the first poll also records poll data
    with _requests() as made:
        assert _batch(count=5) == []
    assert made == [("Query", "by_poll_key")]


def test_a_quiet_queue_keeps_its_tasks_in_shard_0(clock: Clock) -> None:
    for _ in range(12):
        _start()
    assert _shards_listing() == Counter({0: 12})
    assert not _wide_mark_listed()
    assert len(_drain()) == 12


def test_a_backlog_spreads_the_queue_and_every_task_is_handed_out_once(clock: Clock) -> None:
    backlog = [_start() for _ in range(queues.WIDEN_BACKLOG + 5)]
    first = _batch(count=1)
    assert len(first) == 1
    assert _wide_mark_listed()
    clock.now += queues.WRITER_CACHE_MS  # writers read the mark again
    later = [_start() for _ in range(40)]
    listed = _shards_listing()
    assert set(listed) == set(range(POLL_SHARDS)), listed  # new tasks went to every shard
    received = [first[0]["taskId"], *_drain()]
    assert len(received) == len(backlog) + len(later)
    assert set(Counter(received).values()) == {1}, "a task was handed out twice"
    assert _shards_listing() == Counter()


def test_the_queue_narrows_once_the_mark_has_ended_and_the_other_shards_are_empty(
    clock: Clock,
) -> None:
    for _ in range(queues.WIDEN_BACKLOG):
        _start()
    _drain()
    assert _wide_mark_listed()
    clock.now += queues.WIDE_HOLD_MS + queues.NARROW_AFTER_MS
    assert _batch(count=5) == []  # this poll sees the ended mark and takes it away
    assert not _wide_mark_listed()
    clock.now += queues.WRITER_CACHE_MS
    assert _batch(count=5) == []  # records this worker's poll again (5 s have passed)
    with _requests() as made:
        assert _batch(count=5) == []
    assert made == [("Query", "by_poll_key")]
    for _ in range(8):
        _start()
    assert _shards_listing() == Counter({0: 8})


def test_a_wide_queue_stays_wide_while_another_shard_still_lists_a_task(clock: Clock) -> None:
    for _ in range(queues.WIDEN_BACKLOG):
        _start()
    _drain()
    clock.now += queues.WRITER_CACHE_MS
    while not any(shard != 0 for shard in _shards_listing()):
        _start()  # one lands in another shard
    # Delayed, so no poll takes it yet: a callback of an hour.
    held = _drain()
    for task_id in held:
        task = call_api("GET", f"/api/tasks/{task_id}").json()
        result = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task_id,
            "status": "IN_PROGRESS",
            "callbackAfterSeconds": 3600,
        }
        assert call_api("POST", "/api/tasks", result).status == 200
    assert any(shard != 0 for shard in _shards_listing())
    clock.now += queues.WIDE_HOLD_MS + queues.NARROW_AFTER_MS
    assert _batch(count=5) == []
    assert _wide_mark_listed()
    clock.now += 3600 * 1000
    assert sorted(_drain()) == sorted(held)
