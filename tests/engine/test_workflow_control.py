"""Pause, resume, terminate and variable updates from outside."""

from __future__ import annotations

from baton.engine import decider
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    SECOND,
    T0,
    by_ref,
    complete,
    fork,
    join,
    simple,
    start,
    wait,
    workflow_def,
)


def _waiting_then_simple():
    return workflow_def(wait("w", duration="10s"), simple("after"))


def test_a_paused_workflow_is_not_moved_on_even_when_a_wait_falls_due():
    wf = start(_waiting_then_simple()).workflow
    paused = decider.pause(wf, T0 + SECOND)
    assert paused.workflow.status == WorkflowStatus.PAUSED
    assert paused.workflow_changed
    later = decider.decide(paused.workflow, T0 + 60 * SECOND)
    assert not later.changed
    assert by_ref(later.workflow, "w").status == TaskStatus.IN_PROGRESS


def test_resuming_moves_the_workflow_on_from_where_it_stands():
    wf = decider.pause(start(_waiting_then_simple()).workflow, T0 + SECOND).workflow
    resumed = decider.resume(wf, T0 + 60 * SECOND).workflow
    assert resumed.status == WorkflowStatus.RUNNING
    assert by_ref(resumed, "w").status == TaskStatus.COMPLETED
    assert by_ref(resumed, "after").status == TaskStatus.SCHEDULED


def test_a_result_reported_while_paused_is_kept_but_nothing_is_scheduled_until_resumed():
    wf = start(workflow_def(simple("first"), simple("second"))).workflow
    wf = decider.pause(wf, T0 + 1).workflow
    wf = complete(wf, "first", T0 + 2, done=True)
    assert by_ref(wf, "first").status == TaskStatus.COMPLETED
    assert [t.reference_task_name for t in wf.tasks] == ["first"]
    wf = decider.resume(wf, T0 + 3).workflow
    assert by_ref(wf, "second").status == TaskStatus.SCHEDULED


def test_pausing_an_ended_workflow_and_resuming_a_running_one_change_nothing():
    running = start(_waiting_then_simple()).workflow
    assert not decider.resume(running, T0 + 1).changed
    ended = decider.terminate(running, "stop", T0 + 2).workflow
    assert not decider.pause(ended, T0 + 3).changed
    assert not decider.resume(ended, T0 + 3).changed


def test_terminating_cancels_every_pending_task_and_records_the_reason():
    definition = workflow_def(fork("fork", [wait("a")], [simple("b")]), join("join", "a", "b"))
    wf = start(definition).workflow
    decision = decider.terminate(wf, "no longer needed", T0 + 5)
    wf = decision.workflow
    assert wf.status == WorkflowStatus.TERMINATED
    assert wf.reason_for_incompletion == "no longer needed"
    assert wf.end_time == T0 + 5
    assert {t.reference_task_name: t.status for t in wf.tasks} == {
        "fork": TaskStatus.COMPLETED,
        "a": TaskStatus.CANCELED,
        "b": TaskStatus.CANCELED,
        "join": TaskStatus.CANCELED,
    }
    assert {t.reference_task_name for t in decision.changed_tasks} == {"a", "b", "join"}


def test_a_paused_workflow_can_be_terminated():
    wf = decider.pause(start(_waiting_then_simple()).workflow, T0 + 1).workflow
    wf = decider.terminate(wf, "stop", T0 + 2).workflow
    assert wf.status == WorkflowStatus.TERMINATED
    assert by_ref(wf, "w").status == TaskStatus.CANCELED


def test_terminating_an_ended_workflow_changes_nothing():
    wf = start(workflow_def(simple("only"))).workflow
    wf = complete(wf, "only", T0 + 1)
    assert wf.status == WorkflowStatus.COMPLETED
    decision = decider.terminate(wf, "too late", T0 + 2)
    assert not decision.changed
    assert decision.workflow.status == WorkflowStatus.COMPLETED
    assert decision.workflow.reason_for_incompletion is None


def test_terminating_computes_the_output_as_conductor_does():
    definition = workflow_def(
        simple("first"), simple("second"), outputParameters={"got": "${first.output.v}"}
    )
    wf = start(definition).workflow
    wf = complete(wf, "first", T0 + 1, v=7)
    wf = decider.terminate(wf, "stop", T0 + 2).workflow
    assert wf.output == {"got": 7}


def test_updating_variables_merges_them_and_can_append_to_lists():
    definition = workflow_def(wait("w"), variables={"items": [1], "name": "x"})
    wf = start(definition).workflow
    wf = decider.update_variables(wf, {"items": [2, 3], "flag": True}, T0 + 1).workflow
    assert wf.variables == {"items": [2, 3], "name": "x", "flag": True}
    wf = decider.update_variables(wf, {"items": [4]}, T0 + 2, append_array=True).workflow
    assert wf.variables == {"items": [2, 3, 4], "name": "x", "flag": True}


def test_updating_the_variables_of_an_ended_workflow_changes_nothing():
    wf = decider.terminate(start(workflow_def(wait("w"))).workflow, "stop", T0 + 1).workflow
    decision = decider.update_variables(wf, {"x": 1}, T0 + 2)
    assert not decision.changed
    assert decision.workflow.variables == {}
