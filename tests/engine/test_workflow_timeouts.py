"""A workflow's timeoutSeconds (TIME_OUT_WF and ALERT_ONLY), and its failureWorkflow: started
once when the workflow fails, times out or is terminated by its own run, never by the API."""

from __future__ import annotations

from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.effects import ArmTimer, StartFailureWorkflow, TimeoutAlert
from baton.engine.state import TaskStatus, WorkflowStatus, failure_workflow_id
from tests.engine.support import SECOND, T0, by_ref, simple, start, task, wait, workflow_def


def test_time_out_wf_times_the_workflow_out_at_its_deadline_and_cancels_open_tasks() -> None:
    definition = workflow_def(wait("w"), timeoutSeconds=30, timeoutPolicy="TIME_OUT_WF")
    started = start(definition)
    assert ArmTimer(task_id=by_ref(started.workflow, "w").task_id, due_at=T0 + 30 * SECOND) in (
        started.effects
    )
    assert decider.decide(started.workflow, T0 + 29 * SECOND).workflow.status == (
        WorkflowStatus.RUNNING
    )
    ended = decider.decide(started.workflow, T0 + 30 * SECOND).workflow
    assert ended.status == WorkflowStatus.TIMED_OUT
    assert ended.reason_for_incompletion == (
        "Workflow timed out after 30 seconds. Timeout configured as 30 seconds. "
        "Timeout policy configured to TIME_OUT_WF"
    )
    assert by_ref(ended, "w").status == TaskStatus.CANCELED


def test_alert_only_alerts_once_and_the_workflow_runs_on() -> None:
    definition = workflow_def(wait("w"), simple("s"), timeoutSeconds=30)
    started = start(definition).workflow
    late = decider.decide(started, T0 + 31 * SECOND)
    assert late.workflow.status == WorkflowStatus.RUNNING
    assert [type(e) for e in late.effects if isinstance(e, TimeoutAlert)] == [TimeoutAlert]
    assert late.changed  # committed, so the alert is carried out and not given again
    again = decider.decide(late.workflow, T0 + 40 * SECOND)
    assert not any(isinstance(e, TimeoutAlert) for e in again.effects)
    w = by_ref(late.workflow, "w")
    done = decider.update_task(
        late.workflow, w.task_id, TaskUpdate(TaskStatus.COMPLETED), T0 + 50 * SECOND
    )
    assert by_ref(done.workflow, "s").status == TaskStatus.SCHEDULED


def _failing(**fields: object):
    return workflow_def(simple("s"), failureWorkflow="on_failure", **fields)


def test_a_failed_workflow_starts_its_failure_workflow_once_and_names_it_in_its_output() -> None:
    started = start(_failing(), {"a": 1}).workflow
    s = by_ref(started, "s")
    failed = decider.update_task(
        started,
        s.task_id,
        TaskUpdate(TaskStatus.FAILED, reason_for_incompletion="boom"),
        T0 + SECOND,
    )
    expected = failure_workflow_id(started.workflow_id)
    assert failed.workflow.status == WorkflowStatus.FAILED
    assert failed.workflow.output["conductor.failure_workflow"] == expected
    assert failed.workflow.failed_task_id == s.task_id
    (effect,) = [e for e in failed.effects if isinstance(e, StartFailureWorkflow)]
    assert (effect.workflow_id, effect.name, effect.version) == (expected, "on_failure", None)
    # Deciding the ended workflow again starts nothing more.
    assert not decider.decide(failed.workflow, T0 + 2 * SECOND).effects


def test_a_timed_out_workflow_starts_it_and_the_terminate_api_does_not() -> None:
    definition = _failing(timeoutSeconds=5, timeoutPolicy="TIME_OUT_WF")
    timed_out = decider.decide(start(definition).workflow, T0 + 5 * SECOND)
    assert any(isinstance(e, StartFailureWorkflow) for e in timed_out.effects)
    terminated = decider.terminate(start(_failing()).workflow, "bye", T0 + SECOND)
    assert terminated.workflow.status == WorkflowStatus.TERMINATED
    assert not any(isinstance(e, StartFailureWorkflow) for e in terminated.effects)


def test_a_terminate_task_failing_the_workflow_starts_it_from_an_input_expression() -> None:
    definition = workflow_def(
        task("TERMINATE", "t", inputParameters={"terminationStatus": "FAILED"}),
        failureWorkflow="${workflow.input.handler}",
    )
    ended = start(definition, {"handler": "cleanup"})
    (effect,) = [e for e in ended.effects if isinstance(e, StartFailureWorkflow)]
    assert effect.name == "cleanup"
    assert ended.workflow.failed_task_id == by_ref(ended.workflow, "t").task_id
