"""NOOP: does nothing and completes at once, as Conductor's Noop task."""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck


class Noop(TaskType):
    name = "NOOP"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """Nothing beyond the checks every task gets: NOOP reads no input."""

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def execute(self, run: Run, task: Task) -> bool:
        run.complete(task)
        return True
