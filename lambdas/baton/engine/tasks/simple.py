"""SIMPLE: a task for a worker, which polls for it and reports its result."""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType


class Simple(TaskType):
    name = "SIMPLE"

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        # A worker task's instance type is its name, as in Conductor.
        task = run.new_task(
            definition, iteration=iteration, status=TaskStatus.SCHEDULED, task_type=definition.name
        )
        return [task]
