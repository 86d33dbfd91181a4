"""Crashes between a child's commit and its parent's update, and between a parent's commit and
its child's start: the sweep repairs both, and no task attempt ever gets two children."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.support import (
    Clock,
    register_workflow,
    start,
    statuses,
    sweep,
    task,
    use_clock,
    workflow,
)
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api

T0 = 1_800_000_000_000


class EnvironmentDied(BaseException):
    """The Lambda environment stopped right here: nothing after this point runs."""


CHILD = {
    "name": "crash_child",
    "version": 1,
    "schemaVersion": 2,
    "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
    "outputParameters": {"answer": "${hold.output.answer}"},
}
PARENT = {
    "name": "crash_parent",
    "version": 1,
    "schemaVersion": 2,
    "tasks": [
        {
            "name": "run_child",
            "taskReferenceName": "run_child",
            "type": "SUB_WORKFLOW",
            "subWorkflowParam": {"name": "crash_child"},
        }
    ],
}


def children(correlation_id: str) -> list[dict[str, Any]]:
    response = call_api(
        "GET",
        f"/api/workflow/crash_child/correlated/{correlation_id}",
        None,
        {"includeClosed": "true"},
    )
    assert response.status == 200, response.body
    return list(response.json())


def test_a_crash_between_the_childs_commit_and_the_parents_update_is_repaired_by_the_sweep(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton import workflow_links
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    register_workflow(CHILD)
    register_workflow(PARENT)
    clock = Clock(T0)
    use_clock(clock)
    parent_id = start("crash_parent", {})
    child_id = task(parent_id, "run_child")["subWorkflowId"]

    report = workflow_links.report_to_parent
    died: list[str] = []

    def die_once(service: Any, child: Any) -> None:
        if not died:
            died.append(child.workflow_id)
            raise EnvironmentDied("after the child's commit, before the parent's update")
        report(service, child)

    monkeypatch.setattr(workflow_links, "report_to_parent", die_once)
    with pytest.raises(EnvironmentDied):
        call_api("POST", f"/api/tasks/{child_id}/hold/COMPLETED", {"answer": 42})
    assert died == [child_id]
    assert workflow(child_id)["status"] == "COMPLETED"
    assert statuses(parent_id) == {"run_child": "IN_PROGRESS", "workflow": "RUNNING"}

    # Within the grace period the sweep leaves it; after it, the parent is told.
    assert sweep()["resent"] == 0
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["resent"] == 1
    assert statuses(parent_id) == {"run_child": "COMPLETED", "workflow": "COMPLETED"}
    assert task(parent_id, "run_child")["outputData"] == {"subWorkflowId": child_id, "answer": 42}
    # Nothing is owed any more.
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["resent"] == 0


def test_a_crash_after_the_child_started_never_makes_a_second_child(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton.service import Baton
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    register_workflow(CHILD)
    register_workflow(PARENT)
    clock = Clock(T0)
    use_clock(clock)
    original = Baton.start
    died: list[str] = []

    def start_then_die(self: Baton, request: Any) -> str:
        started = original(self, request)
        if request.parent_workflow_id and not died:
            died.append(started)
            raise EnvironmentDied("the child is committed, its start never confirmed")
        return started

    monkeypatch.setattr(Baton, "start", start_then_die)
    with pytest.raises(EnvironmentDied):
        call_api("POST", "/api/workflow", {"name": "crash_parent", "correlationId": "c-1"})
    (parent,) = [
        w
        for w in call_api(
            "GET", "/api/workflow/crash_parent/correlated/c-1", None, {"includeClosed": "true"}
        ).json()
    ]
    assert [c["workflowId"] for c in children("c-1")] == died

    # The sweep carries out the owed start, and a second repair does the same: each finds the
    # child the first start made (its id is the task's), never making another.
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["resent"] == 1
    from baton import runtime, workflow_links

    service = runtime.baton()
    stored = service.store.require(parent["workflowId"])
    workflow_links.reconcile(service, stored, stored.tasks[0])
    assert [c["workflowId"] for c in children("c-1")] == died
    (child,) = children("c-1")
    assert call_api("POST", f"/api/tasks/{child['workflowId']}/hold/COMPLETED", {}).status == 200
    assert statuses(parent["workflowId"])["workflow"] == "COMPLETED"


def test_a_child_start_that_fails_after_the_parents_commit_is_made_by_the_sweep(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton.service import Baton
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    register_workflow(CHILD)
    register_workflow(PARENT)
    clock = Clock(T0)
    use_clock(clock)
    original = Baton.start
    refused: list[str] = []

    def refuse_first_child(self: Baton, request: Any) -> str:
        if request.parent_workflow_id and not refused:
            refused.append(request.workflow_id)
            raise RuntimeError("DynamoDB could not be reached")
        return original(self, request)

    monkeypatch.setattr(Baton, "start", refuse_first_child)
    # The parent's start answers with its id: its commit landed, the child is owed.
    response = call_api("POST", "/api/workflow", {"name": "crash_parent", "correlationId": "c-2"})
    assert response.status == 200, response.body
    run_child = task(response.body, "run_child")
    assert refused == [run_child["subWorkflowId"]]
    assert children("c-2") == []

    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["resent"] == 1
    (child,) = children("c-2")
    assert child["workflowId"] == run_child["subWorkflowId"]
    assert child["parentWorkflowTaskId"] == run_child["taskId"]
