"""What Conductor's AdminResource reads: the pending tasks of a type, and the event queues.

Pending tasks are read from the poll index, oldest first (by when they may be polled, or
were handed out), a page at a time: a Query per shard of each queue of the type (the
SCHEDULED worker tasks, delayed ones included) and per shard of its IN_PROGRESS listing,
bounded by the page, then each page's workflows read by key. Conductor's list also holds
every task a worker holds (IN_PROGRESS, handed out and not yet reported); Baton's holds
those only for a type with a concurrentExecLimit, the one kind the poll index lists while
IN_PROGRESS (to count them). Listing every held task would cost every worker task two more
index write units (a claim moving its entry instead of removing it, and the task's end
removing it), for a rarely used admin read. Worker tasks only: a system task is never in a
queue.
"""

from __future__ import annotations

from baton.engine.definitions import JsonObject
from baton.engine.state import TaskStatus
from baton.store import workers
from baton.store.models import POLL_SHARDS, TaskItem
from baton.store.queues import is_mark, poll_key
from baton.store.workflows import WorkflowStore, running_key

# The most pending tasks one call lists (Conductor's route has no limit; a page is 100).
MAX_PENDING_TASKS = 1000

_PENDING = frozenset({TaskStatus.SCHEDULED, TaskStatus.IN_PROGRESS})


def pending_tasks(
    store: WorkflowStore, task_type: str, *, start: int, count: int
) -> list[JsonObject]:
    """Conductor's Task JSON of the SCHEDULED tasks of `task_type` (queued with no domain or
    in each domain workers have polled it in), and its IN_PROGRESS ones if it has a
    concurrentExecLimit, oldest first, from `start`, at most `count`."""
    domains: list[str | None] = [None]
    domains += sorted({str(d["domain"]) for d in workers.poll_data(task_type) if d.get("domain")})
    wanted = start + count
    partitions = [
        poll_key(task_type, domain, shard) for domain in domains for shard in range(POLL_SHARDS)
    ]
    partitions += [running_key(task_type, shard) for shard in range(POLL_SHARDS)]
    entries: list[tuple[int, str, str]] = []
    for partition in partitions:
        for item in TaskItem.by_poll_key.query(partition, limit=wanted):
            if not is_mark(str(item.workflow_id)):
                entries.append(
                    (int(item.scheduled_at or 0), str(item.workflow_id), str(item.task_key))
                )
    entries.sort()
    page = entries[start:wanted]
    workflows = {workflow_id: store.load(workflow_id) for _, workflow_id, _ in page}
    found: list[JsonObject] = []
    for _, workflow_id, task_key in page:
        workflow = workflows.get(workflow_id)
        task = (
            next((t for t in workflow.tasks if t.store_key == task_key), None)
            if workflow is not None
            else None
        )
        # An entry the index has not dropped yet, or a task its workflow's end settled.
        if workflow is not None and task is not None and task.status in _PENDING:
            found.append(task.to_json(workflow))
    return found


def event_queues(queue_names: frozenset[str]) -> dict[str, str]:
    """Conductor's `GET /api/admin/queues`: each event Baton listens on, and its queue."""
    return {f"sqs:{name}": name for name in sorted(queue_names)}
