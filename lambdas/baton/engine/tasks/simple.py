"""SIMPLE: a task for a worker, which polls for it and reports its result.

With a TaskDef, a task a worker holds times out as in Conductor: after
`responseTimeoutSeconds` without an update (the worker died: TIMED_OUT, then retried), and
after `timeoutSeconds` in all, as its `timeoutPolicy` says (RETRY: TIMED_OUT and retried;
TIME_OUT_WF: the workflow times out; ALERT_ONLY: nothing happens).
"""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, WorkflowStatus
from baton.engine.tasks.base import TaskType


class Simple(TaskType):
    name = "SIMPLE"

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        # A worker task's instance type is its name, as in Conductor.
        task = run.new_task(
            definition, iteration=iteration, status=TaskStatus.SCHEDULED, task_type=definition.name
        )
        task.domain = run.domain_for(task.task_type)
        return [task]

    def _response_deadline(self, task: Task) -> int | None:
        task_def = task.workflow_task.task_definition
        if task_def is None or task_def.response_timeout_seconds <= 0:
            return None
        return (task.update_time or task.start_time) + task_def.response_timeout_seconds * 1000

    def _total_deadline(self, task: Task) -> int | None:
        task_def = task.workflow_task.task_definition
        if task_def is None or task_def.timeout_seconds <= 0 or not task.start_time:
            return None
        if task_def.timeout_policy == "ALERT_ONLY":
            return None
        return task.start_time + task_def.timeout_seconds * 1000

    def deadline(self, task: Task) -> int | None:
        if task.status != TaskStatus.IN_PROGRESS:
            return None
        deadlines = [d for d in (self._response_deadline(task), self._total_deadline(task)) if d]
        return min(deadlines) if deadlines else None

    def execute(self, run: Run, task: Task) -> bool:
        task_def = task.workflow_task.task_definition
        if task_def is None or task.status != TaskStatus.IN_PROGRESS:
            return False
        total = self._total_deadline(task)
        if total is not None and run.now >= total:
            reason = (
                f"Task timed out after {task_def.timeout_seconds} seconds. Timeout configured "
                f"as {task_def.timeout_seconds} seconds. Timeout policy configured to "
                f"{task_def.timeout_policy}"
            )
            timed_out = run.complete(task, TaskStatus.TIMED_OUT, reason)
            if task_def.timeout_policy == "TIME_OUT_WF":
                timed_out.executed = True
                run.end_workflow(WorkflowStatus.TIMED_OUT, reason=reason)
            return True
        response = self._response_deadline(task)
        if response is not None and run.now >= response:
            run.complete(
                task,
                TaskStatus.TIMED_OUT,
                f"responseTimeout: {task_def.response_timeout_seconds} exceeded for the taskId: "
                f"{task.task_id} with Task Definition: {task_def.name}",
            )
            return True
        return False
