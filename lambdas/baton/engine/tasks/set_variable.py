"""SET_VARIABLE: merges its input into the workflow's variables."""

from __future__ import annotations

import json

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck

# Conductor's limit on the variables of one workflow.
MAX_VARIABLES_KILOBYTES = 256
MAX_VARIABLES_BYTES = MAX_VARIABLES_KILOBYTES * 1024


class SetVariable(TaskType):
    name = "SET_VARIABLE"

    def validate(self, check: TaskCheck) -> None:
        """Nothing beyond the checks every task gets: every input is a variable."""

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def execute(self, run: Run, task: Task) -> bool:
        merged = {**run.workflow.variables, **task.input_data}
        # Measured as Conductor's JSON writer emits it: compact UTF-8, non-ASCII unescaped.
        text = json.dumps(merged, separators=(",", ":"), ensure_ascii=False)
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_VARIABLES_BYTES:
            run.complete(
                task,
                TaskStatus.FAILED_WITH_TERMINAL_ERROR,
                f"The variables payload size: {size} of workflow: {run.workflow.workflow_id} is "
                f"greater than the permissible limit: {MAX_VARIABLES_KILOBYTES} kilobytes",
            )
            return True
        run.workflow.variables = merged
        run.touch_workflow()
        run.complete(task)
        return True
