"""Task search as Conductor's `/api/tasks/search` answers it, over the workflows a query names.

Tasks have no search index of their own (each entry would cost every task write units). A
task search is served when each alternative of its query names the workflows to look in:
`workflowId`, `correlationId` or `taskId` (= or IN), or `workflowType` (= or IN), whose
candidates the workflow search indexes give (`baton.search.plan`); an upper bound on any task
time (`startTime < x`, `BETWEEN`) narrows them, since a task never starts before its
workflow. At most `MAX_WORKFLOWS_READ` workflows are read; the whole query is then checked on
each of their tasks. A query that names no workflows, or more than that, is refused with a
400 that says which filters to add: nothing is scanned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

from baton.engine.state import Task, TaskStatus, Workflow
from baton.search.grammar import Comparison, Junction, Node, QuerySyntaxError, parse
from baton.search.plan import (
    MAX_CONJUNCTIONS,
    MAX_PAGE_SIZE,
    MAX_PARTITIONS,
    MAX_VALUES,
    MAX_WINDOW,
    Filter,
    Plan,
    SearchRefused,
    partitions,
)
from baton.store import search as store_search
from baton.store.metadata import MetadataStore
from baton.store.models import STATUS_SHARDS, TYPE_STATUS_SHARDS, WorkflowItem
from baton.store.workflows import WorkflowStore

# The most workflows one task search reads (each is a GetItem and a Query of its tasks).
MAX_WORKFLOWS_READ = 500
# Workflows read side by side.
PARALLEL_LOADS = 16

TEXT_FIELDS = (
    "taskId",
    "taskType",
    "taskDefName",
    "referenceTaskName",
    "status",
    "workerId",
    "domain",
    "workflowId",
    "workflowType",
    "correlationId",
    "reasonForIncompletion",
)
# Epoch milliseconds; a time that has not happened yet (0) is null.
TIME_FIELDS = ("scheduledTime", "startTime", "updateTime", "endTime")
TASK_FIELDS = TEXT_FIELDS + TIME_FIELDS
TASK_STATUSES = tuple(status.value for status in TaskStatus)
_ADD_FILTERS = (
    "Task search reads the tasks of the workflows a query names: add workflowId, "
    "correlationId or taskId (= or IN), or workflowType (= or IN, narrowed if need be by "
    "an upper bound on a task time such as startTime < x), to every alternative of the query"
)
# What freeText matches without a text index: exactly one of these fields.
FREE_TEXT_FIELDS = ("taskId", "workflowId", "correlationId")
_FREE_TEXT_SYNTAX = frozenset('*?:"()[]{}~^\\ \t\r\n')


@dataclass(frozen=True)
class TaskSearchRequest:
    """Conductor's task search parameters (`TaskResource.search`), as sent."""

    query: str | None = None
    free_text: str | None = None
    sort: str | None = None
    start: int = 0
    size: int = 100


@dataclass(frozen=True)
class Bound:
    """The workflows one alternative of the query can match tasks in."""

    workflow_ids: frozenset[str] | None = None
    correlation_ids: frozenset[str] | None = None
    workflow_types: frozenset[str] | None = None
    task_ids: frozenset[str] | None = None
    # Inclusive, epoch ms: every matching task's workflow started at or before it.
    started_by: int | None = None

    @property
    def bounded(self) -> bool:
        return any(
            values is not None
            for values in (
                self.workflow_ids,
                self.correlation_ids,
                self.workflow_types,
                self.task_ids,
            )
        )


@dataclass(frozen=True)
class TaskSearchPlan:
    """A checked task search: the query, freeText, what bounds it, the order and the page."""

    tree: Node | None
    free_text: str | None
    bounds: tuple[Bound, ...]
    sort: tuple[tuple[str, bool], ...]  # (field, descending), most significant first
    start: int
    size: int


