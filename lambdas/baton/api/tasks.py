"""`/api/tasks`: worker polls and task results."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton import execution
from baton.api.errors import bad_request, strict_json
from baton.api.requests import json_body, json_object, query, query_int, text_body
from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.state import TaskStatus
from baton.errors import NotFound
from baton.runtime import baton

router = Router()

# What a task result may set; SCHEDULED, SKIPPED and TIMED_OUT are the engine's to give.
# Conductor's batch poll: one task and 100 ms by default; a longer wait than 5 s is refused
# (API Gateway would end the request at 29 s in any case).
DEFAULT_POLL_TIMEOUT_MS = 100
MAX_POLL_TIMEOUT_MS = 5000
MAX_POLL_COUNT = 100

RESULT_STATUSES = ("IN_PROGRESS", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "COMPLETED", "CANCELED")


def _status(value: Any) -> TaskStatus:
    if not isinstance(value, str) or value.upper() not in RESULT_STATUSES:
        raise bad_request(f"status must be one of {', '.join(RESULT_STATUSES)}, not {value!r}")
    return TaskStatus(value.upper())


def _text(value: str) -> Response[str]:
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=value)


def _task_result(body: dict[str, Any]) -> tuple[str, str, TaskUpdate]:
    """Conductor's TaskResult: (workflow id, task id, the update it asks for)."""
    workflow_id = body.get("workflowInstanceId")
    task_id = body.get("taskId")
    if not isinstance(workflow_id, str) or not workflow_id:
        raise bad_request("workflowInstanceId: Workflow Id cannot be null or empty")
    if not isinstance(task_id, str) or not task_id:
        raise bad_request("taskId: Task ID cannot be null or empty")
    output = body.get("outputData")
    if output is not None and not isinstance(output, dict):
        raise bad_request("outputData must be a JSON object")
    callback = body.get("callbackAfterSeconds", 0)
    if callback is None:
        callback = 0
    if not isinstance(callback, int) or isinstance(callback, bool) or callback < 0:
        raise bad_request("callbackAfterSeconds must be a whole number of seconds, at least 0")
    reason = body.get("reasonForIncompletion")
    worker_id = body.get("workerId")
    update = TaskUpdate(
        status=_status(body.get("status")),
        output=output,
        reason_for_incompletion=reason if isinstance(reason, str) else None,
        worker_id=worker_id if isinstance(worker_id, str) else None,
        requeue_after_seconds=callback,
        extend_lease=body.get("extendLease") is True,
        logs=_logs(body.get("logs"), task_id),
    )
    return workflow_id, task_id, update


