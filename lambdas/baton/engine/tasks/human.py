"""HUMAN: IN_PROGRESS from the moment it is scheduled until it is updated from outside.

Workers never poll it; it ends only through the task update API (or an event handler's
`complete_task`/`fail_task`), as Conductor's Human task. As in Conductor, the TaskDef
registered under its name applies: `timeoutSeconds` from its start, with `timeoutPolicy`
(RETRY, TIME_OUT_WF, ALERT_ONLY), and `responseTimeoutSeconds` since its last update (an
IN_PROGRESS update restarts it), unless the task is `asyncComplete`; a timed-out task is
retried per the TaskDef.
"""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck
from baton.engine.tasks.simple import (
    check_response_timeout,
    check_total_timeout,
    earliest,
    response_deadline,
    total_deadline,
)


class Human(TaskType):
    name = "HUMAN"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """Nothing beyond the checks every task gets: its input is what the person sees."""

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(definition, iteration=iteration, status=TaskStatus.IN_PROGRESS)
        task.start_time = run.now
        return [task]

    def deadline(self, task: Task) -> int | None:
        if task.status == TaskStatus.SCHEDULED:
            return task.pollable_from()  # a retry, started after its delay
        if task.status != TaskStatus.IN_PROGRESS:
            return None
        if task.workflow_task.async_complete:
            return total_deadline(task)
        return earliest(total_deadline(task), response_deadline(task))

    def execute(self, run: Run, task: Task) -> bool:
        if task.status == TaskStatus.SCHEDULED:
            if run.now < task.pollable_from():
                return False
            started = run.edit(task)
            started.status = TaskStatus.IN_PROGRESS
            started.start_time = run.now
            started.update_time = run.now
            return True
        if task.status != TaskStatus.IN_PROGRESS:
            return False
        if check_total_timeout(run, task):
            return True
        return not task.workflow_task.async_complete and check_response_timeout(run, task)
