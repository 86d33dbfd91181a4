"""Workflow search on DynamoDB: the index keys a commit writes, and the reads a plan makes.

Every index a search reads is keys only and sorted by start time, so a page is a k-way merge
of the partitions its filters name, read lazily in start-time order; the page's items are
then read by key (BatchGetItem). totalHits goes on through the merged keys up to
`MAX_WINDOW`. Index reads are eventually consistent, as Conductor's search index is: a
workflow shows up in search, and moves between statuses there, a moment after its commit.
"""

from __future__ import annotations

import heapq
import json
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from pynamodb.expressions.condition import Condition

from baton.engine.run import definition_index
from baton.engine.state import Workflow
from baton.search.plan import MAX_WINDOW, WORKFLOW_STATUSES, Filter, Plan
from baton.store.metadata import MetadataStore
from baton.store.models import STATUS_SHARDS, TYPE_STATUS_SHARDS, WorkflowItem

# Keys read per index query once a page is served (the rest is counting).
COUNT_PAGE_SIZE = 1000
# Index partitions whose first page is read side by side.
PARALLEL_READS = 16


def _shard(workflow_id: str) -> int:
    return zlib.crc32(workflow_id.encode())


def type_status_key(name: str, status: str, shard: int) -> str:
    return f"{name}#{status}#{shard}"


def status_key(status: str, shard: int) -> str:
    return f"{status}#{shard}"


def workflow_search_keys(workflow: Workflow) -> dict[str, str]:
    """The search index keys of a workflow, as each commit writes them."""
    shard = _shard(workflow.workflow_id)
    status = workflow.status.value
    return {
        "search_type_status": type_status_key(
            workflow.definition.name, status, shard % TYPE_STATUS_SHARDS
        ),
        "search_status": status_key(status, shard % STATUS_SHARDS),
    }


@dataclass(frozen=True, order=True)
class Hit:
    """One index entry: a workflow and its start time (what the indexes are sorted by)."""

    start_time: int
    workflow_id: str


@dataclass
class SearchPage:
    """A page of workflows (their stored items) and the count of every match, capped."""

    items: list[WorkflowItem]
    total_hits: int


@dataclass
class _Reads:
    """What one search has read by key, so no item is read twice."""

    items: dict[str, WorkflowItem | None] = field(default_factory=dict)

    def fetch(self, workflow_ids: list[str]) -> None:
        wanted = [i for i in dict.fromkeys(workflow_ids) if i not in self.items]
        for workflow_id in wanted:
            self.items[workflow_id] = None
        # Eventually consistent, as the index it follows is (and half the price).
        for item in WorkflowItem.batch_get(wanted, consistent_read=False):
            self.items[str(item.workflow_id)] = item


def _time_condition(found: Filter) -> Condition | None:
    low, high = found.start_from, found.start_to
    if low is not None and high is not None:
        return WorkflowItem.create_time.between(low, high)
    if low is not None:
        return WorkflowItem.create_time >= low
    if high is not None:
        return WorkflowItem.create_time <= high
    return None


def _partition(
    query: Callable[..., Any], hash_key: str, found: Filter, descending: bool, page_size: int
) -> Iterator[Hit]:
    for item in query(
        hash_key,
        _time_condition(found),
        scan_index_forward=not descending,
        page_size=page_size,
    ):
        yield Hit(int(item.create_time or 0), str(item.workflow_id))


def _index_reads(found: Filter, descending: bool, page_size: int) -> list[Iterator[Hit]]:
    statuses = sorted(found.statuses) if found.statuses is not None else WORKFLOW_STATUSES
    if found.index == "type_status":
        assert found.workflow_types is not None
        return [
            _partition(
                WorkflowItem.by_type_status.query,
                type_status_key(name, status, shard),
                found,
                descending,
                page_size,
            )
            for name in sorted(found.workflow_types)
            for status in statuses
            for shard in range(TYPE_STATUS_SHARDS)
        ]
    if found.index == "status":
        return [
            _partition(
                WorkflowItem.by_status.query,
                status_key(status, shard),
                found,
                descending,
                page_size,
            )
            for status in statuses
            for shard in range(STATUS_SHARDS)
        ]
    if found.index == "correlation":
        assert found.correlation_ids is not None
        return [
            _partition(
                WorkflowItem.by_correlation_id.query, correlation, found, descending, page_size
            )
            for correlation in sorted(found.correlation_ids)
        ]
    return []


def _checked(hits: Iterator[Hit], found: Filter, reads: _Reads) -> Iterator[Hit]:
    """The hits whose items match every constraint (reads that are not exact)."""
    while True:
        batch = list(islice(hits, 100))
        if not batch:
            return
        reads.fetch([hit.workflow_id for hit in batch])
        for hit in batch:
            item = reads.items.get(hit.workflow_id)
            if item is not None and _item_matches(found, item):
                yield Hit(int(item.create_time or 0), hit.workflow_id)


def _item_matches(found: Filter, item: WorkflowItem) -> bool:
    if item.body is None or item.name is None or item.status is None:
        return False  # an idempotency record, or a workflow from before search
    return found.matches(
        workflow_id=str(item.workflow_id),
        correlation_id=item.correlation_id,
        workflow_type=str(item.name),
        status=str(item.status),
        start_time=int(item.create_time or 0),
    )


