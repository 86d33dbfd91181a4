"""What Conductor's AdminResource reads: the pending tasks of a type, and the event queues.

Pending tasks are read from the poll index (the SCHEDULED worker tasks of each queue of the
type, delayed ones included), oldest first, a page at a time: a Query per shard of each
queue, bounded by the page, then each page's workflows read by key. IN_PROGRESS tasks have
no index of their own (the running count is kept only for a TaskDef's concurrentExecLimit),
so they are not listed: Conductor's list also holds them.
"""

from __future__ import annotations

from baton.engine.definitions import JsonObject
from baton.store import workers
from baton.store.models import POLL_SHARDS, TaskItem
from baton.store.queues import is_mark, poll_key
from baton.store.workflows import WorkflowStore

# The most pending tasks one call lists (Conductor's route has no limit; a page is 100).
MAX_PENDING_TASKS = 1000


def pending_tasks(
    store: WorkflowStore, task_type: str, *, start: int, count: int
) -> list[JsonObject]:
    """Conductor's Task JSON of the SCHEDULED tasks of `task_type` (no domain and each domain
    workers have polled it in), oldest first, from `start`, at most `count`."""
    domains: list[str | None] = [None]
    domains += sorted({str(d["domain"]) for d in workers.poll_data(task_type) if d.get("domain")})
    wanted = start + count
    entries: list[tuple[int, str, str]] = []
    for domain in domains:
        for shard in range(POLL_SHARDS):
            for item in TaskItem.by_poll_key.query(
                poll_key(task_type, domain, shard), limit=wanted
            ):
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
        if workflow is not None and task is not None:
            found.append(task.to_json(workflow))
    return found


def event_queues(queue_names: frozenset[str]) -> dict[str, str]:
    """Conductor's `GET /api/admin/queues`: each event Baton listens on, and its queue."""
    return {f"sqs:{name}": name for name in sorted(queue_names)}
