"""`/api/metadata`: workflow and task definitions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.errors import bad_request, validation_failed
from baton.api.requests import json_body, json_object, query, query_bool, query_int
from baton.api.routing import refuse_if_shadowed
from baton.engine.definitions import TaskDef, WorkflowDef
from baton.engine.validation import (
    MAX_VERSION,
    FieldError,
    validate_task_def,
    validate_workflow_def,
)
from baton.runtime import baton

router = Router()


def _empty() -> Response[str]:
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body="")


def _raise_if_invalid(errors: list[FieldError], prefix: str) -> None:
    """A 400 listing every problem; `prefix` places them in a list the body held."""
    if errors:
        raise validation_failed(
            [FieldError(prefix + e.path, e.message, e.invalid_value) for e in errors]
        )


# The routes that reach a definition by its name (the first parameter of each).
_WORKFLOW_NAME_ROUTES = (
    ("POST", "/api/workflow/<name>"),
    ("GET", "/api/metadata/workflow/<name>"),
    ("GET", "/api/metadata/workflow/<name>/versions"),
    ("DELETE", "/api/metadata/workflow/<name>/<version>"),
    ("GET", "/api/workflow/<name>/correlated/<correlation_id>"),
    ("POST", "/api/workflow/<name>/correlated"),
    ("GET", "/api/workflow/running/<name>"),
)
_TASK_NAME_ROUTES = (
    ("GET", "/api/metadata/taskdefs/<name>"),
    ("DELETE", "/api/metadata/taskdefs/<name>"),
    ("GET", "/api/tasks/poll/<task_type>"),
)


def _checked_workflow_def(data: Any, prefix: str = "", *, registered: bool = True) -> WorkflowDef:
    _raise_if_invalid(validate_workflow_def(data), prefix)
    definition = WorkflowDef.from_json(data)
    if registered:
        refuse_if_shadowed(
            router, "Workflow name", prefix + "name", definition.name, _WORKFLOW_NAME_ROUTES
        )
    return definition


@router.post("/api/metadata/workflow")
def register_workflow_def() -> Response[str]:
    definition = _checked_workflow_def(json_object(router, what="a WorkflowDef"))
    baton().register_workflow_def(definition, overwrite=query_bool(router, "overwrite", False))
    return _empty()


@router.post("/api/metadata/workflow/validate")
def validate_workflow() -> Response[str]:
    _checked_workflow_def(json_object(router, what="a WorkflowDef"))
    return _empty()


@router.put("/api/metadata/workflow")
def update_workflow_defs() -> dict[str, Any]:
    body = json_body(router)
    if not isinstance(body, list):
        raise bad_request("The request body must be a JSON array of WorkflowDefs")
    definitions = [_checked_workflow_def(d, f"[{i}].") for i, d in enumerate(body)]
    return baton().update_workflow_defs(definitions)


@router.get("/api/metadata/workflow")
def all_workflow_defs() -> list[dict[str, Any]]:
    return baton().workflow_defs(classifier=query(router, "classifier"))


@router.get("/api/metadata/workflow/names-and-versions")
def workflow_names_and_versions() -> dict[str, list[dict[str, Any]]]:
    return baton().workflow_names_and_versions()


@router.get("/api/metadata/workflow/names")
def workflow_names() -> list[str]:
    return baton().workflow_names()


@router.get("/api/metadata/workflow/latest-versions")
def latest_workflow_defs() -> list[dict[str, Any]]:
    return baton().latest_workflow_defs()


@router.get("/api/metadata/workflow/<name>/versions")
def workflow_versions(name: str) -> list[dict[str, Any]]:
    return baton().workflow_versions(name)


@router.get("/api/metadata/workflow/<name>")
def get_workflow_def(name: str) -> dict[str, Any]:
    version = query_int(router, "version", minimum=0, maximum=MAX_VERSION)
    return baton().get_workflow_def(name, version)


@router.delete("/api/metadata/workflow/<name>/<version>")
def delete_workflow_def(name: str, version: str) -> Response[str]:
    if not (version.isascii() and version.isdigit()) or int(version) > MAX_VERSION:
        raise bad_request(f"version must be an integer from 0 to {MAX_VERSION}, not {version!r}")
    baton().delete_workflow_def(name, int(version))
    return _empty()


def _checked_task_def(data: Any, prefix: str = "") -> TaskDef:
    _raise_if_invalid(validate_task_def(data), prefix)
    definition = TaskDef.from_json(data)
    refuse_if_shadowed(router, "Task name", prefix + "name", definition.name, _TASK_NAME_ROUTES)
    return definition


@router.post("/api/metadata/taskdefs")
def register_task_defs() -> Response[str]:
    body = json_body(router)
    if not isinstance(body, list):
        raise bad_request("The request body must be a JSON array of TaskDefs")
    baton().register_task_defs([_checked_task_def(d, f"[{i}].") for i, d in enumerate(body)])
    return _empty()


@router.put("/api/metadata/taskdefs")
def update_task_def() -> Response[str]:
    baton().register_task_defs([_checked_task_def(json_object(router, what="a TaskDef"))])
    return _empty()


@router.get("/api/metadata/taskdefs")
def all_task_defs() -> list[dict[str, Any]]:
    return baton().task_defs()


@router.get("/api/metadata/taskdefs/<name>")
def get_task_def(name: str) -> dict[str, Any]:
    return baton().get_task_def(name)


@router.delete("/api/metadata/taskdefs/<name>")
def delete_task_def(name: str) -> Response[str]:
    baton().delete_task_def(name)
    return _empty()
