"""Wake-up signals for long polls: a waiting poll sleeps until work of its kind is committed.

A poll that finds nothing waits on a generation counter per (task type, domain) instead of
querying DynamoDB in a loop. A commit that schedules a worker task in this process bumps the
counter and wakes the waiters at once. On AWS work committed by another process (another
Lambda execution environment) is not signalled here, so a waiting poll also looks again every
`RECHECK_SECONDS`: one query round per second at most, whatever the poll's timeout. Where the
processes can reach each other (the embedded runtime's environments), `publish` hands each
notification to the others, which `deliver` it to their own waiters.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

# How often a waiting poll looks at the table again for work another process committed.
RECHECK_SECONDS = 1.0

SignalKey = tuple[str, str]


class Candidate(NamedTuple):
    """A task a commit has just made pollable, and what the committing process knew of it
    (its workflow and task as committed), so a poll in the same process can claim it with
    one conditional write instead of reading it back."""

    workflow_id: str
    task_key: str
    known: Any = None


# How many recent candidates each key remembers for the polls it wakes.
RECENT_CANDIDATES = 256


def signal_key(task_type: str, domain: str | None) -> SignalKey:
    return (task_type, domain or "")


# What a thread does around a wait. In a Lambda environment nothing (an environment serves
# one request at a time, and others run in other environments); the embedded runtime, which
# plays one environment per function in one process, lets other requests in while this one
# sleeps, as other environments would serve them on AWS.
IdleHook = Callable[[], AbstractContextManager[None]]


class WorkSignal:
    """Generation counters per signal key, and a condition to wait on them."""

    def __init__(self) -> None:
        self.idle_hook: IdleHook = contextlib.nullcontext
        # Tells the other processes of a notification (none on AWS).
        self.publish: Callable[[dict[SignalKey, list[Candidate]]], None] | None = None
        self._condition = threading.Condition()
        self._generations: dict[SignalKey, int] = {}
        self._recent: dict[SignalKey, deque[tuple[int, Candidate]]] = {}

    def generation(self, key: SignalKey) -> int:
        with self._condition:
            return self._generations.get(key, 0)

    def notify(self, work: dict[SignalKey, list[Candidate]]) -> None:
        """New work under each key: the tasks a commit made pollable."""
        if not work:
            return
        self.deliver(work)
        if self.publish is not None:
            self.publish(work)

    def deliver(self, work: dict[SignalKey, list[Candidate]]) -> None:
        """Wake this process's waiters on `work` (committed here or in another process)."""
        with self._condition:
            for key, candidates in work.items():
                generation = self._generations.get(key, 0) + 1
                self._generations[key] = generation
                recent = self._recent.setdefault(key, deque(maxlen=RECENT_CANDIDATES))
                recent.extend((generation, candidate) for candidate in candidates)
            self._condition.notify_all()

    def candidates_since(self, key: SignalKey, since: int) -> list[Candidate]:
        """Tasks signalled under `key` after generation `since`, oldest first: a woken poll
        tries these before it queries the table."""
        with self._condition:
            return [c for g, c in self._recent.get(key, ()) if g > since]

    def wait(self, keys: Iterable[SignalKey], since: dict[SignalKey, int], seconds: float) -> bool:
        """Wait up to `seconds` for any of `keys` to move past `since`; True if one did."""
        keys = list(keys)

        def moved() -> bool:
            return any(self._generations.get(k, 0) != since.get(k, 0) for k in keys)

        deadline = time.monotonic() + seconds
        with self.idle_hook(), self._condition:
            return self._condition.wait_for(moved, timeout=max(0.0, deadline - time.monotonic()))


# One per process: commits in this process wake polls waiting in this process.
work_signal = WorkSignal()
