"""A runtime with stand-in handlers, shared by the tests of one module."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from embedded import Runtime

# Event queues of the test runtime: one whose consumer fails a record once, one whose consumer
# always raises.
PARTIAL_QUEUE = "embedded_partial"
FAILING_QUEUE = "embedded_failing"
VISIBILITY_TIMEOUT_SECONDS = 1
MAX_RECEIVE_COUNT = 2
TICK_SECONDS = 0.3


class StandIns:
    """Handlers that record what they are given, in place of baton.handlers.*."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.api_events: list[dict[str, Any]] = []
        self.event_batches: list[list[dict[str, Any]]] = []
        self.timer_events: list[dict[str, Any]] = []
        self.system_task_batches: list[list[dict[str, Any]]] = []
        # Bodies whose first delivery the events consumer reports as failed.
        self.fail_first_delivery: set[str] = set()

    def api(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.api_events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": ""}

    def events(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        with self.lock:
            self.event_batches.append(records)
        queue = records[0]["eventSourceARN"].rsplit(":", 1)[1]
        if queue == FAILING_QUEUE:
            raise RuntimeError("this consumer always fails")
        failed = [
            r
            for r in records
            if r["body"] in self.fail_first_delivery
            and r["attributes"]["ApproximateReceiveCount"] == "1"
        ]
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}

    def timers(self, event: dict[str, Any], context: Any) -> None:
        with self.lock:
            self.timer_events.append(event)

    def system_tasks(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.system_task_batches.append(event["Records"])
        return {"batchItemFailures": []}

    def records(self, queue: str) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r
                for batch in self.event_batches
                for r in batch
                if r["eventSourceARN"].endswith(":" + queue)
            ]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def stand_ins() -> StandIns:
    return StandIns()


@pytest.fixture(scope="module")
def runtime(stand_ins: StandIns) -> Iterator[Runtime]:
    with Runtime(
        port=0,
        tick_seconds=TICK_SECONDS,
        event_queue_names=[PARTIAL_QUEUE, FAILING_QUEUE],
        api_handler=stand_ins.api,
        events_handler=stand_ins.events,
        timers_handler=stand_ins.timers,
        system_tasks_handler=stand_ins.system_tasks,
        visibility_timeout_seconds=VISIBILITY_TIMEOUT_SECONDS,
        max_receive_count=MAX_RECEIVE_COUNT,
    ) as started:
        yield started
