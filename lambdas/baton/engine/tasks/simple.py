"""SIMPLE: a task for a worker, which polls for it and reports its result.

A SCHEDULED task is not pollable before its WorkflowTask `startDelay`, and with a TaskDef's
`pollTimeoutSeconds` it times out if no worker takes it in time (then as its timeoutPolicy
says). With a TaskDef, a task a worker holds times out as in Conductor: after
`responseTimeoutSeconds` without an update (the worker died: TIMED_OUT, then retried), and
after `timeoutSeconds` in all, as its `timeoutPolicy` says (RETRY: TIMED_OUT and retried;
TIME_OUT_WF: the workflow times out; ALERT_ONLY: nothing happens).
"""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, WorkflowStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck


class Simple(TaskType):
    name = "SIMPLE"
    polled_by_workers = True
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """Nothing beyond the checks every task gets: a worker task is its name."""

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        # A worker task's instance type is its name, as in Conductor.
        task = run.new_task(
            definition, iteration=iteration, status=TaskStatus.SCHEDULED, task_type=definition.name
        )
        task.domain = run.domain_for(task.task_type)
        # WorkflowTask.startDelay: not pollable before it has passed.
        task.callback_after_seconds = max(0, definition.start_delay)
        return [task]

    def _poll_deadline(self, task: Task) -> int | None:
        """pollTimeoutSeconds: when a SCHEDULED task that no worker took times out."""
        task_def = task.workflow_task.task_definition
        if task_def is None or not task_def.poll_timeout_seconds:
            return None
        if task_def.poll_timeout_seconds <= 0 or task_def.timeout_policy == "ALERT_ONLY":
            return None
        return task.pollable_from() + task_def.poll_timeout_seconds * 1000

    def deadline(self, task: Task) -> int | None:
        if task.status == TaskStatus.SCHEDULED:
            return self._poll_deadline(task)
        if task.status != TaskStatus.IN_PROGRESS:
            return None
        return earliest(response_deadline(task), total_deadline(task))

    def execute(self, run: Run, task: Task) -> bool:
        task_def = task.workflow_task.task_definition
        if task_def is None:
            return False
        if task.status == TaskStatus.SCHEDULED:
            return self._time_out_poll(run, task)
        if task.status != TaskStatus.IN_PROGRESS:
            return False
        return check_total_timeout(run, task) or check_response_timeout(run, task)

    def _time_out_poll(self, run: Run, task: Task) -> bool:
        deadline = self._poll_deadline(task)
        task_def = task.workflow_task.task_definition
        if deadline is None or task_def is None or run.now < deadline:
            return False
        waited = (run.now - task.pollable_from()) // 1000
        reason = (
            f"Task poll timed out after {waited} seconds. Poll timeout configured as "
            f"{task_def.poll_timeout_seconds} seconds. Timeout policy configured to "
            f"{task_def.timeout_policy}"
        )
        return time_out(run, task, task_def.timeout_policy, reason)


def time_out(run: Run, task: Task, timeout_policy: str, reason: str) -> bool:
    """TIMED_OUT with `reason`; under TIME_OUT_WF the workflow times out with it (no retry)."""
    timed_out = run.complete(task, TaskStatus.TIMED_OUT, reason)
    if timeout_policy == "TIME_OUT_WF":
        timed_out.executed = True
        run.workflow.failed_task_id = task.task_id
        run.end_workflow(WorkflowStatus.TIMED_OUT, reason=reason)
    return True


# The TaskDef timeouts Conductor's DeciderService applies to every open task that has a TaskDef
# (checkTaskTimeout, isResponseTimedOut), shared by the types that can wait.


def earliest(*deadlines: int | None) -> int | None:
    found = [d for d in deadlines if d is not None]
    return min(found) if found else None


def total_deadline(task: Task) -> int | None:
    """`timeoutSeconds` from the task's start (none under ALERT_ONLY, which only alerts)."""
    task_def = task.workflow_task.task_definition
    if task_def is None or task_def.timeout_seconds <= 0 or not task.start_time:
        return None
    if task.status.is_terminal or task_def.timeout_policy == "ALERT_ONLY":
        return None
    return task.start_time + task_def.timeout_seconds * 1000


def response_deadline(task: Task) -> int | None:
    """`responseTimeoutSeconds` since the last update of an IN_PROGRESS task (Conductor never
    applies it to a system task that is completed from outside: asyncComplete, SUB_WORKFLOW)."""
    task_def = task.workflow_task.task_definition
    if task_def is None or task_def.response_timeout_seconds <= 0:
        return None
    if task.status != TaskStatus.IN_PROGRESS:
        return None
    return (task.update_time or task.start_time) + task_def.response_timeout_seconds * 1000


def check_total_timeout(run: Run, task: Task) -> bool:
    """Times `task` out as its TaskDef's timeoutPolicy says once `timeoutSeconds` have passed."""
    deadline = total_deadline(task)
    task_def = task.workflow_task.task_definition
    if deadline is None or task_def is None or run.now < deadline:
        return False
    reason = (
        f"Task timed out after {(run.now - task.start_time) // 1000} seconds. Timeout configured "
        f"as {task_def.timeout_seconds} seconds. Timeout policy configured to "
        f"{task_def.timeout_policy}"
    )
    return time_out(run, task, task_def.timeout_policy, reason)


def check_response_timeout(run: Run, task: Task) -> bool:
    """TIMED_OUT (then retried per the TaskDef) once nothing updated it for
    `responseTimeoutSeconds`."""
    deadline = response_deadline(task)
    task_def = task.workflow_task.task_definition
    if deadline is None or task_def is None or run.now < deadline:
        return False
    run.complete(
        task,
        TaskStatus.TIMED_OUT,
        f"responseTimeout: {task_def.response_timeout_seconds} exceeded for the taskId: "
        f"{task.task_id} with Task Definition: {task_def.name}",
    )
    return True
