"""DO_WHILE: its body runs as `ref__1`, `ref__2`, ... until `loopCondition` turns false.

The scenario tests port Conductor's DoWhileSpec on `do_while_integration_test.json`.
"""

from __future__ import annotations

from baton.engine import decider
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    COMPLETED,
    IN_PROGRESS,
    SCHEDULED,
    T0,
    by_ref,
    complete,
    fail,
    fixture,
    loop,
    refs,
    shape,
    simple,
    start,
    switch,
    workflow_def,
)


def _counting_loop(condition: str = "$.loop['iteration'] < $.times", **fields):
    return workflow_def(
        loop("loop", [simple("step"), simple("check")], condition, times="${workflow.input.n}"),
        simple("after", inputParameters={"last": "${step.output.count}"}),
        **fields,
    )


def _run_iteration(wf, iteration: int, now: int):
    wf = complete(wf, "step", now, count=iteration)
    return complete(wf, "check", now + 1, ok=iteration)


def test_the_body_runs_with_iteration_suffixed_references():
    wf = start(_counting_loop(), {"n": 2}).workflow
    loop_task = by_ref(wf, "loop")
    assert loop_task.task_type == "DO_WHILE"
    assert loop_task.status == IN_PROGRESS
    assert loop_task.iteration == 1
    assert refs(wf) == ["loop", "step__1"]
    step = by_ref(wf, "step__1")
    assert (step.iteration, step.task_type, step.status) == (1, "step", SCHEDULED)
    assert step.to_json(wf)["loopOverTask"] is True

    wf = complete(wf, "step", T0 + 1, count=1)
    assert refs(wf) == ["loop", "step__1", "check__1"]
    wf = complete(wf, "check", T0 + 2)
    assert refs(wf) == ["loop", "step__1", "check__1", "step__2"]
    assert by_ref(wf, "loop").iteration == 2
    assert by_ref(wf, "step__2").iteration == 2


def test_the_output_counts_iterations_and_keeps_each_iterations_outputs_by_reference():
    wf = start(_counting_loop(), {"n": 2}).workflow
    assert by_ref(wf, "loop").output_data == {"iteration": 1}
    wf = _run_iteration(wf, 1, T0 + 10)
    assert by_ref(wf, "loop").output_data == {
        "iteration": 2,
        "1": {"step": {"count": 1}, "check": {"ok": 1}},
    }
    wf = _run_iteration(wf, 2, T0 + 20)
    loop_task = by_ref(wf, "loop")
    assert loop_task.status == COMPLETED
    assert loop_task.output_data == {
        "iteration": 2,
        "1": {"step": {"count": 1}, "check": {"ok": 1}},
        "2": {"step": {"count": 2}, "check": {"ok": 2}},
    }


def test_the_task_after_the_loop_reads_the_latest_iteration_and_has_no_suffix():
    wf = start(_counting_loop(), {"n": 3}).workflow
    for i in range(1, 4):
        wf = _run_iteration(wf, i, T0 + 10 * i)
    after = by_ref(wf, "after")
    assert (after.iteration, after.status) == (0, SCHEDULED)
    assert after.input_data == {"last": 3}


def test_the_condition_is_checked_after_the_first_iteration_so_the_body_runs_at_least_once():
    wf = start(_counting_loop("false"), {"n": 0}).workflow
    assert refs(wf) == ["loop", "step__1"]
    wf = _run_iteration(wf, 1, T0 + 1)
    assert by_ref(wf, "loop").status == COMPLETED
    assert by_ref(wf, "loop").output_data["iteration"] == 1
    assert refs(wf)[-1] == "after"


def test_the_condition_sees_body_outputs_and_its_own_output_under_dollar():
    # `$.step` is the body task's output; `$.loop` the DO_WHILE's own output.
    condition = "$.step.count < 2 && $.loop.iteration < 10 && $.loop['1'].check.ok === 1"
    wf = start(_counting_loop(condition), {"n": 99}).workflow
    wf = _run_iteration(wf, 1, T0 + 10)
    assert by_ref(wf, "loop").status == IN_PROGRESS
    wf = _run_iteration(wf, 2, T0 + 20)
    assert by_ref(wf, "loop").status == COMPLETED


