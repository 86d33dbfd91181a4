"""What a decision reads: the workflows an environment loaded, caught up through a log of changes.

Every commit records on the workflow item which task items it wrote: the ids of the tasks it
created (their keys are the id and the commit's attempt) and of those it changed. The item keeps
this log for its latest commits only, as small as it can be, since each commit rewrites it and
DynamoDB bills a write by the item's size. An environment keeps the task items of the
workflows it loaded (as stored text, so no decision can change what is kept); a decision that
finds the workflow item a few revisions on reads only the task items the log names since then,
and every task item whenever anything is in doubt.

Tasks written onto their items alone (a task update whose decision lost a race) change no
revision, so no log names them: the decision they owe is asked with their ids, which the
reader reads afresh, or with the item as written (`carried`), which the reader takes as read
unless the log names a change to it since. A decision that does not know of one yet, or
knows an older version, is still safe: its commit is conditioned on the version of every
task it writes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from baton.engine.state import task_prefix_of

# How many of its latest commits a workflow item names the task items of, and how many task
# ids that log holds in all at most (a commit that wrote more is logged as not known).
LOG_REVISIONS = 16
LOG_TASK_IDS = 64
# A workflow's log holds one id per this many of its tasks: reading a task item by key costs a
# read unit, a Query of every task item about one per ten (4 KB a unit, a few hundred bytes
# a task), so a small workflow is read whole and logs nothing but its revisions, and the log
# (rewritten, and billed, with every commit) grows only where it saves reads.
TASKS_PER_LOGGED_ID = 10
# How many workflows an environment keeps as it last read them.
WORKFLOWS_KEPT = 32
# An id of the workflow's own form is logged without its 12-digit workflow prefix (its first
# 14 characters with the dashes); an id of another form is logged whole, marked by this.
_WHOLE_ID = "="


def staged_key(task_id: str, attempt: str) -> str:
    """The key of a task item a commit wrote first, tagged with the commit's attempt."""
    return f"{task_id}#{attempt}"


@dataclass(frozen=True)
class LogEntry:
    """The task items one commit wrote; `known` False when it did not say (it wrote too many,
    removed tasks or replaced the task set): a reader older than it reads every task."""

    revision: int
    attempt: str | None = None
    new_ids: tuple[str, ...] = ()
    changed_ids: tuple[str, ...] = ()
    known: bool = True

    @property
    def size(self) -> int:
        return len(self.new_ids) + len(self.changed_ids)


Log = tuple[LogEntry, ...]


