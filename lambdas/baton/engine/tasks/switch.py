"""SWITCH (and the older DECISION): picks one list of tasks by a value or a JavaScript result.

As Conductor's mappers do, the SWITCH is evaluated when it is scheduled and the first task of
the selected case is scheduled with it, right after it in the workflow's task list.
"""

from __future__ import annotations

from typing import Any

from baton.engine import js
from baton.engine.definitions import WorkflowTask
from baton.engine.params import java_text
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck, is_blank

# graaljs is Conductor's newer name for the same JavaScript evaluator.
SWITCH_EVALUATORS = ("value-param", "javascript", "graaljs")


def check_cases(check: TaskCheck) -> None:
    """At least one decision case, each a list of tasks, and a defaultCase that is one."""
    cases = check.task.get("decisionCases")
    if cases is None or cases == {}:
        check.error(
            f"decisionCases should have atleast one task for taskType: {check.kind} "
            f"taskName: {check.name}",
            cases,
            "decisionCases",
        )
    elif not isinstance(cases, dict):
        check.error(
            "decisionCases must be an object mapping each case to a list of tasks",
            cases,
            "decisionCases",
        )
    else:
        for case, tasks in cases.items():
            if not isinstance(tasks, list):
                check.error(
                    "a decision case must be a list of tasks", tasks, "decisionCases", str(case)
                )
    default = check.task.get("defaultCase")
    if default is not None and not isinstance(default, list):
        check.error("defaultCase must be a list of tasks", default, "defaultCase")


class Switch(TaskType):
    name = "SWITCH"
    dynamic_may_name = False
    retriable = False

    def validate(self, check: TaskCheck) -> None:
        """An evaluator Baton runs, an `expression`, and cases that are lists of tasks."""
        evaluator = check.task.get("evaluatorType")
        if is_blank(evaluator):
            check.missing("evaluatorType", evaluator, "evaluatorType")
        elif not isinstance(evaluator, str):
            check.error("evaluatorType must be a string", evaluator, "evaluatorType")
        elif evaluator.lower() not in SWITCH_EVALUATORS:
            check.error(
                f"evaluatorType {evaluator} is not supported by Baton; use value-param or "
                "javascript (graaljs is accepted as javascript)",
                evaluator,
                "evaluatorType",
            )
        check.required_text("expression")
        check_cases(check)

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        from baton.engine.tasks import schedule as schedule_definition

        task = run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)
        task.task_def_name = self.name
        task.start_time = run.now
        try:
            case = self.evaluate(run, definition, task.input_data)
        except js.ScriptError as error:
            task.status = TaskStatus.FAILED
            task.reason_for_incompletion = f"Error evaluating expression: {error}"
            task.end_time = run.now
            return [task]
        task.output_data = self.output_for(case)
        task.input_data["case"] = case
        selected = self.case_tasks(definition, case)
        if selected:
            task.input_data["hasChildren"] = "true"
        run.add(task)
        created = [task]
        if selected:
            created.extend(schedule_definition(run, selected[0], iteration))
        return created

    def evaluate(self, run: Run, definition: WorkflowTask, inputs: dict[str, Any]) -> str:
        evaluator = (definition.evaluator_type or "value-param").lower()
        expression = definition.expression or ""
        if evaluator == "value-param":
            return java_text(inputs.get(expression))
        return js.result_as_case(run.evaluate(expression, inputs))

    def output_for(self, case: str) -> dict[str, Any]:
        return {"evaluationResult": [case], "selectedCase": case}

    def case_tasks(self, definition: WorkflowTask, case: str) -> list[WorkflowTask]:
        """The tasks of the case named `case`; the default case only when no case has that name.

        An empty case list is kept: the SWITCH then goes straight on to what follows it.
        """
        tasks = definition.decision_cases.get(case)
        return definition.default_case if tasks is None else tasks

    def execute(self, run: Run, task: Task) -> bool:
        run.complete(task)
        return True

    def selected_case(self, task: Task) -> str:
        results = task.output_data.get("evaluationResult") or task.output_data.get("caseOutput")
        return str(results[0]) if isinstance(results, list) and results else ""

    def next_after_success(self, run: Run, task: Task) -> WorkflowTask | None:
        tasks = self.case_tasks(task.workflow_task, self.selected_case(task))
        if tasks:
            return tasks[0]
        return run.index.next_after(task.reference_task_name)


class Decision(Switch):
    """DECISION: SWITCH's predecessor, with `caseExpression` (JavaScript) or `caseValueParam`."""

    name = "DECISION"

    def validate(self, check: TaskCheck) -> None:
        """`caseValueParam` or `caseExpression`, and cases that are lists of tasks."""
        value_param = check.task.get("caseValueParam")
        expression = check.task.get("caseExpression")
        if is_blank(value_param) and is_blank(expression):
            check.missing("caseValueParam or caseExpression", value_param, "caseValueParam")
        check.fields.optional_text(check.task, check.path, "caseValueParam")
        check.fields.optional_text(check.task, check.path, "caseExpression")
        check_cases(check)

    def evaluate(self, run: Run, definition: WorkflowTask, inputs: dict[str, Any]) -> str:
        if (definition.case_expression or "").strip():
            return js.result_as_case(run.evaluate(definition.case_expression or "", inputs))
        return java_text(inputs.get(definition.case_value_param or ""))

    def output_for(self, case: str) -> dict[str, Any]:
        return {"caseOutput": [case]}

    def case_tasks(self, definition: WorkflowTask, case: str) -> list[WorkflowTask]:
        """Unlike SWITCH, DECISION falls back to its default case for an empty case too."""
        return definition.decision_cases.get(case) or definition.default_case