def test_a_number_greater_than_zero_continues_the_loop():
    wf = start(_counting_loop("$.times - $.loop.iteration"), {"n": 2}).workflow
    wf = _run_iteration(wf, 1, T0 + 10)
    assert by_ref(wf, "loop").status == IN_PROGRESS
    wf = _run_iteration(wf, 2, T0 + 20)
    assert by_ref(wf, "loop").status == COMPLETED


def test_an_update_by_reference_reaches_the_current_iteration():
    wf = start(_counting_loop(), {"n": 2}).workflow
    wf = _run_iteration(wf, 1, T0 + 10)
    target = decider.find_task(wf, reference="step")
    assert target is not None
    assert target.reference_task_name == "step__2"


def test_a_failing_body_task_fails_the_workflow_and_cancels_the_loop():
    wf = start(_counting_loop(), {"n": 2}).workflow
    wf = fail(wf, "step", T0 + 1, reason="induced..failure")
    assert wf.status == WorkflowStatus.FAILED
    assert by_ref(wf, "step__1").status == TaskStatus.FAILED
    assert by_ref(wf, "loop").status == TaskStatus.CANCELED
    assert wf.failed_reference_task_names == ["step__1"]


def test_a_condition_that_throws_ends_the_loop_with_a_terminal_error():
    condition = "$.nothing.here > 1"
    wf = start(_counting_loop(condition), {"n": 2}).workflow
    wf = _run_iteration(wf, 1, T0 + 1)
    loop_task = by_ref(wf, "loop")
    assert loop_task.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert (loop_task.reason_for_incompletion or "").startswith(
        f"Unable to evaluate condition {condition}, exception "
    )
    assert wf.status == WorkflowStatus.FAILED


# -- Conductor's DoWhileSpec on do_while_integration_test.json ---------------------------------


def test_do_while_spec_a_single_iteration():
    wf = start(fixture("do_while_integration_test.json"), {"loop": 1}).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("DO_WHILE", IN_PROGRESS), ("integration_task_0", SCHEDULED)]

    wf = complete(wf, "integration_task_0", T0 + 1)
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("DO_WHILE", IN_PROGRESS),
        ("integration_task_0", COMPLETED),
        ("FORK", COMPLETED),
        ("integration_task_1", SCHEDULED),
        ("integration_task_2", SCHEDULED),
        ("JOIN", IN_PROGRESS),
    ]
    assert by_ref(wf, "join__1").input_data == {
        "joinOn": ["integration_task_1", "integration_task_2"]
    }
    assert all(t.iteration == 1 for t in wf.tasks)

    wf = complete(wf, "integration_task_1", T0 + 2)
    assert shape(wf)[3:] == [
        ("integration_task_1", COMPLETED),
        ("integration_task_2", SCHEDULED),
        ("JOIN", IN_PROGRESS),
    ]

    wf = complete(wf, "integration_task_2", T0 + 3)
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [
        ("DO_WHILE", COMPLETED),
        ("integration_task_0", COMPLETED),
        ("FORK", COMPLETED),
        ("integration_task_1", COMPLETED),
        ("integration_task_2", COMPLETED),
        ("JOIN", COMPLETED),
    ]


