"""What every task type provides: Conductor's mapper (`schedule`) and system task (`execute`)."""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task


class TaskType:
    """One task type. Subclasses override what differs from a worker task."""

    name: str = ""

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        """Create the instances that start `definition` (Conductor's TaskMapper)."""
        raise NotImplementedError

    def execute(self, run: Run, task: Task) -> bool:
        """Move a non-terminal instance forward if it can; True when something changed."""
        return False

    def deadline(self, task: Task) -> int | None:
        """When (epoch ms) a decision must look at this open task again, if ever."""
        return None

    def next_after_success(self, run: Run, task: Task) -> WorkflowTask | None:
        """What to schedule once `task` has succeeded."""
        return run.index.next_after(task.reference_task_name)
