"""`/api/admin`: Conductor's AdminResource reads: pending tasks of a type, the event queues."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.admin import MAX_PENDING_TASKS
from baton.api.errors import bad_request
from baton.api.requests import query_bool, query_int
from baton.runtime import baton

router = Router()


@router.get("/api/admin/task/<task_type>")
def pending_tasks(task_type: str) -> list[dict[str, Any]]:
    start = query_int(router, "start", minimum=0, maximum=10_000) or 0
    count = query_int(router, "count", minimum=0, maximum=MAX_PENDING_TASKS)
    return baton().pending_tasks(task_type, start=start, count=100 if count is None else count)


@router.get("/api/admin/queues")
def event_queues() -> dict[str, str]:
    if query_bool(router, "verbose", False):
        # Conductor's verbose answer holds each queue's size, read from the queue itself.
        raise bad_request(
            "verbose=true is not served: event queue depths are CloudWatch's "
            "(ApproximateNumberOfMessagesVisible) and on the dashboard"
        )
    return baton().event_queues()
