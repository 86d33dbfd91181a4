"""The API's execution environments: processes that wake each other, and a crash that fails only
its own invocations and is replaced."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baton import wakeup
from embedded.broadcast import Broadcast, decode, encode
from embedded.environments import EnvironmentCrashed, FunctionError, FunctionPool

pytestmark = pytest.mark.slow

STAND_IN = "tests.embedded.stand_in_environment"
READY_SECONDS = 60.0


@pytest.fixture
def group() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="baton-test-wakeup-") as directory:
        yield Path(directory)


@pytest.fixture
def pool(group: Path) -> Iterator[FunctionPool]:
    started = FunctionPool(
        name="test-api",
        module=STAND_IN,
        region="us-east-1",
        timeout_seconds=29,
        size=2,
        broadcast_dir=group,
    ).start()
    try:
        yield started
    finally:
        started.stop()


def test_a_notification_travels_with_its_tasks() -> None:
    work = {("a_task", ""): [wakeup.Candidate("w1", "t1")], ("b", "d"): []}
    assert decode(encode(work)) == work


def test_each_environment_is_a_process_of_its_own(pool: FunctionPool) -> None:
    answers = [e.invoke({"action": "pid"}) for e in pool.environments]
    assert {a["pid"] for a in answers} == {e.pid for e in pool.environments}
    assert len({a["pid"] for a in answers}) == 2
    assert {a["function"] for a in answers} == {"test-api"}


def test_a_commit_in_one_environment_wakes_a_wait_in_another(pool: FunctionPool) -> None:
    waiting, committing = pool.environments
    answer: list[Any] = []
    waiter = threading.Thread(
        target=lambda: answer.append(waiting.invoke({"action": "wait", "task_type": "cross"}))
    )
    waiter.start()
    committing.invoke({"action": "notify", "task_type": "cross", "task_key": "t1"})
    waiter.join(READY_SECONDS)
    assert answer and answer[0]["woken"] is True
    assert answer[0]["tasks"] == ["t1"]
    assert answer[0]["pid"] == waiting.pid


def test_the_runtime_and_the_environments_wake_each_other(group: Path, pool: FunctionPool) -> None:
    runtime = Broadcast(group, "runtime").attach(wakeup.work_signal)
    try:
        # The runtime's commit wakes an environment's wait.
        answer: list[Any] = []
        waiter = threading.Thread(
            target=lambda: answer.append(pool.invoke({"action": "wait", "task_type": "to_env"}))
        )
        waiter.start()
        wakeup.work_signal.notify({("to_env", ""): [wakeup.Candidate("w", "t2")]})
        waiter.join(READY_SECONDS)
        assert answer and answer[0]["woken"] is True

        # An environment's commit wakes a wait in the runtime.
        key = wakeup.signal_key("to_runtime", None)
        since = {key: wakeup.work_signal.generation(key)}
        pool.invoke({"action": "notify", "task_type": "to_runtime", "task_key": "t3"})
        assert wakeup.work_signal.wait([key], since, READY_SECONDS)
        assert [c.task_key for c in wakeup.work_signal.candidates_since(key, since[key])] == ["t3"]
    finally:
        runtime.close()
    assert wakeup.work_signal.publish is None


def test_a_handler_that_raises_fails_its_caller_only(pool: FunctionPool) -> None:
    first = pool.environments[0]
    with pytest.raises(FunctionError, match="ValueError: asked to raise"):
        first.invoke({"action": "raise"})
    assert first.invoke({"action": "pid"})["pid"] == first.pid
    assert pool.replaced == 0


def test_a_crash_mid_invocation_fails_that_caller_and_the_environment_is_replaced(
    pool: FunctionPool,
) -> None:
    crashing, other = pool.environments
    with pytest.raises(EnvironmentCrashed, match="exit status 3"):
        crashing.invoke({"action": "crash"})
    assert not crashing.alive
    # The other environment serves on meanwhile.
    assert other.invoke({"action": "pid"})["pid"] == other.pid
    replacement = pool.environments[0]
    assert replacement is not crashing
    assert replacement.ready.wait(READY_SECONDS) and replacement.alive
    assert pool.replaced == 1
    assert replacement.invoke({"action": "pid"})["pid"] not in (crashing.pid, other.pid)
    served = {pool.invoke({"action": "pid"})["pid"] for _ in range(4)}
    assert served <= {replacement.pid, other.pid}
