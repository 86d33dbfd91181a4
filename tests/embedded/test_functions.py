"""The local functions' lock: invocations waiting on one environment are served in order."""

from __future__ import annotations

import threading
import time

import pytest

from embedded.functions import FairLock, LocalFunction, released_while_idle


def _wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.001)


def test_waiters_get_the_lock_in_the_order_they_asked() -> None:
    lock = FairLock()
    served: list[int] = []
    lock.acquire()

    def wait_then_record(number: int) -> None:
        with lock:
            served.append(number)

    threads = []
    for number in range(8):
        thread = threading.Thread(target=wait_then_record, args=(number,))
        thread.start()
        threads.append(thread)
        _wait_for(lambda count=number + 1: len(lock._waiters) == count)
    lock.release()
    for thread in threads:
        thread.join(10)
    assert served == list(range(8))


def test_the_releasing_thread_does_not_get_it_back_before_a_waiter() -> None:
    lock = FairLock()
    order: list[str] = []
    lock.acquire()
    waiter = threading.Thread(
        target=lambda: (lock.acquire(), order.append("waiter"), lock.release())
    )
    waiter.start()
    _wait_for(lambda: len(lock._waiters) == 1)
    lock.release()
    lock.acquire()
    order.append("releaser")
    lock.release()
    waiter.join(10)
    assert order == ["waiter", "releaser"]


def test_releasing_a_lock_not_held_is_refused() -> None:
    with pytest.raises(RuntimeError):
        FairLock().release()


def test_an_invocation_that_waits_lets_the_next_one_in() -> None:
    waiting = threading.Event()
    proceed = threading.Event()

    def handler(event: dict[str, str], context: object) -> str:
        if event["kind"] == "long poll":
            with released_while_idle():
                waiting.set()
                proceed.wait(10)
        return event["kind"]

    function = LocalFunction(name="f", handler=handler, region="us-east-1", timeout_seconds=30)
    answers: list[str] = []
    poll = threading.Thread(target=lambda: answers.append(function.invoke({"kind": "long poll"})))
    poll.start()
    assert waiting.wait(10)
    answers.append(function.invoke({"kind": "quick"}))
    proceed.set()
    poll.join(10)
    assert answers == ["quick", "long poll"]
