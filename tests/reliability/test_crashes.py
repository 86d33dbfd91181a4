"""Faults at the worst moments: between a commit and its effect, between handling an SQS
message and deleting it, and in the middle of a commit. Nothing is lost and nothing doubles.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import seed
from tests.reliability.conftest import EMBEDDED_HANDLED_QUEUE, EmbeddedBaton, wait_for
from tests.reliability.lambda_process import DROP_FIRST_DELETE_MARKER
from tests.reliability.support import (
    MESSAGE_ID_ATTRIBUTE,
    TUTORIAL_QUEUE,
    Clock,
    deliver,
    executions,
    fork_of_waits,
    receive_all,
    register_handler,
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

TUTORIAL_HANDLER = "complete_task_event"


class SendFailed(Exception):
    """SQS refused or could not be reached: an ordinary error the function sees."""


class EnvironmentDied(BaseException):
    """The Lambda environment stopped right here (timeout, out of memory, host lost): nothing
    after this point runs, and no `except Exception` sees it."""


def event_after_gate() -> dict[str, Any]:
    """A WAIT `gate_ref`, then an EVENT to the tutorial's queue, then the WAIT `task_1_ref`
    that the tutorial's handler completes when that message comes back."""
    return {
        "name": "reliability_event_after_gate",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {"name": "gate", "taskReferenceName": "gate_ref", "type": "WAIT"},
            {
                "name": "send",
                "taskReferenceName": "send_ref",
                "type": "EVENT",
                "sink": f"sqs:{TUTORIAL_QUEUE}",
            },
            {"name": "task_1", "taskReferenceName": "task_1_ref", "type": "WAIT"},
        ],
    }


def event_round_trip(name: str, marker: str | None = None) -> dict[str, Any]:
    """The tutorial's round trip without its 10 s WAIT: the EVENT is sent at start."""
    send: dict[str, Any] = {
        "name": "send",
        "taskReferenceName": "send_ref",
        "type": "EVENT",
        "sink": f"sqs:{TUTORIAL_QUEUE}",
        "inputParameters": {"marker": marker} if marker else {},
    }
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
                    [{"name": "task_1", "taskReferenceName": "task_1_ref", "type": "WAIT"}],
                    [send],
                ],
            },
            {
                "name": "join",
                "taskReferenceName": "join_ref",
                "type": "JOIN",
                "joinOn": ["task_1_ref", "send_ref"],
            },
        ],
    }


def fault_on_first_publish(monkeypatch: pytest.MonkeyPatch, fault: type[BaseException]) -> list:
    """Make the next message send raise `fault`, right after the commit that recorded it."""
    from baton.messaging import Messaging

    publish = Messaging.publish
    faulted: list[str] = []

    def publish_faulting_once(self: Messaging, message: Any) -> None:
        if not faulted:
            faulted.append(message.message_id)
            raise fault("between the commit and the send")
        publish(self, message)

    monkeypatch.setattr(Messaging, "publish", publish_faulting_once)
    return faulted


def owes_its_message(workflow_id: str, reference: str) -> bool:
    from baton import runtime

    stored = runtime.baton().store.require(workflow_id)
    (found,) = [t for t in stored.tasks if t.reference_task_name == reference]
    return found.pending_effect


@pytest.mark.parametrize("fault", [SendFailed, EnvironmentDied])
def test_a_message_lost_between_commit_and_send_is_sent_by_the_sweep(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, fault: type[BaseException]
) -> None:
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    register_workflow(event_after_gate())
    register_handler(seed.complete_task_event())
    clock = Clock(1_800_000_000_000)
    use_clock(clock)
    workflow_id = start("reliability_event_after_gate")
    faulted = fault_on_first_publish(monkeypatch, fault)

    # The update commits (the EVENT task completes, its message is owed), then the send fails:
    # the call succeeds and leaves the message to the sweep; or the environment dies: the
    # call fails, and the caller (API client, SQS) tries it again.
    gate = f"/api/tasks/{workflow_id}/gate_ref/COMPLETED"
    if fault is SendFailed:
        assert call_api("POST", gate, {}).status == 200
    else:
        with pytest.raises(EnvironmentDied):
            call_api("POST", gate, {})
        retried = call_api("POST", gate, {})
        assert retried.status == 200  # accepted, and changes nothing
    send_task = task(workflow_id, "send_ref")
    assert faulted == [send_task["taskId"]]
    assert statuses(workflow_id) == {
        "gate_ref": "COMPLETED",
        "send_ref": "COMPLETED",
        "task_1_ref": "IN_PROGRESS",
        "workflow": "RUNNING",
    }
    assert owes_its_message(workflow_id, "send_ref")
    assert aws.receive(TUTORIAL_QUEUE) == []

    # Within the grace period the sweep leaves it (the send may still be on its way) ...
    assert sweep()["resent"] == 0
    assert aws.receive(TUTORIAL_QUEUE) == []
    # ... after it, the sweep sends it, with the EVENT task's id as its Baton message id.
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["resent"] == 1
    (message,) = receive_all(aws, TUTORIAL_QUEUE, 1)
    assert message["MessageAttributes"][MESSAGE_ID_ATTRIBUTE]["StringValue"] == send_task["taskId"]
    assert json.loads(message["Body"])["workflowInstanceId"] == workflow_id
    assert not owes_its_message(workflow_id, "send_ref")

    assert deliver(TUTORIAL_QUEUE, [message]) == {"batchItemFailures": []}
    assert statuses(workflow_id)["workflow"] == "COMPLETED"
    # Confirmed once sent: later sweeps send nothing more.
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["resent"] == 0
    assert aws.receive(TUTORIAL_QUEUE) == []


