"""`/api/workflow`: retry, restart, rerun, skip, remove, task pages, and the bulk operations.

Also reset callbacks and decide; as Conductor's WorkflowResource and WorkflowBulkResource
answer them (`/api/workflow/bulk/*`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton import bulk
from baton.api.errors import bad_request, strict_json
from baton.api.requests import json_body, json_object, json_type, query, query_bool, query_int
from baton.engine.lifecycle import RerunRequest
from baton.engine.validation import MAX_VERSION
from baton.runtime import baton

router = Router()


def _empty(status: int = 200) -> Response[str]:
    return Response(status_code=status, content_type=content_types.TEXT_PLAIN, body="")


def _json(value: Any) -> Response[str]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=strict_json(value)
    )


def _object_field(body: dict[str, Any], field: str) -> dict[str, Any] | None:
    value = body.get(field)
    if value is not None and not isinstance(value, dict):
        raise bad_request(f"{field} must be a JSON object, not {json_type(value)}")
    return value


def _text_field(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{field} must be a string, not {json_type(value)}")
    return value


# -- one workflow ------------------------------------------------------------------------------


@router.post("/api/workflow/<workflow_id>/retry")
def retry(workflow_id: str) -> Response[str]:
    baton().retry(
        workflow_id,
        resume_subworkflow_tasks=query_bool(router, "resumeSubworkflowTasks", False),
    )
    return _empty(204)


@router.post("/api/workflow/<workflow_id>/restart")
def restart(workflow_id: str) -> Response[str]:
    baton().restart(
        workflow_id, use_latest_definitions=query_bool(router, "useLatestDefinitions", False)
    )
    return _empty(204)


@router.post("/api/workflow/<workflow_id>/rerun")
def rerun(workflow_id: str) -> Response[str]:
    body = json_object(router, what="a RerunWorkflowRequest", default={})
    from_workflow = _text_field(body, "reRunFromWorkflowId")
    if from_workflow not in (None, workflow_id):
        raise bad_request(
            f"reRunFromWorkflowId {from_workflow!r} is not the workflow of the path, {workflow_id}"
        )
    request = RerunRequest(
        rerun_from_task_id=_text_field(body, "reRunFromTaskId"),
        task_input=_object_field(body, "taskInput"),
        workflow_input=_object_field(body, "workflowInput"),
        correlation_id=_text_field(body, "correlationId"),
    )
    answer = baton().rerun(workflow_id, request)
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=answer)


@router.put("/api/workflow/<workflow_id>/skiptask/<task_reference_name>")
def skip_task(workflow_id: str, task_reference_name: str) -> Response[str]:
    body = json_object(router, what="a SkipTaskRequest", default={})
    for message in ("taskInputMessage", "taskOutputMessage"):
        if body.get(message) is not None:
            # Protobuf payloads of Conductor's gRPC API: Baton has no gRPC API to read them.
            raise bad_request(f"{message} is not supported; use taskInput and taskOutput")
    baton().skip_task(
        workflow_id,
        task_reference_name,
        task_input=_object_field(body, "taskInput"),
        task_output=_object_field(body, "taskOutput"),
    )
    return _empty()


@router.post("/api/workflow/<workflow_id>/resetcallbacks")
def reset_callbacks(workflow_id: str) -> Response[str]:
    baton().reset_callbacks(workflow_id)
    return _empty(204)


@router.put("/api/workflow/decide/<workflow_id>")
def decide(workflow_id: str) -> Response[str]:
    baton().decide(workflow_id)
    return _empty()


@router.delete("/api/workflow/<workflow_id>/remove")
def remove(workflow_id: str) -> Response[str]:
    # archiveWorkflow: Conductor's archive is its search index; Baton keeps none beside its
    # tables, so the workflow is deleted either way (read, and checked to be a boolean).
    query_bool(router, "archiveWorkflow", True)
    baton().remove(workflow_id)
    return _empty()


@router.delete("/api/workflow/<workflow_id>/terminate-remove")
def terminate_remove(workflow_id: str) -> Response[str]:
    query_bool(router, "archiveWorkflow", True)
    baton().terminate_remove(workflow_id, query(router, "reason"))
    return _empty()


@router.get("/api/workflow/<workflow_id>/tasks")
def workflow_tasks(workflow_id: str) -> Response[str]:
    start = query_int(router, "start", minimum=0)
    count = query_int(router, "count", minimum=0)
    statuses = (router.current_event.multi_value_query_string_parameters or {}).get("status")
    return _json(
        baton().workflow_tasks(
            workflow_id,
            start=0 if start is None else start,
            count=15 if count is None else count,
            statuses=[s for value in statuses or [] for s in value.split(",") if s],
        )
    )


@router.get("/api/workflow/running/<name>")
def running(name: str) -> Response[str]:
    version = query_int(router, "version", minimum=0, maximum=MAX_VERSION)
    epoch_ms = {"minimum": 0, "maximum": 2**63 - 1}
    return _json(
        baton().running_workflows(
            name,
            1 if version is None else version,  # Conductor's default
            start_time=query_int(router, "startTime", **epoch_ms),
            end_time=query_int(router, "endTime", **epoch_ms),
        )
    )


@router.post("/api/workflow/<name>/correlated")
def correlated_many(name: str) -> Response[str]:
    ids = json_body(router)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_request("The request body must be a JSON array of correlation ids")
    return _json(
        baton().correlated_many(
            name,
            ids,
            include_closed=query_bool(router, "includeClosed", False),
            include_tasks=query_bool(router, "includeTasks", False),
        )
    )


# -- many workflows: WorkflowBulkResource ------------------------------------------------------


def _ids() -> list[str]:
    return bulk.check_ids(json_body(router))


@router.put("/api/workflow/bulk/pause")
def bulk_pause() -> Response[str]:
    return _json(bulk.run(_ids(), baton().pause))


@router.put("/api/workflow/bulk/resume")
def bulk_resume() -> Response[str]:
    return _json(bulk.run(_ids(), baton().resume))


@router.post("/api/workflow/bulk/restart")
def bulk_restart() -> Response[str]:
    latest = query_bool(router, "useLatestDefinitions", False)
    service = baton()
    return _json(bulk.run(_ids(), lambda i: service.restart(i, use_latest_definitions=latest)))


@router.post("/api/workflow/bulk/retry")
def bulk_retry() -> Response[str]:
    return _json(bulk.run(_ids(), baton().retry))


@router.post("/api/workflow/bulk/terminate")
def bulk_terminate() -> Response[str]:
    reason = query(router, "reason")
    service = baton()
    return _json(bulk.run(_ids(), lambda i: service.terminate(i, reason)))


@router.delete("/api/workflow/bulk/remove")
def bulk_remove() -> Response[str]:
    query_bool(router, "archiveWorkflow", True)
    return _json(bulk.run(_ids(), baton().remove))


@router.delete("/api/workflow/bulk/terminate-remove")
def bulk_terminate_remove() -> Response[str]:
    query_bool(router, "archiveWorkflow", True)
    reason = query(router, "reason")
    service = baton()
    return _json(bulk.run(_ids(), lambda i: service.terminate_remove(i, reason)))


@router.post("/api/workflow/bulk/search")
def bulk_search() -> Response[str]:
    include_tasks = query_bool(router, "includeTasks", True)
    service = baton()
    return _json(bulk.run(_ids(), lambda i: service.get(i, include_tasks=include_tasks)))
