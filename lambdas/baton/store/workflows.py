"""Workflows and their tasks in DynamoDB, committed one decision at a time.

A decision's new tasks are written first, under keys tagged with a fresh attempt id; then the
workflow item and the tasks the decision changed are written in one TransactWrite conditioned
on the workflow's `revision` (and each task's `version`), which also lists the attempt on the
workflow. Until that lands the new tasks are invisible, and if it fails they stay invisible.
Two decisions on one workflow at the same instant, such as two fork branches ending together,
cannot both land: the loser reloads, decides again on the new state and retries, with a
bounded, jittered back-off. Writing new tasks outside the transaction halves what they cost
(DynamoDB bills transactional writes twice) and lifts the 100-item limit on a decision.

A task update whose decision loses the race is not decided again: the task, as the update
leaves it, is written onto its item alone (conditioned on the task's own version) and marked
as owing its workflow a decision, which the next decision makes for it (`update_task`). A
thousand branches ending at once are folded into a few decisions instead of each retrying.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from baton.engine.decider import Decision
from baton.engine.effects import ArmTimer, Effect, PublishMessage, message_from_output
from baton.engine.endings import pending_workflow_deadline
from baton.engine.run import definition_index
from baton.engine.state import (
    Task,
    TaskStatus,
    Workflow,
    WorkflowStatus,
    canceled_by_end,
    stored_workflow_task,
    task_prefix_of,
    workflow_task_prefix,
)
from baton.engine.tasks import task_type_of
from baton.errors import CommitContention, ItemTooLarge, NotFound
from baton.store import changes, payloads
from baton.store.changes import staged_key
from baton.store.clock import now_ms
from baton.store.metadata import MetadataStore, snapshot_id
from baton.store.models import (
    DUE_SHARDS,
    POLL_SHARDS,
    STATUS_SHARDS,
    TYPE_STATUS_SHARDS,
    TaskItem,
    WorkflowItem,
)
from baton.store.queues import WIDEN_BACKLOG, QueueWidths, is_mark, mark_end, poll_key
from baton.store.search import status_key, type_status_key, workflow_search_keys

_log = logging.getLogger(__name__)

# DynamoDB's cap on items in one transaction.
MAX_TRANSACTION_ITEMS = 100
# Writes of one task item after a commit before it is left as it reads (each retry follows
# a change someone else made to it meanwhile).
AFTER_COMMIT_ATTEMPTS = 3
# DynamoDB stores items up to 400 KB; the body may take this much, the rest is keys and indexes.
MAX_BODY_BYTES = 380 * 1024
# A message recorded with a commit is sent right after it; if that send is not confirmed
# within this long, the scheduled sweep sends it again.
PENDING_EFFECT_GRACE_MS = 30_000
# Every task item is written with an expiry: this long past the workflow's retention from the
# write (or from the workflow's end). A workflow that ends within this long of a task's write
# needs no write to that task at its end; the sweep pushes the expiry of the tasks of a
# workflow still running near it (`keep_long_running`).
TASK_EXPIRY_SLACK = timedelta(days=1)
# The sweep keeps a running workflow's tasks that are this close to their expiry; the end of
# a workflow rewrites the expiry of tasks written more than the slack less this before it.
KEEP_MARGIN = timedelta(hours=12)
# A task item expires at least this long after it was written (a retention of at least a
# day and the slack), so the sweep looks only at workflows started before that.
KEEP_AFTER = timedelta(hours=24)
# How many workflows' task expiries a store remembers from its loads.
LOADED_EXPIRIES_KEPT = 256
# How far past the retention the sweep pushes the tasks of a long-running workflow.
KEEP_EXTENSION = timedelta(days=7)
# A decision reads only what changed for this many attempts; the next one reads every task.
CAUGHT_UP_ATTEMPTS = 3
# A workflow of at least this many tasks is wide: its body says how many it has and how many
# are open (`WIDTH_FIELD`), and an update of one of its tasks by id may skip the decision
# (`WorkflowStore.update_task`). Below it, reading every task costs a few read units.
WIDE_TASKS = 32
# With this many tasks open an update of a wide workflow never decides: its writers would
# each catch up on the others' completions (a fork's reads would grow with its width times
# its writers); it writes its task alone and asks for a decision that folds many.
WIDE_OPEN_TASKS = 32
# With fewer open, an update decides when its environment catches up in this many task reads.
CHEAP_CATCH_UP_READS = 8
# The key of the workflow body where the store keeps a wide workflow's [tasks, open tasks].
WIDTH_FIELD = "storedWidth"


@dataclass
class CommitStats:
    """Counters a caller may report as metrics."""

    commits: int = 0
    retries: int = 0
    # Task updates written onto their task items alone: after their decision lost a race,
    # or, in a wide workflow, without one (`updates_alone` of them).
    written_alone: int = 0
    updates_alone: int = 0
    # Decisions' loads that read only what changed, and those that read every task item.
    loads_caught_up: int = 0
    loads_whole: int = 0


@dataclass(frozen=True)
class IdempotencyClaim:
    """Claim an idempotency key in the same transaction that creates the workflow."""

    record_id: str


class IdempotencyKeyTaken(Exception):
    """The idempotency key is held by another workflow."""

    def __init__(self, existing_workflow_id: str | None) -> None:
        super().__init__(existing_workflow_id)
        self.existing_workflow_id = existing_workflow_id


@dataclass(frozen=True)
class WrittenAlone:
    """A task update written onto its task item alone: its workflow owes a decision on it.
    `workflow` is the workflow as read, holding `task` as the update left it; `stored`, its
    item as written."""

    workflow: Workflow
    task: Task
    stored: changes.StoredTask


def _with_task(workflow: Workflow, task: Task) -> Workflow:
    return replace(
        workflow, tasks=[task if t.task_id == task.task_id else t for t in workflow.tasks]
    )


class RevisionConflict(Exception):
    """Someone else committed to this workflow since it was read, or wrote one of the tasks
    the commit changed. `failed_task_ids`: the tasks whose own condition failed (each
    transaction item tells), None when the reasons do not say."""

    def __init__(self, failed_task_ids: frozenset[str] | None = None) -> None:
        super().__init__(failed_task_ids)
        self.failed_task_ids = failed_task_ids


class WorkflowExists(Exception):
    """A workflow with this id exists already (ids derived from a message repeat with it)."""


@cache
def _connection() -> Connection:
    """One connection per process: creating one builds a botocore client, which is slow."""
    return Connection(region=WorkflowItem.Meta.region, host=WorkflowItem.Meta.host)


def due_shard(task_id: str) -> str:
    return f"due#{zlib.crc32(task_id.encode()) % DUE_SHARDS}"


def running_key(task_type: str, shard: int) -> str:
    """The poll index partition listing one shard of a limited task type's IN_PROGRESS tasks."""
    return f"RUNNING#{task_type}#{shard}"


def _is_limited(task: Task) -> bool:
    task_def = task.workflow_task.task_definition
    return task_def is not None and task_def.concurrent_exec_limit > 0


def poll_shard(task_id: str) -> int:
    return zlib.crc32(task_id.encode()) % POLL_SHARDS


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _body(value: Any, what: str) -> str:
    """A stored body, refused before any write if DynamoDB could not hold its item."""
    text = _dumps(value)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise ItemTooLarge(
            f"The change would make {what} {size} bytes, more than the {MAX_BODY_BYTES} bytes "
            "one DynamoDB item holds; keep large data elsewhere (for example in S3) and pass a "
            "reference to it"
        )
    return text


# A task item's bytes besides its body (keys, status, index attributes, TTL), and what
# DynamoDB bills a write per.
TASK_ITEM_OVERHEAD_BYTES = 200
WRITE_UNIT_BYTES = 1024


