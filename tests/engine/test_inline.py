"""INLINE: a script (or a value-param lookup) over the task's input, run inside the decision."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from baton.engine import js
from baton.engine.run import DecisionBudget
from baton.engine.state import TaskStatus, WorkflowStatus
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    SCHEDULED,
    by_ref,
    shape,
    simple,
    start,
    task,
    workflow_def,
)


def inline(ref: str, expression: Any, evaluator: str | None = "javascript", **inputs: Any):
    parameters: dict[str, Any] = {"expression": expression, **inputs}
    if evaluator is not None:
        parameters["evaluatorType"] = evaluator
    return task("INLINE", ref, inputParameters=parameters)


def run_one(definition_task: dict[str, Any], workflow_input: dict[str, Any] | None = None):
    wf = start(workflow_def(definition_task, simple("after")), workflow_input).workflow
    return wf, by_ref(wf, definition_task["taskReferenceName"])


def test_the_expression_form_completes_in_the_decision_that_schedules_it():
    wf, inline_task = run_one(inline("calc", "$.a + $.b", a="${workflow.input.a}", b=2), {"a": 40})
    assert (inline_task.task_type, inline_task.status) == ("INLINE", COMPLETED)
    assert inline_task.output_data == {"result": 42}
    assert shape(wf) == [("INLINE", COMPLETED), ("after", SCHEDULED)]


def test_the_function_form_returns_an_object():
    expression = (
        "(function(){ if ($.input.a == 1) { return {testvalue: true}; } "
        "return {testvalue: false}; })()"
    )
    _, inline_task = run_one(inline("fn", expression, input="${workflow.input}"), {"a": 1})
    assert inline_task.output_data == {"result": {"testvalue": True}}


def test_conductors_declared_function_form():
    expression = (
        "function e() { if ($.value == 101){return {evalResult: true}} "
        "else { return {evalResult: false}}} e();"
    )
    _, inline_task = run_one(inline("decl", expression, value=101))
    assert inline_task.output_data == {"result": {"evalResult": True}}


def test_dollar_is_the_whole_resolved_input_and_javascript_is_the_default_evaluator():
    script = "[typeof $.evaluatorType, $.expression.slice(0, 6), $.x]"
    _, inline_task = run_one(inline("whole", script, None, x="y"))
    assert inline_task.output_data == {"result": ["undefined", "[typeo", "y"]}


def test_graaljs_is_the_same_javascript():
    _, inline_task = run_one(inline("g", "[1, 2].map(function(x){ return x * 2; })", "graaljs"))
    assert inline_task.output_data == {"result": [2, 4]}


def test_value_param_reads_the_input_named_by_the_expression():
    _, inline_task = run_one(inline("v", "pick", "value-param", pick={"k": [1]}))
    assert inline_task.output_data == {"result": {"k": [1]}}


def test_a_numbers_json_cannot_hold_is_kept_as_text():
    _, inline_task = run_one(inline("nan", "0 / 0"))
    assert inline_task.output_data == {"result": "NaN"}


def test_a_script_error_fails_the_task_terminally_and_is_not_retried():
    definition = inline("bad", "var a = 1;\nmissing.b")
    definition["retryCount"] = 3
    wf, failed = run_one(definition)
    message = "Error evaluating the script `ReferenceError: missing is not defined` at line 2"
    assert failed.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert failed.reason_for_incompletion == message
    assert failed.output_data == {"error": message}
    assert [t.reference_task_name for t in wf.tasks] == ["bad"]
    assert wf.status == WorkflowStatus.FAILED


@pytest.mark.parametrize(
    ("evaluator", "expression", "message"),
    [
        ("python", "1", "Unknown evaluator 'python' in INLINE task."),
        ("JavaScript", "1", "Unknown evaluator 'JavaScript' in INLINE task."),
        ("  ", "1", "Empty 'evaluatorType' in INLINE task's input parameters."),
        ("javascript", " ", "Empty 'expression' in Inline task's input parameters."),
        ("javascript", 7, "Empty 'expression' in Inline task's input parameters."),
    ],
)
def test_a_missing_or_unknown_evaluator_or_expression_fails_terminally(
    evaluator, expression, message
):
    _, failed = run_one(inline("x", expression, evaluator))
    assert failed.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert (failed.reason_for_incompletion or "").startswith(message)


def test_a_script_stopped_by_its_time_limit_fails_and_is_retried_per_its_task_def(monkeypatch):
    # The real limit is a second; a short one keeps the test quick.
    monkeypatch.setattr(js, "evaluate", functools.partial(js.evaluate, timeout_ms=50))
    definition = inline("slow", "while (true) {}")
    definition["taskDefinition"] = {"name": "slow", "retryCount": 1}
    wf = start(workflow_def(definition)).workflow
    attempts = [t for t in wf.tasks if t.reference_task_name == "slow"]
    assert [(t.status, t.retry_count) for t in attempts] == [
        (TaskStatus.FAILED, 0),
        (TaskStatus.FAILED, 1),
    ]
    assert attempts[-1].reason_for_incompletion == "Script timed out"
    assert wf.status == WorkflowStatus.FAILED


def test_a_script_stopped_by_its_memory_limit_fails_and_may_be_retried(monkeypatch):
    monkeypatch.setattr(js, "evaluate", functools.partial(js.evaluate, max_memory_bytes=8 << 20))
    script = "var a = []; while (true) { a.push(new Array(100000).fill(1)); }"
    _, failed = run_one(inline("hungry", script))
    assert (failed.status, failed.reason_for_incompletion) == (
        TaskStatus.FAILED,
        "Script ran out of memory",
    )


def test_a_result_too_large_to_keep_fails_the_task():
    _, failed = run_one(inline("big", "'x'.repeat(300 * 1024)"))
    assert failed.status == TaskStatus.FAILED
    assert "more than the limit of 262144 bytes" in (failed.reason_for_incompletion or "")


def test_each_evaluation_counts_against_the_decision_budget():
    definition = workflow_def(*(inline(f"i{n}", f"{n}") for n in range(4)))
    decision = start(definition, budget=DecisionBudget(max_evaluations=2))
    assert [t.status for t in decision.workflow.tasks] == [COMPLETED, COMPLETED, SCHEDULED]
    assert decision.workflow.status == WorkflowStatus.RUNNING
    assert decision.workflow.tasks[-1].continue_at  # the next decision resumes here


def test_the_validator_accepts_inline_and_refuses_an_evaluator_baton_lacks():
    accepted = {
        "name": "wf",
        "tasks": [inline("a", "$.x"), inline("b", "x", "${workflow.input.e}")],
    }
    assert validate_workflow_def(accepted) == []
    (error,) = validate_workflow_def({"name": "wf", "tasks": [inline("a", "1", "python")]})
    assert error.path == "tasks[0].inputParameters.evaluatorType"
    assert "python is not supported by Baton" in error.message
