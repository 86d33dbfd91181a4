"""Fan-in: a wide FORK's branches completed at the same moment by many writers, with no
caller turned away; and the faults of the path a lost race takes (a task update written onto
its task alone, its workflow's decision asked of the timers function).

The multi-process scenario is `bench.fan_in.fan_in` (writer processes released by a barrier,
decider processes taking the timer queue's batches through the timers handler, one moto
server), run here at a size two shared cores can take; `python -m bench.fan_in` runs it at
1,000 branches and 100 writers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bench.fan_in import fan_in
from tests.reliability.conftest import Endpoint
from tests.reliability.support import (
    Clock,
    fork_of_waits,
    register_workflow,
    start,
    sweep,
    use_clock,
    workflow,
)
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import FakeContext, call_api, sqs_event

WIDTH = 200
WRITERS = 20
DECIDERS = 2
TIMER_QUEUE = "baton-timers"
DECISION_QUEUE = "baton-decisions.fifo"


def test_two_hundred_branches_completed_at_once_by_twenty_writers_all_land_with_no_error(
    moto_endpoint: Endpoint,
) -> None:
    report = fan_in(
        moto_endpoint.environment(),
        moto_endpoint.timer_queue_url,
        width=WIDTH,
        writers=WRITERS,
        deciders=DECIDERS,
    )
    final = report["workflow"]
    waits = {t["referenceTaskName"]: t for t in final["tasks"] if t["taskType"] == "WAIT"}

    # No caller turned away, no decision message failed.
    assert report["errors"] == []
    assert report["decideFailures"] == 0
    # Every completion landed with its own output, once.
    assert sorted(waits) == sorted(f"wait_{i}_ref" for i in range(WIDTH))
    for i in range(WIDTH):
        assert waits[f"wait_{i}_ref"]["status"] == "COMPLETED"
        assert waits[f"wait_{i}_ref"]["outputData"] == {"branch": i}
    # The JOIN completed once, holding every branch's output; the workflow completed once.
    (join,) = [t for t in final["tasks"] if t["taskType"] == "JOIN"]
    assert join["status"] == "COMPLETED"
    assert join["outputData"] == {f"wait_{i}_ref": {"branch": i} for i in range(WIDTH)}
    assert final["status"] == "COMPLETED"
    assert report["joinCompletions"] == 1
    assert report["workflowCompletions"] == 1
    # Lost races were written alone instead of decided again: few commit attempts.
    assert report["writtenAlone"] > 0
    assert report["attemptsPerCompletion"] <= 1.5, report
    print(
        f"\n{WIDTH} branches completed by {WRITERS} processes at once: "
        f"{report['attemptsPerCompletion']:.2f} commit attempts per completion, "
        f"{report['writtenAlone']} written alone, {len(report['errors'])} errors"
    )


# -- the lost race's path, in one process (moto in the test process) --------------------------


class SendFailed(Exception):
    """SQS refused or could not be reached: an ordinary error the function sees."""


class EnvironmentDied(BaseException):
    """The Lambda environment stopped right here: nothing after this point runs."""


def lose_next_race(monkeypatch: pytest.MonkeyPatch, other: Callable[[], None]) -> list[str]:
    """Make the next commit of a decision lose its race: `other` (another update of the same
    workflow) commits first, between the decision's load and its commit."""
    from baton.store.workflows import WorkflowStore

    commit = WorkflowStore._commit
    lost: list[str] = []

    def commit_after_another(self: WorkflowStore, decision: Any, **options: Any) -> None:
        if not lost and options.get("expected_revision") is not None:
            lost.append(decision.workflow.workflow_id)
            other()
        commit(self, decision, **options)

    monkeypatch.setattr(WorkflowStore, "_commit", commit_after_another)
    return lost


def complete(workflow_id: str, reference: str, output: dict[str, Any]) -> None:
    response = call_api("POST", f"/api/tasks/{workflow_id}/{reference}/COMPLETED", output)
    assert response.status == 200, response.body


def complete_elsewhere(workflow_id: str, reference: str, output: dict[str, Any]) -> None:
    """The same update made by another environment (the service itself, not the API
    handler, which is in the middle of a request here)."""
    from baton import runtime
    from baton.engine.decider import TaskUpdate
    from baton.engine.state import TaskStatus

    update = TaskUpdate(status=TaskStatus.COMPLETED, output=output, merge_output=True)
    runtime.baton().update_task_by_reference(workflow_id, reference, update)