def plan_task_search(request: TaskSearchRequest) -> TaskSearchPlan:
    """The plan of a task search; SearchRefused (a 400) when it cannot be served."""
    if request.start < 0 or request.size < 0:
        raise SearchRefused("start and size must be 0 or more")
    if request.size > MAX_PAGE_SIZE:
        raise SearchRefused(
            f"Cannot return more than {MAX_PAGE_SIZE} tasks. Please use pagination."
        )
    if request.start + request.size > MAX_WINDOW:
        raise SearchRefused(f"start + size must be at most {MAX_WINDOW}")
    try:
        tree = parse(request.query or "")
    except QuerySyntaxError as error:
        raise SearchRefused(str(error)) from None
    if tree is not None:
        _check(tree)
    conjunctions = _disjunction(tree) if tree is not None else [[]]
    free_text = _free_text(request.free_text)
    if free_text is not None:
        alternatives = [[Comparison(name, "=", (free_text,))] for name in FREE_TEXT_FIELDS]
        conjunctions = _and(conjunctions, alternatives)
    bounds = tuple(_bound(conjunction) for conjunction in conjunctions)
    if not all(bound.bounded for bound in bounds):
        raise SearchRefused(_ADD_FILTERS)
    return TaskSearchPlan(
        tree=tree,
        free_text=free_text,
        bounds=bounds,
        sort=_sort(request.sort),
        start=request.start,
        size=request.size,
    )


def _check(node: Node) -> None:
    if isinstance(node, Junction):
        _check(node.left)
        _check(node.right)
        return
    field, operator, values = node.field, node.operator, node.values
    if field not in TASK_FIELDS:
        raise SearchRefused(
            f"'{field}' is not a field task search reads: one of {', '.join(TASK_FIELDS)}"
        )
    if len(values) > MAX_VALUES:
        raise SearchRefused(f"At most {MAX_VALUES} values in an IN list ({field})")
    if operator == "IS":
        return
    if field in TIME_FIELDS:
        if operator == "STARTS_WITH":
            raise SearchRefused(f"{field} is a time: it takes =, !=, >, <, IN or BETWEEN")
        for value in values:
            _millis(field, value)
        return
    if operator in (">", "<", "BETWEEN"):
        raise SearchRefused(f"{field} is text: it takes =, !=, IN, STARTS_WITH or IS")
    if field == "status" and operator != "STARTS_WITH":
        unknown = [value for value in values if value not in TASK_STATUSES]
        if unknown:
            raise SearchRefused(
                f"status {unknown[0]!r} is not a task status: one of {', '.join(TASK_STATUSES)}"
            )


