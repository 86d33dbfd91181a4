"""A workflow's output: `outputParameters` resolved, else the last task's output."""

from __future__ import annotations

from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    T0,
    by_ref,
    complete,
    fail,
    fork,
    join,
    set_variable,
    simple,
    start,
    update,
    wait,
    workflow_def,
)


def test_output_parameters_are_resolved_when_the_workflow_completes():
    definition = workflow_def(
        simple("first"),
        set_variable("set", stage="done"),
        simple("last"),
        outputParameters={
            "first_value": "${first.output.value}",
            "stage": "${workflow.variables.stage}",
            "who": "${workflow.input.who}",
            "summary": "${first.output.value} by ${workflow.input.who}",
        },
    )
    wf = start(definition, {"who": "ann"}).workflow
    wf = complete(wf, "first", T0 + 1, value=3)
    wf = complete(wf, "last", T0 + 2, ignored=True)
    assert wf.status == WorkflowStatus.COMPLETED
    assert wf.end_time == T0 + 2
    assert wf.output == {"first_value": 3, "stage": "done", "who": "ann", "summary": "3 by ann"}


def test_without_output_parameters_the_output_is_the_last_tasks_output():
    wf = start(workflow_def(simple("first"), simple("last"))).workflow
    wf = complete(wf, "first", T0 + 1, a=1)
    wf = complete(wf, "last", T0 + 2, b=2)
    assert wf.output == {"b": 2}


def test_the_last_task_is_the_last_one_scheduled_not_the_last_to_end():
    definition = workflow_def(fork("fork", [wait("a")], [wait("b")]), join("join", "a", "b"))
    wf = start(definition).workflow
    wf = complete(wf, "b", T0 + 1, from_b=True)
    wf = complete(wf, "a", T0 + 2, from_a=True)
    assert wf.tasks[-1].reference_task_name == "join"
    assert wf.output == {"a": {"from_a": True}, "b": {"from_b": True}}


def test_a_workflow_with_no_tasks_completes_at_once_with_no_output():
    wf = start(workflow_def(), {"x": 1}).workflow
    assert wf.status == WorkflowStatus.COMPLETED
    assert wf.output == {}
    assert wf.end_time == T0


def test_a_failed_workflow_resolves_its_output_parameters_too():
    # Conductor's SimpleWorkflowSpec reads the failed task's output through outputParameters.
    definition = workflow_def(
        simple("t1"),
        simple("t2"),
        outputParameters={"o1": "${workflow.input.param1}", "error": "${t1.output.ErrorMessage}"},
    )
    wf = start(definition, {"param1": "p1 value"}).workflow
    wf = complete(wf, "t1", T0 + 1)
    wf = fail(wf, "t2", T0 + 2)
    assert wf.status == WorkflowStatus.FAILED
    assert wf.output == {"o1": "p1 value", "error": None}


def test_a_failed_workflow_without_output_parameters_takes_the_failed_tasks_output():
    wf = start(workflow_def(simple("t1"), simple("t2"))).workflow
    wf = complete(wf, "t1", T0 + 1, a=1)
    wf = update(wf, "t2", T0 + 2, TaskStatus.FAILED, output={"error": "disk full"}).workflow
    assert by_ref(wf, "t2").status == TaskStatus.FAILED
    assert wf.output == {"error": "disk full"}


def test_the_input_template_fills_in_what_the_input_leaves_out():
    definition = workflow_def(
        simple("t", inputParameters={"region": "${workflow.input.region}"}),
        inputTemplate={"region": "eu", "tier": "basic"},
    )
    wf = start(definition, {"tier": "gold"}).workflow
    assert wf.input == {"region": "eu", "tier": "gold"}
    assert by_ref(wf, "t").input_data == {"region": "eu"}
