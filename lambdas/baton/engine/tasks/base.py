"""What every task type provides, in one place: its whole contract with the engine.

Conductor's mapper (`schedule`), its system task (`execute`), when it is due (`deadline`),
whether it retries, whether workers poll it, and the rules a definition using it must follow
(`validate`).

Adding a type is one module with a subclass and one line in the registry
(`engine/tasks/__init__.py`); the validator, decider and store ask the type, never a list of
names of their own.
"""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task
from baton.engine.tasks.checking import TaskCheck


class TaskType:
    """One task type. Subclasses override what differs from a worker task."""

    name: str = ""
    # Retried as its TaskDef or `retryCount` says (Conductor never retries DECISION, SWITCH,
    # FORK, JOIN, EXCLUSIVE_JOIN, DO_WHILE; Baton adds TERMINATE).
    retriable: bool = True
    # The registered TaskDef of the task's name is snapshotted into the definition at start,
    # so its retries and timeouts apply; the other types read only an inline `taskDefinition`.
    uses_registered_task_def: bool = False
    # Its SCHEDULED instances sit in the poll index for workers (and only those).
    polled_by_workers: bool = False
    # A DYNAMIC task may name it, and then runs as it (Conductor's DynamicTaskMapper makes the
    # named type the instance's type); not the types that run other tasks of the definition.
    dynamic_may_name: bool = True

    def validate(self, check: TaskCheck) -> None:
        """Report what is wrong with one task of this type in a definition being registered.

        Every type states its rules here, even when it has none beyond the checks every task
        gets (name, reference, inputParameters...): a test holds each registered type to it.
        """
        raise NotImplementedError(f"{self.name} states no validation rules")

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        """Create the instances that start `definition` (Conductor's TaskMapper)."""
        raise NotImplementedError

    def execute(self, run: Run, task: Task) -> bool:
        """Move a non-terminal instance forward if it can; True when something changed."""
        return False

    def deadline(self, task: Task) -> int | None:
        """When (epoch ms) a decision must look at this open task again, if ever."""
        return None

    def deadline_is_repair(self, task: Task) -> bool:
        """Whether `deadline` only repairs what a crash or a lost message left, so that the
        minute sweep finds it in the due index instead of a timer message that would fire,
        almost always for nothing, for every instance."""
        return False

    def next_after_success(self, run: Run, task: Task) -> WorkflowTask | None:
        """What to schedule once `task` has succeeded."""
        return run.index.next_after(task.reference_task_name)
