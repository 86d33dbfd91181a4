"""FORK_JOIN: a FORK instance that ends at once, every branch started, and the JOIN after it.

The scenario tests port Conductor's ForkJoinSpec on its `fork_join_integration_test.json`.
"""

from __future__ import annotations

from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    COMPLETED,
    IN_PROGRESS,
    SCHEDULED,
    SECOND,
    T0,
    by_ref,
    complete,
    fail,
    fixture,
    fork,
    join,
    shape,
    simple,
    start,
    statuses,
    wait,
    workflow_def,
)

CANCELED = TaskStatus.CANCELED
FAILED = TaskStatus.FAILED


def _two_branches():
    return workflow_def(
        fork("fork", [simple("a"), simple("c")], [wait("b")]),
        join("join", "c", "b"),
        simple("after"),
    )


def test_the_fork_instance_is_a_FORK_completed_the_moment_it_is_scheduled():
    wf = start(_two_branches()).workflow
    fork_task = by_ref(wf, "fork")
    assert fork_task.task_type == "FORK"
    assert fork_task.task_def_name == "FORK"
    assert fork_task.status == COMPLETED
    assert fork_task.scheduled_time == fork_task.start_time == fork_task.end_time == T0


def test_the_first_task_of_every_branch_and_the_join_are_scheduled_with_the_fork():
    decision = start(_two_branches())
    wf = decision.workflow
    assert [t.reference_task_name for t in wf.tasks] == ["fork", "a", "b", "join"]
    assert shape(wf) == [
        ("FORK", COMPLETED),
        ("a", SCHEDULED),
        ("WAIT", IN_PROGRESS),
        ("JOIN", IN_PROGRESS),
    ]
    assert [t.seq for t in wf.tasks] == [1, 2, 3, 4]
    assert decision.new_task_ids == {t.task_id for t in wf.tasks}


def test_the_join_instance_is_a_JOIN_whose_input_names_what_it_joins_on():
    join_task = by_ref(start(_two_branches()).workflow, "join")
    assert join_task.task_type == "JOIN"
    assert join_task.task_def_name == "JOIN"
    assert join_task.input_data == {"joinOn": ["c", "b"]}
    assert join_task.start_time == T0


def test_each_branch_moves_on_by_itself():
    wf = start(_two_branches()).workflow
    wf = complete(wf, "a", T0 + SECOND)
    assert statuses(wf) == {
        "fork": COMPLETED,
        "a": COMPLETED,
        "b": IN_PROGRESS,
        "join": IN_PROGRESS,
        "c": SCHEDULED,
    }


def test_the_task_after_the_join_is_scheduled_once_every_branch_has_ended():
    wf = start(_two_branches()).workflow
    wf = complete(wf, "a", T0 + 1)
    wf = complete(wf, "c", T0 + 2)
    wf = complete(wf, "b", T0 + 3)
    assert by_ref(wf, "join").status == COMPLETED
    assert by_ref(wf, "after").status == SCHEDULED
    wf = complete(wf, "after", T0 + 4)
    assert wf.status == WorkflowStatus.COMPLETED


def test_a_fork_not_followed_by_a_join_fails_the_workflow_with_conductors_message():
    definition = workflow_def(fork("fork", [simple("a")], [simple("b")]), simple("not_a_join"))
    wf = start(definition).workflow
    assert wf.status == WorkflowStatus.FAILED
    assert wf.reason_for_incompletion == (
        "Fork task definition is not followed by a join task.  Check the blueprint"
    )


