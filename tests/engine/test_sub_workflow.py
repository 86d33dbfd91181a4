"""SUB_WORKFLOW in the decider: the task's input as Conductor's mapper builds it, one child per
attempt (its id derived from the task id), the effects that start and terminate children, and
the end of a child reported to its parent."""

from __future__ import annotations

from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.effects import ReportToParent, StartWorkflow, TerminateChild
from baton.engine.state import TaskStatus, WorkflowStatus, child_workflow_id
from baton.engine.validation import validate_workflow_def
from tests.engine.support import SECOND, T0, by_ref, start, task, workflow_def


def sub(ref: str, **params: object) -> dict[str, object]:
    return task(
        "SUB_WORKFLOW",
        ref,
        subWorkflowParam={"name": "child", **params},
        inputParameters={"x": "${workflow.input.x}"},
    )


def test_the_task_starts_one_child_whose_id_is_derived_from_the_task_id() -> None:
    decision = start(workflow_def(sub("s", version=2)), {"x": 7})
    task_ = by_ref(decision.workflow, "s")
    assert task_.status == TaskStatus.IN_PROGRESS
    assert task_.sub_workflow_id == child_workflow_id(task_.task_id)
    assert task_.output_data == {"subWorkflowId": task_.sub_workflow_id}
    assert task_.to_json(decision.workflow)["subWorkflowId"] == task_.sub_workflow_id
    assert task_.input_data["subWorkflowName"] == "child"
    assert task_.input_data["subWorkflowVersion"] == 2
    assert task_.input_data["workflowInput"] == {"x": 7}
    assert [e for e in decision.effects if isinstance(e, StartWorkflow)] == [
        StartWorkflow(task_id=task_.task_id)
    ]
    # The same decision made again (a lost race, a crash) names the same child.
    again = start(workflow_def(sub("s", version=2)), {"x": 7})
    assert by_ref(again.workflow, "s").sub_workflow_id == task_.sub_workflow_id


def test_params_may_be_expressions_and_an_unset_version_is_left_to_the_start() -> None:
    definition = workflow_def(sub("s", name="${workflow.input.which}"))
    task_ = by_ref(start(definition, {"which": "other"}).workflow, "s")
    assert task_.input_data["subWorkflowName"] == "other"
    assert task_.input_data["subWorkflowVersion"] is None


def _ended_child(status: TaskStatus, reason: str | None = None):
    parent = start(workflow_def(sub("s"), task("NOOP", "after")), {"x": 1}).workflow
    task_ = by_ref(parent, "s")
    update = TaskUpdate(
        status=status, output={"y": 2}, reason_for_incompletion=reason, merge_output=True
    )
    return task_, decider.update_task(parent, task_.task_id, update, T0 + SECOND).workflow


def test_a_completed_child_completes_the_task_with_its_output_kept_beside_the_id() -> None:
    task_, parent = _ended_child(TaskStatus.COMPLETED)
    ended = by_ref(parent, "s")
    assert ended.status == TaskStatus.COMPLETED
    assert ended.output_data == {"subWorkflowId": task_.sub_workflow_id, "y": 2}
    assert parent.status == WorkflowStatus.COMPLETED


def test_a_canceled_task_terminates_the_parent_as_conductor_does() -> None:
    # A child TERMINATED makes its task CANCELED, which ends the parent TERMINATED.
    _, parent = _ended_child(TaskStatus.CANCELED, "Sub workflow child.1/x failure reason: stop")
    assert by_ref(parent, "s").status == TaskStatus.CANCELED
    assert parent.status == WorkflowStatus.TERMINATED


def test_a_retry_starts_a_new_child_for_the_new_attempt() -> None:
    definition = workflow_def(
        {**sub("s"), "taskDefinition": {"name": "s", "retryCount": 1, "retryDelaySeconds": 0}}
    )
    parent = start(definition, {"x": 1}).workflow
    first = by_ref(parent, "s")
    failed = decider.update_task(
        parent, first.task_id, TaskUpdate(status=TaskStatus.FAILED), T0 + SECOND
    )
    retried = [t for t in failed.workflow.tasks if t.retry_count == 1]
    assert len(retried) == 1
    assert retried[0].status == TaskStatus.IN_PROGRESS
    assert retried[0].sub_workflow_id == child_workflow_id(retried[0].task_id)
    assert retried[0].sub_workflow_id != first.sub_workflow_id
    assert StartWorkflow(task_id=retried[0].task_id) in failed.effects


