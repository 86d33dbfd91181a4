"""The tutorial's `event_testing` workflow, decided step by step with a fake clock."""

from __future__ import annotations

from baton.engine import decider
from baton.engine.definitions import WorkflowDef
from baton.engine.effects import ArmTimer, PublishMessage
from baton.engine.state import TaskStatus, WorkflowStatus
from tests import seed

T0 = 1_700_000_000_000
QUEUES = frozenset({"conductor_doug_testing"})


def _statuses(workflow):
    return {t.reference_task_name: t.status for t in workflow.tasks}


def _start():
    definition = WorkflowDef.from_json(seed.event_testing())
    return decider.start(
        definition, workflow_id="wf-1", workflow_input={}, now=T0, event_queues=QUEUES
    )


def test_start_forks_and_both_waits_are_in_progress():
    decision = _start()
    wf = decision.workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert _statuses(wf) == {
        "fork_ref": TaskStatus.COMPLETED,
        "task_1_ref": TaskStatus.IN_PROGRESS,
        "task_2_ref": TaskStatus.IN_PROGRESS,
        "join_ref": TaskStatus.IN_PROGRESS,
    }
    fork = wf.tasks[0]
    assert fork.task_type == "FORK"
    task_2 = next(t for t in wf.tasks if t.reference_task_name == "task_2_ref")
    task_1 = next(t for t in wf.tasks if t.reference_task_name == "task_1_ref")
    assert task_2.wait_timeout == T0 + 10_000
    assert task_1.wait_timeout == 0  # waits for an update from outside
    assert decision.effects == [ArmTimer(task_id=task_2.task_id, due_at=T0 + 10_000)]
    assert decision.new_task_ids == {t.task_id for t in wf.tasks}


def test_nothing_happens_before_the_wait_is_due():
    wf = _start().workflow
    decision = decider.decide(wf, T0 + 9_999, event_queues=QUEUES)
    assert not decision.changed
    assert decision.effects == []


def test_task_2_ends_after_ten_seconds_and_the_event_task_publishes():
    wf = _start().workflow
    decision = decider.decide(wf, T0 + 10_000, event_queues=QUEUES)
    wf = decision.workflow
    statuses = _statuses(wf)
    assert statuses["task_2_ref"] == TaskStatus.COMPLETED
    assert statuses["send_sqs_message_ref"] == TaskStatus.COMPLETED
    assert statuses["task_1_ref"] == TaskStatus.IN_PROGRESS
    assert statuses["join_ref"] == TaskStatus.IN_PROGRESS
    assert wf.status == WorkflowStatus.RUNNING
    (effect,) = decision.effects
    assert isinstance(effect, PublishMessage)
    event_task = next(t for t in wf.tasks if t.reference_task_name == "send_sqs_message_ref")
    assert effect.message_id == event_task.task_id
    assert effect.provider == "sqs"
    assert effect.queue == "conductor_doug_testing"
    assert effect.payload == {
        "workflowType": "event_testing",
        "correlationId": None,
        "workflowVersion": 1,
        "asyncComplete": False,
        "workflowInstanceId": "wf-1",
        "sink": "sqs:conductor_doug_testing",
        "taskToDomain": {},
    }
    assert event_task.output_data["event_produced"] == "sqs:conductor_doug_testing"


def test_completing_task_1_finishes_the_join_and_the_workflow():
    wf = decider.decide(_start().workflow, T0 + 10_000, event_queues=QUEUES).workflow
    task_1 = decider.find_task(wf, reference="task_1_ref")
    assert task_1 is not None
    decision = decider.update_task(
        wf,
        task_1.task_id,
        decider.TaskUpdate(status=TaskStatus.COMPLETED, output={"by": "event"}),
        T0 + 11_000,
        event_queues=QUEUES,
    )
    wf = decision.workflow
    assert all(s.is_terminal for s in _statuses(wf).values())
    assert _statuses(wf)["join_ref"] == TaskStatus.COMPLETED
    join = next(t for t in wf.tasks if t.reference_task_name == "join_ref")
    assert join.output_data["task_1_ref"] == {"by": "event"}
    assert "send_sqs_message_ref" in join.output_data
    assert wf.status == WorkflowStatus.COMPLETED
    assert wf.end_time == T0 + 11_000


def test_completing_task_1_before_the_timer_leaves_the_join_waiting():
    wf = _start().workflow
    task_1 = decider.find_task(wf, reference="task_1_ref")
    assert task_1 is not None
    wf = decider.update_task(
        wf, task_1.task_id, decider.TaskUpdate(status=TaskStatus.COMPLETED), T0 + 1
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert _statuses(wf)["join_ref"] == TaskStatus.IN_PROGRESS
    wf = decider.decide(wf, T0 + 10_000, event_queues=QUEUES).workflow
    assert wf.status == WorkflowStatus.COMPLETED


def test_decisions_are_deterministic():
    first = decider.decide(_start().workflow, T0 + 10_000, event_queues=QUEUES)
    second = decider.decide(_start().workflow, T0 + 10_000, event_queues=QUEUES)
    assert first.workflow.to_json() == second.workflow.to_json()
    assert first.effects == second.effects


def test_deciding_does_not_change_the_state_it_was_given():
    wf = _start().workflow
    before = wf.to_json()
    decider.decide(wf, T0 + 10_000, event_queues=QUEUES)
    assert wf.to_json() == before
