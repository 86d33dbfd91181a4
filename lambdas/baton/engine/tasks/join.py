"""JOIN: completes once every task it joins on has ended; its output is theirs, by reference."""

from __future__ import annotations

from baton.engine.definitions import JsonObject, WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, loop_reference
from baton.engine.tasks.base import TaskType


class Join(TaskType):
    name = "JOIN"

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(
            definition,
            iteration=iteration,
            status=TaskStatus.IN_PROGRESS,
            extra_input={"joinOn": list(definition.join_on)},
        )
        task.start_time = run.now
        return [task]

    def execute(self, run: Run, task: Task) -> bool:
        output: JsonObject = {}
        failures: list[Task] = []
        with_errors = False
        for reference in task.workflow_task.join_on:
            joined_ref = loop_reference(reference, task.iteration) if task.iteration else reference
            joined = run.task_for_ref(joined_ref)
            if joined is None or not joined.status.is_terminal:
                return False
            if not joined.executed:
                return False  # a retry may still be scheduled for it
            output[reference] = joined.output_data
            with_errors = with_errors or joined.status == TaskStatus.COMPLETED_WITH_ERRORS
            if not joined.status.is_successful and not joined.workflow_task.optional:
                failures.append(joined)
        edited = run.edit(task)
        edited.output_data = output
        if failures:
            all_canceled = all(t.status == TaskStatus.CANCELED for t in failures)
            reasons = " ".join(t.reason_for_incompletion or "" for t in failures).strip()
            run.complete(
                edited, TaskStatus.CANCELED if all_canceled else TaskStatus.FAILED, reasons
            )
        else:
            run.complete(
                edited,
                TaskStatus.COMPLETED_WITH_ERRORS if with_errors else TaskStatus.COMPLETED,
            )
        return True
