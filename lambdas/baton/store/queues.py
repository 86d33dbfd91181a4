"""How many poll-index shards a worker-task queue uses: one while it is quiet, all while busy.

A (task type, domain) queue's SCHEDULED tasks are entries of the sparse poll index under
`<type>#<domain>#<shard>`. Spread over POLL_SHARDS partitions, a busy queue is no hot
partition; but an empty poll of a spread queue is one query per shard. So a queue keeps to
shard 0 until it has a backlog:

- Quiet (no wide mark): new tasks go to shard 0, and a poll reads shard 0 alone, so an empty
  poll is one query.
- A poll that reads a backlog of at least WIDEN_BACKLOG tasks marks the queue wide until
  `now + WIDE_HOLD_MS`. The mark is an entry of shard 0 itself (an item of the tasks table
  whose index sort key is minus the time it holds until, so it sorts before every task): the
  query a poll makes anyway tells it the queue is wide. Polls that still find a backlog
  push its end later.
- Writers read the mark at most every WRITER_CACHE_MS per queue and process (one query) and
  spread new tasks over every shard only until the end they read. A mark read later only ends
  later, so no writer spreads tasks after the mark's current end.
- Polls read every shard while the mark is there. Once NARROW_AFTER_MS have passed after its
  end (every writer has stopped spreading, and the index has caught up with their writes), a
  poll looks for any entry at all in the other shards (delayed ones too) and, when there is
  none, takes the mark out of the index, on the condition that its end has not moved.

A task in shards 1.. is therefore always in a queue polls read in full, and is handed out
exactly once by the claim's conditional write, wherever it is listed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pynamodb.exceptions import UpdateError

from baton.store.models import POLL_SHARDS, TaskItem

# A poll that reads at least this many ready tasks of a queue makes (or keeps) it wide.
WIDEN_BACKLOG = 40
# A wide mark holds this long after the last poll that found a backlog.
WIDE_HOLD_MS = 60_000
# A backlogged poll pushes the mark's end later only when less than this is left of it, so
# a busy queue writes its mark at most about once per (WIDE_HOLD_MS - EXTEND_WHEN_LEFT_MS).
EXTEND_WHEN_LEFT_MS = 45_000
# Writers read the mark at most this often per queue and process.
WRITER_CACHE_MS = 5_000
# Time after a mark's end before polls may take it away: writers' cached reads, the time a
# commit takes to land, the index's lag and clock differences between processes.
NARROW_AFTER_MS = WRITER_CACHE_MS + 15_000
# A process looks at whether an ended mark can go at most this often per queue.
NARROW_CHECK_EVERY_MS = 10_000

MARK_PREFIX = "QUEUE_WIDTH#"
MARK_TASK_KEY = "WIDE"

QueueKey = tuple[str, str]


def queue_key(task_type: str, domain: str | None) -> QueueKey:
    return (task_type, domain or "")


def poll_key(task_type: str, domain: str | None, shard: int) -> str:
    """The poll index partition of one shard of a (task type, domain) queue."""
    return f"{task_type}#{domain or ''}#{shard}"


def mark_id(task_type: str, domain: str | None) -> str:
    """The tasks-table partition of a queue's wide mark (no workflow id starts so)."""
    return f"{MARK_PREFIX}{task_type}#{domain or ''}"


def is_mark(workflow_id: str) -> bool:
    return workflow_id.startswith(MARK_PREFIX)


def mark_end(scheduled_at: int) -> int:
    """When a wide mark ends, from its poll index sort key."""
    return -scheduled_at


@dataclass
class QueueWidths:
    """This process's knowledge of which queues are wide, and the writes that change it."""

    # Per queue: (when this process read the mark, the mark's end or None when absent).
    _known: dict[QueueKey, tuple[int, int | None]] = field(default_factory=dict)
    _narrow_checked: dict[QueueKey, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def shards_for_writing(self, task_type: str, domain: str | None, now: int) -> int:
        """How many shards a task of this queue written now may go to."""
        key = queue_key(task_type, domain)
        with self._lock:
            known = self._known.get(key)
        if known is None or now - known[0] >= WRITER_CACHE_MS:
            end = self._read_mark(task_type, domain)
            self.learned(task_type, domain, end, now)
            known = (now, end)
        end = known[1]
        return POLL_SHARDS if end is not None and now < end else 1

    def believed_wide(self, task_type: str, domain: str | None, now: int) -> bool:
        """Whether this process read a mark lately (polls then start at a random shard)."""
        with self._lock:
            known = self._known.get(queue_key(task_type, domain))
        return known is not None and known[1] is not None and now - known[0] < WRITER_CACHE_MS

    def learned(self, task_type: str, domain: str | None, end: int | None, now: int) -> None:
        """A read of shard 0 (or of the mark) found the mark ending at `end`, or no mark."""
        with self._lock:
            self._known[queue_key(task_type, domain)] = (now, end)

    def backlogged(self, task_type: str, domain: str | None, now: int) -> None:
        """A poll read a backlog: mark the queue wide, or push the end of its mark later."""
        with self._lock:
            known = self._known.get(queue_key(task_type, domain))
        end = known[1] if known is not None else None
        if end is not None and end - now > EXTEND_WHEN_LEFT_MS:
            return
        new_end = now + WIDE_HOLD_MS
        mark = TaskItem(mark_id(task_type, domain), MARK_TASK_KEY)
        # The end only ever moves later (the sort key is minus the end).
        condition = TaskItem.scheduled_at.does_not_exist() | (TaskItem.scheduled_at > -new_end)
        try:
            mark.update(
                actions=[
                    TaskItem.task_id.set(mark_id(task_type, domain)),
                    TaskItem.poll_key.set(poll_key(task_type, domain, 0)),
                    TaskItem.scheduled_at.set(-new_end),
                ],
                condition=condition,
            )
        except UpdateError as error:
            if not _condition_failed(error):
                raise
            return  # another poll pushed it later still
        self.learned(task_type, domain, new_end, now)

    def may_narrow(self, task_type: str, domain: str | None, end: int, now: int) -> bool:
        """Whether a poll should look if an ended mark can go (at most every
        NARROW_CHECK_EVERY_MS per queue and process)."""
        if now - end < NARROW_AFTER_MS:
            return False
        key = queue_key(task_type, domain)
        with self._lock:
            if now - self._narrow_checked.get(key, -NARROW_CHECK_EVERY_MS) < NARROW_CHECK_EVERY_MS:
                return False
            self._narrow_checked[key] = now
        return True

    def narrow(self, task_type: str, domain: str | None, end: int, now: int) -> None:
        """Take the mark out of the index, unless a poll has pushed its end since."""
        mark = TaskItem(mark_id(task_type, domain), MARK_TASK_KEY)
        try:
            mark.update(
                actions=[TaskItem.poll_key.remove(), TaskItem.scheduled_at.remove()],
                condition=TaskItem.scheduled_at == -end,
            )
        except UpdateError as error:
            if not _condition_failed(error):
                raise
            return
        self.learned(task_type, domain, None, now)

    @staticmethod
    def _read_mark(task_type: str, domain: str | None) -> int | None:
        for item in TaskItem.query(mark_id(task_type, domain), limit=1):
            if item.poll_key is not None and item.scheduled_at is not None:
                return mark_end(int(item.scheduled_at))
        return None


def _condition_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"