def _millis(field: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SearchRefused(
            f"{field} is compared with epoch milliseconds, not {value[:40]!r}"
        ) from None


def _free_text(free_text: str | None) -> str | None:
    text = (free_text or "").strip()
    if text in ("", "*"):
        return None
    if any(char in _FREE_TEXT_SYNTAX for char in text):
        raise SearchRefused(
            f"freeText '{text[:60]}' is a full-text query: without a text index, freeText "
            "matches a task id, workflow id or correlation id exactly, or is '*'"
        )
    return text


def _disjunction(node: Node) -> list[list[Comparison]]:
    """`node` as OR of ANDs."""
    if isinstance(node, Comparison):
        return [[node]]
    left, right = _disjunction(node.left), _disjunction(node.right)
    return _limited(left + right) if node.operator == "OR" else _and(left, right)


def _and(left: list[list[Comparison]], right: list[list[Comparison]]) -> list[list[Comparison]]:
    return _limited([a + b for a, b in product(left, right)])


def _limited(conjunctions: list[list[Comparison]]) -> list[list[Comparison]]:
    if len(conjunctions) > MAX_CONJUNCTIONS:
        raise SearchRefused(
            f"The query expands to more than {MAX_CONJUNCTIONS} alternatives (ORs under ANDs); "
            "write it with IN lists instead"
        )
    return conjunctions


def _intersect(current: frozenset[str] | None, values: Iterable[str]) -> frozenset[str]:
    new = frozenset(values)
    return new if current is None else current & new


_BOUND_FIELDS = ("workflowId", "correlationId", "workflowType", "taskId")


def _narrowed(bound: Bound, field: str, values: tuple[str, ...]) -> Bound:
    if field == "workflowId":
        return replace(bound, workflow_ids=_intersect(bound.workflow_ids, values))
    if field == "correlationId":
        return replace(bound, correlation_ids=_intersect(bound.correlation_ids, values))
    if field == "workflowType":
        return replace(bound, workflow_types=_intersect(bound.workflow_types, values))
    return replace(bound, task_ids=_intersect(bound.task_ids, values))


def _bound(conjunction: list[Comparison]) -> Bound:
    bound = Bound()
    for comparison in conjunction:
        field, operator, values = comparison.field, comparison.operator, comparison.values
        if field in _BOUND_FIELDS and operator in ("=", "IN"):
            bound = _narrowed(bound, field, values)
        elif field in TIME_FIELDS and operator in ("<", "=", "BETWEEN"):
            highest = _millis(field, values[-1]) - (1 if operator == "<" else 0)
            if bound.started_by is None or highest < bound.started_by:
                bound = replace(bound, started_by=highest)
    return bound


def _sort(sort: str | None) -> tuple[tuple[str, bool], ...]:
    """Conductor's `field:ASC|DESC` options, `|`-separated; newest started first by default."""
    if not sort or not sort.strip():
        return (("startTime", True),)
    orders = []
    for order in (part.strip() for part in sort.split("|")):
        if not order:
            continue
        field, _, direction = order.partition(":")
        direction = direction.strip().upper() or "ASC"
        if field.strip() not in TASK_FIELDS or direction not in ("ASC", "DESC"):
            raise SearchRefused(
                f"sort '{order[:60]}' is not served: sort takes one of {', '.join(TASK_FIELDS)} "
                "with :ASC or :DESC"
            )
        orders.append((field.strip(), direction == "DESC"))
    return tuple(orders)


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskMatch:
    """One matching task, with its workflow (and the workflow's stored item, for summaries)."""

    workflow: Workflow
    task: Task
    item: WorkflowItem


def task_fields(workflow: Workflow, task: Task) -> dict[str, str | int | None]:
    """What the query's fields are on one task."""
    return {
        "taskId": task.task_id,
        "taskType": task.task_type,
        "taskDefName": task.task_def_name,
        "referenceTaskName": task.reference_task_name,
        "status": task.status.value,
        "workerId": task.worker_id,
        "domain": task.domain,
        "workflowId": workflow.workflow_id,
        "workflowType": workflow.definition.name,
        "correlationId": workflow.correlation_id,
        "reasonForIncompletion": task.reason_for_incompletion,
        "scheduledTime": task.scheduled_time or None,
        "startTime": task.start_time or None,
        "updateTime": task.update_time or None,
        "endTime": task.end_time or None,
    }


def matches(node: Node, fields: dict[str, str | int | None]) -> bool:
    """Whether one task's fields satisfy the query."""
    if isinstance(node, Junction):
        if node.operator == "AND":
            return matches(node.left, fields) and matches(node.right, fields)
        return matches(node.left, fields) or matches(node.right, fields)
    value = fields.get(node.field)
    operator, values = node.operator, node.values
    if operator == "IS":
        return (value is None) == (values[0] == "null")
    if value is None:
        return operator == "!="
    wanted: list[str | int] = (
        [int(v) for v in values] if node.field in TIME_FIELDS else list(values)
    )
    if operator == "=":
        return value == wanted[0]
    if operator == "!=":
        return value != wanted[0]
    if operator == "IN":
        return value in wanted
    if operator == "STARTS_WITH":
        return str(value).startswith(str(wanted[0]))
    number = int(value)
    if operator == ">":
        return number > int(wanted[0])
    if operator == "<":
        return number < int(wanted[0])
    return int(wanted[0]) <= number <= int(wanted[1])  # BETWEEN


def find_tasks(plan: TaskSearchPlan, store: WorkflowStore) -> list[TaskMatch]:
    """Every task matching `plan`, in its order. Raises SearchRefused when the query names
    more workflows than one search reads."""
    items = _candidates(plan.bounds, store)
    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL_LOADS, len(items)))) as pool:
        workflows = list(pool.map(store.load, [str(item.workflow_id) for item in items]))
    found: list[TaskMatch] = []
    for item, workflow in zip(items, workflows, strict=True):
        if workflow is None:
            continue
        for task in workflow.tasks:
            fields = task_fields(workflow, task)
            if plan.tree is not None and not matches(plan.tree, fields):
                continue
            if plan.free_text is not None and plan.free_text not in (
                fields[name] for name in FREE_TEXT_FIELDS
            ):
                continue
            found.append(TaskMatch(workflow, task, item))
    for field, descending in reversed(plan.sort):
        found.sort(key=_sort_key(field, descending), reverse=descending)
    return found


def _sort_key(field: str, descending: bool) -> Callable[[TaskMatch], tuple[int, Any]]:
    def key(match: TaskMatch) -> tuple[int, Any]:
        value = task_fields(match.workflow, match.task)[field]
        # Nulls last, whichever the direction.
        if value is None:
            return (0, 0) if descending else (1, 0)
        return (1, value) if descending else (0, value)

    return key


