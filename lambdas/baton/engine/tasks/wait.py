"""WAIT: waits for `duration`, until `until`, or (with neither) for an update from outside."""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.durations import parse_duration, parse_until
from baton.engine.effects import ArmTimer
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType

BOTH_GIVEN = "Both 'duration' and 'until' specified. Please provide only one input"


class Wait(TaskType):
    name = "WAIT"

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(definition, iteration=iteration, status=TaskStatus.IN_PROGRESS)
        task.start_time = run.now
        duration = task.input_data.get("duration")
        until = task.input_data.get("until")
        try:
            if duration is not None and until is not None:
                raise ValueError(BOTH_GIVEN)
            if duration is not None:
                seconds = parse_duration(str(duration))
                task.wait_timeout = run.now + seconds * 1000
                task.callback_after_seconds = seconds
            elif until is not None:
                task.wait_timeout = parse_until(str(until))
                task.callback_after_seconds = max(0, (task.wait_timeout - run.now) // 1000)
        except ValueError as error:
            task.status = TaskStatus.FAILED_WITH_TERMINAL_ERROR
            task.reason_for_incompletion = str(error)
            task.end_time = run.now
            return [task]
        if task.wait_timeout:
            run.effects.append(ArmTimer(task_id=task.task_id, due_at=task.wait_timeout))
        return [task]

    def deadline(self, task: Task) -> int | None:
        return task.wait_timeout or None

    def execute(self, run: Run, task: Task) -> bool:
        if task.wait_timeout and run.now >= task.wait_timeout:
            run.complete(task)
            return True
        return False
