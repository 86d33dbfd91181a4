"""DO_WHILE: runs its body (`ref__1`, `ref__2`, ...) until `loopCondition` turns false."""

from __future__ import annotations

from typing import Any

from baton.engine import js
from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, base_reference, loop_reference
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import EXPRESSION_START, TaskCheck


class DoWhile(TaskType):
    name = "DO_WHILE"
    retriable = False

    def validate(self, check: TaskCheck) -> None:
        items = check.task.get("items")
        if items is not None and not isinstance(items, str):
            check.error(
                "items must be a string: an expression naming the list to iterate over, such "
                "as ${workflow.input.list}",
                items,
                "items",
            )
        condition = check.task.get("loopCondition")
        if items is None:  # with `items`, the loop may end by its list alone
            check.required_text("loopCondition")
        elif condition is not None and not isinstance(condition, str):
            check.error("loopCondition must be a string", condition, "loopCondition")
        body = check.task.get("loopOver")
        if body is None or body == []:
            check.missing("loopOver", body, "loopOver")
        elif not isinstance(body, list):
            check.error("loopOver must be a list of tasks", body, "loopOver")
        keep = check.inputs.get("keepLastN")
        expression = isinstance(keep, str) and keep.startswith(EXPRESSION_START)
        if keep is not None and not expression and (not _is_count(keep) or keep < 1):
            check.error("keepLastN must be an integer >= 1", keep, "inputParameters", "keepLastN")

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        from baton.engine.tasks import schedule as schedule_definition

        task = run.new_task(definition, iteration=0, status=TaskStatus.IN_PROGRESS)
        task.start_time = run.now
        task.iteration = 1
        task.output_data = {"iteration": 1}
        run.add(task)
        created = [task]
        if definition.loop_over:
            created.extend(schedule_definition(run, definition.loop_over[0], 1))
        return created

    def _iteration_tasks(self, run: Run, task: Task) -> list[Task]:
        # Looked up by reference (`ref__3`), not by scanning every task: a long loop's
        # workflow holds thousands of them.
        found = (
            run.task_for_ref(loop_reference(body.task_reference_name, task.iteration))
            for body in task.workflow_task.walk()[1:]
        )
        return sorted((t for t in found if t is not None and not t.retried), key=lambda t: t.seq)

    def execute(self, run: Run, task: Task) -> bool:
        body = self._iteration_tasks(run, task)
        if any(not t.status.is_terminal or not t.executed for t in body):
            return False
        definition = task.workflow_task
        outputs = {base_reference(t.reference_task_name): t.output_data for t in body}
        edited = run.edit(task)
        edited.output_data = {
            **edited.output_data,
            "iteration": task.iteration,
            str(task.iteration): outputs,
        }
        inputs = run.resolve(definition.input_parameters, task_id=task.task_id)
        edited.input_data = inputs
        bindings: dict[str, Any] = {**inputs, task.reference_task_name: edited.output_data}
        bindings.update(outputs)
        try:
            again = js.is_truthy(run.evaluate(definition.loop_condition or "false", bindings))
        except js.ScriptError as error:
            run.complete(
                edited,
                TaskStatus.FAILED_WITH_TERMINAL_ERROR,
                f"Unable to evaluate condition {definition.loop_condition}, exception {error}",
            )
            return True
        if not again or not definition.loop_over:
            run.complete(edited)
            return True
        from baton.engine.tasks import schedule as schedule_definition

        edited.iteration = task.iteration + 1
        edited.output_data["iteration"] = edited.iteration
        schedule_definition(run, definition.loop_over[0], edited.iteration)
        return True


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
