"""An idle runtime's work does not grow with the workflows it has stored.

The sweep's ticks and the expiry's rounds, over a moved clock, are run with a few finished
workflows stored and again with many more: the requests they make and the work moto does for
them (the calls its DynamoDB code and the runtime's patches and expiry make) stay the same.
"""

from __future__ import annotations

import sys
from collections import Counter
from types import FrameType
from typing import Any

import pytest

from bench.local_runtime import WAIT_ONLY
from tests.runtime.conftest import aws  # noqa: F401 - the fixture: Baton's tables in moto
from tests.runtime.lambda_events import FakeContext, call_api, scheduled_event

TICKS = 5
TICK_MS = 60_000
FEW, MANY = 5, 40
# The code whose calls are counted: moto's DynamoDB and what the runtime changes in it.
_COUNTED = ("moto/dynamodb/", "embedded/moto_patches.py", "embedded/expiry.py")


class Clock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def _store_finished(count: int) -> None:
    for _ in range(count):
        workflow_id = call_api("POST", f"/api/workflow/{WAIT_ONLY['name']}", {"wait": "1h"}).body
        assert call_api("POST", f"/api/tasks/{workflow_id}/hold/COMPLETED", {}).status == 200


def _idle_work(clock: Clock, start: int) -> tuple[Counter[str], int]:
    """The requests and the counted calls of `TICKS` sweeps and expiry rounds from `start`."""
    from moto.core.responses import BaseResponse

    from baton.handlers import timers
    from embedded import expiry, moto_patches

    requests: Counter[str] = Counter()
    calls = [0]
    call_action = BaseResponse.call_action

    def counted_action(self: Any) -> Any:
        requests[f"{self.service_name}.{self._get_action()}"] += 1
        return call_action(self)

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        filename = frame.f_code.co_filename
        if event in ("call", "c_call") and any(part in filename for part in _COUNTED):
            calls[0] += 1

    BaseResponse.call_action = counted_action  # type: ignore[method-assign]
    try:
        for tick in range(TICKS):
            clock.now = start + tick * TICK_MS
            sys.setprofile(profile)
            try:
                timers.handler(scheduled_event(), FakeContext())
                for table in moto_patches.all_tables().values():
                    expiry.expired_keys(table, clock.now / 1000)
            finally:
                sys.setprofile(None)
    finally:
        BaseResponse.call_action = call_action  # type: ignore[method-assign]
    return requests, calls[0]


@pytest.mark.usefixtures("aws")
def test_idle_sweeps_and_expiry_do_the_same_work_with_many_workflows_stored() -> None:
    from baton import runtime
    from embedded import moto_patches

    moto_patches.apply()  # as the runtime's moto server runs
    clock = Clock(runtime.baton().clock())
    runtime.baton().clock = clock
    start = clock.now
    call_api("POST", "/api/metadata/workflow", WAIT_ONLY)
    # Two running workflows whose waits are past the sweep's reach, and a few finished ones.
    for _ in range(2):
        call_api("POST", f"/api/workflow/{WAIT_ONLY['name']}", {"wait": "1h"})
    _store_finished(FEW)
    _idle_work(clock, start)  # the partitions and expiry times are built on first use
    few = _idle_work(clock, start)

    clock.now = start
    _store_finished(MANY - FEW)
    _idle_work(clock, start)
    many = _idle_work(clock, start)

    assert many[0] == few[0]
    assert few[0]["dynamodb.Query"] >= TICKS  # the sweep reads the due index every tick
    assert many[1] == few[1], f"moto's work grew from {few[1]} to {many[1]} calls"