def log_capacity(task_count: int) -> int:
    """How many task ids the log of a workflow of `task_count` tasks holds."""
    return min(LOG_TASK_IDS, task_count // TASKS_PER_LOGGED_ID)


def next_log(previous: Log, entry: LogEntry, capacity: int) -> Log:
    """The log after a commit: its entry added, the oldest ones dropped past the limits
    (`capacity` task ids in all)."""
    if entry.size > capacity:
        entry = LogEntry(entry.revision, known=False)
    kept = [e for e in previous if e.revision < entry.revision] + [entry]
    while len(kept) > LOG_REVISIONS or sum(e.size for e in kept) > capacity:
        kept.pop(0)
    return tuple(kept)


def _short(task_id: str, prefix: str) -> str:
    return task_id[14:] if task_prefix_of(task_id) == prefix else _WHOLE_ID + task_id


def _whole(logged: str, prefix: str) -> str:
    if logged.startswith(_WHOLE_ID):
        return logged[len(_WHOLE_ID) :]
    return f"{prefix[:8]}-{prefix[8:]}-{logged}"


def encode(log: Log, prefix: str) -> str:
    """The log as the workflow item holds it: `[revision]` for an entry not known, else
    `[revision, attempt, [new ids], [changed ids]]`, ids without the workflow's prefix."""
    rows: list[list[object]] = [
        [
            e.revision,
            e.attempt,
            [_short(i, prefix) for i in e.new_ids],
            [_short(i, prefix) for i in e.changed_ids],
        ]
        if e.known
        else [e.revision]
        for e in log
    ]
    return json.dumps(rows, separators=(",", ":"))


def decode(text: str | None, prefix: str) -> Log:
    """The log a workflow item holds; empty if it holds none (or one this cannot read)."""
    if not text:
        return ()
    try:
        entries = []
        for row in json.loads(text):
            if len(row) == 1:
                entries.append(LogEntry(int(row[0]), known=False))
                continue
            revision, attempt, new_ids, changed_ids = row
            entries.append(
                LogEntry(
                    int(revision),
                    str(attempt) if attempt else None,
                    tuple(_whole(str(i), prefix) for i in new_ids),
                    tuple(_whole(str(i), prefix) for i in changed_ids),
                )
            )
        return tuple(entries)
    except (ValueError, TypeError):
        return ()


@dataclass(frozen=True)
class StoredTask:
    """A task item as a load read it: its body as stored (offloaded payloads not put back)."""

    task_id: str
    store_key: str
    body: str
    version: int
    created_revision: int
    pending_effect: bool
    expires_at: datetime | None


# A task item written alone travels with the decision it asks for when its body is at most
# this long (an SQS message holds 256 KB): the decider need not read it back.
CARRIED_BODY_CHARS = 8192


def carried(task: StoredTask) -> dict[str, object] | None:
    """A task item written alone as its ask carries it, or None if its body is too long."""
    if task.pending_effect or len(task.body) > CARRIED_BODY_CHARS:
        return None
    return {
        "key": task.store_key,
        "version": task.version,
        "createdRevision": task.created_revision,
        "body": task.body,
    }


def from_carried(value: object) -> StoredTask | None:
    """The task item an ask carries (its expiry unknown), or None if it carries none that
    reads."""
    if not isinstance(value, dict):
        return None
    key, version, created, body = (
        value.get("key"),
        value.get("version"),
        value.get("createdRevision"),
        value.get("body"),
    )
    if not (isinstance(key, str) and isinstance(body, str) and "#" in key):
        return None
    if not (isinstance(version, int) and isinstance(created, int)):
        return None
    return StoredTask(
        task_id=key.partition("#")[0],
        store_key=key,
        body=body,
        version=version,
        created_revision=created,
        pending_effect=False,
        expires_at=None,
    )


@dataclass(frozen=True)
class LoadedWorkflow:
    """What an environment knows of a workflow from its last load: the workflow item's
    revision, task set, landed attempts and log, and its visible task items by key."""

    revision: int
    tasks_from_revision: int
    staged_attempts: frozenset[str]
    log: Log
    tasks: Mapping[str, StoredTask]


@dataclass(frozen=True)
class ItemHead:
    """The parts of a freshly read workflow item that tell which task items are its."""

    revision: int
    tasks_from_revision: int
    staged_attempts: frozenset[str]
    log: Log

    def holds(self, created_revision: int, attempt: str | None) -> bool:
        """Whether a task item of that revision and attempt belongs to this revision."""
        return self.tasks_from_revision <= created_revision <= self.revision and (
            attempt is None or attempt in self.staged_attempts
        )


def keys_to_read(
    loaded: LoadedWorkflow, head: ItemHead, fresh_task_ids: Iterable[str]
) -> set[str] | None:
    """The task items to read to bring `loaded` up to `head`, with the tasks named by
    `fresh_task_ids` read afresh; None when only reading every task item is safe."""
    if (
        loaded.tasks_from_revision != head.tasks_from_revision
        or loaded.revision > head.revision
        or not loaded.staged_attempts <= head.staged_attempts
    ):
        return None
    key_of = {t.task_id: t.store_key for t in loaded.tasks.values()}
    # A task still owing a message has its record cleared by a write no log names.
    wanted = {t.store_key for t in loaded.tasks.values() if t.pending_effect}
    by_revision = {e.revision: e for e in head.log}
    for revision in range(loaded.revision + 1, head.revision + 1):
        entry = by_revision.get(revision)
        if entry is None or not entry.known:
            return None
        if entry.new_ids and (entry.attempt is None or entry.attempt not in head.staged_attempts):
            return None
        for task_id in entry.new_ids:
            key_of[task_id] = staged_key(task_id, entry.attempt or "")
            wanted.add(key_of[task_id])
        for task_id in entry.changed_ids:
            if task_id not in key_of:
                return None
            wanted.add(key_of[task_id])
    for task_id in fresh_task_ids:
        if task_id not in key_of:
            return None  # not a task this environment knows of: read them all
        wanted.add(key_of[task_id])
    return wanted


class LoadedWorkflows:
    """The workflows an environment loaded last, the least recently used dropped first."""

    def __init__(self, kept: int = WORKFLOWS_KEPT) -> None:
        self._kept = kept
        self._loaded: OrderedDict[str, LoadedWorkflow] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, workflow_id: str) -> LoadedWorkflow | None:
        with self._lock:
            return self._loaded.get(workflow_id)

    def put(self, workflow_id: str, loaded: LoadedWorkflow) -> None:
        with self._lock:
            self._loaded[workflow_id] = loaded
            self._loaded.move_to_end(workflow_id)
            while len(self._loaded) > self._kept:
                self._loaded.popitem(last=False)

    def written(self, workflow_id: str, task: StoredTask, previous_version: int) -> None:
        """A task item was written by itself at `task.version`: keep it, if what is kept
        held it at the version the write was conditioned on."""
        with self._lock:
            loaded = self._loaded.get(workflow_id)
            if loaded is None:
                return
            kept = loaded.tasks.get(task.store_key)
            if kept is None or kept.version != previous_version:
                return
            tasks = {**loaded.tasks, task.store_key: task}
            self._loaded[workflow_id] = LoadedWorkflow(
                loaded.revision,
                loaded.tasks_from_revision,
                loaded.staged_attempts,
                loaded.log,
                tasks,
            )

    def forget(self, workflow_ids: Collection[str] | None = None) -> None:
        """Drop what is kept of these workflows (None: of every workflow)."""
        with self._lock:
            if workflow_ids is None:
                self._loaded.clear()
            for workflow_id in workflow_ids or ():
                self._loaded.pop(workflow_id, None)