def stored_task(workflow_id: str, reference: str) -> Any:
    from baton import runtime

    stored = runtime.baton().store.require(workflow_id)
    (found,) = [t for t in stored.tasks if t.reference_task_name == reference]
    return found


def timer_messages(aws: Aws) -> list[dict[str, Any]]:
    """What the timers function would be handed: the timer queue's messages and the decision
    queue's asks. The asks are taken off their queue: a FIFO queue hands out no more of a
    workflow's asks while some of them are in flight."""
    found: list[dict[str, Any]] = []
    while batch := aws.receive(TIMER_QUEUE):
        found += batch
    while batch := aws.receive(DECISION_QUEUE):
        found += batch
        aws.sqs.delete_message_batch(
            QueueUrl=aws.queue_urls[DECISION_QUEUE],
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )
    return found


def fire(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """One invocation of the timers function with `messages` as its SQS batch."""
    from baton.handlers import timers

    return dict(timers.handler(sqs_event(TIMER_QUEUE, messages), FakeContext()))


def commits() -> int:
    from baton import runtime

    return runtime.baton().store.stats.commits


def two_branches(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Clock]:
    """A FORK of two WAITs; `wait_0_ref` completed by an update whose decision loses the race
    to `wait_1_ref`'s: it is written onto its task alone and a decision is asked for."""
    register_workflow(fork_of_waits(2, name="fan_in_two"))
    clock = Clock(1_800_000_000_000)
    use_clock(clock)
    workflow_id = start("fan_in_two")
    lost = lose_next_race(
        monkeypatch, lambda: complete_elsewhere(workflow_id, "wait_1_ref", {"b": 1})
    )
    complete(workflow_id, "wait_0_ref", {"b": 0})
    assert lost == [workflow_id]
    return workflow_id, clock


def test_an_update_that_loses_its_race_is_written_alone_and_one_message_decides(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow_id, _ = two_branches(aws, monkeypatch)
    from baton import runtime

    assert runtime.baton().store.stats.written_alone == 1
    # The task reads COMPLETED with its output; the JOIN has not seen it yet.
    current = {t["referenceTaskName"]: t for t in workflow(workflow_id)["tasks"]}
    assert current["wait_0_ref"]["status"] == "COMPLETED"
    assert current["wait_0_ref"]["outputData"] == {"b": 0}
    assert current["join_ref"]["status"] == "IN_PROGRESS"
    assert stored_task(workflow_id, "wait_0_ref").continue_at > 0
    (message,) = timer_messages(aws)
    assert json.loads(message["Body"])["workflowId"] == workflow_id

    assert fire([message])["batchItemFailures"] == []
    finished = workflow(workflow_id)
    assert finished["status"] == "COMPLETED"
    (join,) = [t for t in finished["tasks"] if t["taskType"] == "JOIN"]
    assert join["outputData"] == {"wait_0_ref": {"b": 0}, "wait_1_ref": {"b": 1}}
    # The commit that folded the update cleared its mark: nothing is due any more.
    assert stored_task(workflow_id, "wait_0_ref").continue_at == 0
    assert runtime.baton().store.due_entries(2**62) == []


def test_the_decision_message_delivered_twice_decides_once(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow_id, _ = two_branches(aws, monkeypatch)
    (message,) = timer_messages(aws)
    before = commits()
    # Twice in one batch: one decision for both records.
    assert fire([message, message])["batchItemFailures"] == []
    assert commits() == before + 1
    after = workflow(workflow_id)
    # Again in a later batch: nothing is owed, nothing is committed.
    assert fire([message])["batchItemFailures"] == []
    assert commits() == before + 1
    assert workflow(workflow_id) == after
    assert after["status"] == "COMPLETED"


@pytest.mark.parametrize("fault", [SendFailed, EnvironmentDied])
def test_a_crash_after_the_task_is_written_alone_is_decided_by_the_sweep(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, fault: type[BaseException]
) -> None:
    from baton.messaging import Messaging
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    def ask_failing(self: Messaging, **ask: Any) -> None:
        raise fault("between the task's write and the decision message")

    monkeypatch.setattr(Messaging, "ask_decision", ask_failing)
    register_workflow(fork_of_waits(2, name="fan_in_crash"))
    clock = Clock(1_800_000_000_000)
    use_clock(clock)
    workflow_id = start("fan_in_crash")
    lose_next_race(monkeypatch, lambda: complete_elsewhere(workflow_id, "wait_1_ref", {"b": 1}))
    if fault is SendFailed:
        complete(workflow_id, "wait_0_ref", {"b": 0})  # the caller is told it landed
    else:
        with pytest.raises(EnvironmentDied):
            call_api("POST", f"/api/tasks/{workflow_id}/wait_0_ref/COMPLETED", {"b": 0})
    monkeypatch.undo()
    use_clock(clock)
    assert timer_messages(aws) == []
    current = {t["referenceTaskName"]: t for t in workflow(workflow_id)["tasks"]}
    assert current["wait_0_ref"]["status"] == "COMPLETED"
    assert current["join_ref"]["status"] == "IN_PROGRESS"

    # Within the grace period the sweep leaves it; past it, the sweep decides.
    sweep()
    assert workflow(workflow_id)["status"] == "RUNNING"
    clock.now += PENDING_EFFECT_GRACE_MS + 1
    sweep()
    finished = workflow(workflow_id)
    assert finished["status"] == "COMPLETED"
    (join,) = [t for t in finished["tasks"] if t["taskType"] == "JOIN"]
    assert join["outputData"] == {"wait_0_ref": {"b": 0}, "wait_1_ref": {"b": 1}}
    # A retry of the update, as the caller whose environment died makes, changes nothing.
    complete(workflow_id, "wait_0_ref", {"b": "again"})
    assert workflow(workflow_id) == finished
    before = commits()
    sweep()
    assert commits() == before


def worker_workflow(name: str) -> dict[str, Any]:
    """A FORK of a SIMPLE task with two retries and a WAIT, then the JOIN."""
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork_ref",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [
                        {
                            "name": "work",
                            "taskReferenceName": "work_ref",
                            "type": "SIMPLE",
                            "retryCount": 2,
                        }
                    ],
                    [{"name": "gate", "taskReferenceName": "gate_ref", "type": "WAIT"}],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join_ref",
                "type": "JOIN",
                "joinOn": ["work_ref", "gate_ref"],
            },
        ],
    }


