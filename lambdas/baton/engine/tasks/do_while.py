"""DO_WHILE: runs its body (`ref__1`, `ref__2`, ...) until `loopCondition` turns false.

With `items` (an expression giving a list) it runs the body once per item, the current one
exposed as `${<loop ref>.output.loopItem}` and its index as `loopIndex`, and a condition, if
given, may end it sooner. `keepLastN` (an input) keeps only the latest iterations: older ones
leave the loop's output and their task instances are removed from the workflow.
"""

from __future__ import annotations

import json
from typing import Any

from baton.engine import js
from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, base_reference, loop_reference
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import EXPRESSION_START, TaskCheck
from baton.engine.tasks.inline import MAX_OUTPUT_BYTES


class DoWhile(TaskType):
    name = "DO_WHILE"
    dynamic_may_name = False
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
        items = self._items(run, definition, task.task_id)
        if items is not None and not items:
            # Nothing to iterate over: done without running the body, as Conductor does.
            task.status = TaskStatus.COMPLETED
            task.end_time = run.now
            task.output_data = {"iteration": 0}
            run.add(task)
            return [task]
        task.iteration = 1
        task.output_data = {"iteration": 1, **_loop_variables(items, 1)}
        run.add(task)
        created = [task]
        if definition.loop_over:
            created.extend(schedule_definition(run, definition.loop_over[0], 1))
        return created

    def _items(self, run: Run, definition: WorkflowTask, task_id: str) -> list[Any] | None:
        """The list a list iteration goes over (`items`, or Orkes' `_items` input), else None."""
        if definition.items is not None and definition.items.strip():
            value = run.resolve({"items": definition.items}, task_id=task_id).get("items")
        elif definition.input_parameters.get("_items") not in (None, ""):
            value = run.resolve(definition.input_parameters, task_id=task_id).get("_items")
        else:
            return None
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

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
        keep_last = inputs.get("keepLastN")
        if isinstance(keep_last, int) and not isinstance(keep_last, bool) and keep_last > 0:
            self._forget_iterations(run, edited, task.iteration - keep_last)
        size = len(json.dumps(edited.output_data, separators=(",", ":")).encode())
        if size > MAX_OUTPUT_BYTES:
            # Said now, not left to the store to refuse at the commit.
            run.complete(
                edited,
                TaskStatus.FAILED_WITH_TERMINAL_ERROR,
                f"The loop's output is {size} bytes after iteration {task.iteration}, more "
                f"than the {MAX_OUTPUT_BYTES} bytes Baton keeps of a task's output; set "
                "keepLastN to keep only the latest iterations",
            )
            return True
        items = self._items(run, definition, task.task_id)
        # The condition sees its inputs, the loop's own output and this iteration's outputs;
        # js.evaluate passes only the members it names, so a long loop's output stays out.
        bindings: dict[str, Any] = {
            **inputs,
            task.reference_task_name: edited.output_data,
            **_loop_variables(items, task.iteration),
        }
        bindings.update(outputs)
        condition = definition.loop_condition or ""
        try:
            if items is not None:
                # Both the condition (when given) and another item left, as Conductor has it.
                wanted = not condition.strip() or js.is_truthy(run.evaluate(condition, bindings))
                again = wanted and task.iteration < len(items)
            else:
                again = js.is_truthy(run.evaluate(condition or "false", bindings))
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
        edited.output_data.update(_loop_variables(items, edited.iteration))
        schedule_definition(run, definition.loop_over[0], edited.iteration)
        return True

    def _forget_iterations(self, run: Run, loop: Task, last: int) -> None:
        """keepLastN: iterations up to `last` leave the loop's output and the workflow (their
        task instances are deleted), as Conductor's DoWhile.removeIterations does."""
        if last < 1:
            return
        for number in range(1, last + 1):
            loop.output_data.pop(str(number), None)
        body = {t.task_reference_name for t in loop.workflow_task.walk()[1:]}
        old_tasks = [
            t for t in run.workflow.tasks if 0 < t.iteration <= last and t.task_id != loop.task_id
        ]
        # A dynamic fork's branches are not in the definition: its FORK instance names them.
        for fork in old_tasks:
            forked = fork.input_data.get("forkedTasks") if fork.task_type == "FORK" else None
            if base_reference(fork.reference_task_name) in body and isinstance(forked, list):
                body.update(str(reference) for reference in forked)
        for old in old_tasks:
            if base_reference(old.reference_task_name) in body:
                run.remove(old)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _loop_variables(items: list[Any] | None, iteration: int) -> dict[str, Any]:
    """A list iteration's `loopIndex` (from 0) and `loopItem`, read by the body as
    `${loop_ref.output.loopItem}`; nothing for a loop that is not over a list."""
    if items is None:
        return {}
    index = iteration - 1
    variables: dict[str, Any] = {"loopIndex": index}
    if 0 <= index < len(items):
        variables["loopItem"] = items[index]
    return variables