def test_do_while_spec_two_iterations_of_a_body_with_a_fork():
    wf = start(fixture("do_while_integration_test.json"), {"loop": 2}).workflow
    for iteration in (1, 2):
        now = T0 + 10 * iteration
        wf = complete(wf, "integration_task_0", now, i=iteration)
        wf = complete(wf, "integration_task_1", now + 1)
        wf = complete(wf, "integration_task_2", now + 2, i=iteration)
    assert wf.status == WorkflowStatus.COMPLETED
    assert refs(wf) == [
        "loopTask",
        *[
            f"{ref}__{i}"
            for i in (1, 2)
            for ref in (
                "integration_task_0",
                "fork",
                "integration_task_1",
                "integration_task_2",
                "join",
            )
        ],
    ]
    output = by_ref(wf, "loopTask").output_data
    assert output["iteration"] == 2
    assert output["2"]["integration_task_0"] == {"i": 2}
    assert output["2"]["join"] == {"integration_task_2": {"i": 2}}


def test_do_while_spec_a_failed_body_task_with_no_retries_fails_the_workflow():
    wf = start(fixture("do_while_integration_test.json"), {"loop": 1}).workflow
    wf = fail(wf, "integration_task_0", T0 + 1, reason="induced..failure")
    assert wf.status == WorkflowStatus.FAILED
    assert shape(wf) == [
        ("DO_WHILE", TaskStatus.CANCELED),
        ("integration_task_0", TaskStatus.FAILED),
    ]


def test_do_while_spec_a_failed_body_task_is_retried_within_its_iteration():
    definition = fixture("do_while_integration_test.json")
    body_task = definition["tasks"][0]["loopOver"][0]
    body_task["taskDefinition"] = {
        "name": "integration_task_0",
        "retryCount": 1,
        "retryDelaySeconds": 0,
        "timeoutSeconds": 120,
        "responseTimeoutSeconds": 120,
    }
    wf = start(definition, {"loop": 1}).workflow
    wf = fail(wf, "integration_task_0", T0 + 1, reason="induced..failure")
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("DO_WHILE", IN_PROGRESS),
        ("integration_task_0", TaskStatus.FAILED),
        ("integration_task_0", SCHEDULED),
    ]
    first, retry = wf.tasks[1], wf.tasks[2]
    assert first.retried
    assert retry.retry_count == 1
    assert retry.retried_task_id == first.task_id
    assert retry.reference_task_name == "integration_task_0__1"

    wf = complete(wf, "integration_task_0", T0 + 2)
    assert shape(wf) == [
        ("DO_WHILE", IN_PROGRESS),
        ("integration_task_0", TaskStatus.FAILED),
        ("integration_task_0", COMPLETED),
        ("FORK", COMPLETED),
        ("integration_task_1", SCHEDULED),
        ("integration_task_2", SCHEDULED),
        ("JOIN", IN_PROGRESS),
    ]
    wf = complete(wf, "integration_task_1", T0 + 3)
    wf = complete(wf, "integration_task_2", T0 + 4)
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf)[0] == ("DO_WHILE", COMPLETED)
    assert shape(wf)[6] == ("JOIN", COMPLETED)


def test_a_switch_in_the_body_schedules_its_case_in_the_same_iteration():
    definition = workflow_def(
        loop(
            "loop",
            [
                switch(
                    "route",
                    {"even": [simple("even_step")]},
                    default=[simple("odd_step")],
                    evaluatorType="javascript",
                    expression="$.i % 2 === 0 ? 'even' : 'odd'",
                    inputParameters={"i": "${loop.output.iteration}"},
                ),
                simple("tail"),
            ],
            "$.loop.iteration < 2",
        )
    )
    wf = start(definition).workflow
    assert refs(wf) == ["loop", "route__1", "odd_step__1"]
    wf = complete(wf, "odd_step", T0 + 1)
    wf = complete(wf, "tail", T0 + 2)
    assert refs(wf)[-2:] == ["route__2", "even_step__2"]
    assert by_ref(wf, "even_step__2").iteration == 2
    wf = complete(wf, "even_step", T0 + 3)
    wf = complete(wf, "tail", T0 + 4)
    assert wf.status == WorkflowStatus.COMPLETED
    assert by_ref(wf, "loop").output_data["2"]["route"] == {
        "evaluationResult": ["even"],
        "selectedCase": "even",
    }
