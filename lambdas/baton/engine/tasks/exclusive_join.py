"""EXCLUSIVE_JOIN: after a SWITCH, takes the output of whichever joined task ran.

As Conductor's ExclusiveJoin: the first task of `joinOn` that was scheduled (and not skipped)
decides; once it has ended the join completes with its output, or fails if it did not
succeed. If none of them was scheduled, the first scheduled task of
`defaultExclusiveJoinTask` decides instead. In a loop the references carry the iteration.
"""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, loop_reference
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck

DEFAULT_TASKS = "defaultExclusiveJoinTask"


class ExclusiveJoin(TaskType):
    name = "EXCLUSIVE_JOIN"
    dynamic_may_name = False
    retriable = False

    def validate(self, check: TaskCheck) -> None:
        for key in ("joinOn", DEFAULT_TASKS):
            listed = check.task.get(key)
            if listed is None:
                continue
            if not isinstance(listed, list):
                check.error(f"{key} must be a list of taskReferenceNames", listed, key)
                continue
            for index, reference in enumerate(listed):
                if not isinstance(reference, str) or reference not in check.references:
                    check.error(
                        f"{key}: {reference} is not the taskReferenceName of any task in "
                        f"workflowDefinition: {check.workflow_name}",
                        reference,
                        key,
                        index,
                    )
        if not check.task.get("joinOn"):
            check.missing("joinOn", check.task.get("joinOn"), "joinOn")

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(
            definition,
            iteration=iteration,
            status=TaskStatus.IN_PROGRESS,
            extra_input={
                "joinOn": list(definition.join_on),
                DEFAULT_TASKS: list(definition.default_exclusive_join_task),
            },
        )
        task.task_def_name = self.name
        task.start_time = run.now
        return [task]

    def _first_scheduled(self, run: Run, task: Task, references: list[str]) -> Task | None:
        for reference in references:
            joined = run.task_for_ref(
                loop_reference(reference, task.iteration) if task.iteration else reference
            )
            if joined is not None and joined.status != TaskStatus.SKIPPED:
                return joined
        return None

    def execute(self, run: Run, task: Task) -> bool:
        join_on = _references(task.input_data.get("joinOn"))
        joined = self._first_scheduled(run, task, join_on)
        if joined is None:
            defaults = _references(task.input_data.get(DEFAULT_TASKS))
            joined = self._first_scheduled(run, task, defaults)
        if joined is None or not joined.status.is_terminal or not joined.executed:
            return False
        if not joined.status.is_successful:
            run.complete(task, TaskStatus.FAILED, joined.reason_for_incompletion or "")
            return True
        edited = run.edit(task)
        edited.output_data = dict(joined.output_data)
        run.complete(edited)
        return True


def _references(value: object) -> list[str]:
    return [str(reference) for reference in value] if isinstance(value, list) else []
