"""`/api/workflow`: start, read, terminate, pause and resume workflows, and test runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton import execution
from baton.api.errors import bad_request, strict_json
from baton.api.metadata import _checked_workflow_def
from baton.api.requests import json_body, json_object, json_type, query, query_bool, query_int
from baton.engine.state import TaskStatus
from baton.engine.validation import MAX_VERSION
from baton.runtime import baton
from baton.service import IDEMPOTENCY_STRATEGIES, StartRequest

if TYPE_CHECKING:
    # Imported by the test route on its first request: no cold start needs it.
    from baton import mock_run

router = Router()


def _text(value: str) -> Response[str]:
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=value)


def _string_map(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad_request(f"{field} must be an object of strings")
    return {str(k): v for k, v in value.items()}


# Both are stored as parts of DynamoDB keys, which hold at most 1,024 to 2,048 bytes.
MAX_KEY_TEXT_BYTES = 512


def _optional_text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_TEXT_BYTES:
        raise bad_request(f"{field} must be at most {MAX_KEY_TEXT_BYTES} bytes")
    return value


# Conductor's bounds (StartWorkflowRequest.priority, WorkflowService.startWorkflow).
MIN_PRIORITY, MAX_PRIORITY = 0, 99


def _body_integer(value: Any, field: str, minimum: int, maximum: int) -> int | None:
    """An integer field of a request body, in Conductor's words when it is out of bounds."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{field} must be an integer, not {json_type(value)}")
    if value < minimum:
        raise bad_request(f"{field}: {value} should be minimum {minimum}")
    if value > maximum:
        raise bad_request(f"{field}: {str(value)[:40]} should be maximum {maximum}")
    return value


@router.post("/api/workflow/<name>")
def start_by_name(name: str) -> Response[str]:
    workflow_input = json_body(router, default={})
    if not isinstance(workflow_input, dict):
        raise bad_request("The workflow input must be a JSON object")
    request = StartRequest(
        name=name,
        version=query_int(router, "version", minimum=0, maximum=MAX_VERSION),
        input=workflow_input,
        correlation_id=_optional_text(query(router, "correlationId"), "correlationId"),
        priority=query_int(router, "priority", minimum=MIN_PRIORITY, maximum=MAX_PRIORITY) or 0,
    )
    return _text(baton().start(request))


@router.post("/api/workflow")
def start() -> Response[str]:
    body = json_object(router, what="a StartWorkflowRequest")
    return _text(baton().start(start_request(body)))


def start_request(body: dict[str, Any]) -> StartRequest:
    """Conductor's StartWorkflowRequest, checked."""
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name: workflow name cannot be null or empty")
    version = _body_integer(body.get("version"), "version", 0, MAX_VERSION)
    workflow_input = body.get("input") or {}
    if not isinstance(workflow_input, dict):
        raise bad_request("input must be a JSON object")
    strategy = str(body.get("idempotencyStrategy") or "FAIL").upper()
    if strategy not in IDEMPOTENCY_STRATEGIES:
        raise bad_request(f"idempotencyStrategy must be one of {', '.join(IDEMPOTENCY_STRATEGIES)}")
    priority = _body_integer(body.get("priority"), "priority", MIN_PRIORITY, MAX_PRIORITY) or 0
    inline = body.get("workflowDef")
    # An embedded definition runs without being registered, so no route need reach its name.
    inline_def = None
    if inline:
        inline_def = _checked_workflow_def(inline, "workflowDef.", registered=False)
    request = StartRequest(
        name=name,
        version=version,
        input=workflow_input,
        correlation_id=_optional_text(body.get("correlationId"), "correlationId"),
        priority=priority,
        task_to_domain=_string_map(body.get("taskToDomain"), "taskToDomain"),
        workflow_def=inline_def,
        idempotency_key=_optional_text(body.get("idempotencyKey"), "idempotencyKey"),
        idempotency_strategy=strategy,
    )
    return request


@router.get("/api/workflow/<workflow_id>")
def get_workflow(workflow_id: str) -> dict[str, Any]:
    # Conductor's server includes tasks unless told not to; its SDK relies on that default.
    return baton().get(workflow_id, include_tasks=query_bool(router, "includeTasks", True))


@router.get("/api/workflow/<workflow_id>/status")
def status_summary(workflow_id: str) -> dict[str, Any]:
    return baton().status_summary(
        workflow_id,
        include_output=query_bool(router, "includeOutput", False),
        include_variables=query_bool(router, "includeVariables", False),
    )


@router.get("/api/workflow/<name>/correlated/<correlation_id>")
def correlated(name: str, correlation_id: str) -> list[dict[str, Any]]:
    return baton().correlated(
        name,
        correlation_id,
        include_closed=query_bool(router, "includeClosed", False),
        include_tasks=query_bool(router, "includeTasks", False),
    )


@router.delete("/api/workflow/<workflow_id>")
def terminate(workflow_id: str) -> Response[str]:
    baton().terminate(workflow_id, query(router, "reason"))
    return _text("")


@router.put("/api/workflow/<workflow_id>/pause")
def pause(workflow_id: str) -> Response[str]:
    baton().pause(workflow_id)
    return _text("")