def _candidates(bounds: tuple[Bound, ...], store: WorkflowStore) -> list[WorkflowItem]:
    """The stored items of the workflows the bounds name, at most MAX_WORKFLOWS_READ."""
    filters = []
    for bound in bounds:
        workflow_ids = bound.workflow_ids
        if bound.task_ids is not None:
            # A task id leads to its workflow through the tasks' id index.
            owners = {store.workflow_id_for_task(task_id) for task_id in sorted(bound.task_ids)}
            workflow_ids = _intersect(workflow_ids, (o for o in owners if o is not None))
        found = Filter(
            workflow_ids=workflow_ids,
            correlation_ids=bound.correlation_ids,
            workflow_types=bound.workflow_types,
            start_to=bound.started_by,
        )
        if found.empty:
            continue
        if partitions(found, TYPE_STATUS_SHARDS, STATUS_SHARDS) > MAX_PARTITIONS:
            raise SearchRefused(
                "The search reads too many index partitions: list fewer workflowType values"
            )
        filters.append(found)
    if not filters:
        return []
    page = store_search.search(
        Plan(filters=tuple(filters), descending=True, start=0, size=MAX_WORKFLOWS_READ + 1)
    )
    if page.total_hits > MAX_WORKFLOWS_READ:
        raise SearchRefused(
            f"The query names more than {MAX_WORKFLOWS_READ} workflows (the most one task "
            "search reads): narrow it with workflowId, correlationId or taskId, or with an "
            "upper bound on a task time (startTime < x, BETWEEN)"
        )
    return page.items


# -- Conductor's shapes -------------------------------------------------------------------


def _iso(millis: int) -> str | None:
    if millis <= 0:
        return None
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def task_summary(workflow: Workflow, task: Task) -> dict[str, Any]:
    """Conductor's TaskSummary: times as ISO-8601 UTC text, input and output as JSON text."""
    summary: dict[str, Any] = {
        "workflowId": workflow.workflow_id,
        "workflowType": workflow.definition.name,
        "correlationId": workflow.correlation_id,
        "scheduledTime": _iso(task.scheduled_time),
        "startTime": _iso(task.start_time),
        "updateTime": _iso(task.update_time),
        "endTime": _iso(task.end_time),
        "status": task.status.value,
        "reasonForIncompletion": task.reason_for_incompletion,
        "executionTime": task.end_time - task.start_time
        if task.end_time and task.start_time
        else 0,
        "queueWaitTime": task.start_time - task.scheduled_time if task.start_time else 0,
        "taskDefName": task.task_def_name,
        "taskType": task.task_type,
        "input": json.dumps(task.input_data, separators=(",", ":")),
        "output": json.dumps(task.output_data, separators=(",", ":")),
        "taskId": task.task_id,
        "workflowPriority": workflow.priority,
        "domain": task.domain,
    }
    return {key: value for key, value in summary.items() if value is not None}


def search_tasks(request: TaskSearchRequest, *, full: bool, store: WorkflowStore) -> dict[str, Any]:
    """`{"totalHits", "results"}`: TaskSummary objects, or (`full`) Tasks."""
    plan = plan_task_search(request)
    found = find_tasks(plan, store)
    page = found[plan.start : plan.start + plan.size]
    if full:
        results = [match.task.to_json(match.workflow) for match in page]
    else:
        results = [task_summary(match.workflow, match.task) for match in page]
    return {"totalHits": len(found), "results": results}


def search_workflows_by_tasks(
    request: TaskSearchRequest, *, full: bool, store: WorkflowStore, metadata: MetadataStore
) -> dict[str, Any]:
    """The workflows with a matching task, each once, in the order of its first matching
    task: WorkflowSummary objects, or (`full`) Workflows without their tasks. totalHits
    counts the workflows."""
    plan = plan_task_search(request)
    workflows: dict[str, WorkflowItem] = {}
    for match in find_tasks(replace(plan, start=0, size=MAX_WINDOW), store):
        workflows.setdefault(match.workflow.workflow_id, match.item)
    page = list(workflows.values())[plan.start : plan.start + plan.size]
    shape = store_search.workflow_json if full else store_search.workflow_summary
    return {"totalHits": len(workflows), "results": [shape(item, metadata) for item in page]}
