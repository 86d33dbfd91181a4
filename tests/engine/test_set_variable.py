"""SET_VARIABLE: merges its input into the variables that `${workflow.variables}` reads.

The scenario test ports Conductor's WaitTaskSpec on `set_variable_workflow_integration_test.json`.
"""

from __future__ import annotations

from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    T0,
    by_ref,
    complete,
    fixture,
    set_variable,
    shape,
    simple,
    start,
    workflow_def,
)


def test_set_variable_merges_its_input_into_the_variables_and_completes_at_once():
    definition = workflow_def(
        set_variable("set", status="${workflow.input.status}", count=2),
        simple("after"),
        variables={"count": 1, "kept": "yes"},
    )
    wf = start(definition, {"status": "ready"}).workflow
    assert wf.variables == {"count": 2, "kept": "yes", "status": "ready"}
    task = by_ref(wf, "set")
    assert (task.task_type, task.status) == ("SET_VARIABLE", TaskStatus.COMPLETED)
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED


def test_a_later_task_reads_the_variable():
    definition = workflow_def(
        simple("first"),
        set_variable("set", seen="${first.output.value}"),
        simple("second", inputParameters={"from_variable": "${workflow.variables.seen}"}),
    )
    wf = start(definition).workflow
    wf = complete(wf, "first", T0 + 1, value=42)
    assert wf.variables == {"seen": 42}
    assert by_ref(wf, "second").input_data == {"from_variable": 42}


def test_variables_past_256_kilobytes_fail_the_task_and_are_not_kept():
    definition = workflow_def(
        set_variable("small", a="x"),
        set_variable("big", b="${workflow.input.big}"),
    )
    wf = start(definition, {"big": "y" * (256 * 1024)}).workflow
    task = by_ref(wf, "big")
    assert task.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert "greater than the permissible limit" in (task.reason_for_incompletion or "")
    assert wf.variables == {"a": "x"}
    assert wf.status == WorkflowStatus.FAILED


def test_the_size_limit_counts_utf8_bytes_as_conductors_json_writer_does():
    # 100,000 two-byte characters are 200,000 bytes of UTF-8: under the limit.
    definition = workflow_def(set_variable("set", text="${workflow.input.text}"))
    wf = start(definition, {"text": "é" * 100_000}).workflow
    assert by_ref(wf, "set").status == TaskStatus.COMPLETED
    assert wf.variables == {"text": "é" * 100_000}
    assert wf.status == WorkflowStatus.COMPLETED


# -- Conductor's WaitTaskSpec on set_variable_workflow_integration_test.json ------------------


def test_wait_task_spec_workflow_with_set_variable_task():
    wf = start(
        fixture("set_variable_workflow_integration_test.json"), {"var": "var_test_value"}
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("simple", TaskStatus.SCHEDULED)]

    wf = complete(wf, "simple", T0 + 1, ok1="ov1")
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("simple", TaskStatus.COMPLETED),
        ("SET_VARIABLE", TaskStatus.COMPLETED),
        ("WAIT", TaskStatus.IN_PROGRESS),
    ]
    assert wf.variables == {"var": "var_test_value"}

    wf = complete(wf, "wait0", T0 + 2)
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [
        ("simple", TaskStatus.COMPLETED),
        ("SET_VARIABLE", TaskStatus.COMPLETED),
        ("WAIT", TaskStatus.COMPLETED),
    ]
    assert wf.variables == {"var": "var_test_value"}
    assert wf.output == {"variables": {"var": "var_test_value"}}