@dataclass(frozen=True)
class StoredBody:
    """A task body as its item holds it: text, or compressed when that saves a write unit."""

    text: str | None
    packed: bytes | None

    @classmethod
    def of(cls, text: str) -> StoredBody:
        size = len(text.encode("utf-8", "surrogatepass"))

        def units(body_bytes: int) -> int:
            return -(-(body_bytes + TASK_ITEM_OVERHEAD_BYTES) // WRITE_UNIT_BYTES)

        if units(size) > 1:
            packed = zlib.compress(text.encode("utf-8", "surrogatepass"), 6)
            if units(len(packed)) < units(size):
                return cls(None, packed)
        return cls(text, None)

    def actions(self) -> list[Action]:
        """Set the body in its form and remove the other one."""
        if self.packed is not None:
            return [TaskItem.packed_body.set(self.packed), TaskItem.body.remove()]
        return [TaskItem.body.set(self.text or "{}"), TaskItem.packed_body.remove()]


def task_body_text(item: TaskItem) -> str:
    """A task item's body, in whichever form it was stored."""
    if item.packed_body is not None:
        return zlib.decompress(item.packed_body).decode("utf-8", "surrogatepass")
    return item.body or "{}"


def _stored_task(item: TaskItem) -> changes.StoredTask:
    key = str(item.task_key)
    return changes.StoredTask(
        # Every task key is the task's id, then `#` and what tells its items apart.
        task_id=key.partition("#")[0],
        store_key=key,
        body=task_body_text(item),
        version=int(item.version),
        created_revision=int(item.created_revision),
        pending_effect=item.pending_effect is not None,
        expires_at=item.expires_at,
    )


def _whole_read_units(loaded: changes.LoadedWorkflow) -> int:
    """About what a consistent Query of every task item costs: 4 KB a read unit, the keys and
    attributes beside the body taken as 300 bytes a task (a fan-in's WAIT item is about 580
    bytes, its body about 300)."""
    stored_bytes = sum(len(t.body) + 300 for t in loaded.tasks.values())
    return max(1, stored_bytes // 4096)


def _head(item: WorkflowItem, raw: dict[str, Any]) -> changes.ItemHead:
    return changes.ItemHead(
        revision=int(item.revision),
        # A restart or rerun wrote a new task set at this revision; older tasks are not its.
        tasks_from_revision=int(raw.get("tasksFromRevision", 0)),
        staged_attempts=frozenset(item.staged_attempts or ()),
        log=changes.decode(item.changes, workflow_task_prefix(str(item.workflow_id))),
    )


Effects = dict[str, list[Effect]]
# What marks a task as owing a message: the flag and its place in the due index.
_OWED = ("pending_effect", "due_shard", "due_at")


def _condition_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


_ENDED_WORKFLOW = frozenset(status.value for status in WorkflowStatus if status.is_terminal)
# The statuses of a workflow not yet ended, as the type-and-status index keys hold them.
RUNNING_STATUSES = tuple(status.value for status in WorkflowStatus if not status.is_terminal)


def _split_for_transaction(
    decision: Decision, changed: list[Task], room: int
) -> tuple[list[Task], list[Task]]:
    """The changed existing tasks a decision's transaction holds, and those written after it
    (when there are more than `room`). In the transaction first: tasks that owe a message
    (lost with a crash otherwise) and tasks that were open when read (a worker or a poll may
    change them meanwhile; the transaction's version condition catches that). After it:
    tasks that had ended (marked acted on or retried: a decision redoing it changes nothing
    more; not one reopened), and those the ending of the workflow cancels, which read as
    CANCELED under an ended workflow whether or not their write lands (`settled`)."""
    if len(changed) <= room:
        return changed, []
    ended = decision.workflow.status.is_terminal
    owing = {e.task_id for e in decision.effects if e.owed}

    def may_follow(task: Task) -> bool:
        if task.task_id in owing:
            return False
        if task.stored_status is None or task.stored_status.is_terminal:
            # Not one reopened (a retry's JOIN): read as it was, it would end the workflow.
            return task.status.is_terminal
        return ended and task.status == TaskStatus.CANCELED

    first = [t for t in changed if not may_follow(t)]
    rest = [t for t in changed if may_follow(t)]
    ordered = first + rest
    return ordered[:room], ordered[room:]


@dataclass(frozen=True)
class Claim:
    """A task a poll handed out, with its workflow (holding that task only, without its own
    payloads kept in S3) and its deadline."""

    workflow: Workflow
    task: Task
    deadline: int | None


@dataclass(frozen=True)
class DueEntry:
    """An entry of the due index: a task whose timer or owed message is due."""

    workflow_id: str
    task_key: str
    due_at: int


@dataclass
class WorkflowStore:
    """Loads workflows and commits decisions, retrying those that lose a race."""

    retention_days: int = 30
    max_attempts: int = 25
    clock: Callable[[], int] = now_ms
    sleep: Callable[[float], None] = time.sleep
    stats: CommitStats = field(default_factory=CommitStats)
    # Where the definition snapshots the workflows run are kept.
    metadata: MetadataStore = field(default_factory=MetadataStore)
    # Task and workflow payloads too large for their items (see baton.store.payloads).
    payloads: payloads.PayloadStore = field(default_factory=payloads.PayloadStore)
    # Which worker-task queues are spread over every poll shard (baton.store.queues).
    queues: QueueWidths = field(default_factory=QueueWidths)
    # The expiry of each task item as the last loads read it, by workflow: (revision,
    # {task key: expiry}), so the commit that ends a workflow rewrites only the tasks that
    # would expire before it.
    _loaded_expiries: OrderedDict[str, tuple[int, dict[str, datetime | None]]] = field(
        default_factory=OrderedDict, repr=False
    )
    # The workflows this environment loaded, which a decision's load catches up from.
    loaded: changes.LoadedWorkflows = field(default_factory=changes.LoadedWorkflows, repr=False)

    # -- reading ---------------------------------------------------------------------------

    def load(
        self,
        workflow_id: str,
        *,
        fresh_task_ids: Collection[str] | None = None,
        item: WorkflowItem | None = None,
        written: Mapping[str, changes.StoredTask] | None = None,
    ) -> Workflow | None:
        """The workflow as its items hold it. With `fresh_task_ids` None every task item is
        read (what answers users, the sweep's repairs); with a collection, a decision's read:
        the task items this environment loaded before, caught up through the workflow item's
        log of changes, with the tasks of those ids read afresh (every task item whenever the
        log does not tell; see baton.store.changes). `item`: the workflow item, if the caller
        has just read it (consistently). `written`: task items written alone as their asks
        carry them, by key, taken as read unless the log names a change to them since."""
        if item is None:
            item = self._read_item(workflow_id)
        if item is None or item.body is None:
            return None  # none, or an idempotency record, not a workflow
        raw = json.loads(item.body)
        head = _head(item, raw)
        stored: list[changes.StoredTask] | None = None
        if fresh_task_ids is not None:
            stored = self._caught_up(workflow_id, head, fresh_task_ids, written or {})
            if stored is None:
                self.stats.loads_whole += 1
            else:
                self.stats.loads_caught_up += 1
        if stored is None:
            stored = self._read_all_tasks(workflow_id, head)
        self._remember_expiries(
            workflow_id, head.revision, {t.store_key: t.expires_at for t in stored}
        )
        self.loaded.put(
            workflow_id,
            changes.LoadedWorkflow(
                head.revision,
                head.tasks_from_revision,
                head.staged_attempts,
                head.log,
                {t.store_key: t for t in stored},
            ),
        )
        return self._workflow_of(workflow_id, raw, stored, head.revision)

    def _read_item(self, workflow_id: str) -> WorkflowItem | None:
        try:
            return WorkflowItem.get(workflow_id, consistent_read=True)
        except DoesNotExist:
            return None

    def _workflow_of(
        self,
        workflow_id: str,
        raw: dict[str, Any],
        stored: list[changes.StoredTask],
        revision: int,
    ) -> Workflow:
        """The engine's workflow from the item's body and the task items read."""
        # Payloads kept in S3 are put back before the engine sees a body.
        body, *task_bodies = self.payloads.join_all(
            [raw, *(json.loads(t.body) for t in stored)], workflow_id
        )
        definition = self.metadata.load_snapshot(body["definitionId"])
        index = definition_index(definition)
        tasks = [
            Task.from_store(
                task_body,
                stored_workflow_task(task_body, index.task),
                version=task.version,
                created_revision=task.created_revision,
                pending_effect=task.pending_effect,
                store_key=task.store_key,
            )
            for task, task_body in zip(stored, task_bodies, strict=True)
        ]
        return Workflow.from_store(body, definition, tasks, revision=revision)

    def _read_all_tasks(self, workflow_id: str, head: changes.ItemHead) -> list[changes.StoredTask]:
        """Every visible task item of the workflow: one consistent Query."""
        return [
            _stored_task(task_item)
            for task_item in TaskItem.query(workflow_id, consistent_read=True)
            if head.holds(int(task_item.created_revision), task_item.attempt)
        ]

    def _caught_up(
        self,
        workflow_id: str,
        head: changes.ItemHead,
        fresh_task_ids: Collection[str],
        written: Mapping[str, changes.StoredTask],
    ) -> list[changes.StoredTask] | None:
        """The task items kept from an earlier load, with those the log names since and the
        `fresh_task_ids` read again (one consistent BatchGetItem); None when in doubt. A
        fresh task's item as `written` carries it is taken instead of read if the log names
        no change to it since: the newer of it and the one kept (which, as new, has seen the
        write the ask follows)."""
        loaded = self.loaded.get(workflow_id)
        if loaded is None:
            return None
        keys = changes.keys_to_read(loaded, head, fresh_task_ids)
        if keys is None:
            return None
        tasks = dict(loaded.tasks)
        if written:
            logged = changes.keys_to_read(loaded, head, ()) or set()
            for key in keys - logged:
                carried, kept = written.get(key), loaded.tasks.get(key)
                if (
                    carried is None
                    or kept is None
                    or carried.created_revision != kept.created_revision
                ):
                    continue
                if carried.version > kept.version:
                    tasks[key] = replace(carried, expires_at=kept.expires_at)
                keys.discard(key)
        if len(loaded.tasks) >= WIDE_TASKS and len(keys) > _whole_read_units(loaded):
            # A wide workflow's decision that lost races has many tasks to read afresh:
            # reading them all costs less.
            return None
        if keys:
            found = {
                str(item.task_key): item
                for item in TaskItem.batch_get(
                    [(workflow_id, key) for key in sorted(keys)], consistent_read=True
                )
            }
            for key in keys:
                item = found.get(key)
                if item is None:
                    return None  # a task item the log or the cache names is gone
                if head.holds(int(item.created_revision), item.attempt):
                    tasks[key] = _stored_task(item)
                else:
                    tasks.pop(key, None)
        return list(tasks.values())

    def _remember_expiries(
        self, workflow_id: str, revision: int, read: dict[str, datetime | None]
    ) -> None:
        expiries = self._loaded_expiries
        expiries[workflow_id] = (revision, read)
        expiries.move_to_end(workflow_id)
        while len(expiries) > LOADED_EXPIRIES_KEPT:
            expiries.popitem(last=False)

    def require(
        self, workflow_id: str, *, fresh_task_ids: Collection[str] | None = None
    ) -> Workflow:
        workflow = self.load(workflow_id, fresh_task_ids=fresh_task_ids)
        if workflow is None:
            raise NotFound(f"No such workflow found by id: {workflow_id}")
        return workflow

    def workflow_id_for_task(self, task_id: str) -> str | None:
        """The workflow of a task named by its id alone: the workflows whose task ids begin
        as this one does (one, but for a 48-bit collision), checked for a task item of that
        id; else the task-id index, for tasks written before the prefix existed."""
        prefix = task_prefix_of(task_id)
        if prefix is not None:
            for candidate in WorkflowItem.by_task_prefix.query(prefix):
                workflow_id = str(candidate.workflow_id)
                for _ in TaskItem.query(
                    workflow_id,
                    TaskItem.task_key.startswith(f"{task_id}#"),
                    limit=1,
                    attributes_to_get=["workflowId", "taskKey"],
                ):
                    return workflow_id
        for item in TaskItem.by_task_id.query(task_id, limit=1):
            return str(item.workflow_id)
        return None

    def ids_by_correlation(self, name: str, correlation_id: str) -> list[str]:
        return [
            str(item.workflow_id)
            for item in WorkflowItem.by_correlation.query(
                f"{name}#{correlation_id}", scan_index_forward=False
            )
        ]

    def running_ids(
        self, name: str, version: int, *, start_time: int | None, end_time: int | None
    ) -> list[str]:
        """Ids of the workflows of `name` at `version` not yet ended (RUNNING or PAUSED, as
        Conductor's running list), started between the times if given (epoch ms, inclusive),
        oldest first. Read from the type-and-status index (a Query per status and shard),
        then the items, for the version (an index of its own would cost every workflow two
        index writes, in at its start and out at its end, for this rarely used list)."""
        condition = None
        if start_time is not None or end_time is not None:
            condition = WorkflowItem.create_time.between(
                start_time if start_time is not None else 0,
                end_time if end_time is not None else 2**63 - 1,
            )
        found: list[str] = []
        for status in RUNNING_STATUSES:
            for shard in range(TYPE_STATUS_SHARDS):
                found += [
                    str(entry.workflow_id)
                    for entry in WorkflowItem.by_type_status.query(
                        type_status_key(name, status, shard), range_key_condition=condition
                    )
                ]
        listed: list[tuple[int, str]] = []
        # Eventually consistent, as the index it follows is (and half the price).
        for item in WorkflowItem.batch_get(list(dict.fromkeys(found)), consistent_read=False):
            if item.body is None or item.name != name or item.status not in RUNNING_STATUSES:
                continue  # ended since the index read it
            definition = self.metadata.load_snapshot(json.loads(item.body)["definitionId"])
            if definition.version == version:
                listed.append((int(item.create_time or 0), str(item.workflow_id)))
        return [workflow_id for _, workflow_id in sorted(listed)]

    # -- writing ---------------------------------------------------------------------------

    def create(self, decision: Decision, *, claim: IdempotencyClaim | None = None) -> None:
        """Write a new workflow; raises IdempotencyKeyTaken when the claimed key is held."""
        # The snapshot first: a workflow is never readable without its definition.
        self.metadata.save_snapshot(decision.workflow.definition)
        self._commit(decision, expected_revision=None, claim=claim)

    def mutate(
        self,
        workflow_id: str,
        change: Callable[[Workflow], Decision],
        *,
        fresh_task_ids: Collection[str] | None = None,
        written: Mapping[str, changes.StoredTask] | None = None,
    ) -> Decision:
        """Load, decide with `change`, commit; on a lost race, reload and decide again.
        `fresh_task_ids` and `written` as `load` takes them: None reads every task item."""
        outcome = self._decide_and_commit(
            workflow_id, change, None, fresh_task_ids, written=written
        )
        assert isinstance(outcome, Decision)
        return outcome

    def update_task(
        self,
        workflow_id: str,
        change: Callable[[Workflow], Decision],
        updated: Callable[[Workflow], Task | None],
        *,
        fresh_task_ids: Collection[str] | None = None,
        task_id: str | None = None,
    ) -> Decision | WrittenAlone:
        """Commit a task update's decision (`change`) in one optimistic attempt; if that loses
        the race, write the task as the update leaves it (`updated`) onto its item alone,
        owing its workflow a decision, and answer WrittenAlone: the caller asks for that
        decision. Only when the task item itself changed since it was read is the workflow
        read and decided again, so contention on the workflow never turns the update away.
        `fresh_task_ids` (the updated task's, as `load` takes them) read only what changed.

        An update of the task `task_id` of a wide workflow (see WIDE_TASKS) does not decide
        at all: it reads the workflow item and that one task item, writes the task alone and
        answers WrittenAlone, so what a fork's writers read grows with its width only."""
        item = self._read_item(workflow_id)
        if task_id is not None and item is not None and item.body is not None:
            raw = json.loads(item.body)
            head = _head(item, raw)
            if self._decides_elsewhere(workflow_id, raw, head):
                alone = self._update_alone(workflow_id, raw, head, task_id, updated)
                if alone is not None:
                    return alone
                item = None  # the task changed under it: the decision reads everything afresh
        return self._decide_and_commit(workflow_id, change, updated, fresh_task_ids, item)

    def _decides_elsewhere(
        self, workflow_id: str, raw: dict[str, Any], head: changes.ItemHead
    ) -> bool:
        """Whether an update of this workflow writes its task alone without deciding: the
        workflow is wide and has many tasks open, or this environment's copy of it would
        take more than a few reads to catch up."""
        width = raw.get(WIDTH_FIELD)
        if not width:
            return False
        _, open_tasks = width
        if int(open_tasks) >= WIDE_OPEN_TASKS:
            return True
        loaded = self.loaded.get(workflow_id)
        keys = changes.keys_to_read(loaded, head, ()) if loaded is not None else None
        return keys is None or len(keys) > CHEAP_CATCH_UP_READS

    def _update_alone(
        self,
        workflow_id: str,
        raw: dict[str, Any],
        head: changes.ItemHead,
        task_id: str,
        updated: Callable[[Workflow], Task | None],
    ) -> Decision | WrittenAlone | None:
        """The update applied to the one task read by key and written alone; an unchanged
        Decision when the update changes nothing; None when the decision must be made here
        (the task is not found, owes a message, or changed since it was read)."""
        stored = self._read_one_task(workflow_id, head, task_id)
        if stored is None:
            return None
        # The workflow as far as this update needs it: its item and the one task.
        workflow = self._workflow_of(workflow_id, raw, [stored], head.revision)
        task = updated(workflow)
        if task is None:
            return Decision(workflow=workflow)
        written = self._write_alone(workflow, task)
        if written is None:
            return None
        self.stats.written_alone += 1
        self.stats.updates_alone += 1
        return WrittenAlone(_with_task(workflow, task), task, written)

    def _read_one_task(
        self, workflow_id: str, head: changes.ItemHead, task_id: str
    ) -> changes.StoredTask | None:
        """The task item of `task_id` this revision holds: by key if this environment knows
        the key, else a consistent Query of the keys that begin with the id."""
        loaded = self.loaded.get(workflow_id)
        known = (
            [t.store_key for t in loaded.tasks.values() if t.task_id == task_id]
            if loaded is not None
            else []
        )
        items: list[TaskItem] = []
        if known:
            try:
                items = [TaskItem.get(workflow_id, known[0], consistent_read=True)]
            except DoesNotExist:
                items = []
        if not items:
            items = list(
                TaskItem.query(
                    workflow_id,
                    TaskItem.task_key.startswith(f"{task_id}#"),
                    consistent_read=True,
                )
            )
        held = [i for i in items if head.holds(int(i.created_revision), i.attempt)]
        if not held:
            return None
        return _stored_task(max(held, key=lambda i: int(i.created_revision)))

    def _decide_and_commit(
        self,
        workflow_id: str,
        change: Callable[[Workflow], Decision],
        updated: Callable[[Workflow], Task | None] | None,
        fresh_task_ids: Collection[str] | None,
        item: WorkflowItem | None = None,
        *,
        written: Mapping[str, changes.StoredTask] | None = None,
    ) -> Decision | WrittenAlone:
        """`item`: the workflow item as the caller has just read it, and `written` the task
        items asks carried (see `load`), for the first attempt."""
        fresh = None if fresh_task_ids is None else set(fresh_task_ids)
        for attempt in range(self.max_attempts):
            # A decision that keeps losing reads every task once: whatever it missed, it sees.
            # Later attempts catch up from that read, which is as exact as a read can be:
            # reading everything again each time would lose every race to faster readers.
            reading = None if attempt == CAUGHT_UP_ATTEMPTS else fresh
            loaded = self.load(workflow_id, fresh_task_ids=reading, item=item, written=written)
            item = written = None
            if loaded is None:
                raise NotFound(f"No such workflow found by id: {workflow_id}")
            workflow = loaded
            decision = change(workflow)
            if not decision.changed:
                return decision
            try:
                self._commit(decision, expected_revision=workflow.revision)
                return decision
            except RevisionConflict as conflict:
                self.stats.retries += 1
                failed = conflict.failed_task_ids
            if fresh is not None:
                # A task written alone meanwhile fails its version condition without a new
                # revision: the next read takes those tasks afresh (every task this decision
                # wrote if the reasons do not say which; the rest the log names).
                fresh |= (
                    failed
                    if failed is not None
                    else {
                        t.task_id
                        for t in decision.changed_tasks
                        if t.task_id not in decision.new_task_ids
                    }
                )
            if updated is not None:
                task = updated(workflow)
                stored = self._write_alone(workflow, task) if task is not None else None
                if task is not None and stored is not None:
                    self.stats.written_alone += 1
                    return WrittenAlone(_with_task(workflow, task), task, stored)
                # The task itself changed since it was read: decide again on what it is now.
                if task is not None and fresh is not None:
                    fresh.add(task.task_id)
            # Full jitter, capped: contenders spread out instead of colliding again.
            self.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
        raise CommitContention(
            f"Workflow {workflow_id} changed under {self.max_attempts} attempts in a row; try again"
        )

    def _write_alone(self, workflow: Workflow, task: Task) -> changes.StoredTask | None:
        """Write `task` onto its item by itself, conditioned on the version read, marked as
        owing its workflow a decision (`continue_at`: the next decision of any kind clears
        it, and the due index lets the sweep decide if nobody does); the item as written, or
        None if the item has changed since. A task still owing a message keeps to the
        decision path: the sweep's resend of that message would take the task out of the due
        index."""
        if task.pending_effect or not task.store_key:
            return None
        now = self.clock()
        marked = replace(task, continue_at=now)
        objects: dict[str, bytes] = {}
        body = self._task_body(marked, workflow.workflow_id, objects)
        self.payloads.write(objects, workflow.workflow_id)
        try:
            TaskItem(workflow.workflow_id, task.store_key).update(
                actions=self._task_actions(marked, body, {}, now, None),
                condition=TaskItem.version == task.version,
            )
        except UpdateError as error:
            if _condition_failed(error):
                return None
            raise
        stored = changes.StoredTask(
            task_id=task.task_id,
            store_key=task.store_key,
            body=body,
            version=task.version + 1,
            created_revision=task.created_revision,
            pending_effect=False,
            expires_at=self._loaded_expiry(workflow.workflow_id, task.store_key),
        )
        self.loaded.written(workflow.workflow_id, stored, previous_version=task.version)
        task.continue_at = now
        task.version += 1
        return stored

    def _loaded_expiry(self, workflow_id: str, task_key: str) -> datetime | None:
        loaded = self.loaded.get(workflow_id)
        kept = loaded.tasks.get(task_key) if loaded is not None else None
        return kept.expires_at if kept is not None else None

    def _commit(
        self,
        decision: Decision,
        *,
        expected_revision: int | None,
        claim: IdempotencyClaim | None = None,
    ) -> None:
        workflow = decision.workflow
        now = self.clock()
        revision = (expected_revision or 0) + 1
        effects: Effects = {}
        for effect in decision.effects:
            effects.setdefault(effect.task_id, []).append(effect)
        # Every body once, and refused before anything is written if DynamoDB could not hold it.
        objects: dict[str, bytes] = {}
        fields = self._workflow_fields(workflow, objects)
        ends_at = fields["expires_at"]
        # Every task written gets its expiry now (see TASK_EXPIRY_SLACK).
        expires_at = self._task_expiry()
        bodies = {
            t.task_id: self._task_body(t, workflow.workflow_id, objects)
            for t in decision.changed_tasks
        }
        if decision.fresh_task_set:
            # A restart may run the latest definition: its snapshot is written first.
            self.metadata.save_snapshot(workflow.definition)
        # Large payloads before the commit that refers to them (see baton.store.payloads).
        self.payloads.write(objects, workflow.workflow_id)
        new_tasks = [t for t in decision.changed_tasks if t.task_id in decision.new_task_ids]
        changed = [t for t in decision.changed_tasks if t.task_id not in decision.new_task_ids]
        room = MAX_TRANSACTION_ITEMS - 1 - (1 if claim else 0)
        inline, later = _split_for_transaction(decision, changed, room)
        attempt = str(uuid.uuid4()) if new_tasks else None
        fields["changes"] = self._change_log(decision, expected_revision, attempt)
        if attempt is not None:
            self._stage(new_tasks, bodies, workflow, effects, revision, attempt, now, expires_at)
        try:
            if claim is None and not inline:
                # The workflow item by itself: a plain conditional write costs half a transaction.
                self._write_workflow(None, workflow, expected_revision, attempt, fields)
            else:
                with TransactWrite(connection=_connection()) as transaction:
                    self._write_workflow(transaction, workflow, expected_revision, attempt, fields)
                    if claim is not None:
                        transaction.save(
                            WorkflowItem(claim.record_id, target_workflow_id=workflow.workflow_id),
                            condition=WorkflowItem.workflow_id.does_not_exist(),
                        )
                    for task in inline:
                        transaction.update(
                            TaskItem(workflow.workflow_id, task.store_key),
                            actions=self._task_actions(
                                task, bodies[task.task_id], effects, now, expires_at
                            ),
                            condition=TaskItem.version == task.version,
                        )
        except (TransactWriteError, PutError, UpdateError) as error:
            if attempt is not None:
                self._discard(workflow.workflow_id, new_tasks)
            # The transaction's items: the workflow item, the claim, then the tasks in order.
            self._raise_conflict(error, claim, expected_revision, [t.task_id for t in inline])
            raise
        self.stats.commits += 1
        if not later and ends_at is None:
            self._remember_commit(decision, expected_revision, attempt, fields, bodies, expires_at)
        # Past a transaction's size: the rest of a very large decision's changes follow the
        # commit, each on its own version condition. The commit has landed: nothing here
        # may fail the caller (what is not written reads as `settled` implies).
        for task in later:
            self._write_after_commit(workflow, task, bodies[task.task_id], effects, now, expires_at)
        if ends_at is not None and expires_at is not None:
            self._expire_untouched(decision, expires_at, ends_at, now, expected_revision)
            self.payloads.ended(workflow.workflow_id)
        if decision.fresh_task_set:
            self._delete_tasks(workflow.workflow_id, before_revision=revision)
        if decision.removed_tasks:
            self._delete_removed(decision)

    def _remember_commit(
        self,
        decision: Decision,
        expected_revision: int | None,
        attempt: str | None,
        fields: dict[str, Any],
        bodies: dict[str, str],
        expires_at: datetime | None,
    ) -> None:
        """Keep what this commit wrote as this environment's copy of the workflow, so that
        its next decision does not read back its own writes (a decision folding many tasks
        written alone is more than the log can name: the next would read every task). Only
        a commit whose every write has landed with it, onto the copy it was decided on."""
        workflow_id = decision.workflow.workflow_id
        loaded = self.loaded.get(workflow_id)
        if (
            loaded is None
            or expected_revision is None
            or loaded.revision != expected_revision
            or decision.fresh_task_set
            or decision.removed_tasks
        ):
            self.loaded.forget([workflow_id])
            return
        revision = expected_revision + 1
        tasks = dict(loaded.tasks)
        for task in decision.changed_tasks:
            new = task.task_id in decision.new_task_ids
            kept = tasks.get(task.store_key)
            if not new and (kept is None or kept.version != task.version):
                self.loaded.forget([workflow_id])
                return
            tasks[task.store_key] = changes.StoredTask(
                task_id=task.task_id,
                store_key=task.store_key,
                body=bodies[task.task_id],
                version=1 if new else task.version + 1,
                created_revision=revision if new else task.created_revision,
                pending_effect=task.pending_effect,
                # Without one of its own the write left the item's expiry as it was.
                expires_at=expires_at
                if expires_at is not None or kept is None
                else kept.expires_at,
            )
        self.loaded.put(
            workflow_id,
            changes.LoadedWorkflow(
                revision,
                loaded.tasks_from_revision,
                loaded.staged_attempts | ({attempt} if attempt else set()),
                changes.decode(fields["changes"], workflow_task_prefix(workflow_id)),
                tasks,
            ),
        )

    def _write_after_commit(
        self,
        workflow: Workflow,
        task: Task,
        body: str,
        effects: Effects,
        now: int,
        expires_at: datetime | None,
    ) -> None:
        """Write one of a committed decision's changes that did not fit its transaction.

        The item may have changed since it was read (a worker's result written alone, a
        claim, another decision): a task that has ended meanwhile keeps its own ending (a
        COMPLETED that got there first stays COMPLETED, as in Conductor); one still open
        takes the decision's change on its new version (under an ended workflow: CANCELED,
        as it now reads). Any failure is logged, never raised: what is left unwritten reads
        as the commit implies (`settled`), and a poll settles a task left in its queue."""
        key = task.store_key
        try:
            for _ in range(AFTER_COMMIT_ATTEMPTS):
                try:
                    TaskItem(workflow.workflow_id, key).update(
                        actions=self._task_actions(task, body, effects, now, expires_at),
                        condition=TaskItem.version == task.version,
                    )
                    return
                except UpdateError as error:
                    if not _condition_failed(error):
                        raise
                # A Query, not a GetItem: every function that decides may Query the tasks.
                found = list(
                    TaskItem.query(
                        workflow.workflow_id, TaskItem.task_key == key, consistent_read=True
                    )
                )
                if not found:
                    return  # removed since (a DO_WHILE's keepLastN, a remove)
                (item,) = found
                if item.status is None or TaskStatus(item.status).is_terminal:
                    return
                if workflow.status.is_terminal:
                    task, body = self._canceled_as_stored(workflow, task, item)
                else:
                    task = replace(task, version=int(item.version))
        except Exception:
            _log.warning("Could not write task item %s after the commit", key, exc_info=True)
            return
        _log.warning("Task item %s kept changing after the commit; left as it reads", key)

    def _canceled_as_stored(
        self, workflow: Workflow, task: Task, item: TaskItem
    ) -> tuple[Task, str]:
        """The task as `item` holds it now, CANCELED by its ended workflow, and its body."""
        (stored,) = self.payloads.join_all([json.loads(task_body_text(item))], workflow.workflow_id)
        canceled = canceled_by_end(
            Task.from_store(
                stored,
                task.workflow_task,
                version=int(item.version),
                created_revision=int(item.created_revision),
                pending_effect=item.pending_effect is not None,
                store_key=task.store_key,
            ),
            workflow.end_time,
        )
        objects: dict[str, bytes] = {}
        body = self._task_body(canceled, workflow.workflow_id, objects)
        self.payloads.write(objects, workflow.workflow_id)
        return canceled, body

    def _change_log(
        self, decision: Decision, expected_revision: int | None, attempt: str | None
    ) -> str:
        """The workflow item's log of changes once this decision lands: the log as loaded at
        the expected revision (none if this environment does not hold it), with this commit's
        entry (see baton.store.changes)."""
        workflow_id = decision.workflow.workflow_id
        loaded = self.loaded.get(workflow_id) if expected_revision is not None else None
        previous = loaded.log if loaded is not None and loaded.revision == expected_revision else ()
        revision = (expected_revision or 0) + 1
        if decision.removed_tasks or decision.fresh_task_set:
            entry = changes.LogEntry(revision, known=False)
        else:
            new_ids = decision.new_task_ids
            entry = changes.LogEntry(
                revision,
                attempt,
                tuple(t.task_id for t in decision.changed_tasks if t.task_id in new_ids),
                tuple(t.task_id for t in decision.changed_tasks if t.task_id not in new_ids),
            )
        count = len(decision.workflow.tasks)
        # A wide workflow's log names as many ids as it may: its deciders are a few commits
        # behind one another, and what would cost more by key than a read of every task is
        # read whole anyway (`_caught_up`).
        capacity = changes.LOG_TASK_IDS if count >= WIDE_TASKS else changes.log_capacity(count)
        log = changes.next_log(previous, entry, capacity)
        return changes.encode(log, workflow_task_prefix(workflow_id))

    def _delete_removed(self, decision: Decision) -> None:
        """Delete the items of tasks the decision took out of the workflow (a DO_WHILE's
        keepLastN). Best effort, as Conductor's removeTask: one left behind is an ended task
        of an old iteration, read back with the workflow until its expiry."""
        try:
            with TaskItem.batch_write() as batch:
                for task in decision.removed_tasks:
                    batch.delete(TaskItem(decision.workflow.workflow_id, task.store_key))
        except Exception:
            _log.warning(
                "Could not delete the removed tasks of workflow %s",
                decision.workflow.workflow_id,
                exc_info=True,
            )

    def _task_expiry(self) -> datetime | None:
        """The expiry a task item gets when it is written (None: workflows never expire)."""
        if self.retention_days <= 0:
            return None
        return datetime.now(UTC) + timedelta(days=self.retention_days) + TASK_EXPIRY_SLACK

    def _expire_untouched(
        self,
        decision: Decision,
        expires_at: datetime,
        workflow_expiry: datetime,
        now: int,
        revision: int | None,
    ) -> None:
        """The workflow has ended: its other tasks must outlive it. Each was given an expiry
        when it was written; those the load read as expiring before this one (or without
        one, written before task items had it) are written again. Without what the load
        read, those written more than the slack before this end are (best effort: a task
        left without a TTL costs storage, nothing else)."""
        touched = {t.task_id for t in decision.changed_tasks}
        untouched = [t for t in decision.workflow.tasks if t.task_id not in touched and t.store_key]
        loaded = self._loaded_expiries.get(decision.workflow.workflow_id)
        if loaded is not None and loaded[0] == revision:
            read = loaded[1]
            keys = [
                t.store_key
                for t in untouched
                if t.store_key not in read
                or (found := read[t.store_key]) is None
                or found < workflow_expiry
            ]
        else:
            written_since = now - (TASK_EXPIRY_SLACK - KEEP_MARGIN) // timedelta(milliseconds=1)
            keys = [
                t.store_key
                for t in untouched
                if max(t.scheduled_time, t.update_time) < written_since
            ]
        if not keys:
            return

        def expire(task_key: str) -> None:
            try:
                TaskItem(decision.workflow.workflow_id, task_key).update(
                    actions=[TaskItem.expires_at.set(expires_at)]
                )
            except UpdateError:
                _log.warning("Could not set the expiry of task item %s", task_key)

        # Side by side: these writes sit between the decision and the function's next record.
        with ThreadPoolExecutor(max_workers=min(8, len(keys) or 1)) as pool:
            list(pool.map(expire, keys))

    def keep_long_running(self, now: int) -> int:
        """Push the expiry of the tasks of workflows still running (or paused) that come
        within KEEP_MARGIN of it, so that no running workflow loses a task. A task expires at
        least two days after it was written (a retention of at least a day, and the slack),
        so only workflows started more than KEEP_AFTER ago can hold one. Each sweep reads one
        of the 16 RUNNING and PAUSED partitions of the status index (sorted by start time,
        so only those workflows), and reads the tasks of a quarter of what it finds: every
        such workflow's tasks are read once in 64 minutes. Whatever the retention was when a
        task was written, its own expiry is what is checked. Returns how many workflows had
        tasks kept."""
        if self.retention_days <= 0:
            return 0
        started_by = now - KEEP_AFTER // timedelta(milliseconds=1)
        minute = now // 60_000
        partitions = [
            status_key(status.value, shard)
            for status in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)
            for shard in range(STATUS_SHARDS)
        ]
        partition = partitions[minute % len(partitions)]
        quarter = minute // len(partitions) % 4
        kept = 0
        for entry in WorkflowItem.by_status.query(
            partition, WorkflowItem.create_time <= started_by
        ):
            workflow_id = str(entry.workflow_id)
            if zlib.crc32(workflow_id.encode()) % 4 == quarter and self._keep_tasks(workflow_id):
                kept += 1
        return kept

    def _keep_tasks(self, workflow_id: str) -> bool:
        wall = datetime.now(UTC)
        soon = wall + KEEP_MARGIN
        until = wall + timedelta(days=self.retention_days) + TASK_EXPIRY_SLACK + KEEP_EXTENSION
        expiring = [
            item.task_key
            for item in TaskItem.query(
                workflow_id, attributes_to_get=["workflowId", "taskKey", "expires_at"]
            )
            if item.expires_at is not None and item.expires_at < soon
        ]
        for task_key in expiring:
            TaskItem(workflow_id, task_key).update(actions=[TaskItem.expires_at.set(until)])
        return bool(expiring)

    def _delete_tasks(self, workflow_id: str, *, before_revision: int | None = None) -> None:
        """Delete the workflow's task items (those created before `before_revision`, if
        given). Best effort: a task a restart left behind is never read again."""
        try:
            with TaskItem.batch_write() as batch:
                for item in TaskItem.query(
                    workflow_id, attributes_to_get=["workflowId", "taskKey", "created_revision"]
                ):
                    if before_revision is None or item.created_revision < before_revision:
                        batch.delete(TaskItem(workflow_id, item.task_key))
        except Exception:
            _log.warning("Could not delete the old tasks of workflow %s", workflow_id)

    def remove(self, workflow_id: str) -> None:
        """Delete a workflow and its tasks (`DELETE /api/workflow/{id}/remove`).

        The workflow item goes first, in one conditional delete: from then on the workflow is
        not found, and its task items, deleted next, are never read again.
        """
        try:
            WorkflowItem(workflow_id).delete(condition=WorkflowItem.body.exists())
        except DeleteError as error:
            if _condition_failed(error):
                raise NotFound(f"No such workflow found by id: {workflow_id}") from error
            raise
        self._delete_tasks(workflow_id)

    def _raise_conflict(
        self,
        error: Exception,
        claim: IdempotencyClaim | None,
        expected_revision: int | None,
        task_ids: list[str],
    ) -> None:
        failed: frozenset[str] | None = frozenset()  # the workflow item written alone
        if isinstance(error, TransactWriteError):
            reasons = [getattr(r, "code", None) for r in (error.cancellation_reasons or [])]
            first_task = 2 if claim is not None else 1
            failed = (
                frozenset(
                    task_id
                    for task_id, reason in zip(task_ids, reasons[first_task:], strict=True)
                    if reason in ("ConditionalCheckFailed", "TransactionConflict")
                )
                if len(reasons) == first_task + len(task_ids)
                else None
            )
        else:
            reasons = ["ConditionalCheckFailed"] if _condition_failed(error) else []
        if claim is not None and len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            try:
                record = WorkflowItem.get(claim.record_id, consistent_read=True)
                raise IdempotencyKeyTaken(record.target_workflow_id) from error
            except DoesNotExist:
                raise IdempotencyKeyTaken(None) from error
        if expected_revision is None and reasons and reasons[0] == "ConditionalCheckFailed":
            raise WorkflowExists from error
        if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
            raise RevisionConflict(failed) from error

    def _workflow_fields(self, workflow: Workflow, objects: dict[str, bytes]) -> dict[str, Any]:
        expires_at = (
            datetime.now(UTC) + timedelta(days=self.retention_days)
            if workflow.status.is_terminal and self.retention_days > 0
            else None
        )
        kept: dict[str, Any] = {"definitionId": snapshot_id(workflow.definition)}
        if len(workflow.tasks) >= WIDE_TASKS:
            kept[WIDTH_FIELD] = [
                len(workflow.tasks),
                sum(1 for t in workflow.tasks if not t.status.is_terminal),
            ]
        stored = payloads.split(
            {**workflow.to_store(), **kept},
            payloads.WORKFLOW_PAYLOAD_FIELDS,
            workflow.workflow_id,
        )
        objects.update(stored.objects)
        body = _body(
            stored.body, f"workflow {workflow.workflow_id} (its input, output and variables)"
        )
        return {
            "status": workflow.status.value,
            "body": body,
            "expires_at": expires_at,
            **workflow_search_keys(workflow),
            "create_time": workflow.create_time,
            "task_prefix": workflow_task_prefix(workflow.workflow_id),
        }

    def _task_body(self, task: Task, workflow_id: str, objects: dict[str, bytes]) -> str:
        """A task's stored body, its large payloads added to `objects` to write first."""
        stored = payloads.split(task.to_store(), payloads.TASK_PAYLOAD_FIELDS, workflow_id)
        objects.update(stored.objects)
        return _body(stored.body, f"task {task.reference_task_name}")

    def _new_workflow_item(
        self, workflow: Workflow, attempt: str | None, fields: dict[str, Any]
    ) -> WorkflowItem:
        correlation = (
            f"{workflow.definition.name}#{workflow.correlation_id}"
            if workflow.correlation_id
            else None
        )
        return WorkflowItem(
            workflow.workflow_id,
            revision=1,
            name=workflow.definition.name,
            name_correlation=correlation,
            correlation_id=workflow.correlation_id or None,
            staged_attempts={attempt} if attempt else None,
            **fields,
        )

    def _workflow_actions(
        self, expected_revision: int, attempt: str | None, fields: dict[str, Any]
    ) -> list[Action]:
        actions: list[Action] = [
            WorkflowItem.revision.set(expected_revision + 1),
            WorkflowItem.status.set(fields["status"]),
            WorkflowItem.body.set(fields["body"]),
            # Unchanged keys leave the search indexes untouched (no index write).
            WorkflowItem.search_type_status.set(fields["search_type_status"]),
            WorkflowItem.search_status.set(fields["search_status"]),
        ]
        if fields["expires_at"] is not None:
            actions.append(WorkflowItem.expires_at.set(fields["expires_at"]))
        else:
            # Running again (a retry, a restart): it must not expire while it runs.
            actions.append(WorkflowItem.expires_at.remove())
        # A restart starts the workflow anew: its start time is the index's sort key.
        actions.append(WorkflowItem.create_time.set(fields["create_time"]))
        # Unchanged after the first commit (no index write); a workflow written before the
        # prefix existed gets it here.
        actions.append(WorkflowItem.task_prefix.set(fields["task_prefix"]))
        if attempt:
            actions.append(WorkflowItem.staged_attempts.add({attempt}))
        actions.append(WorkflowItem.changes.set(fields["changes"]))
        return actions

    def _write_workflow(
        self,
        transaction: TransactWrite | None,
        workflow: Workflow,
        expected_revision: int | None,
        attempt: str | None,
        fields: dict[str, Any],
    ) -> None:
        """Create or update the workflow item, in `transaction` or (None) on its own."""
        if expected_revision is None:
            item = self._new_workflow_item(workflow, attempt, fields)
            absent = WorkflowItem.workflow_id.does_not_exist()
            if transaction is None:
                item.save(condition=absent)
            else:
                transaction.save(item, condition=absent)
            return
        target = WorkflowItem(workflow.workflow_id)
        actions = self._workflow_actions(expected_revision, attempt, fields)
        unchanged = WorkflowItem.revision == expected_revision
        if transaction is None:
            target.update(actions=actions, condition=unchanged)
        else:
            transaction.update(target, actions=actions, condition=unchanged)

    def _stage(
        self,
        tasks: list[Task],
        bodies: dict[str, str],
        workflow: Workflow,
        effects: Effects,
        revision: int,
        attempt: str,
        now: int,
        expires_at: datetime | None,
    ) -> None:
        prefix = workflow_task_prefix(workflow.workflow_id)
        with TaskItem.batch_write() as batch:
            for task in tasks:
                task.store_key = staged_key(task.task_id, attempt)
                stored = StoredBody.of(bodies[task.task_id])
                item = TaskItem(
                    workflow.workflow_id,
                    task.store_key,
                    # The task-id index only for an id its workflow's prefix does not find.
                    task_id=None if task_prefix_of(task.task_id) == prefix else task.task_id,
                    version=1,
                    created_revision=revision,
                    attempt=attempt,
                    status=task.status.value,
                    body=stored.text,
                    packed_body=stored.packed,
                    expires_at=expires_at,
                )
                for name, value in self._index_fields(task, effects, now).items():
                    setattr(item, name, value)
                batch.save(item)

    def _discard(self, workflow_id: str, tasks: list[Task]) -> None:
        """Remove what a failed commit staged (best effort: leftovers are never read)."""
        try:
            with TaskItem.batch_write() as batch:
                for task in tasks:
                    batch.delete(TaskItem(workflow_id, task.store_key))
        except Exception:
            return

    def _task_actions(
        self, task: Task, body: str, effects: Effects, now: int, expires_at: datetime | None
    ) -> list[Action]:
        actions: list[Action] = [
            TaskItem.version.set(task.version + 1),
            TaskItem.status.set(task.status.value),
            *StoredBody.of(body).actions(),
        ]
        if expires_at is not None:
            actions.append(TaskItem.expires_at.set(expires_at))
        for name, value in self._index_fields(task, effects, now).items():
            attribute = getattr(TaskItem, name)
            if value is None:
                if name in ("due_shard", "due_at") and task.pending_effect:
                    continue  # still owed a send: the sweep must keep finding it
                actions.append(attribute.remove())
            else:
                actions.append(attribute.set(value))
        return actions

    def _index_fields(self, task: Task, effects: Effects, now: int) -> dict[str, Any]:
        """Values of the indexed attributes: when the task is due, and whether it can be polled."""
        fields: dict[str, Any] = {
            "due_shard": None,
            "due_at": None,
            "poll_key": None,
            "scheduled_at": None,
        }
        due_at: int | None = None
        for effect in effects.get(task.task_id, []):
            if effect.owed:
                # Owed until confirmed: a message, a workflow to start or to tell.
                fields["pending_effect"] = "1"
                task.pending_effect = True
                resend_at = now + PENDING_EFFECT_GRACE_MS
                due_at = resend_at if due_at is None else min(due_at, resend_at)
            elif (
                isinstance(effect, ArmTimer)
                and not effect.carry_over
                and not task.status.is_terminal
            ):
                due_at = effect.due_at if due_at is None else min(due_at, effect.due_at)
        if due_at is None and not task.status.is_terminal:
            due_at = task_type_of(task.workflow_task).deadline(task)
        if due_at is None and task.status == TaskStatus.SCHEDULED and task.callback_after_seconds:
            due_at = task.pollable_from()
        if task.continue_at:
            # A decision stopped here: its timer resumes at once; if that timer is lost, the
            # sweep finds this entry once the grace period has passed.
            resume_by = task.continue_at + PENDING_EFFECT_GRACE_MS
            due_at = resume_by if due_at is None else min(due_at, resume_by)
        if due_at is not None:
            fields["due_shard"] = due_shard(task.task_id)
            fields["due_at"] = due_at
        if (
            task_type_of(task.workflow_task).polled_by_workers
            and task.status == TaskStatus.SCHEDULED
        ):
            shards = self.queues.shards_for_writing(task.task_type, task.domain, now)
            fields["poll_key"] = poll_key(
                task.task_type, task.domain, poll_shard(task.task_id) % shards
            )
            fields["scheduled_at"] = task.pollable_from()
        elif task.status == TaskStatus.IN_PROGRESS and _is_limited(task):
            fields["poll_key"] = running_key(task.task_type, poll_shard(task.task_id))
            fields["scheduled_at"] = task.start_time
        return fields

    # -- after the commit ------------------------------------------------------------------

    def confirm_sent(
        self, workflow_id: str, task_key: str, *, due_at: int | None = None, status: str = ""
    ) -> None:
        """What the task owed is done: forget it, and drop the task from the due index, or
        keep it there at `due_at` (the task's own timer) if its status is still `status`."""
        # Already confirmed (a resend confirmed it first) fails the condition: nothing to do.
        if due_at is None:
            self._remove(workflow_id, task_key, _OWED, condition=TaskItem.pending_effect.exists())
            return
        # A task that has moved on since keeps its record: the sweep's repair confirms it
        # with the timer its new state has.
        try:
            TaskItem(workflow_id, task_key).update(
                actions=[TaskItem.pending_effect.remove(), TaskItem.due_at.set(due_at)],
                condition=TaskItem.pending_effect.exists() & (TaskItem.status == status),
            )
        except UpdateError as error:
            if not _condition_failed(error):
                raise

    def forget_due(self, workflow_id: str, task_key: str) -> None:
        """Drop index entries that name nothing live (a task of a commit that never landed)."""
        self._remove(
            workflow_id,
            task_key,
            (*_OWED, "poll_key", "scheduled_at"),
            condition=TaskItem.task_key.exists(),
        )

    def _remove(
        self, workflow_id: str, task_key: str, names: tuple[str, ...], *, condition: Any
    ) -> None:
        try:
            TaskItem(workflow_id, task_key).update(
                actions=[getattr(TaskItem, name).remove() for name in names], condition=condition
            )
        except UpdateError as error:
            if not _condition_failed(error):
                raise

    def owed_message(self, workflow: Workflow, task_key: str) -> PublishMessage | None:
        """The message a visible task still owes, or None."""
        task = next((t for t in workflow.tasks if t.store_key == task_key), None)
        if task is None or not task.pending_effect:
            return None
        return message_from_output(task.task_id, task.output_data)

    def due_entries(self, until: int) -> list[DueEntry]:
        """Every entry of the due index up to `until`, earliest first."""
        found: list[DueEntry] = []
        for shard in range(DUE_SHARDS):
            for item in TaskItem.by_due_time.query(f"due#{shard}", TaskItem.due_at <= until):
                found.append(
                    DueEntry(str(item.workflow_id), str(item.task_key), int(item.due_at or 0))
                )
        return sorted(found, key=lambda entry: entry.due_at)

    def pollable(
        self, task_type: str, domain: str | None, now: int, limit: int
    ) -> list[tuple[str, str]]:
        """(workflow id, task key) of up to `limit` SCHEDULED worker tasks of `task_type` in
        `domain` that may be handed out at `now`, oldest first within each shard.

        A quiet queue lives in shard 0 alone: an empty poll is one query of a sparse,
        keys-only index. A wide one (baton.store.queues) is read from a random shard on, so
        its pollers spread over the shards; each read also tells whether there is a backlog.
        """
        widths = self.queues
        if widths.believed_wide(task_type, domain, now):
            first = random.randrange(POLL_SHARDS)
            order = [(first + step) % POLL_SHARDS for step in range(POLL_SHARDS)]
        else:
            order = [0]
        found: list[tuple[str, str]] = []
        end: int | None = None
        backlogged = False
        position = 0
        while position < len(order) and len(found) < limit:
            shard = order[position]
            position += 1
            # A backlog is WIDEN_BACKLOG ready tasks in all: in shard 0 while the queue is
            # quiet, that share of it in any one shard while it is wide.
            backlog = WIDEN_BACKLOG if len(order) == 1 else WIDEN_BACKLOG // POLL_SHARDS
            entries = self._read_shard(
                task_type, domain, shard, now, max(limit - len(found), backlog) + 1
            )
            if shard == 0:
                marks = [scheduled_at for w, _, scheduled_at in entries if is_mark(w)]
                end = mark_end(marks[0]) if marks else None
                widths.learned(task_type, domain, end, now)
                if end is not None and len(order) == 1:
                    order += random.sample(range(1, POLL_SHARDS), POLL_SHARDS - 1)
            tasks = [(w, k) for w, k, _ in entries if not is_mark(w)]
            backlogged = backlogged or len(tasks) >= backlog
            found += tasks[: limit - len(found)]
        if backlogged:
            widths.backlogged(task_type, domain, now)
        elif (
            end is not None
            and widths.may_narrow(task_type, domain, end, now)
            and not any(self._shard_holds_any(task_type, domain, s) for s in range(1, POLL_SHARDS))
        ):
            widths.narrow(task_type, domain, end, now)
        return found

    def _read_shard(
        self, task_type: str, domain: str | None, shard: int, now: int, limit: int
    ) -> list[tuple[str, str, int]]:
        return [
            (str(item.workflow_id), str(item.task_key), int(item.scheduled_at or 0))
            for item in TaskItem.by_poll_key.query(
                poll_key(task_type, domain, shard), TaskItem.scheduled_at <= now, limit=limit
            )
        ]

    def _shard_holds_any(self, task_type: str, domain: str | None, shard: int) -> bool:
        """Whether a shard lists any task, delayed ones included."""
        return any(
            True for _ in TaskItem.by_poll_key.query(poll_key(task_type, domain, shard), limit=1)
        )

    def queue_size(self, task_type: str, domain: str | None) -> int:
        """SCHEDULED tasks of a (task type, domain) queue, delayed ones included (as
        Conductor's queue sizes count postponed messages): one query of shard 0 for a quiet
        queue (keys only), one per shard for a wide one."""
        size = 0
        wide = False
        for item in TaskItem.by_poll_key.query(poll_key(task_type, domain, 0)):
            if is_mark(str(item.workflow_id)):
                wide = True
            else:
                size += 1
        if not wide:
            return size
        return size + sum(
            TaskItem.by_poll_key.count(poll_key(task_type, domain, shard))
            for shard in range(1, POLL_SHARDS)
        )

    def running(self, task_type: str) -> int:
        """IN_PROGRESS tasks of a type with a concurrentExecLimit (an eventually consistent
        count of a sparse index: one query per shard)."""
        return sum(
            TaskItem.by_poll_key.count(running_key(task_type, shard))
            for shard in range(POLL_SHARDS)
        )

    def claim(
        self,
        workflow_id: str,
        task_key: str,
        hand_out: Callable[[Task], Task],
        now: int,
        *,
        admit: Callable[[Task], bool] | None = None,
        known: tuple[Workflow, Task] | None = None,
    ) -> Claim | None:
        """Hand one SCHEDULED worker task out, or None if it is not (or no longer) pollable.

        The task item alone is written, conditioned on its version and status, so concurrent
        pollers race on that condition and exactly one wins; the workflow item is only read
        (a decision that changes the task meanwhile fails its own version condition and
        decides again on the claimed state).
        """
        if known is not None:
            # Committed by this process a moment ago: the version condition below makes sure
            # it is still exactly that task.
            workflow, task = known
            if task.status != TaskStatus.SCHEDULED or task.pollable_from() > now:
                return None
            if workflow.status.is_terminal:
                return None
            revision = workflow.revision
        else:
            found = self._read_for_claim(workflow_id, task_key, now)
            if found is None:
                return None
            workflow, task = found
            revision = workflow.revision
        if admit is not None and not admit(task):
            return None  # its TaskDef's limits hold it back for now
        claimed = hand_out(task)
        deadline = task_type_of(claimed.workflow_task).deadline(claimed)
        # The workflow's own timeout may come first: the claim rewrites the task's due time.
        workflow_due = pending_workflow_deadline(workflow)
        if workflow_due is not None:
            deadline = workflow_due if deadline is None else min(deadline, workflow_due)
        objects: dict[str, bytes] = {}
        body = self._task_body(claimed, workflow_id, objects)
        self.payloads.write(objects, workflow_id)
        actions: list[Action] = [
            TaskItem.version.set(task.version + 1),
            TaskItem.status.set(claimed.status.value),
            *StoredBody.of(body).actions(),
        ]
        # Out of its queue; listed among its type's IN_PROGRESS tasks only for a
        # concurrentExecLimit to count (moving an index entry costs two write units, its
        # removal at the task's end a third: every worker task would pay them).
        if _is_limited(claimed):
            running = running_key(claimed.task_type, poll_shard(claimed.task_id))
            actions += [TaskItem.poll_key.set(running), TaskItem.scheduled_at.set(now)]
        else:
            actions += [TaskItem.poll_key.remove(), TaskItem.scheduled_at.remove()]
        if deadline is not None:
            actions += [
                TaskItem.due_shard.set(due_shard(claimed.task_id)),
                TaskItem.due_at.set(deadline),
            ]
        condition = (TaskItem.version == task.version) & (
            TaskItem.status == TaskStatus.SCHEDULED.value
        )
        try:
            TaskItem(workflow_id, task_key).update(actions=actions, condition=condition)
        except UpdateError as error:
            if _condition_failed(error):
                return None  # another poller (or a decision) got there first
            raise
        claimed.version = task.version + 1
        shown = Workflow.from_store(
            workflow.to_store(), workflow.definition, [claimed], revision=revision
        )
        return Claim(workflow=shown, task=claimed, deadline=deadline)

    def _read_for_claim(
        self, workflow_id: str, task_key: str, now: int
    ) -> tuple[Workflow, Task] | None:
        """The task and its workflow (without other tasks) if the task is visible and
        pollable now; entries that name nothing live are dropped from the index."""
        try:
            item = TaskItem.get(workflow_id, task_key, consistent_read=True)
        except DoesNotExist:
            return None
        if item.status != TaskStatus.SCHEDULED.value or item.poll_key is None:
            return None
        if (item.scheduled_at or 0) > now:
            return None
        try:
            workflow_item = WorkflowItem.get(workflow_id, consistent_read=True)
        except DoesNotExist:
            # A new workflow writes its first tasks before its own item: a poll in another
            # environment can read them in between. Only a task left that long by a start
            # that never landed is dropped from the index.
            if now - (item.scheduled_at or 0) > PENDING_EFFECT_GRACE_MS:
                self.forget_due(workflow_id, task_key)
            return None
        staged = set(workflow_item.staged_attempts or ())
        if item.created_revision > workflow_item.revision:
            return None  # its commit has not landed (yet)
        if workflow_item.body is not None and item.created_revision < int(
            json.loads(workflow_item.body).get("tasksFromRevision", 0)
        ):
            self.forget_due(workflow_id, task_key)  # of the run a restart replaced
            return None
        if item.attempt is not None and item.attempt not in staged:
            self.forget_due(workflow_id, task_key)  # left by a commit that lost its race
            return None
        if workflow_item.body is None:
            return None
        # A poll answers with the task alone: the workflow's own large payloads (its input,
        # output, variables) are not read, only the task's.
        body = json.loads(workflow_item.body)
        (task_body,) = self.payloads.join_all([json.loads(task_body_text(item))], workflow_id)
        definition = self.metadata.load_snapshot(body["definitionId"])
        task = Task.from_store(
            task_body,
            stored_workflow_task(task_body, definition_index(definition).task),
            version=int(item.version),
            created_revision=int(item.created_revision),
            pending_effect=item.pending_effect is not None,
            store_key=task_key,
        )
        workflow = Workflow.from_store(body, definition, [], revision=int(workflow_item.revision))
        if (workflow_item.status or "") in _ENDED_WORKFLOW:
            # Its workflow has ended and the write that cancelled it after the commit never
            # landed: never handed out, written as it reads (CANCELED), out of the queue.
            self._settle_left_open(workflow, task, now)
            return None
        return workflow, task

    def settle_ended(self, workflow: Workflow, task_key: str, now: int) -> None:
        """What the sweep does with a due entry of an ended workflow that owes nothing: a
        task its item still holds open (the writes after an ending's commit never landed)
        is written as it reads, CANCELED, out of the due index and the running listing; any
        other entry (a task that had ended, or one the workflow no longer holds) is
        dropped."""
        task = next((t for t in workflow.tasks if t.store_key == task_key), None)
        if (
            task is not None
            and task.stored_status is not None
            and not task.stored_status.is_terminal
        ):
            self._settle_left_open(workflow, task, now)
        else:
            self.forget_due(workflow.workflow_id, task_key)

    def _settle_left_open(self, workflow: Workflow, task: Task, now: int) -> None:
        """Write a task left open under an ended workflow as `settled` reads it: CANCELED,
        out of the poll and due indexes (no decision is owed: its workflow has ended), on the
        version read, kept as long as a task written now (best effort: it reads so
        anyway)."""
        canceled = replace(canceled_by_end(task, workflow.end_time), continue_at=0)
        objects: dict[str, bytes] = {}
        body = self._task_body(canceled, workflow.workflow_id, objects)
        try:
            self.payloads.write(objects, workflow.workflow_id)
            TaskItem(workflow.workflow_id, task.store_key).update(
                actions=self._task_actions(canceled, body, {}, now, self._task_expiry()),
                condition=TaskItem.version == task.version,
            )
        except Exception:
            _log.warning("Could not settle task item %s", task.store_key, exc_info=True)
