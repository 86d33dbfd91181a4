"""`GET /api/admin/task/{type}` (pending tasks, from the poll index: queued, and held by
workers for a type with a concurrentExecLimit) and `GET /api/admin/queues` (the event
queues), through the API handler under moto."""

from __future__ import annotations

from tests.reliability.support import register_workflow, start
from tests.runtime.conftest import EVENT_QUEUES, Aws
from tests.runtime.lambda_events import call_api


def _workflow(name: str) -> dict[str, object]:
    return {
        "name": name,
        "version": 1,
        "tasks": [{"name": "admin_pack", "taskReferenceName": "pack_ref", "type": "SIMPLE"}],
    }


def test_pending_tasks_of_a_type_oldest_first_in_pages(aws: Aws) -> None:
    register_workflow(_workflow("admin_pending"))
    started = [start("admin_pending", {"n": n}) for n in range(4)]

    listed = call_api("GET", "/api/admin/task/admin_pack")
    assert listed.status == 200, listed.body
    tasks = listed.json()
    assert [t["workflowInstanceId"] for t in tasks] == started
    assert {t["status"] for t in tasks} == {"SCHEDULED"}
    assert {t["taskType"] for t in tasks} == {"admin_pack"}

    page = call_api("GET", "/api/admin/task/admin_pack", query={"start": "1", "count": "2"})
    assert [t["workflowInstanceId"] for t in page.json()] == started[1:3]

    # A task handed to a worker is no longer pending in the poll index (its type has no
    # concurrentExecLimit: no index lists it while IN_PROGRESS).
    polled = call_api("GET", "/api/tasks/poll/admin_pack", query={"workerid": "w"})
    assert polled.status == 200, polled.body
    left = call_api("GET", "/api/admin/task/admin_pack").json()
    assert len(left) == 3 and polled.json()["taskId"] not in {t["taskId"] for t in left}

    assert call_api("GET", "/api/admin/task/no_such_type").json() == []
    too_many = call_api("GET", "/api/admin/task/admin_pack", query={"count": "5000"})
    assert too_many.status == 400, too_many.body


def test_tasks_workers_hold_are_pending_for_a_type_with_a_concurrent_exec_limit(
    aws: Aws,
) -> None:
    limited = [{"name": "admin_pack", "concurrentExecLimit": 5, "responseTimeoutSeconds": 600}]
    assert call_api("POST", "/api/metadata/taskdefs", limited).status == 200
    register_workflow(_workflow("admin_limited"))
    started = [start("admin_limited", {"n": n}) for n in range(2)]

    polled = call_api("GET", "/api/tasks/poll/admin_pack", query={"workerid": "w"})
    assert polled.status == 200, polled.body
    held = polled.json()["taskId"]
    listed = {t["taskId"]: t for t in call_api("GET", "/api/admin/task/admin_pack").json()}
    assert {t["workflowInstanceId"] for t in listed.values()} == set(started)
    assert (listed[held]["status"], listed[held]["workerId"]) == ("IN_PROGRESS", "w")
    assert {t["status"] for i, t in listed.items() if i != held} == {"SCHEDULED"}

    # Once reported it has ended: no longer pending.
    done = call_api(
        "POST",
        "/api/tasks",
        {
            "workflowInstanceId": polled.json()["workflowInstanceId"],
            "taskId": held,
            "status": "COMPLETED",
        },
    )
    assert done.status == 200, done.body
    left = call_api("GET", "/api/admin/task/admin_pack").json()
    assert [t["status"] for t in left] == ["SCHEDULED"] and held not in {t["taskId"] for t in left}


def test_event_queues_are_listed_by_event(aws: Aws) -> None:
    listed = call_api("GET", "/api/admin/queues")
    assert listed.status == 200, listed.body
    assert listed.json() == {f"sqs:{name}": name for name in sorted(EVENT_QUEUES)}

    verbose = call_api("GET", "/api/admin/queues", query={"verbose": "true"})
    assert verbose.status == 400
    assert "CloudWatch" in verbose.json()["message"]
