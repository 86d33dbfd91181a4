"""`/api/queue/update`: complete or fail a waiting task, as Conductor's QueueAdminResource.

Conductor publishes the update to its default event queue of that status, and its processor
applies it to the workflow's pending task; Baton applies it at once, with the same outcome.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.errors import bad_request
from baton.api.requests import json_body
from baton.engine.decider import TaskUpdate
from baton.engine.state import TaskStatus
from baton.runtime import baton

router = Router()

# Conductor has a default event queue for these two statuses only.
QUEUE_STATUSES = ("COMPLETED", "FAILED")


def _update(status: str) -> TaskUpdate:
    if status.upper() not in QUEUE_STATUSES:
        raise bad_request(f"There is no queue for handling {status} status")
    output = json_body(router, default={})
    if not isinstance(output, dict):
        raise bad_request("The request body must be a JSON object (the task's output)")
    return TaskUpdate(status=TaskStatus(status.upper()), output=output, merge_output=True)


def _empty() -> Response[str]:
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body="")


@router.post("/api/queue/update/<workflow_id>/task/<task_id>/<status>")
def update_by_task_id(workflow_id: str, task_id: str, status: str) -> Response[str]:
    baton().update_task(workflow_id, task_id, _update(status))
    return _empty()


@router.post("/api/queue/update/<workflow_id>/<task_ref_name>/<status>")
def update_by_reference(workflow_id: str, task_ref_name: str, status: str) -> Response[str]:
    baton().update_task_by_reference(workflow_id, task_ref_name, _update(status))
    return _empty()
