"""LAMBDA (deprecated in Conductor for INLINE): runs `scriptExpression` as a function body.

As Conductor's Lambda task: the script is wrapped as ``function scriptFun(){...} scriptFun();``,
`$` is bound to the task's resolved input, and the function's return value is the output's
`result`. Every failure, a blank `scriptExpression` included, ends the task FAILED, retried
per its TaskDef. Same limits and budget as INLINE.
"""

from __future__ import annotations

from baton.engine import js
from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck
from baton.engine.tasks.inline import finish_with_result, script_error_message


class Lambda(TaskType):
    name = "LAMBDA"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """Nothing checked at registration: its script is resolved when the task runs."""

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def execute(self, run: Run, task: Task) -> bool:
        body = task.input_data.get("scriptExpression")
        if not isinstance(body, str) or not body.strip():
            run.complete(
                task,
                TaskStatus.FAILED,
                "Empty 'scriptExpression' in Lambda task's input parameters. A non-empty String "
                "value must be provided.",
            )
            return True
        try:
            value = run.evaluate(f"function scriptFun(){{{body}}} scriptFun();", task.input_data)
        except js.ScriptError as error:
            message = script_error_message(error)
            edited = run.complete(task, TaskStatus.FAILED, message)
            edited.output_data = {**task.output_data, "error": message}
            return True
        return finish_with_result(run, task, value)
