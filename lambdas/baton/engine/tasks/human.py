"""HUMAN: IN_PROGRESS from the moment it is scheduled until it is updated from outside.

Workers never poll it; it ends only through the task update API (or an event handler's
`complete_task`/`fail_task`), as Conductor's Human task.
"""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck


class Human(TaskType):
    name = "HUMAN"

    def validate(self, check: TaskCheck) -> None:
        """Nothing beyond the checks every task gets: its input is what the person sees."""

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(definition, iteration=iteration, status=TaskStatus.IN_PROGRESS)
        task.start_time = run.now
        return [task]
