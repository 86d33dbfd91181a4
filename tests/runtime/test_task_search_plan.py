"""The task search planner and matcher (baton.search.tasks), without AWS: which queries name
their workflows, and what each operator matches on a task's fields."""

from __future__ import annotations

import pytest

from baton.search.grammar import parse
from baton.search.plan import SearchRefused
from baton.search.tasks import Bound, TaskSearchRequest, matches, plan_task_search


def _plan(query: str, free_text: str | None = None):  # type: ignore[no-untyped-def]
    return plan_task_search(TaskSearchRequest(query=query, free_text=free_text))


def test_each_alternative_gets_the_workflows_it_names() -> None:
    planned = _plan("(workflowId IN (a, b) OR correlationId = c) AND status = FAILED")
    assert planned.bounds == (
        Bound(workflow_ids=frozenset({"a", "b"})),
        Bound(correlation_ids=frozenset({"c"})),
    )


def test_an_upper_bound_on_a_task_time_bounds_its_workflows_start() -> None:
    (bound,) = _plan("workflowType = t AND startTime < 1000 AND endTime BETWEEN 1 AND 500").bounds
    assert bound == Bound(workflow_types=frozenset({"t"}), started_by=500)
    (lower_only,) = _plan("workflowType = t AND startTime > 1000").bounds
    assert lower_only.started_by is None


def test_free_text_names_a_task_a_workflow_or_a_correlation_id() -> None:
    bounds = _plan("", free_text="x-1").bounds
    assert bounds == (
        Bound(task_ids=frozenset({"x-1"})),
        Bound(workflow_ids=frozenset({"x-1"})),
        Bound(correlation_ids=frozenset({"x-1"})),
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status = FAILED",
        "workflowType != t",
        "workflowId STARTS_WITH a",
        "workflowId = a OR taskType = b",
    ],
)
def test_a_query_that_names_no_workflows_is_refused(query: str) -> None:
    with pytest.raises(SearchRefused, match="add workflowId"):
        _plan(query)


FIELDS = {
    "taskId": "t-1",
    "taskType": "charge",
    "status": "FAILED",
    "workerId": None,
    "startTime": 100,
    "endTime": None,
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("taskType = charge", True),
        ("taskType != charge", False),
        ("status IN (FAILED, TIMED_OUT)", True),
        ("taskId STARTS_WITH 't-'", True),
        ("workerId IS null", True),
        ("workerId IS not null", False),
        ("workerId != w", True),
        ("startTime BETWEEN 100 AND 200", True),
        ("startTime > 100", False),
        ("endTime < 1000", False),  # a time that has not happened matches no bound
        ("taskType = x OR status = FAILED", True),
        ("taskType = charge AND status = COMPLETED", False),
    ],
)
def test_operators_on_a_tasks_fields(query: str, expected: bool) -> None:
    tree = parse(query)
    assert tree is not None
    assert matches(tree, FIELDS) is expected
