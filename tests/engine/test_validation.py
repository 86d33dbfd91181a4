"""Definition checks: one test per rule, each breaking only that rule."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baton.engine.limits import MAX_JSON_DEPTH
from baton.engine.validation import (
    MAX_DEFINITION_BYTES,
    MAX_TASK_NESTING,
    SUPPORTED_TASK_TYPES,
    UNSUPPORTED_TASK_TYPES,
    VALIDATION_FAILED_MESSAGE,
    FieldError,
    ValidationFailed,
    validate_event_handler,
    validate_task_def,
    validate_workflow_def,
)
from tests import seed

EVENT_TESTING = json.loads(
    '{"name": "event_testing", "version": 1, "schemaVersion": 2, "tasks": [{"name": "fork", '
    '"taskReferenceName": "fork_ref", "type": "FORK_JOIN", "inputParameters": {}, "forkTasks": '
    '[[{"name": "task_1", "taskReferenceName": "task_1_ref", "type": "WAIT", "inputParameters": '
    '{}}], [{"name": "task_2", "taskReferenceName": "task_2_ref", "type": "WAIT", '
    '"inputParameters": {"duration": "10s"}}, {"name": "send_sqs_message", "taskReferenceName": '
    '"send_sqs_message_ref", "inputParameters": {}, "type": "EVENT", "sink": '
    '"sqs:conductor_doug_testing"}]]}, {"name": "join", "taskReferenceName": "join_ref", "type": '
    '"JOIN", "inputParameters": {}, "joinOn": ["task_1_ref", "send_sqs_message_ref"]}], '
    '"outputParameters": {}}'
)
COMPLETE_TASK_EVENT = json.loads(
    '{"name": "complete_task_event", "event": "sqs:conductor_doug_testing", "actions": '
    '[{"action": "complete_task", "complete_task": {"workflowId": "${workflowInstanceId}", '
    '"taskRefName": "task_1_ref", "input": {}}}], "active": true}'
)


def simple(ref: str, **fields: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": "SIMPLE", **fields}


def task(kind: Any, ref: str, **fields: Any) -> dict[str, Any]:
    return {"name": ref, "taskReferenceName": ref, "type": kind, **fields}


def workflow(*tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "wf", "version": 1, "schemaVersion": 2, "tasks": list(tasks), **fields}


def fork(ref: str, *branches: list[dict[str, Any]]) -> dict[str, Any]:
    return task("FORK_JOIN", ref, forkTasks=list(branches))


def join(ref: str, *on: str) -> dict[str, Any]:
    return task("JOIN", ref, joinOn=list(on))


def switch(ref: str, cases: Any, **fields: Any) -> dict[str, Any]:
    defaults = {"evaluatorType": "value-param", "expression": "kind", "decisionCases": cases}
    return task("SWITCH", ref, **{**defaults, **fields})


def loop(ref: str, body: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return task("DO_WHILE", ref, **{"loopCondition": "false", "loopOver": body, **fields})


def handler(*actions: Any, **fields: Any) -> dict[str, Any]:
    return {"name": "h", "event": "sqs:q", "actions": list(actions), **fields}


def complete(**body: Any) -> dict[str, Any]:
    return {"action": "complete_task", "complete_task": body}


def single(errors: list[FieldError], path: str, fragment: str) -> FieldError:
    """The one error found, checked to be at `path` and to mention `fragment`."""
    assert len(errors) == 1, errors
    error = errors[0]
    assert error.path == path, error
    assert fragment in error.message, error
    return error


# --- the public shapes -----------------------------------------------------------------------


def test_field_error_serializes_as_a_conductor_validation_error() -> None:
    error = FieldError("tasks[0].name", "WorkflowTask name cannot be empty or null", None)
    assert error.to_json() == {
        "path": "tasks[0].name",
        "message": "WorkflowTask name cannot be empty or null",
        "invalidValue": None,
    }


def test_validation_failed_carries_every_error_with_conductors_message() -> None:
    errors = validate_workflow_def({})
    failure = ValidationFailed(errors)
    assert (
        str(failure)
        == VALIDATION_FAILED_MESSAGE
        == ("Validation failed, check below errors for detail.")
    )
    assert failure.errors == errors


# --- the tutorial ----------------------------------------------------------------------------


def test_the_tutorial_workflow_is_valid() -> None:
    assert validate_workflow_def(EVENT_TESTING) == []


def test_the_tutorial_event_handler_is_valid() -> None:
    assert validate_event_handler(COMPLETE_TASK_EVENT) == []


def test_the_seeded_tutorial_files_are_valid() -> None:
    assert validate_workflow_def(seed.event_testing()) == []
    assert validate_event_handler(seed.complete_task_event()) == []


def test_every_problem_is_reported_at_once() -> None:
    definition = {
        "name": "bad:name",
        "schemaVersion": 1,
        "timeoutPolicy": "RETRY",
        "tasks": [
            {"name": "no_ref", "type": "SIMPLE"},
            task("EVENT", "publish", sink="kafka:orders"),
            fork("split", [simple("a")]),
            simple("after_fork"),
            task("KAFKA_PUBLISH", "publish_to_kafka"),
            task("WAIT", "pause", inputParameters={"duration": "1.5h"}),
        ],
    }
    paths = [error.path for error in validate_workflow_def(definition)]
    assert paths == [
        "name",
        "schemaVersion",
        "timeoutPolicy",
        "tasks[0].taskReferenceName",
        "tasks[1].sink",
        "tasks[2]",
        "tasks[4].type",
        "tasks[5].inputParameters.duration",
    ]


# --- workflow definition fields --------------------------------------------------------------


@pytest.mark.parametrize("body", [None, [], "wf", 3, True])
def test_a_workflow_must_be_an_object(body: Any) -> None:
    single(validate_workflow_def(body), "", "must be a JSON object")


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_workflow_needs_a_name(name: Any) -> None:
    single(validate_workflow_def({**workflow(simple("a")), "name": name}), "name", "null or empty")


def test_a_workflow_name_must_be_a_string() -> None:
    single(validate_workflow_def(workflow(simple("a"), name=7)), "name", "must be a string")


def test_a_workflow_name_cannot_contain_a_colon() -> None:
    single(validate_workflow_def(workflow(simple("a"), name="a:b")), "name", "':'")


def test_a_workflow_name_cannot_contain_whitespace() -> None:
    single(validate_workflow_def(workflow(simple("a"), name="my wf")), "name", "whitespace")


def test_version_must_be_an_integer() -> None:
    single(validate_workflow_def(workflow(simple("a"), version="one")), "version", "integer")
    assert validate_workflow_def(workflow(simple("a"), version="3")) == []


@pytest.mark.parametrize("schema_version", [1, 3, "1"])
def test_only_schema_version_2_is_supported(schema_version: Any) -> None:
    definition = workflow(simple("a"), schemaVersion=schema_version)
    single(validate_workflow_def(definition), "schemaVersion", "2 is only supported")


def test_schema_version_must_be_an_integer() -> None:
    definition = workflow(simple("a"), schemaVersion="two")
    single(validate_workflow_def(definition), "schemaVersion", "integer")


def test_workflow_timeout_cannot_be_negative() -> None:
    definition = workflow(simple("a"), timeoutSeconds=-1)
    single(validate_workflow_def(definition), "timeoutSeconds", ">= 0")


@pytest.mark.parametrize("policy", ["RETRY", "time_out_wf", "NEVER"])
def test_workflow_timeout_policy_is_time_out_wf_or_alert_only(policy: str) -> None:
    definition = workflow(simple("a"), timeoutPolicy=policy)
    single(validate_workflow_def(definition), "timeoutPolicy", "TIME_OUT_WF, ALERT_ONLY")


def test_workflow_output_parameters_must_be_an_object() -> None:
    definition = workflow(simple("a"), outputParameters=["x"])
    single(validate_workflow_def(definition), "outputParameters", "JSON object")


def test_workflow_input_parameters_are_a_list_of_names() -> None:
    definition = workflow(simple("a"), inputParameters={"x": 1})
    single(validate_workflow_def(definition), "inputParameters", "list of strings")
    assert validate_workflow_def(workflow(simple("a"), inputParameters=["x"])) == []


@pytest.mark.parametrize("tasks", [None, []])
def test_a_workflow_needs_tasks(tasks: Any) -> None:
    single(validate_workflow_def({**workflow(), "tasks": tasks}), "tasks", "cannot be empty")


def test_tasks_must_be_a_list() -> None:
    single(validate_workflow_def({**workflow(), "tasks": {"a": 1}}), "tasks", "list of tasks")


def test_each_task_must_be_an_object() -> None:
    definition = {**workflow(), "tasks": [simple("a"), "b"]}
    single(validate_workflow_def(definition), "tasks[1]", "must be a JSON object")


def test_unknown_fields_are_ignored() -> None:
    definition = workflow(simple("a", somethingNew={"x": 1}), ownerApp="app", createTime=1)
    assert validate_workflow_def(definition) == []


# --- every task ------------------------------------------------------------------------------


def test_a_task_needs_a_name() -> None:
    definition = workflow({"taskReferenceName": "a", "type": "SIMPLE"})
    single(validate_workflow_def(definition), "tasks[0].name", "name cannot be empty or null")


def test_a_task_needs_a_reference_name() -> None:
    definition = workflow({"name": "a", "type": "SIMPLE", "taskReferenceName": " "})
    single(
        validate_workflow_def(definition),
        "tasks[0].taskReferenceName",
        "taskReferenceName name cannot be empty or null",
    )


def test_reference_names_are_unique_across_nested_tasks() -> None:
    definition = workflow(simple("a"), fork("split", [simple("a")]), join("merge", "a"))
    single(
        validate_workflow_def(definition),
        "tasks[1].forkTasks[0][0].taskReferenceName",
        "taskReferenceName: a should be unique across tasks for a given workflowDefinition: wf",
    )


def test_a_missing_type_means_simple_and_types_ignore_case() -> None:
    assert validate_workflow_def(workflow({"name": "a", "taskReferenceName": "a"})) == []
    assert validate_workflow_def(workflow(task("set_variable", "a"))) == []


def test_an_unknown_type_lists_the_supported_ones() -> None:
    error = single(
        validate_workflow_def(workflow(task("TELEPORT", "a"))), "tasks[0].type", "TELEPORT"
    )
    assert ", ".join(SUPPORTED_TASK_TYPES) in error.message


@pytest.mark.parametrize("kind", sorted(UNSUPPORTED_TASK_TYPES))
def test_conductor_types_baton_does_not_run_are_rejected(kind: str) -> None:
    single(
        validate_workflow_def(workflow(task(kind, "a"))),
        "tasks[0].type",
        f"{kind} tasks are not supported by Baton yet",
    )


def test_a_type_must_be_a_non_blank_string() -> None:
    single(validate_workflow_def(workflow(task("", "a"))), "tasks[0].type", "cannot be empty")
    single(validate_workflow_def(workflow(task(3, "a"))), "tasks[0].type", "must be a string")


def test_task_input_parameters_must_be_an_object() -> None:
    definition = workflow(simple("a", inputParameters="x"))
    single(validate_workflow_def(definition), "tasks[0].inputParameters", "JSON object")


@pytest.mark.parametrize("key", ["startDelay", "retryCount"])
def test_task_counts_cannot_be_negative(key: str) -> None:
    definition = workflow(simple("a", **{key: -1}))
    single(validate_workflow_def(definition), f"tasks[0].{key}", ">= 0")


def test_optional_must_be_a_boolean() -> None:
    definition = workflow(simple("a", optional="maybe"))
    single(validate_workflow_def(definition), "tasks[0].optional", "true or false")


def test_an_inline_task_definition_is_checked_as_a_task_def() -> None:
    definition = workflow(simple("a", taskDefinition={"responseTimeoutSeconds": 0}))
    single(
        validate_workflow_def(definition),
        "tasks[0].taskDefinition.responseTimeoutSeconds",
        "should be minimum 1 second",
    )
    definition = workflow(simple("a", taskDefinition=[]))
    single(validate_workflow_def(definition), "tasks[0].taskDefinition", "JSON object")


def test_odd_case_keys_are_quoted_in_paths() -> None:
    definition = workflow(switch("s", {"not found": [{"taskReferenceName": "x"}]}))
    single(
        validate_workflow_def(definition),
        'tasks[0].decisionCases["not found"][0].name',
        "name cannot be empty",
    )


def test_absurdly_deep_nesting_is_reported_not_raised() -> None:
    inner: dict[str, Any] = simple("leaf")
    for level in range(1000):
        inner = switch(f"s{level}", {"a": [inner]})
    errors = validate_workflow_def(workflow(inner))
    assert [e.message for e in errors] == [
        f"The workflow definition nests more than {MAX_JSON_DEPTH} levels deep"
    ]


def test_tasks_nested_past_the_limit_are_reported() -> None:
    inner: dict[str, Any] = simple("leaf")
    for level in range(MAX_TASK_NESTING + 1):
        inner = switch(f"s{level}", {"a": [inner]})
    errors = validate_workflow_def(workflow(inner))
    assert any(f"more than {MAX_TASK_NESTING} levels" in e.message for e in errors)


def test_parameters_nested_past_the_json_depth_limit_are_reported() -> None:
    value: Any = "${workflow.input.x}"
    for _ in range(MAX_JSON_DEPTH):
        value = {"a": value}
    errors = validate_workflow_def(workflow(simple("a", inputParameters={"x": value})))
    single(errors, "", f"nests more than {MAX_JSON_DEPTH} levels deep")
    # A little less deep is fine.
    for _ in range(5):
        value = value["a"]
    assert validate_workflow_def(workflow(simple("a", inputParameters={"x": value}))) == []


@pytest.mark.parametrize("expression", ["${$}", "${@}", "a ${$} b", "${workflow.input.${$}}"])
def test_an_expression_for_the_whole_document_is_refused(expression: str) -> None:
    definition = workflow(simple("a", inputParameters={"x": expression}))
    single(validate_workflow_def(definition), "tasks[0].inputParameters.x", "${$} names the whole")
    definition = {**workflow(simple("a")), "outputParameters": {"o": expression}}
    single(validate_workflow_def(definition), "outputParameters.o", "${$} names the whole")


def test_escaped_or_partial_root_expressions_are_accepted() -> None:
    definition = workflow(
        simple("a", inputParameters={"x": "$${$}", "y": "${$.workflow.input}", "z": "${$..id}"})
    )
    assert validate_workflow_def(definition) == []


def test_a_definition_too_large_as_stored_is_refused_though_its_text_fits() -> None:
    # Every WAIT is written out with its defaults: 57 bytes sent become 133 stored.
    tasks = [{"name": f"t{i}", "taskReferenceName": f"t{i}", "type": "WAIT"} for i in range(3000)]
    definition = {"name": "wide", "version": 1, "schemaVersion": 2, "tasks": tasks}
    assert len(json.dumps(definition)) < MAX_DEFINITION_BYTES
    single(validate_workflow_def(definition), "", "bytes as stored")
    assert validate_workflow_def({**definition, "tasks": tasks[:1500]}) == []


# --- FORK_JOIN and JOIN ----------------------------------------------------------------------


@pytest.mark.parametrize("branches", [None, []])
def test_a_fork_needs_branches(branches: Any) -> None:
    definition = workflow(task("FORK_JOIN", "f", forkTasks=branches), join("j"))
    single(validate_workflow_def(definition), "tasks[0].forkTasks", "one task for taskType")


def test_fork_tasks_must_be_a_list_of_lists() -> None:
    definition = workflow(task("FORK_JOIN", "f", forkTasks="a"), join("j"))
    single(validate_workflow_def(definition), "tasks[0].forkTasks", "list of task lists")


@pytest.mark.parametrize("branch", [[], "a", {"a": 1}])
def test_each_fork_branch_is_a_non_empty_list(branch: Any) -> None:
    definition = workflow(fork("f", [simple("a")], branch), join("j"))
    single(validate_workflow_def(definition), "tasks[0].forkTasks[1]", "non-empty list")


def test_a_fork_must_be_followed_by_a_join() -> None:
    definition = workflow(fork("f", [simple("a")]), simple("b"))
    single(validate_workflow_def(definition), "tasks[0]", "not followed by a join task")
    definition = workflow(fork("f", [simple("a")]))
    single(validate_workflow_def(definition), "tasks[0]", "not followed by a join task")


def test_a_nested_fork_needs_its_join_in_its_own_list() -> None:
    inner = fork("inner", [simple("a")])
    definition = workflow(fork("outer", [inner]), join("j"))
    single(validate_workflow_def(definition), "tasks[0].forkTasks[0][0]", "not followed")


def test_join_on_must_name_tasks_of_the_definition() -> None:
    definition = workflow(fork("f", [simple("a")]), join("j", "a", "ghost"))
    single(validate_workflow_def(definition), "tasks[1].joinOn[1]", "joinOn: ghost")


def test_join_on_must_be_a_list() -> None:
    definition = workflow(fork("f", [simple("a")]), task("JOIN", "j", joinOn="a"))
    single(validate_workflow_def(definition), "tasks[1].joinOn", "must be a list")


# --- WAIT ------------------------------------------------------------------------------------


def wait(**inputs: Any) -> dict[str, Any]:
    return workflow(task("WAIT", "w", inputParameters=inputs))


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"duration": "10s"},
        {"duration": "1m 30s"},
        {"duration": "${workflow.input.wait}"},
        {"until": "2022-12-31 11:59"},
        {"until": "2022-12-31 11:59 GMT"},
        {"until": "${workflow.input.when}"},
    ],
)
def test_valid_waits(inputs: dict[str, Any]) -> None:
    assert validate_workflow_def(wait(**inputs)) == []


def test_a_wait_takes_duration_or_until_not_both() -> None:
    single(
        validate_workflow_def(wait(duration="10s", until="2022-12-31")),
        "tasks[0].inputParameters",
        "Both 'duration' and 'until' specified. Please provide only one input",
    )


@pytest.mark.parametrize("duration", ["90", "1.5h", "30s 1m", "10ms", ""])
def test_a_wait_duration_follows_conductors_grammar(duration: str) -> None:
    single(
        validate_workflow_def(wait(duration=duration)),
        "tasks[0].inputParameters.duration",
        f"Not valid duration: {duration}",
    )


def test_a_wait_duration_is_text() -> None:
    single(
        validate_workflow_def(wait(duration=10)),
        "tasks[0].inputParameters.duration",
        "must be a string",
    )


@pytest.mark.parametrize("until", ["2022-12-31T11:59", "tomorrow", "2022-02-30"])
def test_a_wait_until_follows_conductors_formats(until: str) -> None:
    single(
        validate_workflow_def(wait(until=until)),
        "tasks[0].inputParameters.until",
        "Invalid/Unsupported Wait Until format",
    )


# --- EVENT -----------------------------------------------------------------------------------


def event(**fields: Any) -> dict[str, Any]:
    return workflow(task("EVENT", "e", **fields))


@pytest.mark.parametrize(
    "sink",
    [
        "conductor",
        "conductor:done",
        "sqs:conductor_doug_testing",
        "sqs:" + "a" * 80,
        "sqs:${workflow.input.queue}",
        "${workflow.input.sink}",
    ],
)
def test_valid_sinks(sink: str) -> None:
    assert validate_workflow_def(event(sink=sink)) == []


@pytest.mark.parametrize("sink", [None, ""])
def test_an_event_needs_a_sink(sink: Any) -> None:
    single(
        validate_workflow_def(event(sink=sink)),
        "tasks[0].sink",
        "sink field is required for taskType: EVENT taskName: e",
    )


@pytest.mark.parametrize("sink", ["sqs:", "sqs:bad name", "sqs:q.fifo", "sqs:" + "a" * 81])
def test_an_sqs_sink_names_a_valid_queue(sink: str) -> None:
    single(validate_workflow_def(event(sink=sink)), "tasks[0].sink", "SQS queue name")


@pytest.mark.parametrize("provider", ["kafka", "nats", "amqp_queue"])
def test_other_sink_providers_are_not_supported(provider: str) -> None:
    single(
        validate_workflow_def(event(sink=f"{provider}:orders")),
        "tasks[0].sink",
        f"sink provider {provider} is not supported by Baton; use sqs:<queue> or conductor",
    )


@pytest.mark.parametrize(
    ("sink", "fragment"),
    [
        ("orders", "Invalid / Unsupported sink specified: orders"),
        ("conductorx", "Invalid / Unsupported sink specified: conductorx"),
        ("conductor:", "needs a name after 'conductor:'"),
    ],
)
def test_a_sink_must_name_a_provider(sink: str, fragment: str) -> None:
    single(validate_workflow_def(event(sink=sink)), "tasks[0].sink", fragment)


# --- SWITCH and DECISION ---------------------------------------------------------------------


@pytest.mark.parametrize("evaluator", ["value-param", "javascript", "graaljs", "JavaScript"])
def test_switch_evaluators(evaluator: str) -> None:
    definition = workflow(switch("s", {"a": [simple("a")]}, evaluatorType=evaluator))
    assert validate_workflow_def(definition) == []


def test_a_switch_needs_an_evaluator_type() -> None:
    definition = workflow(switch("s", {"a": [simple("a")]}, evaluatorType=None))
    single(validate_workflow_def(definition), "tasks[0].evaluatorType", "evaluatorType field")


@pytest.mark.parametrize("evaluator", ["python", "jq"])
def test_other_switch_evaluators_are_not_supported(evaluator: str) -> None:
    definition = workflow(switch("s", {"a": [simple("a")]}, evaluatorType=evaluator))
    single(validate_workflow_def(definition), "tasks[0].evaluatorType", "not supported by Baton")


def test_a_switch_needs_an_expression() -> None:
    definition = workflow(switch("s", {"a": [simple("a")]}, expression=""))
    single(validate_workflow_def(definition), "tasks[0].expression", "expression field")


@pytest.mark.parametrize("cases", [None, {}])
def test_a_switch_needs_decision_cases(cases: Any) -> None:
    definition = workflow(switch("s", cases, defaultCase=[simple("d")]))
    single(validate_workflow_def(definition), "tasks[0].decisionCases", "one task for taskType")


def test_decision_cases_are_an_object_of_task_lists() -> None:
    definition = workflow(switch("s", [[simple("a")]]))
    single(validate_workflow_def(definition), "tasks[0].decisionCases", "object mapping")
    definition = workflow(switch("s", {"a": simple("a")}))
    single(validate_workflow_def(definition), "tasks[0].decisionCases.a", "list of tasks")


def test_an_empty_case_is_allowed() -> None:
    assert validate_workflow_def(workflow(switch("s", {"a": []}))) == []


def test_default_case_must_be_a_list() -> None:
    definition = workflow(switch("s", {"a": [simple("a")]}, defaultCase=simple("d")))
    single(validate_workflow_def(definition), "tasks[0].defaultCase", "list of tasks")


def test_a_decision_needs_a_case_value_param_or_expression() -> None:
    definition = workflow(task("DECISION", "d", decisionCases={"a": [simple("a")]}))
    single(
        validate_workflow_def(definition),
        "tasks[0].caseValueParam",
        "caseValueParam or caseExpression",
    )
    for field_name in ("caseValueParam", "caseExpression"):
        definition["tasks"][0][field_name] = "kind"
        assert validate_workflow_def(definition) == []
        del definition["tasks"][0][field_name]


# --- DO_WHILE --------------------------------------------------------------------------------


def test_a_loop_needs_a_condition() -> None:
    definition = workflow(loop("l", [simple("a")], loopCondition=None))
    single(validate_workflow_def(definition), "tasks[0].loopCondition", "loopCondition field")


@pytest.mark.parametrize("body", [None, []])
def test_a_loop_needs_a_body(body: Any) -> None:
    definition = workflow(loop("l", body))
    single(validate_workflow_def(definition), "tasks[0].loopOver", "loopOver field")


def test_loops_cannot_be_nested() -> None:
    definition = workflow(loop("outer", [loop("inner", [simple("a")])]))
    single(validate_workflow_def(definition), "tasks[0].loopOver[0].type", "cannot be nested")


def test_a_loop_inside_a_switch_inside_a_loop_is_still_nested() -> None:
    inner = loop("inner", [simple("a")])
    definition = workflow(loop("outer", [switch("s", {"x": [inner]})]))
    single(
        validate_workflow_def(definition),
        "tasks[0].loopOver[0].decisionCases.x[0].type",
        "cannot be nested",
    )


# --- TERMINATE and SET_VARIABLE --------------------------------------------------------------


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "TERMINATED"])
def test_terminate_statuses(status: str) -> None:
    definition = workflow(task("TERMINATE", "t", inputParameters={"terminationStatus": status}))
    assert validate_workflow_def(definition) == []


@pytest.mark.parametrize("inputs", [{}, {"terminationStatus": "DONE"}, {"terminationStatus": 1}])
def test_terminate_needs_a_valid_status(inputs: dict[str, Any]) -> None:
    definition = workflow(task("TERMINATE", "t", inputParameters=inputs))
    single(
        validate_workflow_def(definition),
        "tasks[0].inputParameters.terminationStatus",
        "COMPLETED, FAILED or TERMINATED",
    )


def test_terminate_cannot_be_optional() -> None:
    inputs = {"terminationStatus": "FAILED"}
    definition = workflow(task("TERMINATE", "t", inputParameters=inputs, optional=True))
    single(validate_workflow_def(definition), "tasks[0].optional", "cannot be optional")


def test_set_variable_needs_nothing_special() -> None:
    assert validate_workflow_def(workflow(task("SET_VARIABLE", "v"))) == []


# --- task definitions ------------------------------------------------------------------------


def test_a_minimal_task_def_is_valid() -> None:
    assert validate_task_def({"name": "t"}) == []
    assert validate_task_def({"name": "t", "timeoutSeconds": 7200, "timeoutPolicy": "RETRY"}) == []


@pytest.mark.parametrize("body", [None, [{"name": "t"}], "t"])
def test_a_task_def_must_be_an_object(body: Any) -> None:
    single(validate_task_def(body), "", "must be a JSON object")


def test_a_task_def_needs_a_name() -> None:
    single(validate_task_def({"retryCount": 1}), "name", "TaskDef name cannot be null or empty")


def test_task_def_retry_count_cannot_be_negative() -> None:
    single(validate_task_def({"name": "t", "retryCount": -1}), "retryCount", ">= 0")


def test_task_def_timeout_cannot_be_negative() -> None:
    single(validate_task_def({"name": "t", "timeoutSeconds": -5}), "timeoutSeconds", ">= 0")


def test_task_def_response_timeout_is_at_least_one_second() -> None:
    single(
        validate_task_def({"name": "t", "responseTimeoutSeconds": 0}),
        "responseTimeoutSeconds",
        "should be minimum 1 second",
    )


def test_response_timeout_fits_within_the_timeout() -> None:
    single(
        validate_task_def({"name": "t", "timeoutSeconds": 60, "responseTimeoutSeconds": 120}),
        "responseTimeoutSeconds",
        "TaskDef: t responseTimeoutSeconds: 120 must be less than timeoutSeconds: 60",
    )


def test_the_default_response_timeout_counts_against_a_short_timeout() -> None:
    single(
        validate_task_def({"name": "t", "timeoutSeconds": 60}),
        "responseTimeoutSeconds",
        "responseTimeoutSeconds: 3600 must be less than timeoutSeconds: 60",
    )


@pytest.mark.parametrize("policy", ["NEVER", "retry"])
def test_task_def_timeout_policy(policy: str) -> None:
    single(
        validate_task_def({"name": "t", "timeoutPolicy": policy}),
        "timeoutPolicy",
        "RETRY, TIME_OUT_WF, ALERT_ONLY",
    )


def test_task_def_retry_logic() -> None:
    for logic in ("FIXED", "EXPONENTIAL_BACKOFF", "LINEAR_BACKOFF"):
        assert validate_task_def({"name": "t", "retryLogic": logic}) == []
    single(validate_task_def({"name": "t", "retryLogic": "RANDOM"}), "retryLogic", "FIXED")


def test_task_def_counts_must_be_integers() -> None:
    single(
        validate_task_def({"name": "t", "retryDelaySeconds": "soon"}),
        "retryDelaySeconds",
        "must be an integer",
    )


def test_task_def_input_template_must_be_an_object() -> None:
    single(validate_task_def({"name": "t", "inputTemplate": []}), "inputTemplate", "JSON object")


# --- event handlers --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, [], "h"])
def test_an_event_handler_must_be_an_object(body: Any) -> None:
    single(validate_event_handler(body), "", "must be a JSON object")


def test_an_event_handler_needs_a_name() -> None:
    body = handler(complete(taskId="t"), name="")
    single(validate_event_handler(body), "name", "Missing event handler name")


def test_an_event_handler_needs_an_event() -> None:
    body = handler(complete(taskId="t"), event=None)
    single(validate_event_handler(body), "event", "Missing event location")


@pytest.mark.parametrize("event", ["sqs:q", "conductor:wf:done", "conductor:wf:task_ref"])
def test_valid_events(event: str) -> None:
    assert validate_event_handler(handler(complete(taskId="t"), event=event)) == []


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ("orders", "<provider>:<queue>"),
        (":orders", "<provider>:<queue>"),
        ("kafka:orders", "event provider kafka is not supported by Baton"),
        ("sqs:bad queue", "SQS queue name"),
        ("sqs:", "SQS queue name"),
        ("conductor:orders", "conductor:<workflowName>:<queue>"),
        ("conductor:wf:", "conductor:<workflowName>:<queue>"),
    ],
)
def test_an_event_names_a_provider_and_queue(event: str, fragment: str) -> None:
    single(validate_event_handler(handler(complete(taskId="t"), event=event)), "event", fragment)


@pytest.mark.parametrize("actions", [None, []])
def test_an_event_handler_needs_actions(actions: Any) -> None:
    body = {**handler(), "actions": actions}
    single(validate_event_handler(body), "actions", "No actions specified")


def test_an_action_must_be_an_object() -> None:
    single(validate_event_handler(handler("complete_task")), "actions[0]", "JSON object")


@pytest.mark.parametrize("kind", [None, "start_agent", "COMPLETE_TASK"])
def test_an_action_has_a_known_kind(kind: Any) -> None:
    body = handler({"action": kind, "complete_task": {"taskId": "t"}})
    single(validate_event_handler(body), "actions[0].action", "complete_task, fail_task")


@pytest.mark.parametrize(
    "kind",
    [
        "complete_task",
        "fail_task",
        "start_workflow",
        "terminate_workflow",
        "update_workflow_variables",
    ],
)
def test_an_action_body_sits_under_its_kind(kind: str) -> None:
    body = handler({"action": kind, "other": {}})
    single(validate_event_handler(body), f"actions[0].{kind}", "must be a JSON object")


@pytest.mark.parametrize("kind", ["complete_task", "fail_task"])
def test_task_actions_name_their_task(kind: str) -> None:
    for found in ({"taskId": "t"}, {"workflowId": "w", "taskRefName": "r"}):
        assert validate_event_handler(handler({"action": kind, kind: found})) == []
    body = handler({"action": kind, kind: {"workflowId": "${workflowInstanceId}"}})
    single(
        validate_event_handler(body),
        f"actions[0].{kind}",
        "needs workflowId and taskRefName, or taskId",
    )


def test_start_workflow_needs_a_workflow_name() -> None:
    action: dict[str, Any] = {"action": "start_workflow", "start_workflow": {"input": {}}}
    single(validate_event_handler(handler(action)), "actions[0].start_workflow.name", "name")
    action["start_workflow"]["name"] = "wf"
    assert validate_event_handler(handler(action)) == []


@pytest.mark.parametrize("kind", ["terminate_workflow", "update_workflow_variables"])
def test_workflow_actions_need_a_workflow_id(kind: str) -> None:
    body = handler({"action": kind, kind: {}})
    single(validate_event_handler(body), f"actions[0].{kind}.workflowId", "needs workflowId")
    body = handler({"action": kind, kind: {"workflowId": "${workflowId}"}})
    assert validate_event_handler(body) == []


def test_a_condition_must_be_a_string() -> None:
    body = handler(complete(taskId="t"), condition=True)
    single(validate_event_handler(body), "condition", "must be a string")
    body = handler(complete(taskId="t"), condition="$.status == 'ok'")
    assert validate_event_handler(body) == []


def test_conditions_are_javascript() -> None:
    body = handler(complete(taskId="t"), evaluatorType="value-param")
    single(validate_event_handler(body), "evaluatorType", "javascript")


# --- never raises ----------------------------------------------------------------------------

KNOWN_KEYS = [
    "name",
    "taskReferenceName",
    "type",
    "tasks",
    "forkTasks",
    "joinOn",
    "decisionCases",
    "defaultCase",
    "loopOver",
    "loopCondition",
    "evaluatorType",
    "expression",
    "caseValueParam",
    "inputParameters",
    "duration",
    "until",
    "terminationStatus",
    "sink",
    "taskDefinition",
    "timeoutSeconds",
    "responseTimeoutSeconds",
    "schemaVersion",
    "event",
    "actions",
    "action",
    "complete_task",
    "start_workflow",
    "workflowId",
    "taskId",
]
KNOWN_TEXT = [
    *SUPPORTED_TASK_TYPES,
    "sqs:q",
    "conductor",
    "kafka:x",
    "10s",
    "${x}",
    "complete_task",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(KNOWN_TEXT)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=10), children, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_validators_never_raise_and_return_field_errors(value: Any) -> None:
    before = copy.deepcopy(value)
    for validate in (validate_workflow_def, validate_task_def, validate_event_handler):
        errors = validate(value)
        assert isinstance(errors, list)
        assert all(isinstance(error, FieldError) for error in errors)
        assert all(isinstance(error.to_json(), dict) for error in errors)
    # NaN never equals itself, so compare the JSON text rather than the values.
    assert json.dumps(value, sort_keys=True, default=str) == json.dumps(
        before, sort_keys=True, default=str
    )
