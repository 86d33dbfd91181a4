"""From a search request to the index reads that answer it, or a refusal that says why.

A query is brought to a disjunction of conjunctions (`Filter`s). Each filter is answered by
one index, chosen by the fields it constrains:

- `workflowId = / IN`: the items themselves (GetItem by key), the other fields checked on them;
- `correlationId = / IN`: the correlation id index, the other fields checked on the items
  (cost: the workflows that share those correlation ids);
- `workflowType = / IN` (with or without `status`): the type-and-status index, every part of
  the filter a key condition;
- `status` alone, or nothing: the status index.

`startTime` bounds are key conditions on every index (all are sorted by start time). Any
other field, a negation that is not of `status`, or a prefix match has no index that bounds
its cost, so the search is refused with a 400 naming the filters to add: nothing is ever
answered by scanning a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import product

from baton.engine.state import WorkflowStatus
from baton.search.grammar import Comparison, Node, QuerySyntaxError, parse
from baton.store.models import STATUS_SHARDS, TYPE_STATUS_SHARDS

# Paging reaches at most this deep, and totalHits counts at most this many (Elasticsearch's
# default `index.max_result_window`, which Conductor's indexes run with).
MAX_WINDOW = 10_000
# Conductor's `conductor.app.maxSearchSize` default, and its words when a page is larger.
MAX_PAGE_SIZE = 5_000
# Bounds on the work one search may ask for.
MAX_CONJUNCTIONS = 16
MAX_VALUES = 100
MAX_PARTITIONS = 200

WORKFLOW_STATUSES = tuple(status.value for status in WorkflowStatus)
SORT_FIELDS = ("startTime", "createTime")
SEARCHABLE = ("workflowType", "status", "startTime", "correlationId", "workflowId")
_ADD_FILTERS = (
    "search by workflowType, status, startTime (>, <, =, BETWEEN), correlationId or "
    "workflowId (= or IN)"
)
# What freeText cannot hold: the syntax of a full-text query, which only a text index serves.
_FREE_TEXT_SYNTAX = frozenset('*?:"()[]{}~^\\ \t\r\n')


class SearchRefused(ValueError):
    """400: the search is malformed, or no index answers it at a bounded cost."""


@dataclass(frozen=True)
class Filter:
    """One conjunction of constraints; None means the field is not constrained."""

    workflow_ids: frozenset[str] | None = None
    correlation_ids: frozenset[str] | None = None
    workflow_types: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    start_from: int | None = None  # inclusive, epoch milliseconds
    start_to: int | None = None  # inclusive

    @property
    def empty(self) -> bool:
        """Whether nothing can match (an intersection came out empty)."""
        sets = (self.workflow_ids, self.correlation_ids, self.workflow_types, self.statuses)
        if any(values is not None and not values for values in sets):
            return True
        return (
            self.start_from is not None
            and self.start_to is not None
            and self.start_from > self.start_to
        )

    @property
    def index(self) -> str:
        """Which read answers this filter: `ids`, `correlation`, `type_status` or `status`."""
        if self.workflow_ids is not None:
            return "ids"
        if self.correlation_ids is not None:
            return "correlation"
        if self.workflow_types is not None:
            return "type_status"
        return "status"

    def matches(
        self,
        *,
        workflow_id: str,
        correlation_id: str | None,
        workflow_type: str,
        status: str,
        start_time: int,
    ) -> bool:
        """Every constraint, checked on one workflow (for the reads that are not exact)."""
        checks = (
            (self.workflow_ids, workflow_id),
            (self.correlation_ids, correlation_id),
            (self.workflow_types, workflow_type),
            (self.statuses, status),
        )
        if any(values is not None and value not in values for values, value in checks):
            return False
        if self.start_from is not None and start_time < self.start_from:
            return False
        return self.start_to is None or start_time <= self.start_to


@dataclass(frozen=True)
class Plan:
    """What a search reads: its filters (any may match), the order, and the page."""

    filters: tuple[Filter, ...]
    descending: bool
    start: int
    size: int


def plan(
    *, query: str | None, free_text: str | None, sort: str | None, start: int, size: int
) -> Plan:
    """The plan of a workflow search; SearchRefused when it cannot be served."""
    if start < 0:
        raise SearchRefused("start must be 0 or more")
    if size < 0:
        raise SearchRefused("size must be 0 or more")
    if size > MAX_PAGE_SIZE:
        raise SearchRefused(
            f"Cannot return more than {MAX_PAGE_SIZE} workflows. Please use pagination."
        )
    if start + size > MAX_WINDOW:
        raise SearchRefused(
            f"start + size must be at most {MAX_WINDOW} (the deepest a search pages); narrow "
            "the search with a startTime range to reach older workflows"
        )
    try:
        tree = parse(query or "")
    except QuerySyntaxError as error:
        raise SearchRefused(str(error)) from None
    conjunctions = _disjunction(tree) if tree is not None else [[]]
    text = _free_text(free_text)
    if text is not None:
        any_field = [[Comparison(name, "=", (text,))] for name in _FREE_TEXT_FIELDS]
        conjunctions = _and(conjunctions, any_field)
    filters = tuple(f for f in (_filter(c) for c in conjunctions) if not f.empty)
    for found in filters:
        _check_bounded(found)
    return Plan(filters=filters, descending=_descending(sort), start=start, size=size)


# What freeText matches without a text index: exactly one of these fields.
_FREE_TEXT_FIELDS = ("workflowId", "correlationId", "workflowType")


def _free_text(free_text: str | None) -> str | None:
    text = (free_text or "").strip()
    if text in ("", "*"):
        return None
    if any(char in _FREE_TEXT_SYNTAX for char in text):
        raise SearchRefused(
            f"freeText '{text[:60]}' is a full-text query: without a text index, freeText "
            "matches a workflow id, correlation id or workflow type exactly (one word, no "
            "wildcards or field:value), or is '*' for every workflow"
        )
    return text


def _disjunction(node: Node) -> list[list[Comparison]]:
    """`node` as OR of ANDs (each inner list one conjunction)."""
    if isinstance(node, Comparison):
        return [[node]]
    left, right = _disjunction(node.left), _disjunction(node.right)
    result = left + right if node.operator == "OR" else _and(left, right)
    if len(result) > MAX_CONJUNCTIONS:
        raise SearchRefused(
            f"The query expands to more than {MAX_CONJUNCTIONS} alternatives (ORs under ANDs); "
            "write it with IN lists instead"
        )
    return result


def _and(left: list[list[Comparison]], right: list[list[Comparison]]) -> list[list[Comparison]]:
    result = [a + b for a, b in product(left, right)]
    if len(result) > MAX_CONJUNCTIONS:
        raise SearchRefused(
            f"The query expands to more than {MAX_CONJUNCTIONS} alternatives (ORs under ANDs); "
            "write it with IN lists instead"
        )
    return result


def _filter(comparisons: Iterable[Comparison]) -> Filter:
    found = Filter()
    for comparison in comparisons:
        found = _constrain(found, comparison)
    return found


def _intersect(current: frozenset[str] | None, values: Iterable[str]) -> frozenset[str]:
    new = frozenset(values)
    return new if current is None else current & new


def _constrain(found: Filter, comparison: Comparison) -> Filter:
    field, operator, values = comparison.field, comparison.operator, comparison.values
    if field not in SEARCHABLE:
        raise SearchRefused(
            f"'{field}' is not indexed for search: {_ADD_FILTERS} (the fields with an index "
            "that answers them without scanning)"
        )
    if len(values) > MAX_VALUES:
        raise SearchRefused(f"At most {MAX_VALUES} values in an IN list ({field})")
    if field == "startTime":
        return _time_range(found, operator, values)
    if field == "status":
        unknown = [v for v in values if v not in WORKFLOW_STATUSES]
        if unknown:
            raise SearchRefused(
                f"status {unknown[0]!r} is not a workflow status: one of "
                f"{', '.join(WORKFLOW_STATUSES)}"
            )
        if operator == "!=":
            values = tuple(s for s in WORKFLOW_STATUSES if s not in values)
            operator = "IN"
    if operator not in ("=", "IN"):
        raise SearchRefused(
            f"{field} {operator} is not answerable from an index: {field} takes = or IN"
            + (", and != for status" if field == "status" else "")
        )
    if field == "workflowId":
        return replace(found, workflow_ids=_intersect(found.workflow_ids, values))
    if field == "correlationId":
        return replace(found, correlation_ids=_intersect(found.correlation_ids, values))
    if field == "workflowType":
        return replace(found, workflow_types=_intersect(found.workflow_types, values))
    return replace(found, statuses=_intersect(found.statuses, values))


def _time_range(found: Filter, operator: str, values: tuple[str, ...]) -> Filter:
    try:
        numbers = [int(v) for v in values]
    except ValueError:
        raise SearchRefused(
            f"startTime is compared with epoch milliseconds, not {values[0][:40]!r}"
        ) from None
    low: int | None
    high: int | None
    if operator == ">":
        low, high = numbers[0] + 1, None
    elif operator == "<":
        low, high = None, numbers[0] - 1
    elif operator == "=":
        low = high = numbers[0]
    elif operator == "BETWEEN":
        low, high = numbers[0], numbers[1]
    else:
        raise SearchRefused(f"startTime takes >, <, = or BETWEEN, not {operator}")
    start_from = found.start_from
    if low is not None:
        start_from = low if start_from is None else max(low, start_from)
    start_to = found.start_to
    if high is not None:
        start_to = high if start_to is None else min(high, start_to)
    return replace(found, start_from=start_from, start_to=start_to)


def partitions(found: Filter, type_status_shards: int, status_shards: int) -> int:
    """How many index partitions `found` reads (one query each, at least)."""
    statuses = len(found.statuses) if found.statuses is not None else len(WORKFLOW_STATUSES)
    if found.index == "type_status":
        assert found.workflow_types is not None
        return len(found.workflow_types) * statuses * type_status_shards
    if found.index == "status":
        return statuses * status_shards
    return len(found.workflow_ids or found.correlation_ids or ())


def _check_bounded(found: Filter) -> None:
    if partitions(found, TYPE_STATUS_SHARDS, STATUS_SHARDS) > MAX_PARTITIONS:
        raise SearchRefused(
            "The search reads too many index partitions: add status IN (...) or list fewer "
            "workflowType values"
        )


def _descending(sort: str | None) -> bool:
    """Newest first unless asked otherwise; only start time orders the indexes."""
    if not sort or not sort.strip():
        return True
    orders = [part.strip() for part in sort.split("|") if part.strip()]
    descending = True
    for index, order in enumerate(orders):
        field, _, direction = order.partition(":")
        direction = direction.strip().upper() or "ASC"
        if field.strip() not in SORT_FIELDS or direction not in ("ASC", "DESC"):
            raise SearchRefused(
                f"sort '{order[:60]}' is not served: the search indexes keep workflows in "
                "start-time order, so sort takes startTime:ASC or startTime:DESC"
            )
        if index == 0:
            descending = direction == "DESC"
    return descending
