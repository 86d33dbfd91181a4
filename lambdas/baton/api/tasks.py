"""`/api/tasks`: worker polls and task results."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.errors import bad_request, strict_json
from baton.api.requests import json_body, json_object, query
from baton.engine.decider import TaskUpdate
from baton.engine.state import TaskStatus
from baton.runtime import baton
from baton.store.errors import NotFound

router = Router()

# What a task result may set; SCHEDULED, SKIPPED and TIMED_OUT are the engine's to give.
RESULT_STATUSES = ("IN_PROGRESS", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "COMPLETED", "CANCELED")


def _status(value: Any) -> TaskStatus:
    if not isinstance(value, str) or value.upper() not in RESULT_STATUSES:
        raise bad_request(f"status must be one of {', '.join(RESULT_STATUSES)}, not {value!r}")
    return TaskStatus(value.upper())


def _text(value: str) -> Response[str]:
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=value)


@router.post("/api/tasks")
def update_task() -> Response[str]:
    body = json_object(router, what="a TaskResult")
    workflow_id = body.get("workflowInstanceId")
    task_id = body.get("taskId")
    if not isinstance(workflow_id, str) or not workflow_id:
        raise bad_request("workflowInstanceId: Workflow Id cannot be null or empty")
    if not isinstance(task_id, str) or not task_id:
        raise bad_request("taskId: Task ID cannot be null or empty")
    output = body.get("outputData")
    if output is not None and not isinstance(output, dict):
        raise bad_request("outputData must be a JSON object")
    reason = body.get("reasonForIncompletion")
    update = TaskUpdate(
        status=_status(body.get("status")),
        output=output,
        reason_for_incompletion=reason if isinstance(reason, str) else None,
        worker_id=body.get("workerId") if isinstance(body.get("workerId"), str) else None,
    )
    return _text(baton().update_task(workflow_id, task_id, update))


@router.post("/api/tasks/<workflow_id>/<reference>/<status>")
def update_task_by_reference(workflow_id: str, reference: str, status: str) -> Response[str]:
    output = json_body(router, default={})
    if not isinstance(output, dict):
        raise bad_request("The request body must be a JSON object (the task's output)")
    update = TaskUpdate(
        status=_status(status),
        output=output,
        merge_output=True,
        worker_id=query(router, "workerid"),
    )
    task_id = baton().update_task_by_reference(workflow_id, reference, update)
    return _text(task_id or "")


@router.get("/api/tasks/poll/<task_type>")
def poll(task_type: str) -> Response[str]:
    task = baton().poll(task_type, query(router, "workerid"))
    if task is None:
        return Response(status_code=204, content_type=content_types.TEXT_PLAIN, body="")
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=strict_json(task)
    )


@router.get("/api/tasks/<task_id>")
def get_task(task_id: str) -> dict[str, Any]:
    service = baton()
    workflow_id = service.store.workflow_id_for_task(task_id)
    workflow = service.store.load(workflow_id) if workflow_id else None
    task = workflow.task_by_id(task_id) if workflow else None
    if workflow is None or task is None:
        raise NotFound(f"No such task found by id: {task_id}")
    return task.to_json(workflow)