def _by_ids(found: Filter, descending: bool, reads: _Reads) -> Iterator[Hit]:
    assert found.workflow_ids is not None
    ids = sorted(found.workflow_ids)
    reads.fetch(ids)
    hits = [
        Hit(int(item.create_time or 0), workflow_id)
        for workflow_id in ids
        for item in [reads.items.get(workflow_id)]
        if item is not None and _item_matches(found, item)
    ]
    return iter(sorted(hits, reverse=descending))


def _prefetched(streams: list[Iterator[Hit]]) -> list[Iterator[Hit]]:
    """The streams, each with its first index page read, side by side."""
    if len(streams) <= 1:
        return streams

    def first(stream: Iterator[Hit]) -> list[Hit]:
        return list(islice(stream, 1))

    with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(streams))) as pool:
        heads = list(pool.map(first, streams))
    return [_chain(head, stream) for head, stream in zip(heads, streams, strict=True)]


def _chain(head: list[Hit], stream: Iterator[Hit]) -> Iterator[Hit]:
    yield from head
    yield from stream


def _filter_stream(found: Filter, descending: bool, page_size: int, reads: _Reads) -> list[Any]:
    if found.index == "ids":
        return [_by_ids(found, descending, reads)]
    streams = _index_reads(found, descending, page_size)
    if found.index == "correlation" and (
        found.workflow_types is not None or found.statuses is not None
    ):
        return [_checked(heapq.merge(*streams, reverse=descending), found, reads)]
    return streams


def search(plan: Plan) -> SearchPage:
    """The page `plan` asks for, and how many workflows match (at most MAX_WINDOW)."""
    reads = _Reads()
    wanted = plan.start + plan.size
    streams: list[Iterator[Hit]] = []
    for found in plan.filters:
        partitions = max(1, len(_index_reads(found, plan.descending, 1)))
        # Enough per query for the page from any one partition, and for counting in few reads.
        page_size = min(COUNT_PAGE_SIZE, max(wanted, MAX_WINDOW // partitions, 10))
        streams += _filter_stream(found, plan.descending, page_size, reads)
    merged = heapq.merge(*_prefetched(streams), reverse=plan.descending)
    seen: set[str] = set()
    page: list[str] = []
    for hit in merged:
        if hit.workflow_id in seen:
            continue  # matched by two of the query's alternatives
        seen.add(hit.workflow_id)
        if plan.start < len(seen) <= wanted:
            page.append(hit.workflow_id)
        if len(seen) >= MAX_WINDOW:
            break
    reads.fetch(page)
    items = [item for i in page for item in [reads.items.get(i)] if item is not None]
    return SearchPage(items=items, total_hits=len(seen))


# -- Conductor's shapes -------------------------------------------------------------------


def _workflow(item: WorkflowItem, metadata: MetadataStore) -> Workflow:
    body = json.loads(item.body or "{}")
    definition = metadata.load_snapshot(body["definitionId"])
    return Workflow.from_store(body, definition, [], revision=int(item.revision))


def workflow_json(item: WorkflowItem, metadata: MetadataStore) -> dict[str, Any]:
    """The workflow as `GET /api/workflow/{id}?includeTasks=false` shows it."""
    workflow = _workflow(item, metadata)
    shown = workflow.to_json(include_tasks=False)
    shown["failedTaskNames"] = _failed_task_names(workflow)
    return shown


def _failed_task_names(workflow: Workflow) -> list[str]:
    index = definition_index(workflow.definition)
    names = []
    for reference in workflow.failed_reference_task_names:
        try:
            names.append(index.task(reference.split("__")[0]).name)
        except (KeyError, ValueError):
            continue
    return sorted(set(names))


def _iso(millis: int) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def workflow_summary(item: WorkflowItem, metadata: MetadataStore) -> dict[str, Any]:
    """Conductor's WorkflowSummary: times as ISO-8601 UTC text, input and output as JSON text."""
    shown = workflow_json(item, metadata)
    end_time = int(shown.get("endTime") or 0)
    summary: dict[str, Any] = {
        "workflowType": shown["workflowName"],
        "version": shown["workflowVersion"],
        "workflowId": shown["workflowId"],
        "correlationId": shown.get("correlationId"),
        "startTime": _iso(int(shown["startTime"])),
        "updateTime": _iso(int(shown["updateTime"])) if shown.get("updateTime") else None,
        "endTime": _iso(end_time) if end_time > 0 else None,
        "status": shown["status"],
        "input": json.dumps(shown.get("input") or {}, separators=(",", ":")),
        "output": json.dumps(shown.get("output") or {}, separators=(",", ":")),
        "reasonForIncompletion": shown.get("reasonForIncompletion"),
        "executionTime": end_time - int(shown["startTime"]) if end_time > 0 else 0,
        "event": shown.get("event"),
        "failedReferenceTaskNames": ",".join(shown.get("failedReferenceTaskNames") or []),
        "failedTaskNames": shown["failedTaskNames"],
        "priority": shown.get("priority", 0),
    }
    return {key: value for key, value in summary.items() if value is not None}
