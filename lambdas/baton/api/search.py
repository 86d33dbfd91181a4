"""Search routes: `/api/workflow/search[-v2]` from DynamoDB indexes, and the task searches.

The task searches (`/api/tasks/search[-v2]`, `/api/workflow/search-by-tasks[-v2]`) read the
tasks of the workflows their query names (see `baton.search.tasks`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.errors import bad_request
from baton.api.requests import query, query_int
from baton.runtime import baton
from baton.search.plan import MAX_WINDOW, SearchRefused

if TYPE_CHECKING:
    # Imported on a search's first request: no cold start needs them.
    from baton.search.tasks import TaskSearchRequest
    from baton.search.workflows import SearchRequest

router = Router()


def _request() -> SearchRequest:
    from baton.search.workflows import SearchRequest

    return SearchRequest(
        query=query(router, "query"),
        free_text=query(router, "freeText"),
        sort=query(router, "sort"),
        start=query_int(router, "start", minimum=0, maximum=MAX_WINDOW) or 0,
        size=_size(),
    )


def _size() -> int:
    size = query_int(router, "size", minimum=0)
    return 100 if size is None else size


def _search(full: bool) -> dict[str, Any]:
    try:
        return baton().search_workflows(_request(), full=full)
    except SearchRefused as refused:
        raise bad_request(str(refused)) from None


@router.get("/api/workflow/search")
def search() -> dict[str, Any]:
    return _search(full=False)


@router.get("/api/workflow/search-v2")
def search_v2() -> dict[str, Any]:
    return _search(full=True)


def _task_request() -> TaskSearchRequest:
    from baton.search.tasks import TaskSearchRequest

    return TaskSearchRequest(
        query=query(router, "query"),
        free_text=query(router, "freeText"),
        sort=query(router, "sort"),
        start=query_int(router, "start", minimum=0, maximum=MAX_WINDOW) or 0,
        size=_size(),
    )


def _search_tasks(full: bool) -> dict[str, Any]:
    try:
        return baton().search_tasks(_task_request(), full=full)
    except SearchRefused as refused:
        raise bad_request(str(refused)) from None


def _search_by_tasks(full: bool) -> dict[str, Any]:
    try:
        return baton().search_workflows_by_tasks(_task_request(), full=full)
    except SearchRefused as refused:
        raise bad_request(str(refused)) from None


@router.get("/api/tasks/search")
def search_tasks() -> dict[str, Any]:
    return _search_tasks(full=False)


@router.get("/api/tasks/search-v2")
def search_tasks_v2() -> dict[str, Any]:
    return _search_tasks(full=True)


@router.get("/api/workflow/search-by-tasks")
def search_by_tasks() -> dict[str, Any]:
    return _search_by_tasks(full=False)


@router.get("/api/workflow/search-by-tasks-v2")
def search_by_tasks_v2() -> dict[str, Any]:
    return _search_by_tasks(full=True)
