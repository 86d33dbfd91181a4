"""SWITCH (and the older DECISION): picks one list of tasks by a value or a JavaScript result."""

from __future__ import annotations

from typing import Any

from baton.engine import js
from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType


def _case_key(value: Any) -> str:
    return js.result_as_case(value)


class Switch(TaskType):
    name = "SWITCH"

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def evaluate(self, definition: WorkflowTask, inputs: dict[str, Any]) -> str:
        evaluator = (definition.evaluator_type or "value-param").lower()
        expression = definition.expression or ""
        if evaluator == "value-param":
            return _case_key(inputs.get(expression))
        return _case_key(js.evaluate(expression, inputs))

    def output_for(self, case: str) -> dict[str, Any]:
        return {"evaluationResult": [case], "selectedCase": case}

    def execute(self, run: Run, task: Task) -> bool:
        try:
            case = self.evaluate(task.workflow_task, task.input_data)
        except js.ScriptError as error:
            run.complete(task, TaskStatus.FAILED, f"Error evaluating expression: {error}")
            return True
        edited = run.edit(task)
        edited.output_data = self.output_for(case)
        edited.input_data = {**edited.input_data, "case": case}
        run.complete(edited)
        return True

    def selected_case(self, task: Task) -> str:
        results = task.output_data.get("evaluationResult") or task.output_data.get("caseOutput")
        return str(results[0]) if isinstance(results, list) and results else ""

    def next_after_success(self, run: Run, task: Task) -> WorkflowTask | None:
        definition = task.workflow_task
        case = self.selected_case(task)
        tasks = definition.decision_cases.get(case)
        if tasks is None:
            tasks = definition.default_case
        if tasks:
            return tasks[0]
        return run.index.next_after(task.reference_task_name)


class Decision(Switch):
    """DECISION: SWITCH's predecessor, with `caseValueParam` or `caseExpression`."""

    name = "DECISION"

    def evaluate(self, definition: WorkflowTask, inputs: dict[str, Any]) -> str:
        if definition.case_value_param:
            return _case_key(inputs.get(definition.case_value_param))
        return _case_key(js.evaluate(definition.case_expression or "", inputs))

    def output_for(self, case: str) -> dict[str, Any]:
        return {"caseOutput": [case]}