def test_terminating_the_parent_terminates_its_running_child() -> None:
    parent = start(workflow_def(sub("s")), {"x": 1}).workflow
    task_ = by_ref(parent, "s")
    decision = decider.terminate(parent, "stop it", T0 + SECOND)
    assert by_ref(decision.workflow, "s").status == TaskStatus.CANCELED
    assert decision.effects == [
        TerminateChild(
            task_id=task_.task_id,
            child_workflow_id=task_.sub_workflow_id or "",
            reason="Parent workflow has been terminated with reason: stop it",
        )
    ]


def test_a_child_that_ends_reports_to_its_parent() -> None:
    child = start(
        workflow_def(task("NOOP", "n")),
        parent_workflow_id="parent-1",
        parent_workflow_task_id="task-1",
        workflow_id="child-1",
    )
    assert child.workflow.status == WorkflowStatus.COMPLETED
    assert child.workflow.to_json()["parentWorkflowId"] == "parent-1"
    reports = [e for e in child.effects if isinstance(e, ReportToParent)]
    assert [(r.parent_workflow_id, r.parent_task_id) for r in reports] == [("parent-1", "task-1")]
    # Recorded on a task of the child, so the commit that ends the child records it.
    assert reports[0].task_id == by_ref(child.workflow, "n").task_id


def test_the_sub_workflow_tasks_timeout_applies_from_its_start() -> None:
    definition = workflow_def(
        {
            **sub("s"),
            "taskDefinition": {
                "name": "s",
                "retryCount": 0,
                "timeoutSeconds": 60,
                "timeoutPolicy": "TIME_OUT_WF",
            },
        }
    )
    parent = start(definition, {"x": 1})
    assert any(getattr(e, "due_at", None) == T0 + 60 * SECOND for e in parent.effects)
    later = decider.decide(parent.workflow, T0 + 60 * SECOND)
    assert by_ref(later.workflow, "s").status == TaskStatus.TIMED_OUT
    assert later.workflow.status == WorkflowStatus.TIMED_OUT


def test_registration_needs_the_params_and_a_name_or_a_definition() -> None:
    def errors(task_json: dict[str, object]) -> list[str]:
        found = validate_workflow_def(
            {"name": "p", "tasks": [task_json], "schemaVersion": 2, "version": 1}
        )
        return [f"{e.path}: {e.message}" for e in found]

    assert errors(task("SUB_WORKFLOW", "s")) == [
        "tasks[0].subWorkflowParam: subWorkflowParam field is required for taskType: "
        "SUB_WORKFLOW taskName: s"
    ]
    assert errors(task("SUB_WORKFLOW", "s", subWorkflowParam={})) == [
        "tasks[0].subWorkflowParam.name: SubWorkflowParams name cannot be null or empty"
    ]
    inline = {"name": "inner", "tasks": [task("NOOP", "n")]}
    assert errors(task("SUB_WORKFLOW", "s", subWorkflowParam={"workflowDefinition": inline})) == []
    assert (
        errors(task("SUB_WORKFLOW", "s", subWorkflowParam={"workflowDefinition": "${x.output.d}"}))
        == []
    )
    assert errors(task("SUB_WORKFLOW", "s", subWorkflowParam={"workflowDefinition": "nope"})) == [
        "tasks[0].subWorkflowParam.workflowDefinition: workflowDefinition is a string, but not "
        "a valid DSL string"
    ]
    bad_inline = {"name": "inner", "tasks": [task("TELEPORT", "n")]}
    (problem,) = errors(
        task("SUB_WORKFLOW", "s", subWorkflowParam={"workflowDefinition": bad_inline})
    )
    assert problem.startswith("tasks[0].subWorkflowParam.workflowDefinition.tasks[0].type:")


