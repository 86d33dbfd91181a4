"""START_WORKFLOW in the decider: a bad request fails the task, a good one is started after the
commit (the task waits IN_PROGRESS for that) under an id derived from the task id."""

from __future__ import annotations

from baton.engine.effects import StartWorkflow
from baton.engine.state import TaskStatus
from baton.engine.validation import validate_workflow_def
from tests.engine.support import by_ref, start, task, workflow_def


def starter(request: object) -> dict[str, object]:
    return task("START_WORKFLOW", "go", inputParameters={"startWorkflow": request})


def test_a_request_is_started_after_the_commit() -> None:
    decision = start(
        workflow_def(starter({"name": "other", "input": {"a": "${workflow.input.a}"}})), {"a": 1}
    )
    go = by_ref(decision.workflow, "go")
    assert go.status == TaskStatus.IN_PROGRESS
    assert go.input_data["startWorkflow"] == {"name": "other", "input": {"a": 1}}
    assert StartWorkflow(task_id=go.task_id) in decision.effects


def test_a_missing_or_nameless_request_fails_the_task() -> None:
    missing = start(
        workflow_def(task("START_WORKFLOW", "go", inputParameters={"s": "${workflow.input.r}"}))
    )
    assert by_ref(missing.workflow, "go").status == TaskStatus.FAILED
    assert by_ref(missing.workflow, "go").reason_for_incompletion == (
        "Missing 'startWorkflow' in input data."
    )
    nameless = start(workflow_def(starter("${workflow.input.r}")), {"r": {"input": {}}})
    assert by_ref(nameless.workflow, "go").status == TaskStatus.FAILED
    assert not any(isinstance(e, StartWorkflow) for e in nameless.effects)


def test_registration_checks_a_literal_request() -> None:
    def paths(request: object) -> list[str]:
        found = validate_workflow_def({"name": "p", "tasks": [starter(request)]})
        return [e.path for e in found]

    assert paths({"name": "x"}) == []
    assert paths("${workflow.input.r}") == []
    assert paths({"input": {}}) == ["tasks[0].inputParameters.startWorkflow.name"]
    assert paths({"name": "x", "input": 3}) == ["tasks[0].inputParameters.startWorkflow.input"]
