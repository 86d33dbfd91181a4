"""EXCLUSIVE_JOIN: the output of whichever joined task ran (Conductor's ExclusiveJoinSpec:
a DECISION/SWITCH whose cases end in different tasks, joined by one EXCLUSIVE_JOIN)."""

from __future__ import annotations

from typing import Any

from baton.engine.state import TaskStatus, WorkflowStatus
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    SCHEDULED,
    SECOND,
    T0,
    by_ref,
    complete,
    fail,
    refs,
    simple,
    start,
    switch,
    task,
    workflow_def,
)


def _routed(**join_fields: Any):
    fields: dict[str, Any] = {"joinOn": ["a", "b"], **join_fields}
    return workflow_def(
        switch("route", {"A": [simple("a")], "B": [simple("b")]}, default=[simple("c")]),
        task("EXCLUSIVE_JOIN", "xjoin", **fields),
        simple("after", inputParameters={"got": "${xjoin.output}"}),
    )


def test_it_completes_with_the_output_of_the_case_that_ran():
    wf = start(_routed(), {"kind": "B"}).workflow
    assert "xjoin" not in refs(wf)  # scheduled once the case ends, after the SWITCH
    wf = complete(wf, "b", T0 + SECOND, picked="b")
    xjoin = by_ref(wf, "xjoin")
    assert (xjoin.task_type, xjoin.status) == ("EXCLUSIVE_JOIN", COMPLETED)
    assert xjoin.input_data == {"joinOn": ["a", "b"], "defaultExclusiveJoinTask": []}
    assert xjoin.output_data == {"picked": "b"}
    assert by_ref(wf, "after").input_data == {"got": {"picked": "b"}}


def test_with_none_of_join_on_scheduled_the_default_tasks_decide():
    wf = start(_routed(defaultExclusiveJoinTask=["c"]), {"kind": "other"}).workflow
    wf = complete(wf, "c", T0 + SECOND, picked="c")
    assert by_ref(wf, "xjoin").status == COMPLETED
    assert by_ref(wf, "xjoin").output_data == {"picked": "c"}
    assert by_ref(wf, "after").status == SCHEDULED


def test_with_nothing_to_join_it_waits():
    wf = start(_routed(), {"kind": "other"}).workflow
    wf = complete(wf, "c", T0 + SECOND)
    assert by_ref(wf, "xjoin").status == TaskStatus.IN_PROGRESS
    assert wf.status == WorkflowStatus.RUNNING


def test_a_failed_optional_case_task_counts_as_succeeded():
    definition = workflow_def(
        switch("route", {"A": [simple("a", optional=True)]}, default=[simple("c")]),
        task("EXCLUSIVE_JOIN", "xjoin", joinOn=["a"]),
    )
    wf = start(definition, {"kind": "A"}).workflow
    wf = fail(wf, "a", T0 + SECOND, "broke")
    # An optional task that failed counts as COMPLETED_WITH_ERRORS: successful.
    assert by_ref(wf, "xjoin").status == COMPLETED


def test_join_on_is_required_and_must_name_tasks():
    errors = validate_workflow_def(
        workflow_def(
            switch("route", {"A": [simple("a")]}),
            task("EXCLUSIVE_JOIN", "xjoin", joinOn=["nope"], defaultExclusiveJoinTask="x"),
        ).to_json()
    )
    assert [(e.path, e.message) for e in errors] == [
        (
            "tasks[1].joinOn[0]",
            "joinOn: nope is not the taskReferenceName of any task in workflowDefinition: wf",
        ),
        (
            "tasks[1].defaultExclusiveJoinTask",
            "defaultExclusiveJoinTask must be a list of taskReferenceNames",
        ),
    ]
    missing = validate_workflow_def(workflow_def(task("EXCLUSIVE_JOIN", "xjoin")).to_json())
    assert [(e.path, e.message) for e in missing] == [
        ("tasks[0].joinOn", "joinOn field is required for taskType: EXCLUSIVE_JOIN taskName: xjoin")
    ]