def test_an_optional_sub_workflow_that_fails_lets_the_workflow_go_on() -> None:
    parent = start(workflow_def({**sub("s"), "optional": True}, task("NOOP", "after")), {"x": 1})
    task_ = by_ref(parent.workflow, "s")
    update = TaskUpdate(status=TaskStatus.FAILED, reason_for_incompletion="child failed")
    ended = decider.update_task(parent.workflow, task_.task_id, update, T0 + SECOND).workflow
    assert by_ref(ended, "s").status == TaskStatus.COMPLETED_WITH_ERRORS
    assert by_ref(ended, "after").status == TaskStatus.COMPLETED
    assert ended.status == WorkflowStatus.COMPLETED


def test_each_loop_iteration_gets_its_own_child() -> None:
    definition = workflow_def(
        task(
            "DO_WHILE",
            "loop",
            loopCondition="$.loop['iteration'] < 2",
            loopOver=[sub("s")],
            inputParameters={},
        )
    )
    decision = start(definition, {"x": 1})
    first = by_ref(decision.workflow, "s__1")
    update = TaskUpdate(status=TaskStatus.COMPLETED, output={}, merge_output=True)
    after = decider.update_task(decision.workflow, first.task_id, update, T0 + SECOND)
    second = by_ref(after.workflow, "s__2")
    assert second.status == TaskStatus.IN_PROGRESS
    assert second.sub_workflow_id == child_workflow_id(second.task_id) != first.sub_workflow_id
    assert StartWorkflow(task_id=second.task_id) in after.effects


def test_the_response_timeout_never_applies_to_a_sub_workflow() -> None:
    # Conductor's SubWorkflow is asyncComplete: its child, not a worker, completes it.
    definition = workflow_def(
        {**sub("s"), "taskDefinition": {"name": "s", "responseTimeoutSeconds": 5}}
    )
    parent = start(definition, {"x": 1})
    later = decider.decide(parent.workflow, T0 + 3600 * SECOND)
    assert by_ref(later.workflow, "s").status == TaskStatus.IN_PROGRESS


def test_resuming_a_retried_child_puts_its_task_back_and_reruns_what_was_canceled() -> None:
    import pytest

    from baton.engine import lifecycle
    from baton.errors import Conflict
    from tests.engine.support import fork, join, simple

    definition = workflow_def(fork("f", [sub("s")], [simple("other")]), join("j", "s", "other"))
    parent = start(definition, {"x": 1}).workflow
    s = by_ref(parent, "s")
    failed = decider.update_task(
        parent,
        s.task_id,
        TaskUpdate(status=TaskStatus.FAILED, reason_for_incompletion="child failed"),
        T0 + SECOND,
    ).workflow
    assert failed.status == WorkflowStatus.FAILED
    assert by_ref(failed, "other").status == TaskStatus.CANCELED
    assert lifecycle.failed_subworkflow_ids(failed) == [s.sub_workflow_id]

    resumed = lifecycle.retry(
        failed, T0 + 2 * SECOND, resumed_children=frozenset({s.sub_workflow_id})
    ).workflow
    assert resumed.status == WorkflowStatus.RUNNING
    assert resumed.failed_task_id is None
    again = by_ref(resumed, "s")
    assert (again.task_id, again.status, again.sub_workflow_id) == (
        s.task_id,
        TaskStatus.IN_PROGRESS,
        s.sub_workflow_id,
    )
    assert again.reason_for_incompletion is None
    # What the failure canceled runs again; the JOIN waits again.
    others = [t for t in resumed.tasks if t.reference_task_name == "other"]
    assert [t.status for t in others] == [TaskStatus.CANCELED, TaskStatus.SCHEDULED]
    assert by_ref(resumed, "j").status == TaskStatus.IN_PROGRESS
    # A child that none of the tasks waits for is refused.
    with pytest.raises(Conflict):
        lifecycle.retry(failed, T0 + 2 * SECOND, resumed_children=frozenset({"no-such-child"}))
