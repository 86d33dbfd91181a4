"""WAIT: waits for `duration`, until `until`, or (with neither) for an update from outside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from baton.engine.definitions import WorkflowTask
from baton.engine.durations import parse_duration, parse_until
from baton.engine.effects import ArmTimer
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck, is_expression

BOTH_GIVEN = "Both 'duration' and 'until' specified. Please provide only one input"
WAIT_DURATION_HINT = "Give days, hours, minutes and seconds in that order, e.g. '10s', '1m 30s'"
WAIT_UNTIL_HINT = "Use 'yyyy-MM-dd HH:mm', 'yyyy-MM-dd HH:mm z' or 'yyyy-MM-dd'"


def _wait_value_problem(key: str, value: Any, parse: Callable[[str], int]) -> str | None:
    if not isinstance(value, str):
        return f"{key} must be a string"
    if is_expression(value):
        return None
    try:
        parse(value)
    except (ValueError, OverflowError) as error:
        hint = WAIT_DURATION_HINT if key == "duration" else WAIT_UNTIL_HINT
        return f"{error}. {hint}"
    return None


class Wait(TaskType):
    name = "WAIT"

    def validate(self, check: TaskCheck) -> None:
        """`duration` or `until`, not both; literal values must parse (an expression is only
        known when the task runs). Present means not null, as the WAIT task reads its input:
        Conductor would let a blank value through here, but Baton's WAIT refuses it when it
        runs, so it is caught now."""
        duration = check.inputs.get("duration")
        until = check.inputs.get("until")
        if duration is not None and until is not None:
            check.error(BOTH_GIVEN, {"duration": duration, "until": until}, "inputParameters")
        for key, value, parse in (
            ("duration", duration, parse_duration),
            ("until", until, parse_until),
        ):
            if value is None:
                continue
            problem = _wait_value_problem(key, value, parse)
            if problem is not None:
                check.error(problem, value, "inputParameters", key)

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
