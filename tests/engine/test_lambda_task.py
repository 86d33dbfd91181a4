"""LAMBDA (deprecated): `scriptExpression` as a function body, its return value as `result`.

The scenario tests port Conductor's LambdaAndTerminateTaskSpec on its workflow fixtures.
"""

from __future__ import annotations

from typing import Any

from baton.engine.state import TaskStatus, WorkflowStatus
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    by_ref,
    fixture,
    shape,
    simple,
    start,
    task,
    workflow_def,
)


def lambda_task(ref: str, script: Any, **fields: Any) -> dict[str, Any]:
    inputs = {"input": "${workflow.input}", "scriptExpression": script}
    return task("LAMBDA", ref, inputParameters=inputs, **fields)


def test_conductors_lambda_workflow_completes_with_the_scripts_return_value():
    definition = fixture("simple_lambda_workflow_integration_test.json")
    assert validate_workflow_def(definition) == []
    wf = start(definition, {"a": 1}).workflow
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [("LAMBDA", COMPLETED)]
    assert by_ref(wf, "lambda0").output_data == {"result": {"testvalue": True}}
    assert start(definition, {"a": 2}).workflow.output == {"result": {"testvalue": False}}


def test_a_terminate_after_a_lambda_ends_the_workflow_with_its_output():
    wf = start(
        fixture("terminate_task_completed_workflow_integration_test.json"), {"a": 1}
    ).workflow
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [("LAMBDA", COMPLETED), ("TERMINATE", COMPLETED)]
    assert [t.seq for t in wf.tasks] == [1, 2]
    assert "Workflow is COMPLETED by TERMINATE task" in (wf.reason_for_incompletion or "")
    assert wf.output == {"result": {"testvalue": True}}


def test_a_script_error_fails_the_task_and_it_is_retried_per_its_task_def():
    definition = lambda_task("boom", "throw new Error('no');", retryCount=1)
    wf = start(workflow_def(definition, simple("after"))).workflow
    attempts = [t for t in wf.tasks if t.reference_task_name == "boom"]
    message = "Error evaluating the script `Error: no` at line 1"
    assert [(t.status, t.retry_count) for t in attempts] == [
        (TaskStatus.FAILED, 0),
        (TaskStatus.FAILED, 1),
    ]
    assert attempts[-1].reason_for_incompletion == message
    assert attempts[-1].output_data["error"] == message
    assert wf.status == WorkflowStatus.FAILED


def test_a_blank_script_fails_the_task():
    wf = start(workflow_def(lambda_task("blank", "  "))).workflow
    failed = by_ref(wf, "blank")
    assert failed.status == TaskStatus.FAILED
    assert failed.reason_for_incompletion == (
        "Empty 'scriptExpression' in Lambda task's input parameters. A non-empty String value "
        "must be provided."
    )


def test_a_script_without_return_gives_a_null_result():
    wf = start(workflow_def(lambda_task("quiet", "var x = $.input.a;")), {"a": 1}).workflow
    assert by_ref(wf, "quiet").output_data == {"result": None}
    assert wf.status == WorkflowStatus.COMPLETED
