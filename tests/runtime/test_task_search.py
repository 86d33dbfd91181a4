"""Task search (`/api/tasks/search[-v2]`, `/api/workflow/search-by-tasks[-v2]`) over 300
workflows started and moved through the API handler, under moto.

Each workflow is `charge` (SIMPLE) then `ship` (SIMPLE); some have `charge` completed or
failed by a task update. The searches name the workflows to look in (id, correlation id, task
id, or workflow type), and every other filter is checked on the tasks read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from baton.search import tasks as task_search
from baton.store import payloads
from baton.store.schema import table_specs
from embedded import resources
from tests.runtime.lambda_events import call_api

COUNT = 300
TYPES = ("task_search_orders", "task_search_refunds")


def _definition(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "tasks": [
            {"name": "charge", "taskReferenceName": "charge_ref", "type": "SIMPLE"},
            {"name": "ship", "taskReferenceName": "ship_ref", "type": "SIMPLE"},
        ],
    }


def _charge_outcome(index: int) -> str | None:
    """What the workflow number `index` had done to its `charge` task."""
    return {0: "COMPLETED", 1: "FAILED_WITH_TERMINAL_ERROR"}.get(index % 5)


@pytest.fixture(scope="module")
def seeded() -> Iterator[list[dict[str, Any]]]:
    from baton import runtime

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        patch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        resources.create_tables(boto3.client("dynamodb"), table_specs())
        resources.create_bucket(boto3.client("s3"), payloads.DEFAULT_BUCKET, "us-east-1")
        runtime.baton.cache_clear()
        for name in TYPES:
            assert call_api("POST", "/api/metadata/workflow", _definition(name)).status == 200
        started = []
        for index in range(COUNT):
            request = {
                "name": TYPES[index % 2],
                "input": {"n": index},
                "correlationId": f"order-{index // 3}",
            }
            response = call_api("POST", "/api/workflow", request)
            assert response.status == 200, response.body
            workflow_id = response.body
            outcome = _charge_outcome(index)
            if outcome:
                updated = call_api(
                    "POST", f"/api/tasks/{workflow_id}/charge_ref/{outcome}", {"done": index}
                )
                assert updated.status == 200, updated.body
            started.append({"workflowId": workflow_id, "index": index, **request})
        yield started
        runtime.baton.cache_clear()


def _search(path: str = "/api/tasks/search", **query: Any) -> dict[str, Any]:
    response = call_api("GET", path, query={k: str(v) for k, v in query.items()})
    assert response.status == 200, response.body
    return dict(response.json())


def _refused(path: str = "/api/tasks/search", **query: Any) -> str:
    response = call_api("GET", path, query={k: str(v) for k, v in query.items()})
    assert response.status == 400, response.body
    body = response.json()
    assert body["status"] == 400
    return str(body["message"])


def test_the_tasks_of_one_workflow(seeded):
    first = seeded[0]  # charge COMPLETED, so ship is SCHEDULED
    result = _search(query=f"workflowId = '{first['workflowId']}'", sort="referenceTaskName:ASC")

    assert result["totalHits"] == 2
    charge, ship = result["results"]
    assert (charge["taskDefName"], charge["status"]) == ("charge", "COMPLETED")
    assert (ship["taskDefName"], ship["status"]) == ("ship", "SCHEDULED")
    # Conductor's TaskSummary: times as ISO text, input and output as JSON text.
    assert charge["workflowId"] == first["workflowId"]
    assert charge["workflowType"] == first["name"]
    assert charge["correlationId"] == first["correlationId"]
    assert charge["output"] == '{"done":0}'
    assert charge["endTime"].endswith("Z") and "T" in charge["endTime"]
    assert "startTime" not in ship  # not started yet
    assert set(charge) >= {"taskId", "taskType", "scheduledTime", "input", "queueWaitTime"}


def test_a_correlation_id_with_task_filters(seeded):
    # order-0 is workflows 0, 1 and 2: charge COMPLETED, FAILED_WITH_TERMINAL_ERROR, SCHEDULED.
    result = _search(query="correlationId = order-0 AND status IN (SCHEDULED, COMPLETED)")

    found = {(r["workflowInstanceId"], r["referenceTaskName"]) for r in _full(result, "order-0")}
    expected = {
        (seeded[0]["workflowId"], "charge_ref"),
        (seeded[0]["workflowId"], "ship_ref"),
        (seeded[2]["workflowId"], "charge_ref"),
    }
    assert found == expected
    assert result["totalHits"] == 3


def _full(summary_result: dict[str, Any], correlation_id: str) -> list[dict[str, Any]]:
    """The same search answered as Tasks (search-v2), for fields TaskSummary lacks."""
    ids = ",".join(r["taskId"] for r in summary_result["results"])
    result = _search(
        "/api/tasks/search-v2", query=f"correlationId = {correlation_id} AND taskId IN ({ids})"
    )
    assert result["totalHits"] == summary_result["totalHits"]
    return list(result["results"])


def test_a_workflow_type_with_a_task_status_against_what_was_done(seeded):
    orders = [s for s in seeded if s["name"] == TYPES[0]]
    result = _search(
        query=f"workflowType = {TYPES[0]} AND taskType = charge AND status = COMPLETED "
        "AND referenceTaskName = charge_ref",
        size=500,
    )

    expected = {s["workflowId"] for s in orders if _charge_outcome(s["index"]) == "COMPLETED"}
    assert {r["workflowId"] for r in result["results"]} == expected
    assert result["totalHits"] == len(expected) == 30


def test_failed_tasks_of_either_type_with_an_or(seeded):
    result = _search(
        query=f"(workflowType = {TYPES[0]} OR workflowType = {TYPES[1]}) "
        "AND status = FAILED_WITH_TERMINAL_ERROR",
        size=0,
    )
    assert result == {"totalHits": COUNT // 5, "results": []}


def test_a_task_id_alone_and_as_free_text(seeded):
    workflow_id = seeded[7]["workflowId"]
    (task,) = _search(query=f"workflowId = {workflow_id}")["results"]

    by_id = _search(query=f"taskId = '{task['taskId']}'")
    by_free_text = _search(freeText=task["taskId"])

    assert [r["taskId"] for r in by_id["results"]] == [task["taskId"]]
    assert by_free_text["results"] == by_id["results"]


def test_search_v2_answers_tasks(seeded):
    workflow_id = seeded[3]["workflowId"]
    (task,) = _search("/api/tasks/search-v2", query=f"workflowId = {workflow_id}")["results"]

    assert task["workflowInstanceId"] == workflow_id
    assert task["referenceTaskName"] == "charge_ref"
    assert task["inputData"] == {}
    assert task["status"] == "SCHEDULED"


def test_paging_and_sorting(seeded):
    query = f"workflowType = {TYPES[1]} AND referenceTaskName = charge_ref"
    every = _search(query=query, sort="scheduledTime:ASC", size=1000)
    page = _search(query=query, sort="scheduledTime:ASC", start=10, size=5)

    times = [r["scheduledTime"] for r in every["results"]]
    assert times == sorted(times)
    assert every["totalHits"] == COUNT // 2
    assert page["totalHits"] == COUNT // 2
    assert page["results"] == every["results"][10:15]


def test_search_by_tasks_answers_each_workflow_once(seeded):
    result = _search(
        "/api/workflow/search-by-tasks",
        query="correlationId IN (order-0, order-1) AND status = SCHEDULED",
    )
    expected = {
        s["workflowId"]
        for s in seeded[:6]
        if _charge_outcome(s["index"]) != "FAILED_WITH_TERMINAL_ERROR"
    }

    assert {r["workflowId"] for r in result["results"]} == expected
    assert result["totalHits"] == len(expected) == len(result["results"])
    assert {"workflowType", "status", "startTime"} <= set(result["results"][0])
    full = _search(
        "/api/workflow/search-by-tasks-v2",
        query="correlationId IN (order-0, order-1) AND status = SCHEDULED",
    )
    assert {r["workflowId"] for r in full["results"]} == expected
    assert "tasks" not in full["results"][0] or full["results"][0]["tasks"] == []


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("taskType = charge", "add workflowId"),
        ("status = FAILED", "add workflowId"),
        (f"workflowType = {TYPES[0]} OR status = FAILED", "every alternative"),
        ("workflowId = x AND input = y", "'input' is not a field"),
        ("workflowId = x AND status = RUNNING", "not a task status"),
        ("workflowId = x AND startTime > yesterday", "epoch milliseconds"),
        ("workflowId = x AND taskType > a", "is text"),
    ],
)
def test_what_names_no_workflows_is_refused_with_what_to_add(seeded, query, words):
    assert words in _refused(query=query)
    assert words in _refused("/api/workflow/search-by-tasks", query=query)


def test_a_query_naming_too_many_workflows_is_refused(seeded, monkeypatch):
    monkeypatch.setattr(task_search, "MAX_WORKFLOWS_READ", 100)
    message = _refused(query=f"workflowType = {TYPES[0]}")
    assert "more than 100 workflows" in message

    # An upper bound on a task time narrows the workflows read to those started before it.
    first = _search(query=f"workflowId = {seeded[20]['workflowId']}")["results"][0]
    scheduled = first["scheduledTime"]
    from datetime import datetime

    millis = int(datetime.fromisoformat(scheduled.replace("Z", "+00:00")).timestamp() * 1000)
    narrowed = _search(
        query=f"workflowType = {TYPES[0]} AND scheduledTime < {millis + 1} "
        "AND referenceTaskName = charge_ref",
        size=1000,
    )
    assert narrowed["totalHits"] == 11  # workflows 0, 2, ..., 20 of that type


def test_free_text_that_is_a_full_text_query_is_refused(seeded):
    assert "full-text query" in _refused(freeText="charge*")
