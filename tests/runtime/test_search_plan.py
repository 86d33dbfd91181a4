"""Conductor's query grammar and the search planner, without AWS."""

from __future__ import annotations

import pytest

from baton.search.grammar import Comparison, Junction, QuerySyntaxError, parse
from baton.search.plan import MAX_CONJUNCTIONS, Filter, SearchRefused, plan


def test_and_or_nest_to_the_right_as_in_conductors_parser():
    tree = parse("a = 1 AND b = 2 OR c = 3")
    assert tree == Junction(
        "AND",
        Comparison("a", "=", ("1",)),
        Junction("OR", Comparison("b", "=", ("2",)), Comparison("c", "=", ("3",))),
    )
    grouped = parse("(a = 1 AND b = 2) OR c = 3")
    assert isinstance(grouped, Junction) and grouped.operator == "OR"


def test_values_quoted_bare_lists_ranges_and_nulls():
    assert parse("workflowId='x y'") == Comparison("workflowId", "=", ("x y",))
    assert parse('correlationId = "a\\"b"') == Comparison("correlationId", "=", ('a"b',))
    assert parse("status IN (FAILED, 'TIMED_OUT')") == Comparison(
        "status", "IN", ("FAILED", "TIMED_OUT")
    )
    assert parse("startTime BETWEEN 1 AND 2") == Comparison("startTime", "BETWEEN", ("1", "2"))
    assert parse("x IS not null") == Comparison("x", "IS", ("not null",))
    assert parse("  ") is None


@pytest.mark.parametrize(
    "query",
    ["a", "a = ", "a ~ 1", "a IN (1", "(a = 1", "a = 'open", "a = 1 b = 2", "a BETWEEN 1 2"],
)
def test_malformed_queries_are_refused(query):
    with pytest.raises(QuerySyntaxError):
        parse(query)


def _filters(query: str, free_text: str | None = None) -> tuple[Filter, ...]:
    return plan(query=query, free_text=free_text, sort=None, start=0, size=10).filters


def test_each_filter_picks_the_index_that_bounds_it():
    (by_type,) = _filters("workflowType IN (a,b) AND status = FAILED AND startTime > 10")
    assert by_type.index == "type_status"
    assert by_type.workflow_types == {"a", "b"} and by_type.statuses == {"FAILED"}
    assert by_type.start_from == 11 and by_type.start_to is None
    (by_status,) = _filters("status != COMPLETED")
    assert by_status.index == "status" and "COMPLETED" not in (by_status.statuses or ())
    (by_correlation,) = _filters("correlationId = c AND workflowType = a")
    assert by_correlation.index == "correlation"
    (by_id,) = _filters("workflowId IN (x) AND correlationId = c")
    assert by_id.index == "ids"


def test_contradictions_match_nothing_and_free_text_is_three_alternatives():
    assert _filters("status = FAILED AND status = RUNNING") == ()
    assert _filters("startTime > 10 AND startTime < 5") == ()
    assert _filters("startTime < 1 AND startTime < 5") == (Filter(start_to=0),)
    alternatives = _filters("status = FAILED", free_text="abc")
    assert sorted(f.index for f in alternatives) == ["correlation", "ids", "type_status"]
    assert all(f.statuses == {"FAILED"} for f in alternatives)


def test_queries_that_expand_too_far_are_refused():
    wide = " AND ".join(f"(workflowId = a{n} OR workflowId = b{n})" for n in range(5))
    assert MAX_CONJUNCTIONS < 2**5
    with pytest.raises(SearchRefused, match="alternatives"):
        _filters(wide)
    many_types = "workflowType IN (" + ",".join(f"t{n}" for n in range(20)) + ")"
    with pytest.raises(SearchRefused, match="too many index partitions"):
        _filters(many_types)
    assert _filters(many_types + " AND status = FAILED")


def test_sort_orders():
    def descending(sort: str | None) -> bool:
        return plan(query=None, free_text=None, sort=sort, start=0, size=1).descending

    assert descending(None) and descending("startTime:DESC")
    assert not descending("startTime") and not descending("startTime:asc")
    assert not descending("createTime:ASC|startTime:DESC")
    with pytest.raises(SearchRefused):
        descending("startTime:SIDEWAYS")
