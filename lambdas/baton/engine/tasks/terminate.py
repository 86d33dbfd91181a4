"""TERMINATE: ends the workflow with the status and output it names."""

from __future__ import annotations

from baton.engine.definitions import JsonObject, WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, WorkflowStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck, boolean_value

TERMINATION_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")


class Terminate(TaskType):
    name = "TERMINATE"
    retriable = False

    def validate(self, check: TaskCheck) -> None:
        """A literal terminationStatus, and never optional."""
        status = check.inputs.get("terminationStatus")
        if status not in TERMINATION_STATUSES:
            check.error(
                "terminate task must have a terminationStatus parameter set to COMPLETED, FAILED "
                f"or TERMINATED, taskName: {check.name}",
                status,
                "inputParameters",
                "terminationStatus",
            )
        if boolean_value(check.task.get("optional")):
            check.error(
                f"terminate task cannot be optional, taskName: {check.name}", True, "optional"
            )

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def execute(self, run: Run, task: Task) -> bool:
        status = str(task.input_data.get("terminationStatus", "")).upper()
        if status not in TERMINATION_STATUSES:
            run.complete(task, TaskStatus.FAILED, "given termination status is not valid")
            return True
        output = task.input_data.get("workflowOutput")
        if output is None:
            task_output: JsonObject = {}
        elif isinstance(output, dict):
            task_output = dict(output)
        else:
            task_output = {"output": output}
        edited = run.complete(task)
        edited.output_data = task_output
        edited.executed = True
        reason = task.input_data.get("terminationReason") or (
            f"Workflow is {status} by TERMINATE task: {task.task_id}"
        )
        if status != "COMPLETED":
            run.workflow.failed_task_id = task.task_id  # Conductor's failedTaskId
        run.end_workflow(WorkflowStatus(status), reason=str(reason), output=task_output)
        return True
