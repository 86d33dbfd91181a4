"""What each function's code calls on AWS, per table, index, queue and secret: its grants.

Read off each handler (`baton.handlers.*`) and everything it reaches (`baton.service`,
`baton.store`, `baton.event_processing`, `baton.idempotency`, `baton.messaging`,
`baton.auth`). pynamodb maps `get` to GetItem, `query` to Query (on an index when called on
one), `save` to PutItem, `update` to UpdateItem, `delete` to DeleteItem, `batch_get` to
BatchGetItem and `batch_write` to BatchWriteItem; a TransactWrite needs no action of its own,
IAM checks each of its items as the Put, Update or Delete it is. pynamodb 6 never calls
DescribeTable (it builds the key schema from the models), nothing scans, and nothing uses a
ConditionCheck. A new call in the code needs its action here, in the same change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

GET: Final = "dynamodb:GetItem"
BATCH_GET: Final = "dynamodb:BatchGetItem"
QUERY: Final = "dynamodb:Query"
PUT: Final = "dynamodb:PutItem"
UPDATE: Final = "dynamodb:UpdateItem"
DELETE: Final = "dynamodb:DeleteItem"
BATCH_WRITE: Final = "dynamodb:BatchWriteItem"


@dataclass(frozen=True)
class TableAccess:
    """Actions on one table and, separately, on each of its indexes by name."""

    table: tuple[str, ...] = ()
    indexes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# WorkflowStore.load: the workflow item (GetItem), its tasks (Query), or for a decision that
# catches up from an earlier load only the tasks changed since (BatchGetItem), its definition
# snapshot (Metadata GetItem). Every decision commits through WorkflowStore._commit: new tasks are
# staged and, after a lost race, discarded in batches (BatchWriteItem); the workflow item is
# updated (UpdateItem) alone or in a transaction with the changed tasks (UpdateItem); after
# the commit, confirm_sent, forget_due and the expiry of a finished workflow's tasks update
# task items (UpdateItem).
_DECIDING_TASKS: Final = (QUERY, BATCH_GET, BATCH_WRITE, UPDATE)

TABLE_ACCESS: Final[Mapping[str, Mapping[str, TableAccess]]] = {
    "api": {
        # Starting creates the workflow item (PutItem), with its idempotency claim in the same
        # transaction (PutItem); a taken claim is read back (GetItem). GET .../correlated/...
        # reads the correlation index, GET /api/workflow/running/{name} the type-and-status
        # index and the workflows it lists (BatchGetItem); DELETE .../remove deletes the
        # workflow item (its tasks: BatchWriteItem). Search
        # (baton.store.search) queries the three search indexes and reads each page's
        # workflows by key (BatchGetItem).
        "Workflows": TableAccess(
            table=(GET, BATCH_GET, PUT, UPDATE, DELETE),
            indexes={
                "by_correlation": (QUERY,),
                "by_type_status": (QUERY,),
                "by_status": (QUERY,),
                "by_correlation_id": (QUERY,),
                "by_task_prefix": (QUERY,),
            },
        ),
        # GET /api/tasks/{taskId} finds the workflow by the prefix its task id begins with
        # (the workflow index `by_task_prefix`, then a Query of the workflow's tasks), or,
        # for tasks written before the prefix, by the task-id index; polls read the poll index,
        # then each candidate task item (GetItem) before the conditional claim.
        "Tasks": TableAccess(
            table=(GET, *_DECIDING_TASKS),
            indexes={"by_task_id": (QUERY,), "by_poll_key": (QUERY,)},
        ),
        # Definitions, task definitions, event handlers (a transaction of Puts and Deletes),
        # event executions, snapshots, the task definitions a start attaches (BatchGetItem),
        # POST /api/metadata/taskdefs (BatchWriteItem) and, in key mode, POST /api/token's key.
        # The definition catalog queries keys only; latest-versions then reads the latest
        # bodies (BatchGetItem). GET /api/health reads a missing key of each table with a
        # GetItem (Workflows, Metadata) or a Query (Tasks) already listed here.
        "Metadata": TableAccess(table=(GET, BATCH_GET, QUERY, PUT, DELETE, BATCH_WRITE)),
    },
    "events": {
        # A start_workflow action creates a workflow (no idempotency claim); others decide.
        "Workflows": TableAccess(table=(GET, PUT, UPDATE)),
        "Tasks": TableAccess(table=_DECIDING_TASKS),
        # Handlers by event (Query), the started definition (GetItem or Query), its task
        # definitions (BatchGetItem) and snapshot (PutItem), each message's executions (PutItem).
        "Metadata": TableAccess(table=(GET, BATCH_GET, QUERY, PUT)),
        # Powertools' DynamoDBPersistenceLayer for update_workflow_variables: it puts the
        # in-progress record, reads it back when the put finds one, updates it with the result
        # and deletes it when the action fails.
        "Idempotency": TableAccess(table=(GET, PUT, UPDATE, DELETE)),
    },
    "timers": {
        # A decision here may start workflows (a SUB_WORKFLOW's child, a START_WORKFLOW's, a
        # failure workflow, or the sweep repairing one of those): the workflow item (PutItem),
        # with an idempotency claim in the same transaction (PutItem), a taken claim read
        # back (GetItem); the rest decides existing workflows.
        # Every sweep reads the status index for workflows running long enough
        # to need their tasks' expiry pushed (WorkflowStore.keep_long_running).
        "Workflows": TableAccess(table=(GET, PUT, UPDATE), indexes={"by_status": (QUERY,)}),
        # The sweep reads the due index.
        "Tasks": TableAccess(table=_DECIDING_TASKS, indexes={"by_due_time": (QUERY,)}),
        # Every load reads the workflow's definition snapshot; a start reads the definition
        # (GetItem by version, else a Query for the latest), its task definitions
        # (BatchGetItem) and writes its snapshot (PutItem).
        "Metadata": TableAccess(table=(GET, BATCH_GET, QUERY, PUT)),
    },
    "system_tasks": {
        # baton.system_tasks: the task's workflow is loaded (GetItem, Query), the task claimed
        # (UpdateItem on its item), and the result applied as a task update, which decides.
        "Workflows": TableAccess(table=(GET, UPDATE)),
        "Tasks": TableAccess(table=_DECIDING_TASKS),
        "Metadata": TableAccess(table=(GET,)),
    },
    # baton.auth.tokens.verify_token: the key must still exist.
    "authorizer": {"Metadata": TableAccess(table=(GET,))},
}

# baton.messaging sends with SendMessage to queue URLs it is given: no GetQueueUrl.
SEND_ACTIONS: Final = ("sqs:SendMessage",)
# What Lambda's event source mapping calls with the function's role (the AWS Lambda and SQS
# guides list exactly these three); the function itself never touches the consumed queue.
CONSUME_ACTIONS: Final = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# baton.auth.tokens.signing_key reads the token-signing secret's value, nothing else of it.
SECRET_ACTIONS: Final = ("secretsmanager:GetSecretValue",)

# baton.store.payloads on the payload bucket's objects (`workflows/*`): every function that
# commits decisions writes large payloads before the commit (PutObject) and reads them back
# with the workflow (GetObject); the commit that ends a workflow copies its objects onto
# themselves with the ended tag (CopyObject: GetObject on the source, PutObject and
# PutObjectTagging on the copy). No ListBucket (a missing object reads as AccessDenied, and
# nothing lists) and no DeleteObject (only the lifecycle rule deletes).
PAYLOAD_ACTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "api": ("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"),
    "events": ("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"),
    "timers": ("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"),
    "system_tasks": ("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"),
    "authorizer": (),
}
