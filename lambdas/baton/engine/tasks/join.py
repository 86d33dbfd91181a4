"""JOIN: completes once every task it joins on has ended; its output is theirs, by reference."""

from __future__ import annotations

from baton.engine.definitions import JsonObject, WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, loop_reference
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck


class Join(TaskType):
    name = "JOIN"
    dynamic_may_name = False
    retriable = False

    def validate(self, check: TaskCheck) -> None:
        join_on = check.task.get("joinOn")
        if join_on is None:
            return
        if not isinstance(join_on, list):
            check.error("joinOn must be a list of taskReferenceNames", join_on, "joinOn")
            return
        for index, reference in enumerate(join_on):
            if not isinstance(reference, str):
                check.error("joinOn entries must be taskReferenceNames", reference, "joinOn", index)
            elif reference not in check.references:
                check.error(
                    f"joinOn: {reference} is not the taskReferenceName of any task in "
                    f"workflowDefinition: {check.workflow_name}",
                    reference,
                    "joinOn",
                    index,
                )

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return self.schedule_on(run, definition, iteration, list(definition.join_on))

    def schedule_on(
        self, run: Run, definition: WorkflowTask, iteration: int, join_on: list[str]
    ) -> list[Task]:
        """A JOIN waiting on `join_on` (a dynamic fork's branches, not its definition's)."""
        task = run.new_task(
            definition,
            iteration=iteration,
            status=TaskStatus.IN_PROGRESS,
            extra_input={"joinOn": join_on},
        )
        task.task_def_name = self.name
        task.start_time = run.now
        return [task]

    def execute(self, run: Run, task: Task) -> bool:
        output: JsonObject = {}
        failures: list[Task] = []
        # Optional tasks that failed for good, as Conductor names them: `<taskDefName>/<taskId>`.
        optional_failures: list[str] = []
        for reference in joined_references(task):
            joined_ref = loop_reference(reference, task.iteration) if task.iteration else reference
            joined = run.task_for_ref(joined_ref)
            if joined is None or not joined.status.is_terminal:
                return False
            if not joined.executed:
                return False  # a retry may still be scheduled for it
            if joined.output_data:  # Conductor leaves out a task with no output
                output[reference] = joined.output_data
            optional = joined.workflow_task.optional
            if optional and joined.status == TaskStatus.COMPLETED_WITH_ERRORS:
                optional_failures.append(f"{joined.task_def_name}/{joined.task_id}")
            if not joined.status.is_successful and not optional:
                failures.append(joined)
        edited = run.edit(task)
        edited.output_data = output
        if failures:
            all_canceled = all(t.status == TaskStatus.CANCELED for t in failures)
            reasons = " ".join(t.reason_for_incompletion or "" for t in failures).strip()
            run.complete(
                edited, TaskStatus.CANCELED if all_canceled else TaskStatus.FAILED, reasons
            )
        elif optional_failures:
            run.complete(
                edited,
                TaskStatus.COMPLETED_WITH_ERRORS,
                " ".join([*optional_failures, "completed with errors"]),
            )
        else:
            run.complete(edited)
        return True


def joined_references(task: Task) -> list[str]:
    """What a JOIN instance waits on: its input's `joinOn` (as Conductor's Join reads it)."""
    join_on = task.input_data.get("joinOn")
    if isinstance(join_on, list):
        return [str(reference) for reference in join_on]
    return list(task.workflow_task.join_on)
