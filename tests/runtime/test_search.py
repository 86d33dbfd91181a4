"""`GET /api/workflow/search[-v2]` over 10,000 workflows, through the API handler under moto.

The 10,000 are written as the store writes a new workflow (the item `WorkflowStore` builds,
search keys included), in batches, so seeding stays quick; a few more are started, ended and
searched through the API to follow the real write path end to end.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from baton.engine.definitions import WorkflowDef
from baton.engine.state import Workflow, WorkflowStatus
from baton.store.models import WorkflowItem
from baton.store.schema import table_specs
from baton.store.workflows import WorkflowStore
from embedded import resources
from tests import seed
from tests.runtime.lambda_events import call_api

COUNT = 10_000
BASE_TIME = 1_700_000_000_000
TYPES = ("orders", "payments", "shipping")
STATUSES = tuple(WorkflowStatus)


def _definition(name: str) -> WorkflowDef:
    return WorkflowDef.from_json(
        {
            "name": name,
            "version": 1,
            "tasks": [{"name": "wait", "taskReferenceName": "wait", "type": "WAIT"}],
        }
    )


def _expected(index: int) -> dict[str, Any]:
    """What the seeded workflow number `index` is: its type, status, start and correlation."""
    rng = random.Random(index)
    return {
        "workflowId": f"wf-{index:05d}",
        "workflowType": TYPES[index % len(TYPES)],
        "status": rng.choice(STATUSES).value,
        "startTime": BASE_TIME + index * 1000,
        "correlationId": f"order-{index // 4}" if index % 2 == 0 else None,
    }


EXPECTED = [_expected(i) for i in range(COUNT)]


@pytest.fixture(scope="module")
def tables() -> Iterator[None]:
    from baton import runtime

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        patch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        resources.create_tables(boto3.client("dynamodb"), table_specs())
        runtime.baton.cache_clear()
        store = WorkflowStore()
        definitions = {name: _definition(name) for name in TYPES}
        for definition in definitions.values():
            store.metadata.save_snapshot(definition)
        with WorkflowItem.batch_write() as batch:
            for expected in EXPECTED:
                workflow = Workflow(
                    workflow_id=expected["workflowId"],
                    definition=definitions[expected["workflowType"]],
                    status=WorkflowStatus(expected["status"]),
                    create_time=expected["startTime"],
                    update_time=expected["startTime"],
                    correlation_id=expected["correlationId"],
                    input={"n": expected["startTime"]},
                )
                fields = store._workflow_fields(workflow, {})
                batch.save(store._new_workflow_item(workflow, None, fields))
        yield
        runtime.baton.cache_clear()


def _search(path: str = "/api/workflow/search", **query: Any) -> dict[str, Any]:
    response = call_api("GET", path, query={k: str(v) for k, v in query.items()})
    assert response.status == 200, response.body
    result: dict[str, Any] = response.json()
    return result


def _refused(**query: Any) -> str:
    response = call_api("GET", "/api/workflow/search", query={k: str(v) for k, v in query.items()})
    assert response.status == 400, response.body
    body = response.json()
    assert set(body) >= {"status", "message"}
    message: str = body["message"]
    return message


def _ids(result: dict[str, Any]) -> list[str]:
    return [summary["workflowId"] for summary in result["results"]]


def _newest_first(matching: list[dict[str, Any]]) -> list[str]:
    return [e["workflowId"] for e in sorted(matching, key=lambda e: -e["startTime"])]


def test_no_query_pages_every_workflow_newest_first(tables):
    first = _search(size=50)
    assert first["totalHits"] == COUNT
    assert _ids(first) == _newest_first(EXPECTED)[:50]
    second = _search(start=50, size=50)
    assert _ids(second) == _newest_first(EXPECTED)[50:100]


def test_workflow_type_and_status_with_a_time_range(tables):
    since = BASE_TIME + 3_000_000
    query = f"workflowType IN (orders,payments) AND status IN (FAILED) AND startTime > {since}"
    matching = [
        e
        for e in EXPECTED
        if e["workflowType"] in ("orders", "payments")
        and e["status"] == "FAILED"
        and e["startTime"] > since
    ]
    result = _search(query=query, size=1000)
    assert result["totalHits"] == len(matching)
    assert _ids(result) == _newest_first(matching)


def test_status_alone_sorted_oldest_first(tables):
    matching = [e for e in EXPECTED if e["status"] == "RUNNING"]
    result = _search(query="status = RUNNING", sort="startTime:ASC", size=20, start=10)
    assert result["totalHits"] == len(matching)
    assert _ids(result) == [e["workflowId"] for e in matching][10:30]


def test_status_negated_and_between(tables):
    low, high = BASE_TIME + 1_000_000, BASE_TIME + 1_200_000
    matching = [e for e in EXPECTED if e["status"] != "COMPLETED" and low <= e["startTime"] <= high]
    result = _search(query=f"status != 'COMPLETED' AND startTime BETWEEN {low} AND {high}")
    assert result["totalHits"] == len(matching)
    assert _ids(result) == _newest_first(matching)[:100]


def test_workflow_type_alone(tables):
    matching = [e for e in EXPECTED if e["workflowType"] == "shipping"]
    result = _search(query="workflowType = 'shipping'", size=5)
    assert result["totalHits"] == len(matching)
    assert _ids(result) == _newest_first(matching)[:5]


def test_correlation_id_with_a_status_filter(tables):
    group = [e for e in EXPECTED if e["correlationId"] == "order-100"]
    assert len(group) == 2
    assert _ids(_search(query="correlationId = 'order-100'")) == _newest_first(group)
    status = group[0]["status"]
    result = _search(query=f"correlationId IN (order-100, order-101) AND status = {status}")
    both = [e for e in EXPECTED if e["correlationId"] in ("order-100", "order-101")]
    assert _ids(result) == _newest_first([e for e in both if e["status"] == status])


def test_workflow_ids_and_or(tables):
    query = "workflowId = 'wf-00007' OR (workflowId IN (wf-00003, wf-09999) AND status != PAUSED)"
    wanted = [EXPECTED[7]] + [e for e in (EXPECTED[3], EXPECTED[9999]) if e["status"] != "PAUSED"]
    assert _ids(_search(query=query)) == _newest_first(wanted)


def test_free_text_matches_an_id_a_correlation_id_or_a_type(tables):
    assert _ids(_search(freeText="wf-00042")) == ["wf-00042"]
    group = [e for e in EXPECTED if e["correlationId"] == "order-9"]
    assert _ids(_search(freeText="order-9")) == _newest_first(group)
    orders = [e for e in EXPECTED if e["workflowType"] == "orders" and e["status"] == "FAILED"]
    result = _search(freeText="orders", query="status = FAILED", size=3)
    assert result["totalHits"] == len(orders)
    assert _ids(result) == _newest_first(orders)[:3]
    assert _search(freeText="*", size=0)["totalHits"] == COUNT
    assert _search(freeText="nothing-matches")["totalHits"] == 0


def test_summary_shape(tables):
    expected = EXPECTED[2]
    (summary,) = _search(query="workflowId = 'wf-00002'")["results"]
    assert summary["workflowType"] == expected["workflowType"]
    assert summary["version"] == 1
    assert summary["status"] == expected["status"]
    assert summary["correlationId"] == expected["correlationId"]
    assert summary["startTime"] == "2023-11-14T22:13:22.000Z"
    assert json.loads(summary["input"]) == {"n": expected["startTime"]}
    assert summary["failedReferenceTaskNames"] == ""
    (workflow,) = _search("/api/workflow/search-v2", query="workflowId = 'wf-00002'")["results"]
    assert workflow["workflowId"] == "wf-00002"
    assert workflow["workflowName"] == expected["workflowType"]
    assert workflow["input"] == {"n": expected["startTime"]}
    assert workflow["tasks"] == []


def test_deep_pages_count_to_the_window(tables):
    result = _search(query="workflowType = orders", start=3000, size=10, sort="startTime:ASC")
    orders = [e["workflowId"] for e in EXPECTED if e["workflowType"] == "orders"]
    assert _ids(result) == orders[3000:3010]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"query": "endTime > 5"}, "'endTime' is not indexed"),
        ({"query": "workflowType != orders"}, "workflowType takes = or IN"),
        ({"query": "workflowId STARTS_WITH 'wf'"}, "workflowId takes = or IN"),
        ({"query": "status = DONE"}, "not a workflow status"),
        ({"query": "status = FAILED AND"}, "Query syntax"),
        ({"query": "(status = FAILED"}, "expected ')'"),
        ({"query": "status = FAILED junk"}, "expected AND, OR or the end"),
        ({"freeText": "order*"}, "full-text query"),
        ({"freeText": "two words"}, "full-text query"),
        ({"sort": "workflowId:ASC"}, "sort takes startTime"),
        ({"size": 5001}, "Cannot return more than 5000 workflows"),
        ({"start": 9990, "size": 20}, "start + size must be at most 10000"),
    ],
)
def test_what_no_index_answers_is_refused_with_what_to_add(tables, query, words):
    assert words in _refused(**query)


def test_real_write_path_moves_a_workflow_between_statuses(tables):
    assert call_api("POST", "/api/metadata/workflow", seed.event_testing()).status == 200
    started = call_api(
        "POST", "/api/workflow/event_testing", {}, {"correlationId": "search-e2e"}
    ).body
    query = "workflowType = event_testing AND status = RUNNING"
    assert _ids(_search(query=query)) == [started]
    assert _ids(_search(query="correlationId = 'search-e2e'")) == [started]
    assert call_api("DELETE", f"/api/workflow/{started}").status == 200
    assert _search(query=query)["totalHits"] == 0
    ended = _search(query="workflowType = event_testing AND status = TERMINATED")
    assert _ids(ended) == [started]
    assert _search(query=f"workflowId = '{started}' AND status = TERMINATED")["totalHits"] == 1
