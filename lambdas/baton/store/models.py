"""pynamodb models: the one description of Baton's tables.

The CDK stacks (through `baton.store.schema`) and the embedded runtime both create the tables
from these classes, so a key or an index is declared here and nowhere else.
"""

from __future__ import annotations

import os

from pynamodb.attributes import (
    BinaryAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from baton import settings

# Timers and pending effects are spread over this many index partitions (no hot key).
DUE_SHARDS = 8
# Each (task type, domain) queue is spread over this many poll index partitions, so one busy
# task type with many pollers is not one hot partition.
POLL_SHARDS = 4
# Search index partitions (see `baton.search`): a workflow type's RUNNING workflows, or all
# RUNNING workflows, are spread over this many partitions each, so no status is one hot key.
TYPE_STATUS_SHARDS = 4
STATUS_SHARDS = 8


def _table_name(variable: str, default: str) -> str:
    return os.environ.get(variable, default)


class _BaseMeta:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    host = os.environ.get(settings.ENDPOINT_URL) or None
    billing_mode = "PAY_PER_REQUEST"


class CorrelationIndex(GlobalSecondaryIndex["WorkflowItem"]):
    """Workflows by `<name>#<correlationId>`, newest first (sparse: only with a correlationId)."""

    class Meta:
        index_name = "by_correlation"
        projection = KeysOnlyProjection()

    name_correlation = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class TypeStatusIndex(GlobalSecondaryIndex["WorkflowItem"]):
    """Workflows by `<name>#<status>#<shard>`, by start time: what a search on the workflow
    type (and status) reads, and the list of a type's running workflows (its RUNNING and
    PAUSED keys). Keys only: a status change moves the entry (two index writes), nothing else
    touches it."""

    class Meta:
        index_name = "by_type_status"
        projection = KeysOnlyProjection()

    search_type_status = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class StatusIndex(GlobalSecondaryIndex["WorkflowItem"]):
    """Workflows by `<status>#<shard>`, by start time: a search on status alone, or on nothing."""

    class Meta:
        index_name = "by_status"
        projection = KeysOnlyProjection()

    search_status = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class CorrelationIdIndex(GlobalSecondaryIndex["WorkflowItem"]):
    """Workflows by correlation id alone, by start time (sparse: only with a correlationId;
    written once, as the correlation id never changes)."""

    class Meta:
        index_name = "by_correlation_id"
        projection = KeysOnlyProjection()

    correlation_id = UnicodeAttribute(hash_key=True, attr_name="correlationId")
    create_time = NumberAttribute(range_key=True)


class TaskPrefixIndex(GlobalSecondaryIndex["WorkflowItem"]):
    """Workflows by the 12 hex digits their task ids begin with (`engine.state.task_id_for`):
    how a task id alone finds its workflow, one entry per workflow, written once."""

    class Meta:
        index_name = "by_task_prefix"
        projection = KeysOnlyProjection()

    task_prefix = UnicodeAttribute(hash_key=True)


class WorkflowItem(Model):
    """One workflow instance without its tasks; `revision` guards every decision's commit.

    The same table holds start-idempotency records under `idempotency#...` keys.
    """

    class Meta(_BaseMeta):
        table_name = _table_name(settings.WORKFLOWS_TABLE, "baton-workflows")

    workflow_id = UnicodeAttribute(hash_key=True, attr_name="workflowId")
    revision = NumberAttribute(default=0)
    name = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    name_correlation = UnicodeAttribute(null=True)
    create_time = NumberAttribute(null=True)
    # Search index keys (`baton.store.search`): set with the status on every commit.
    search_type_status = UnicodeAttribute(null=True)
    search_status = UnicodeAttribute(null=True)
    correlation_id = UnicodeAttribute(null=True, attr_name="correlationId")
    # The workflow's JSON (definition snapshot, input, output, variables, ...), without tasks.
    body = UnicodeAttribute(null=True)
    # For idempotency records: the workflow the key was first used for.
    target_workflow_id = UnicodeAttribute(null=True)
    # The commits that made tasks: each writes its new tasks first, tagged with an attempt id;
    # a tagged task counts only once its attempt is listed here.
    staged_attempts = UnicodeSetAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    task_prefix = UnicodeAttribute(null=True)
    # Which task items each of the latest commits wrote (`baton.store.workflows`): a reader
    # that holds an older revision reads only those instead of every task.
    changes = UnicodeAttribute(null=True)

    by_correlation = CorrelationIndex()
    by_type_status = TypeStatusIndex()
    by_status = StatusIndex()
    by_correlation_id = CorrelationIdIndex()
    by_task_prefix = TaskPrefixIndex()


class DueIndex(GlobalSecondaryIndex["TaskItem"]):
    """Tasks with a due time (WAIT timers, effects not yet carried out), by shard and time."""

    class Meta:
        index_name = "by_due_time"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


class PollIndex(GlobalSecondaryIndex["TaskItem"]):
    """SCHEDULED worker tasks by `<task type>#<domain>#<shard>`, by the time they may be polled
    from (sparse: only pollable tasks are in it). What `GET /api/tasks/poll` reads. Tasks of a
    type with a `concurrentExecLimit` are listed under `RUNNING#<task type>#<shard>` while
    IN_PROGRESS, so a poll can count them (and the admin list of pending tasks shows them)."""

    class Meta:
        index_name = "by_poll_key"
        projection = KeysOnlyProjection()

    poll_key = UnicodeAttribute(hash_key=True)
    scheduled_at = NumberAttribute(range_key=True)


class TaskIdIndex(GlobalSecondaryIndex["TaskItem"]):
    """Finds a task's workflow from the task id alone, for tasks whose ids do not begin with
    their workflow's prefix (written before `by_task_prefix` existed); new tasks have no
    entry."""

    class Meta:
        index_name = "by_task_id"
        projection = KeysOnlyProjection()

    task_id = UnicodeAttribute(hash_key=True, attr_name="taskId")


class TaskItem(Model):
    """One task instance.

    A task is written first, before the workflow commit that makes it part of the workflow,
    under the key `<taskId>#<attempt>`; it counts once its attempt is listed on the workflow
    item. A commit that loses its race leaves items no workflow lists: they are never read as
    tasks, and a retry writes under a new attempt, so nothing visible is ever overwritten.
    `created_revision` is the workflow revision whose commit made the task.
    """

    class Meta(_BaseMeta):
        table_name = _table_name(settings.TASKS_TABLE, "baton-tasks")

    workflow_id = UnicodeAttribute(hash_key=True, attr_name="workflowId")
    task_key = UnicodeAttribute(range_key=True, attr_name="taskKey")
    # Only on items whose task id does not name its workflow (see TaskIdIndex); the task id
    # is also the taskKey's first part.
    task_id = UnicodeAttribute(null=True, attr_name="taskId")
    version = NumberAttribute(default=0)
    created_revision = NumberAttribute(default=0)
    attempt = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    # The task's JSON: as text, or zlib-compressed in `packed_body` when that takes the item
    # under a smaller number of KB (write units are per KB). An item holds one of the two.
    body = UnicodeAttribute(null=True)
    packed_body = BinaryAttribute(null=True, legacy_encoding=False)
    due_shard = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    poll_key = UnicodeAttribute(null=True)
    scheduled_at = NumberAttribute(null=True)
    # Set while what a commit recorded on this task is not confirmed done: the message an
    # EVENT task published (the message itself is the task's output, so it is not stored
    # twice), or a workflow to start, terminate or tell (`baton.workflow_links`).
    pending_effect = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    by_due_time = DueIndex()
    by_poll_key = PollIndex()
    by_task_id = TaskIdIndex()


class MetadataItem(Model):
    """Definitions and event handlers, and the record of each event handler execution.

    Keys: `WORKFLOW_DEF` / `<name>#<version:010d>`; `TASK_DEF` / `<name>`;
    `EVENT_HANDLER` / `<name>`; `EVENT#<event>` / `<name>` (a handler, found by its event with
    a strongly consistent query); `EVENT_EXECUTION#<handler>` / `<messageId>_<action index>`;
    `POLL_DATA` / `<task type>#<domain>`; `TASK_LOG#<taskId>` / `<time>#<n>`;
    `RATE_LIMIT` / `<task name>` (see `baton.store.workers`).
    """

    class Meta(_BaseMeta):
        table_name = _table_name(settings.METADATA_TABLE, "baton-metadata")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute(null=True)
    update_time = NumberAttribute(null=True)
    # A task type's rate-limit window (`RATE_LIMIT` / `<name>`): tasks handed out in it.
    counter = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class IdempotencyRecord(Model):
    """The table Powertools' idempotency utility keeps its records in (its default schema)."""

    class Meta(_BaseMeta):
        table_name = _table_name(settings.IDEMPOTENCY_TABLE, "baton-idempotency")

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (WorkflowItem, TaskItem, MetadataItem, IdempotencyRecord)