def test_a_fork_nested_in_a_branch_has_its_own_fork_and_join():
    definition = workflow_def(
        fork(
            "outer",
            [fork("inner", [wait("a")], [wait("b")]), join("inner_join", "a", "b")],
            [wait("c")],
        ),
        join("outer_join", "inner_join", "c"),
    )
    wf = start(definition).workflow
    assert [t.reference_task_name for t in wf.tasks] == [
        "outer",
        "inner",
        "a",
        "b",
        "inner_join",
        "c",
        "outer_join",
    ]
    wf = complete(wf, "a", T0 + 1)
    wf = complete(wf, "b", T0 + 2)
    assert by_ref(wf, "inner_join").status == COMPLETED
    assert by_ref(wf, "outer_join").status == IN_PROGRESS
    wf = complete(wf, "c", T0 + 3)
    assert by_ref(wf, "outer_join").status == COMPLETED
    assert wf.status == WorkflowStatus.COMPLETED


def test_a_branch_task_with_retries_left_is_retried_and_the_join_waits_for_the_retry():
    retried_once = {"name": "b", "retryCount": 1, "retryDelaySeconds": 0, "timeoutSeconds": 0}
    definition = workflow_def(
        fork("fork", [simple("a")], [simple("b", taskDefinition=retried_once)]),
        join("join", "a", "b"),
    )
    wf = start(definition).workflow
    wf = complete(wf, "a", T0 + 1)
    wf = fail(wf, "b", T0 + 2)
    assert wf.status == WorkflowStatus.RUNNING
    assert by_ref(wf, "join").status == IN_PROGRESS
    wf = complete(wf, "b", T0 + 3, attempt=2)
    join_task = by_ref(wf, "join")
    assert join_task.status == COMPLETED
    assert join_task.output_data["b"] == {"attempt": 2}
    assert wf.status == WorkflowStatus.COMPLETED


# -- Conductor's ForkJoinSpec on fork_join_integration_test.json -------------------------------


def test_fork_join_spec_success_flow():
    wf = start(fixture("fork_join_integration_test.json"), {}).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("FORK", COMPLETED),
        ("integration_task_1", SCHEDULED),
        ("integration_task_2", SCHEDULED),
        ("JOIN", IN_PROGRESS),
    ]

    wf = complete(wf, "t1", T0 + 1)
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("FORK", COMPLETED),
        ("integration_task_1", COMPLETED),
        ("integration_task_2", SCHEDULED),
        ("JOIN", IN_PROGRESS),
        ("integration_task_3", SCHEDULED),
    ]

    wf = complete(wf, "t3", T0 + 2)
    assert shape(wf)[2:] == [
        ("integration_task_2", SCHEDULED),
        ("JOIN", IN_PROGRESS),
        ("integration_task_3", COMPLETED),
    ]

    wf = complete(wf, "t2", T0 + 3)
    assert wf.status == WorkflowStatus.RUNNING
    assert len(wf.tasks) == 6
    assert shape(wf)[2:4] == [("integration_task_2", COMPLETED), ("JOIN", COMPLETED)]
    assert shape(wf)[5] == ("integration_task_4", SCHEDULED)

    wf = complete(wf, "t4", T0 + 4)
    assert wf.status == WorkflowStatus.COMPLETED
    assert len(wf.tasks) == 6
    assert shape(wf)[5] == ("integration_task_4", COMPLETED)


def test_fork_join_spec_failure_flow():
    # The spec sets integration_task_2's retryCount to 0; with no TaskDef Conductor retries none.
    wf = start(fixture("fork_join_integration_test.json"), {}).workflow
    wf = complete(wf, "t1", T0 + 1)
    assert shape(wf)[4] == ("integration_task_3", SCHEDULED)

    wf = fail(wf, "t2", T0 + 2, reason="Failed....")
    assert wf.status == WorkflowStatus.FAILED
    assert shape(wf) == [
        ("FORK", COMPLETED),
        ("integration_task_1", COMPLETED),
        ("integration_task_2", FAILED),
        ("JOIN", CANCELED),
        ("integration_task_3", CANCELED),
    ]
    failed = by_ref(wf, "t2")
    assert wf.reason_for_incompletion == (
        f"Task {failed.task_id} failed with status: FAILED and reason: 'Failed....'"
    )
    assert wf.failed_reference_task_names == ["t2"]
