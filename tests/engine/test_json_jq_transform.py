"""JSON_JQ_TRANSFORM: a jq program over the task's input; `result` and `resultList`.

The scenario tests port Conductor's JsonJQTransformSpec on its workflow fixtures.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from baton.engine import jq_process, jq_program
from baton.engine.run import DecisionBudget
from baton.engine.state import TaskStatus, WorkflowStatus
from baton.engine.tasks import json_jq_transform
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    SCHEDULED,
    by_ref,
    fixture,
    shape,
    simple,
    start,
    task,
    workflow_def,
)

IN_ARRAYS = {"in1": {"array": ["a", "b"]}, "in2": {"array": ["c", "d"]}}


def jq_task(ref: str, query: Any, **inputs: Any) -> dict[str, Any]:
    return task("JSON_JQ_TRANSFORM", ref, inputParameters={"queryExpression": query, **inputs})


def run_one(query: Any, **inputs: Any):
    wf = start(workflow_def(jq_task("jq", query, **inputs), simple("after"))).workflow
    return wf, by_ref(wf, "jq")


def test_conductors_transform_joins_the_arrays():
    definition = fixture("simple_json_jq_transform_integration_test.json")
    assert validate_workflow_def(definition) == []
    wf = start(definition, IN_ARRAYS).workflow
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [("JSON_JQ_TRANSFORM", COMPLETED)]
    out = {"out": ["a", "b", "c", "d"]}
    assert by_ref(wf, "jq_1").output_data == {"result": out, "resultList": [out]}


def test_a_failing_program_fails_the_task_and_the_workflow_with_jqs_message():
    wf = start(fixture("simple_json_jq_transform_integration_test.json"), {"in1": "a"}).workflow
    failed = by_ref(wf, "jq_1")
    assert wf.status == WorkflowStatus.FAILED
    assert failed.status == TaskStatus.FAILED
    assert failed.reason_for_incompletion == 'Cannot index string with string "array"'
    assert failed.output_data == {"error": 'Cannot index string with string "array"'}


def test_a_transform_builds_the_program_of_the_next_one():
    workflow_input = {
        "method": "POST",
        "body": {"name": "Beary Beariston", "title": "the Brown Bear"},
        "requestTransform": '{name: (.body.name + " you are " + .body.title) }',
        "responseTransform": '{result: "reply: " + .response.body.message}',
    }
    definition = fixture("sequential_json_jq_transform_integration_test.json")
    wf = start(definition, workflow_input).workflow
    assert wf.status == WorkflowStatus.COMPLETED
    defaults = by_ref(wf, "default_variables").output_data["result"]
    assert defaults["method"] == "POST"
    assert defaults["requestTransform"] == workflow_input["requestTransform"]
    assert defaults["responseTransform"] == workflow_input["responseTransform"]
    named = by_ref(wf, "request_transform").output_data["result"]
    assert named == {"name": "Beary Beariston you are the Brown Bear"}


def test_results_feed_decisions():
    wf = start(
        fixture("json_jq_transform_result_integration_test.json"), {"requestedAction": "redeliver"}
    ).workflow
    assert wf.status == WorkflowStatus.COMPLETED
    assert [t.task_type for t in wf.tasks] == [
        "JSON_JQ_TRANSFORM",
        "DECISION",
        "JSON_JQ_TRANSFORM",
        "DECISION",
    ]
    assert by_ref(wf, "json_jq_1").output_data["result"] == "CREATE"
    assert by_ref(wf, "decide_1").input_data["case"] == "CREATE"
    actions = by_ref(wf, "json_jq_2").output_data["result"]
    assert len(actions) == 3 and "redeliver" in actions
    assert by_ref(wf, "decide_2").input_data["case"] == "true"


def test_result_is_the_first_value_and_result_list_all_of_them():
    wf, done = run_one(".values[] | . * 2", values=[1, 2.5, Decimal(3)])
    assert done.output_data == {"result": 2, "resultList": [2, 5.0, 6]}
    assert shape(wf) == [("JSON_JQ_TRANSFORM", COMPLETED), ("after", SCHEDULED)]
    _, empty = run_one("empty")
    assert empty.output_data == {"result": None, "resultList": []}


def test_the_program_reads_the_whole_input():
    _, done = run_one("keys", other=1)
    assert done.output_data["result"] == ["other", "queryExpression"]


def test_a_missing_program_fails_the_task():
    wf = start(workflow_def(task("JSON_JQ_TRANSFORM", "jq", inputParameters={"a": 1}))).workflow
    failed = by_ref(wf, "jq")
    assert failed.status == TaskStatus.FAILED
    assert failed.reason_for_incompletion == "Missing 'queryExpression' in input parameters"


def test_a_program_that_does_not_compile_says_where_in_its_own_lines():
    _, failed = run_one(".a +")
    assert failed.status == TaskStatus.FAILED
    assert "syntax error" in failed.output_data["error"]
    assert "line 1," in failed.output_data["error"]


def test_a_failed_transform_is_retried_per_its_task_def():
    definition = jq_task("jq", 'error("nope")')
    definition["taskDefinition"] = {"name": "jq", "retryCount": 2}
    wf = start(workflow_def(definition)).workflow
    attempts = [t for t in wf.tasks if t.reference_task_name == "jq"]
    assert [(t.status, t.retry_count) for t in attempts] == [
        (TaskStatus.FAILED, 0),
        (TaskStatus.FAILED, 1),
        (TaskStatus.FAILED, 2),
    ]
    assert attempts[-1].reason_for_incompletion == "nope"


def test_the_environment_and_modules_are_out_of_reach(monkeypatch):
    monkeypatch.setenv("BATON_TEST_SECRET", "hunter2")
    _, done = run_one("[$ENV.BATON_TEST_SECRET, env.BATON_TEST_SECRET, ($ENV | length)]")
    assert done.output_data["result"] == [None, None, 0]
    _, failed = run_one('import "x" as x; 1')
    assert failed.reason_for_incompletion == "jq modules are not available in Baton"
    _, failed = run_one('"x" | modulemeta')
    assert failed.reason_for_incompletion == "jq modules are not available in Baton"


def test_a_program_that_produces_values_without_end_is_stopped():
    _, failed = run_one("repeat(1)")
    assert failed.status == TaskStatus.FAILED
    assert "it may not end" in (failed.reason_for_incompletion or "")


def test_a_result_too_large_to_keep_fails_the_task():
    _, failed = run_one('[range(100000) | "xx"]')
    assert failed.status == TaskStatus.FAILED
    assert "more than the limit" in (failed.reason_for_incompletion or "")


def test_each_program_is_compiled_once():
    # In the child process that runs programs, by the same code as here.
    jq_program._compile.cache_clear()
    for value in range(3):
        jq_program.run_in_this_process(".v + 1", json.dumps({"v": value}), 10)
    info = jq_program._compile.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert info.maxsize is not None  # bounded


@pytest.mark.parametrize("program", ["[range(1e12)]", "def f: f; f", "last(range(1e15))"])
def test_a_program_that_never_ends_is_stopped_at_its_time_limit(program):
    _, failed = run_one(program)
    assert failed.status == TaskStatus.FAILED
    assert f"did not finish within {jq_process.TIME_LIMIT_SECONDS:g} s" in (
        failed.reason_for_incompletion or ""
    )
    # The next program runs in a fresh child, and the one after reuses it.
    started = jq_process._shared.started
    assert json_jq_transform.transform(". + 1", 1) == [2]
    assert json_jq_transform.transform(". + 2", 1) == [3]
    assert jq_process._shared.started == started + 1


def test_a_program_that_exhausts_memory_is_stopped():
    limited = jq_process.JqProcess(time_limit_seconds=30)
    try:
        # A string that doubles 40 times: a terabyte, long before the time limit.
        with pytest.raises(jq_process.JqLimitError, match="out of memory"):
            limited.evaluate('reduce range(40) as $i ("x"; . + .) | length', "null", 10)
        assert limited.evaluate(". * 2", "21", 10) == [42]
        assert limited.started == 2
    finally:
        limited.close()


def test_each_transform_counts_against_the_decision_budget():
    definition = workflow_def(*(jq_task(f"j{n}", ".") for n in range(4)))
    decision = start(definition, budget=DecisionBudget(max_evaluations=2))
    assert [t.status for t in decision.workflow.tasks] == [COMPLETED, COMPLETED, SCHEDULED]
    assert decision.workflow.tasks[-1].continue_at


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"inputParameters": {"queryExpression": "."}}, True),
        ({"taskDefinition": {"inputTemplate": {"queryExpression": "."}}}, True),
        ({"inputParameters": {"a": 1}}, False),
    ],
)
def test_the_validator_wants_a_query_expression(fields, valid):
    definition = {"name": "wf", "tasks": [task("JSON_JQ_TRANSFORM", "jq", **fields)]}
    errors = validate_workflow_def(definition)
    if valid:
        assert errors == []
    else:
        (error,) = errors
        assert error.path == "tasks[0].inputParameters.queryExpression"
        assert error.message == (
            "inputParameters.queryExpression field is required for taskType: "
            "JSON_JQ_TRANSFORM taskName: jq"
        )