def without_ids(value: dict[str, Any], workflow_id: str) -> Any:
    """The workflow's JSON with its id and its tasks' ids (derived from it) replaced."""
    text = json.dumps(value).replace(workflow_id, "ID")
    for task in value["tasks"]:
        text = text.replace(task["taskId"], f"{task['referenceTaskName']}#{task['retryCount']}")
    return json.loads(text)


@pytest.mark.parametrize(
    "result",
    [
        {"status": "COMPLETED", "outputData": {"n": 1}},
        {"status": "FAILED", "reasonForIncompletion": "boom"},
        {"status": "FAILED_WITH_TERMINAL_ERROR", "reasonForIncompletion": "no"},
        {"status": "IN_PROGRESS", "callbackAfterSeconds": 30, "outputData": {"step": 1}},
    ],
)
def test_a_worker_result_written_alone_ends_as_its_decision_would_have(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, result: dict[str, Any]
) -> None:
    """The same worker result, once decided with its update and once written alone after a
    lost race and decided by the timer message: the workflows read the same."""
    register_workflow(worker_workflow("fan_in_worker"))
    clock = Clock(1_800_000_000_000)
    use_clock(clock)

    def run(lose: bool) -> dict[str, Any]:
        workflow_id = start("fan_in_worker")
        (task_id,) = [
            t["taskId"]
            for t in workflow(workflow_id)["tasks"]
            if t["referenceTaskName"] == "work_ref"
        ]
        if lose:
            # The rival commit changes nothing but the workflow's revision.
            lose_next_race(monkeypatch, lambda: _touch_workflow(workflow_id))
        body = {"workflowInstanceId": workflow_id, "taskId": task_id, "workerId": "w1", **result}
        response = call_api("POST", "/api/tasks", body)
        assert response.status == 200, response.body
        if lose:
            from baton import runtime

            assert runtime.baton().store.stats.written_alone == 1
            monkeypatch.undo()
            use_clock(clock)
            assert fire(timer_messages(aws))["batchItemFailures"] == []
        else:
            timer_messages(aws)
        return without_ids(workflow(workflow_id), workflow_id)

    decided = run(lose=False)
    written_alone = run(lose=True)
    assert written_alone == decided


def _touch_workflow(workflow_id: str) -> None:
    """Commit a decision that changes nothing the test reads but the workflow's revision."""
    from baton import runtime
    from baton.engine.decider import Decision

    service = runtime.baton()

    def touch(current: Any) -> Decision:
        return Decision(workflow=current, workflow_changed=True)

    service.store.mutate(workflow_id, touch)
