"""Search routes: `/api/workflow/search[-v2]`, answered from DynamoDB indexes.

The task searches are refused until tasks are indexed for them (see `baton.search.plan`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.errors import bad_request
from baton.api.requests import query, query_int
from baton.runtime import baton
from baton.search.plan import MAX_WINDOW, SearchRefused
from baton.search.workflows import SearchRequest

router = Router()


def _request() -> SearchRequest:
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