@router.put("/api/workflow/<workflow_id>/resume")
def resume(workflow_id: str) -> Response[str]:
    baton().resume(workflow_id)
    return _text("")


@router.post("/api/workflow/execute/<name>/<version>")
def execute(name: str, version: str) -> Response[str]:
    """Start a workflow and answer its WorkflowRun once it ends, reaches `waitUntilTaskRef`,
    or `waitForSeconds` (at most 25, API Gateway's 29 s less a margin) have passed."""
    body = json_object(router, what="a StartWorkflowRequest", default={})
    if not (version.isascii() and version.isdigit()) or int(version) > MAX_VERSION:
        raise bad_request(f"version must be an integer from 0 to {MAX_VERSION}, not {version!r}")
    for field, accepted in (("consistency", "DURABLE"), ("returnStrategy", "TARGET_WORKFLOW")):
        value = query(router, field)
        if value is not None and value.upper() != accepted:
            # Orkes' other modes (in-memory execution, other return targets) are not Baton's.
            raise bad_request(f"{field} {value!r} is not supported; Baton answers {accepted}")
    request = start_request({**body, "name": name, "version": int(version)})
    wait = query_int(router, "waitForSeconds", minimum=0)
    run = execution.execute(
        baton(),
        request,
        wait_until_task_ref=query(router, "waitUntilTaskRef") or None,
        wait_for_seconds=execution.DEFAULT_WAIT_SECONDS if wait is None else wait,
        request_id=_optional_text(query(router, "requestId"), "requestId"),
    )
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=strict_json(run)
    )


def _task_mocks(value: Any, field: str) -> dict[str, list[mock_run.TaskMock]]:
    """`taskRefToMockOutput`: task reference -> the TaskMocks it takes, in order."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{field} must be an object of task references to lists of mocks")
    mocks: dict[str, list[mock_run.TaskMock]] = {}
    for reference, entries in value.items():
        if not isinstance(entries, list):
            raise bad_request(f"{field}.{reference} must be a list of mocks")
        mocks[str(reference)] = [
            _task_mock(entry, f"{field}.{reference}[{n}]") for n, entry in enumerate(entries)
        ]
    return mocks


def _task_mock(value: Any, field: str) -> mock_run.TaskMock:
    from baton import mock_run

    if not isinstance(value, dict):
        raise bad_request(f"{field} must be an object (status, output)")
    status = value.get("status")
    if not isinstance(status, str) or status.upper() not in mock_run.MOCK_STATUSES:
        raise bad_request(f"{field}.status must be one of {', '.join(mock_run.MOCK_STATUSES)}")
    output = value.get("output") or {}
    if not isinstance(output, dict):
        raise bad_request(f"{field}.output must be a JSON object")
    day = 86_400_000
    return mock_run.TaskMock(
        status=TaskStatus(status.upper()),
        output=output,
        execution_time=_body_integer(value.get("executionTime"), f"{field}.executionTime", 0, day)
        or 0,
        queue_wait_time=_body_integer(value.get("queueWaitTime"), f"{field}.queueWaitTime", 0, day)
        or 0,
    )


def _child_tests(value: Any, field: str, depth: int) -> dict[str, mock_run.ChildTest]:
    """`subWorkflowTestRequest`: SUB_WORKFLOW reference -> the child's WorkflowTestRequest."""
    from baton import mock_run

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{field} must be an object of task references to test requests")
    if depth >= mock_run.MAX_DEPTH:
        raise bad_request(f"{field} nests more than {mock_run.MAX_DEPTH} levels deep")
    children = {}
    for reference, request in value.items():
        where = f"{field}.{reference}"
        if not isinstance(request, dict):
            raise bad_request(f"{where} must be a WorkflowTestRequest")
        children[str(reference)] = mock_run.ChildTest(
            mocks=_task_mocks(request.get("taskRefToMockOutput"), f"{where}.taskRefToMockOutput"),
            children=_child_tests(
                request.get("subWorkflowTestRequest"), f"{where}.subWorkflowTestRequest", depth + 1
            ),
        )
    return children


@router.post("/api/workflow/test")
def test_workflow() -> dict[str, Any]:
    """Conductor's WorkflowTestRequest: the workflow run in memory on its mocks (nothing is
    stored or called), answered as the Workflow it became."""
    from baton import mock_run

    body = json_object(router, what="a WorkflowTestRequest")
    request = start_request(body)
    if request.idempotency_key:
        raise bad_request("idempotencyKey: a test run is stored nowhere, so it has no key")
    service = baton()
    definition = request.workflow_def or service.metadata.get_workflow_def(
        request.name, request.version
    )
    test = mock_run.TestRun(
        definition=definition,
        input=request.input,
        correlation_id=request.correlation_id,
        priority=request.priority,
        task_to_domain=request.task_to_domain,
        mocks=_task_mocks(body.get("taskRefToMockOutput"), "taskRefToMockOutput"),
        children=_child_tests(body.get("subWorkflowTestRequest"), "subWorkflowTestRequest", 0),
    )
    return service.test_workflow(test)
