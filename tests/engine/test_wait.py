"""WAIT: `duration` in Conductor's grammar, `until` in its three formats, or an update from outside.

The scenario test ports Conductor's WaitTaskSpec on `wait_workflow_integration_test.json`.
"""

from __future__ import annotations

import pytest

from baton.engine import decider
from baton.engine.effects import ArmTimer
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    SECOND,
    T0,
    by_ref,
    complete,
    fixture,
    shape,
    simple,
    start,
    wait,
    workflow_def,
)

YEAR = 365 * 24 * 3600 * SECOND
# T0 is 2023-11-14 22:13:20 UTC; 22:20 that day is 400 s later.
UNTIL_2220_UTC = 1_700_000_400_000
MIDNIGHT_AFTER_T0 = 1_700_006_400_000


def _waiting(**inputs):
    return start(workflow_def(wait("w", **inputs), simple("after")))


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("10s", 10),
        ("1m 30s", 90),
        ("10m20s", 620),
        ("2 hours", 7200),
        ("1d2h", 93600),
        ("1 day 1 hour 1 minute 1 second", 90061),
        ("60seconds", 60),
        ("5 mins", 300),
        ("3 hrs", 10800),
        ("  45 SECS  ", 45),
    ],
)
def test_a_duration_in_conductors_grammar_sets_when_the_wait_ends(duration, seconds):
    decision = _waiting(duration=duration)
    task = by_ref(decision.workflow, "w")
    assert task.status == TaskStatus.IN_PROGRESS
    assert task.start_time == T0
    assert task.wait_timeout == T0 + seconds * SECOND
    assert task.callback_after_seconds == seconds
    assert decision.effects == [ArmTimer(task_id=task.task_id, due_at=T0 + seconds * SECOND)]


def test_the_wait_ends_when_its_time_comes_and_not_before():
    wf = _waiting(duration="1m 30s").workflow
    early = decider.decide(wf, T0 + 90 * SECOND - 1)
    assert not early.changed
    due = decider.decide(wf, T0 + 90 * SECOND).workflow
    assert by_ref(due, "w").status == TaskStatus.COMPLETED
    assert by_ref(due, "w").end_time == T0 + 90 * SECOND
    assert by_ref(due, "after").status == TaskStatus.SCHEDULED


def test_a_duration_given_by_an_expression_is_resolved_first():
    definition = workflow_def(wait("w", duration="${workflow.input.pause}"))
    task = by_ref(start(definition, {"pause": "2 hours"}).workflow, "w")
    assert task.input_data == {"duration": "2 hours"}
    assert task.wait_timeout == T0 + 7200 * SECOND


@pytest.mark.parametrize("duration", ["90", "1.5h", "30s 1m", "10ms", "soon", "-5s"])
def test_a_duration_outside_the_grammar_fails_the_wait_with_a_terminal_error(duration):
    decision = _waiting(duration=duration)
    wf = decision.workflow
    task = by_ref(wf, "w")
    assert task.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert task.reason_for_incompletion == f"Not valid duration: {duration}"
    assert decision.effects == []
    assert wf.status == WorkflowStatus.FAILED
    assert wf.reason_for_incompletion == (
        f"Task {task.task_id} failed with status: FAILED and reason: "
        f"'Not valid duration: {duration}'"
    )


@pytest.mark.parametrize(
    ("until", "due_at"),
    [
        ("2023-11-14 22:20", UNTIL_2220_UTC),
        ("2023-11-14 22:20 GMT", UNTIL_2220_UTC),
        ("2023-11-14 22:20 UTC", UNTIL_2220_UTC),
        ("2023-11-14 14:20 PST", UNTIL_2220_UTC),
        ("2023-11-14 14:20 -0800", UNTIL_2220_UTC),
        ("2023-11-15 02:20 GMT+04:00", UNTIL_2220_UTC),
        ("2023-11-15", MIDNIGHT_AFTER_T0),
    ],
)
def test_until_in_each_of_conductors_formats_sets_when_the_wait_ends(until, due_at):
    decision = _waiting(until=until)
    task = by_ref(decision.workflow, "w")
    assert task.status == TaskStatus.IN_PROGRESS
    assert task.wait_timeout == due_at
    assert task.callback_after_seconds == (due_at - T0) // SECOND
    assert decision.effects == [ArmTimer(task_id=task.task_id, due_at=due_at)]
    assert by_ref(decider.decide(decision.workflow, due_at).workflow, "w").status == (
        TaskStatus.COMPLETED
    )


def test_until_in_the_past_ends_the_wait_at_its_first_evaluation():
    wf = _waiting(until="2020-01-01 00:00").workflow
    assert by_ref(wf, "w").status == TaskStatus.COMPLETED
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED


@pytest.mark.parametrize(
    "until", ["2023-11-14T22:20", "2023-11-14 22:20:00", "14/11/2023", "tomorrow"]
)
def test_an_until_in_no_known_format_fails_the_wait_with_a_terminal_error(until):
    wf = _waiting(until=until).workflow
    task = by_ref(wf, "w")
    assert task.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert task.reason_for_incompletion == (
        f"Invalid/Unsupported Wait Until format.  Provided: {until}"
    )
    assert wf.status == WorkflowStatus.FAILED


def test_duration_and_until_together_fail_the_wait_with_conductors_message():
    wf = _waiting(duration="10s", until="2023-11-15").workflow
    task = by_ref(wf, "w")
    assert task.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert task.reason_for_incompletion == (
        "Both 'duration' and 'until' specified. Please provide only one input"
    )
    assert wf.status == WorkflowStatus.FAILED


def test_a_wait_with_no_input_waits_until_it_is_updated_from_outside():
    decision = _waiting()
    wf = decision.workflow
    task = by_ref(wf, "w")
    assert task.status == TaskStatus.IN_PROGRESS
    assert task.wait_timeout == 0
    assert decision.effects == []
    much_later = decider.decide(wf, T0 + 10 * YEAR)
    assert not much_later.changed
    assert by_ref(much_later.workflow, "w").status == TaskStatus.IN_PROGRESS

    wf = complete(wf, "w", T0 + 10 * YEAR, approved=True)
    assert by_ref(wf, "w").status == TaskStatus.COMPLETED
    assert by_ref(wf, "w").output_data == {"approved": True}
    assert by_ref(wf, "after").status == TaskStatus.SCHEDULED


def test_a_timed_wait_can_also_be_completed_early_from_outside():
    wf = _waiting(duration="1 hour").workflow
    wf = complete(wf, "w", T0 + SECOND)
    assert by_ref(wf, "w").status == TaskStatus.COMPLETED
    assert by_ref(wf, "w").end_time == T0 + SECOND
    # The timer that later fires finds nothing left to do.
    assert not decider.decide(wf, T0 + 3600 * SECOND).changed


# -- Conductor's WaitTaskSpec on wait_workflow_integration_test.json --------------------------


def test_wait_task_spec_a_wait_based_simple_workflow():
    wf = start(fixture("wait_workflow_integration_test.json"), {}).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("WAIT", TaskStatus.IN_PROGRESS)]

    wf = complete(wf, "wait0", T0 + SECOND)
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("WAIT", TaskStatus.COMPLETED),
        ("integration_task_1", TaskStatus.SCHEDULED),
    ]

    wf = complete(wf, "t1", T0 + 2 * SECOND)
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [
        ("WAIT", TaskStatus.COMPLETED),
        ("integration_task_1", TaskStatus.COMPLETED),
    ]
