"""Workflow search, as Conductor's `GET /api/workflow/search` answers it: a SearchResult."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baton.search.plan import plan
from baton.store import search as store_search
from baton.store.metadata import MetadataStore


@dataclass(frozen=True)
class SearchRequest:
    """Conductor's search parameters (`WorkflowResource.search`), as sent."""

    query: str | None = None
    free_text: str | None = None
    sort: str | None = None
    start: int = 0
    size: int = 100


def search_workflows(
    request: SearchRequest, *, full: bool, metadata: MetadataStore
) -> dict[str, Any]:
    """`{"totalHits", "results"}`: WorkflowSummary objects, or (`full`) Workflows without
    their tasks. Raises SearchRefused (a 400) for what no index answers at a bounded cost."""
    page = store_search.search(
        plan(
            query=request.query,
            free_text=request.free_text,
            sort=request.sort,
            start=request.start,
            size=request.size,
        )
    )
    shape = store_search.workflow_json if full else store_search.workflow_summary
    results = [shape(item, metadata) for item in page.items]
    return {"totalHits": page.total_hits, "results": results}
