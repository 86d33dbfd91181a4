"""JOIN: waits for every task in `joinOn`; its output is their outputs, keyed by reference."""

from __future__ import annotations

from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    T0,
    by_ref,
    complete,
    fail,
    fork,
    join,
    simple,
    start,
    wait,
    workflow_def,
)


def _fork_of(*refs: str, join_on: tuple[str, ...] | None = None, after: bool = True):
    tasks = [fork("fork", *[[wait(ref)] for ref in refs]), join("join", *(join_on or refs))]
    if after:
        tasks.append(simple("after"))
    return workflow_def(*tasks)


def test_the_join_waits_for_every_task_it_joins_on():
    wf = start(_fork_of("a", "b", "c")).workflow
    wf = complete(wf, "a", T0 + 1)
    wf = complete(wf, "c", T0 + 2)
    assert by_ref(wf, "join").status == TaskStatus.IN_PROGRESS
    assert all(t.reference_task_name != "after" for t in wf.tasks)
    wf = complete(wf, "b", T0 + 3)
    assert by_ref(wf, "join").status == TaskStatus.COMPLETED
    assert by_ref(wf, "join").end_time == T0 + 3
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED


def test_the_join_output_is_each_joined_task_output_by_reference():
    wf = start(_fork_of("a", "b")).workflow
    wf = complete(wf, "a", T0 + 1, value=1)
    wf = complete(wf, "b", T0 + 2, value=2, nested={"x": [1, 2]})
    assert by_ref(wf, "join").output_data == {
        "a": {"value": 1},
        "b": {"value": 2, "nested": {"x": [1, 2]}},
    }


def test_a_joined_task_with_no_output_is_left_out_of_the_join_output():
    # Conductor's Join adds a task's output "only if it's not empty".
    wf = start(_fork_of("a", "b")).workflow
    wf = complete(wf, "a", T0 + 1)
    wf = complete(wf, "b", T0 + 2, value=2)
    assert by_ref(wf, "join").output_data == {"b": {"value": 2}}


def test_a_join_on_some_branches_ends_without_waiting_for_the_others():
    wf = start(_fork_of("a", "b", "c", join_on=("a", "b"))).workflow
    wf = complete(wf, "a", T0 + 1)
    wf = complete(wf, "b", T0 + 2)
    assert by_ref(wf, "join").status == TaskStatus.COMPLETED
    assert set(by_ref(wf, "join").output_data) <= {"a", "b"}
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED
    wf = complete(wf, "after", T0 + 3)
    # The branch no join waits for still holds the workflow open.
    assert wf.status == WorkflowStatus.RUNNING
    wf = complete(wf, "c", T0 + 4)
    assert wf.status == WorkflowStatus.COMPLETED


def test_a_failed_optional_task_makes_the_join_complete_with_errors():
    definition = workflow_def(
        fork("fork", [simple("a", optional=True)], [simple("b")]),
        join("join", "a", "b"),
        simple("after"),
    )
    wf = start(definition).workflow
    wf = fail(wf, "a", T0 + 1, reason="optional failure")
    assert by_ref(wf, "a").status == TaskStatus.COMPLETED_WITH_ERRORS
    wf = complete(wf, "b", T0 + 2)
    join_task = by_ref(wf, "join")
    assert join_task.status == TaskStatus.COMPLETED_WITH_ERRORS
    # Conductor names each optional task that failed: "<taskDefName>/<taskId> ...".
    assert join_task.reason_for_incompletion == (
        f"a/{by_ref(wf, 'a').task_id} completed with errors"
    )
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED
    wf = complete(wf, "after", T0 + 3)
    assert wf.status == WorkflowStatus.COMPLETED


def test_a_join_that_ends_is_not_decided_again():
    wf = start(_fork_of("a", "b", after=False)).workflow
    wf = complete(wf, "a", T0 + 1)
    wf = complete(wf, "b", T0 + 2)
    joins = [t for t in wf.tasks if t.task_type == "JOIN"]
    assert len(joins) == 1
    assert joins[0].status == TaskStatus.COMPLETED
    assert wf.status == WorkflowStatus.COMPLETED