def _logs(value: Any, task_id: str) -> tuple[str, ...]:
    """The text of TaskResult.logs (TaskExecLog entries, or plain strings)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request("logs must be a list of TaskExecLog entries")
    texts = []
    for entry in value:
        text = entry.get("log") if isinstance(entry, dict) else entry
        if not isinstance(text, str):
            raise bad_request("Each entry of logs needs its text under log")
        texts.append(text)
    return tuple(texts)


@router.post("/api/tasks")
def update_task() -> Response[str]:
    workflow_id, task_id, update = _task_result(json_object(router, what="a TaskResult"))
    return _text(baton().update_task(workflow_id, task_id, update))


@router.post("/api/tasks/update-v2")
def update_task_v2() -> Response[str]:
    """Update a task, then hand the same worker its next task of that type (or 204)."""
    workflow_id, task_id, update = _task_result(json_object(router, what="a TaskResult"))
    next_task = baton().update_task_and_poll(workflow_id, task_id, update)
    return _no_content() if next_task is None else _json(next_task)


@router.post("/api/tasks/queue/requeue/<task_type>")
def requeue(task_type: str) -> Response[str]:
    # Registered before the update by reference, whose pattern it also matches.
    # Conductor pushes pending tasks missing from their queue back into it. A SCHEDULED task
    # is in Baton's poll index by the very write that scheduled it, so none is ever missing.
    return _text("0")


def _output_body() -> dict[str, Any]:
    output = json_body(router, default={})
    if not isinstance(output, dict):
        raise bad_request("The request body must be a JSON object (the task's output)")
    return output


@router.post("/api/tasks/<workflow_id>/<status>/signal")
def signal(workflow_id: str, status: str) -> Response[str]:
    """Complete (or fail) the workflow's WAIT task that is waiting, as Conductor's signal."""
    update = TaskUpdate(status=_status(status), output=_output_body(), merge_output=True)
    baton().signal(workflow_id, update)
    return _text("")


@router.post("/api/tasks/<workflow_id>/<status>/signal/sync")
def signal_sync(workflow_id: str, status: str) -> Response[str]:
    """Signal, then answer once the workflow ends or waits again (timeoutMillis, default 5 s,
    at most 25 s: API Gateway ends a request at 29 s)."""
    strategy = query(router, "returnStrategy")
    if strategy is not None and strategy.upper() != "TARGET_WORKFLOW":
        raise bad_request(
            f"returnStrategy {strategy!r} is not supported; Baton answers TARGET_WORKFLOW"
        )
    timeout = query_int(router, "timeoutMillis", minimum=0, maximum=2**63 - 1)
    update = TaskUpdate(status=_status(status), output=_output_body(), merge_output=True)
    service = baton()
    if service.signal(workflow_id, update) is None:
        raise NotFound(f"Found no blocked task in workflow {workflow_id} to signal")
    seconds = (5000 if timeout is None else timeout) / 1000
    return _json(
        execution.await_run(service, workflow_id, task_refs=(), seconds=seconds, request_id=None)
    )


@router.post("/api/tasks/<workflow_id>/<reference>/<status>/sync")
def update_task_sync(workflow_id: str, reference: str, status: str) -> Response[str]:
    """Update the pending task by reference and answer the workflow as it is then."""
    update = TaskUpdate(
        status=_status(status),
        output=_output_body(),
        merge_output=True,
        worker_id=query(router, "workerid"),
        requeue_after_seconds=0,
    )
    service = baton()
    workflow = service.store.require(workflow_id)
    pending = decider.find_task(workflow, reference=reference)
    if pending is None or pending.status.is_terminal:
        raise NotFound(f"Found no running task {reference} of workflow {workflow_id} to update")
    service.update_task_by_reference(workflow_id, reference, update)
    return _json(service.get(workflow_id, include_tasks=True))


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
        requeue_after_seconds=0,
    )
    task_id = baton().update_task_by_reference(workflow_id, reference, update)
    return _text(task_id or "")


def _json(value: Any) -> Response[str]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=strict_json(value)
    )


def _no_content() -> Response[str]:
    return Response(status_code=204, content_type=content_types.TEXT_PLAIN, body="")


# Domains and worker ids become parts of DynamoDB keys, which hold at most 1,024 bytes.
MAX_NAME_BYTES = 255


def _bounded(name: str, value: str | None) -> str | None:
    if value is not None and len(value.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise bad_request(f"{name} is longer than {MAX_NAME_BYTES} bytes")
    return value


def _domain() -> str | None:
    # An empty domain is no domain, as Conductor's queue names treat it.
    return _bounded("domain", query(router, "domain")) or None


def _worker_id() -> str | None:
    return _bounded("workerid", query(router, "workerid"))


@router.get("/api/tasks/poll/batch/<task_type>")
def batch_poll(task_type: str) -> Response[str]:
    count = query_int(router, "count")
    timeout = query_int(router, "timeout")
    count = 1 if count is None else count
    timeout = DEFAULT_POLL_TIMEOUT_MS if timeout is None else timeout
    if timeout > MAX_POLL_TIMEOUT_MS:
        raise bad_request("Long Poll Timeout value cannot be more than 5 seconds")
    if timeout < 0:
        raise bad_request("timeout must not be negative")
    if count < 1 or count > MAX_POLL_COUNT:
        raise bad_request(f"count must be between 1 and {MAX_POLL_COUNT}, not {count}")
    tasks = baton().batch_poll(task_type, _worker_id(), _domain(), count=count, timeout_ms=timeout)
    # Conductor answers an empty batch with 200 and [] (client libraries expect a list).
    return _json(tasks)


@router.get("/api/tasks/poll/<task_type>")
def poll(task_type: str) -> Response[str]:
    task = baton().poll(task_type, _worker_id(), _domain())
    return _no_content() if task is None else _json(task)


@router.post("/api/tasks/<task_id>/log")
def add_log(task_id: str) -> Response[str]:
    text = text_body(router)
    if not text:
        raise bad_request("The request body (the log line, as text) is required")
    baton().add_task_log(task_id, text)
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body="")


@router.get("/api/tasks/<task_id>/log")
def get_logs(task_id: str) -> Response[str]:
    logs = baton().task_logs(task_id)
    return _json(logs) if logs else _no_content()


def _queue_name(task_type: str, domain: str | None) -> str:
    # Conductor's QueueUtils: `<domain>:<task type>`, or the task type alone.
    return f"{domain}:{task_type}" if domain else task_type


@router.get("/api/tasks/queue/sizes")
def queue_sizes() -> dict[str, int]:
    names = (router.current_event.multi_value_query_string_parameters or {}).get("taskType") or []
    service = baton()
    return {name: service.queue_size(name, None) for name in names}


@router.get("/api/tasks/queue/size")
def queue_size() -> Response[str]:
    task_type = query(router, "taskType")
    if not task_type:
        raise bad_request("Query parameter taskType is required")
    return _json(baton().queue_size(task_type, _domain()))


@router.get("/api/tasks/queue/all")
def all_queues() -> dict[str, int]:
    return {_queue_name(*queue): size for queue, size in baton().queues().items()}


@router.get("/api/tasks/queue/all/verbose")
def all_queues_verbose() -> dict[str, dict[str, dict[str, int]]]:
    # Conductor's shape: queue -> shard -> size and unacknowledged messages. Baton hands a
    # task out in the write that claims it, so nothing is ever left unacknowledged.
    return {
        _queue_name(*queue): {"a": {"size": size, "uacked": 0}}
        for queue, size in baton().queues().items()
    }


@router.get("/api/tasks/queue/polldata")
def get_poll_data() -> list[dict[str, Any]]:
    task_type = query(router, "taskType")
    if not task_type:
        raise bad_request("Query parameter taskType is required")
    return baton().poll_data(task_type)


@router.get("/api/tasks/queue/polldata/all")
def get_all_poll_data() -> list[dict[str, Any]]:
    return baton().poll_data()


@router.get("/api/tasks/<task_id>")
def get_task(task_id: str) -> dict[str, Any]:
    return baton().get_task(task_id)