def test_a_start_whose_send_fails_answers_with_its_id_and_the_sweep_sends_the_message(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering 500 here would make a client start a second workflow."""
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    register_workflow(event_round_trip("reliability_round_trip_start"))
    clock = Clock(1_800_000_000_000)
    use_clock(clock)
    fault_on_first_publish(monkeypatch, SendFailed)

    response = call_api("POST", "/api/workflow/reliability_round_trip_start", {})

    assert response.status == 200, response.body
    assert statuses(response.body)["send_ref"] == "COMPLETED"
    assert owes_its_message(response.body, "send_ref")
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["resent"] == 1
    (message,) = receive_all(aws, TUTORIAL_QUEUE, 1)
    assert json.loads(message["Body"])["workflowInstanceId"] == response.body


def test_a_message_handled_but_never_deleted_is_a_no_op_when_it_returns(aws: Aws) -> None:
    register_workflow(event_round_trip("reliability_round_trip"))
    register_handler(seed.complete_task_event())
    workflow_id = start("reliability_round_trip")
    (message,) = receive_all(aws, TUTORIAL_QUEUE, 1)

    assert deliver(TUTORIAL_QUEUE, [message]) == {"batchItemFailures": []}
    handled = workflow(workflow_id)
    assert handled["status"] == "COMPLETED"
    # The function's environment died before SQS heard back: the message comes again.
    assert deliver(TUTORIAL_QUEUE, [message]) == {"batchItemFailures": []}

    assert workflow(workflow_id) == handled
    (execution,) = executions(TUTORIAL_HANDLER)
    assert execution["status"] == "COMPLETED"


def test_with_the_pollers_a_message_whose_delete_was_lost_returns_and_changes_nothing(
    embedded_baton: EmbeddedBaton,
) -> None:
    baton = embedded_baton
    definition = event_round_trip("reliability_lost_delete", marker=DROP_FIRST_DELETE_MARKER)
    assert baton.call("POST", "/metadata/workflow", definition)[0] == 200
    status, workflow_id = baton.call("POST", "/workflow/reliability_lost_delete", {})
    assert status == 200

    def read() -> dict[str, Any]:
        return dict(json.loads(baton.call("GET", f"/workflow/{workflow_id}")[1]))

    handled = wait_for(lambda: read()["status"] == "COMPLETED" and read(), "the round trip")

    def deliveries() -> list[dict[str, Any]]:
        return [
            d
            for d in baton.deliveries()
            if d["kind"] == "delivered" and workflow_id in d.get("body", "")
        ]

    wait_for(lambda: len(deliveries()) >= 2, "the redelivery")
    wait_for(lambda: baton.queue_is_empty(EMBEDDED_HANDLED_QUEUE), "the message to be deleted")
    (first, second) = deliveries()
    assert first["messageId"] == second["messageId"]
    assert (first["receiveCount"], second["receiveCount"]) == (1, 2)
    dropped = [d for d in baton.deliveries() if d["kind"] == "delete-dropped"]
    assert first["messageId"] in {d["messageId"] for d in dropped}

    assert read() == handled
    status, body = baton.call("GET", f"/event/executions/{TUTORIAL_HANDLER}")
    mine = [e for e in json.loads(body) if e["output"].get("workflowId") == workflow_id]
    assert [e["status"] for e in mine] == ["COMPLETED"]


def wide_fork_after_gate(width: int) -> dict[str, Any]:
    definition = fork_of_waits(width, name="reliability_wide_fork_after_gate")
    gate = {"name": "gate", "taskReferenceName": "gate_ref", "type": "WAIT"}
    return {**definition, "tasks": [gate, *definition["tasks"]]}


def test_a_crash_after_staging_tasks_leaves_them_invisible_and_the_retry_lands_once(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from baton.store.workflows import WorkflowStore

    width = 100  # the decision makes 102 tasks: more than one transaction may hold
    register_workflow(wide_fork_after_gate(width))
    workflow_id = start("reliability_wide_fork_after_gate")
    before = workflow(workflow_id)
    stage = WorkflowStore._stage
    crashes: list[int] = []

    def stage_then_die(self: WorkflowStore, tasks: Any, *args: Any, **kwargs: Any) -> None:
        stage(self, tasks, *args, **kwargs)
        if not crashes:
            crashes.append(len(list(tasks)))
            raise EnvironmentDied("between staging the new tasks and the commit")

    monkeypatch.setattr(WorkflowStore, "_stage", stage_then_die)

    with pytest.raises(EnvironmentDied):
        call_api("POST", f"/api/tasks/{workflow_id}/gate_ref/COMPLETED", {"n": 1})
    assert crashes == [width + 2]
    # What was staged is not part of the workflow: it reads exactly as before.
    assert workflow(workflow_id) == before

    retried = call_api("POST", f"/api/tasks/{workflow_id}/gate_ref/COMPLETED", {"n": 1})
    assert retried.status == 200, retried.body
    after = workflow(workflow_id)
    references = [t["referenceTaskName"] for t in after["tasks"]]
    assert sorted(references) == sorted(
        ["gate_ref", "fork_ref", "join_ref", *(f"wait_{i}_ref" for i in range(width))]
    )
    assert len({t["taskId"] for t in after["tasks"]}) == len(references)
    assert after["tasks"][0]["status"] == "COMPLETED"
    assert after["tasks"][0]["outputData"] == {"n": 1}
    assert {t["status"] for t in after["tasks"] if t["taskType"] == "WAIT"} - {"COMPLETED"} == {
        "IN_PROGRESS"
    }

    # The workflow carries on from there: a branch completes, the JOIN waits for the rest.
    done = call_api("POST", f"/api/tasks/{workflow_id}/wait_0_ref/COMPLETED", {"i": 0})
    assert done.status == 200
    carried_on = statuses(workflow_id)
    assert carried_on["wait_0_ref"] == "COMPLETED"
    assert carried_on["wait_1_ref"] == carried_on["join_ref"] == "IN_PROGRESS"
    assert carried_on["workflow"] == "RUNNING"


def gate_then_loop(name: str, times: int) -> dict[str, Any]:
    """A WAIT `gate_ref`, then a DO_WHILE of `times` SET_VARIABLE iterations."""
    body = {
        "name": "count",
        "taskReferenceName": "count",
        "type": "SET_VARIABLE",
        "inputParameters": {"n": "${loop.output.iteration}"},
    }
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {"name": "gate", "taskReferenceName": "gate_ref", "type": "WAIT"},
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < $.times",
                "inputParameters": {"times": times},
                "loopOver": [body],
            },
        ],
    }


def fire_timers(aws: Aws) -> int:
    """One invocation of the timers function with what is on the timer queue."""
    from baton.handlers import timers
    from tests.runtime.lambda_events import FakeContext, sqs_event

    messages = aws.receive("baton-timers")
    if messages:
        result = timers.handler(sqs_event("baton-timers", messages), FakeContext())
        assert result == {"batchItemFailures": []}
        for message in messages:
            aws.sqs.delete_message(
                QueueUrl=aws.queue_urls["baton-timers"], ReceiptHandle=message["ReceiptHandle"]
            )
    return len(messages)


@pytest.mark.parametrize("fault", [SendFailed, EnvironmentDied])
def test_a_carry_over_timer_lost_after_the_commit_is_repaired_by_the_sweep(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, fault: type[BaseException]
) -> None:
    from baton import runtime
    from baton.engine.run import DecisionBudget
    from baton.messaging import Messaging
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS

    register_workflow(gate_then_loop("reliability_carried_loop", 60))
    clock = Clock(1_800_000_000_000)
    use_clock(clock)
    runtime.baton().budget = lambda: DecisionBudget(max_steps=25)
    workflow_id = start("reliability_carried_loop")
    arm_timer = Messaging.arm_timer
    faulted: list[str] = []

    def arm_faulting_once(self: Messaging, **timer: Any) -> bool:
        if not faulted:
            faulted.append(timer["task_id"])
            raise fault("between the commit and the timer")
        return bool(arm_timer(self, **timer))

    monkeypatch.setattr(Messaging, "arm_timer", arm_faulting_once)

    # Completing the gate starts the loop; the decision runs out of budget, commits, and the
    # timer that would carry it over is lost.
    gate = f"/api/tasks/{workflow_id}/gate_ref/COMPLETED"
    if fault is SendFailed:
        assert call_api("POST", gate, {}).status == 200
    else:
        with pytest.raises(EnvironmentDied):
            call_api("POST", gate, {})
        assert call_api("POST", gate, {}).status == 200  # accepted, and changes nothing
    assert len(faulted) == 1
    stalled = workflow(workflow_id)
    assert stalled["status"] == "RUNNING"
    assert aws.receive("baton-timers") == []
    assert fire_timers(aws) == 0

    # Within the grace period the sweep leaves it (the timer may still be on its way) ...
    assert sweep()["fired"] == 0
    assert workflow(workflow_id) == stalled
    # ... after it, the sweep decides again, and the timers carry the loop to its end.
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep()["fired"] == 1
    for _ in range(100):
        if workflow(workflow_id)["status"] != "RUNNING":
            break
        fire_timers(aws)
    finished = workflow(workflow_id)
    assert finished["status"] == "COMPLETED"
    assert finished["variables"] == {"n": 60}
    assert len(finished["tasks"]) == 62  # the gate, the loop, one SET_VARIABLE an iteration
    # Nothing is left for later sweeps.
    clock.now += PENDING_EFFECT_GRACE_MS + 1_000
    assert sweep() == {"resent": 0, "fired": 0, "armed": 0, "failed": 0, "kept": 0, "settled": 0}
