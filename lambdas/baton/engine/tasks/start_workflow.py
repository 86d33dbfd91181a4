"""START_WORKFLOW: starts another workflow (no parent link) and completes with its id.

`inputParameters.startWorkflow` is a StartWorkflowRequest (`name`, `version`, `input`,
`correlationId`, `taskToDomain`, `priority`, `idempotencyKey`, `idempotencyStrategy`). As
Conductor's StartWorkflow task, a missing or malformed request fails the task; the correlation
id and taskToDomain default to this workflow's. The decision makes the task IN_PROGRESS and
records a StartWorkflow effect; the service starts the workflow under an id derived from the
task id (one start per attempt, whatever is repeated), then completes the task with
`{"workflowId": ...}`, or fails it with the reason the start was refused.
"""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.effects import StartWorkflow as StartWorkflowEffect
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck, is_expression

REQUEST_PARAMETER = "startWorkflow"


def request_problem(task: Task) -> str | None:
    """Why the task's StartWorkflowRequest cannot be used, or None."""
    request = task.input_data.get(REQUEST_PARAMETER)
    if request is None:
        return f"Missing '{REQUEST_PARAMETER}' in input data."
    if not isinstance(request, dict):
        return "Error reading StartWorkflowRequest. startWorkflow must be a JSON object"
    name = request.get("name")
    if not isinstance(name, str) or not name.strip():
        return f"{REQUEST_PARAMETER} validation failed. 'name' -> Workflow name cannot be empty. "
    version = request.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return "Error reading StartWorkflowRequest. version must be an integer"
    for key in ("input", "taskToDomain"):
        if request.get(key) is not None and not isinstance(request.get(key), dict):
            return f"Error reading StartWorkflowRequest. {key} must be a JSON object"
    return None


class StartWorkflow(TaskType):
    name = "START_WORKFLOW"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """`inputParameters.startWorkflow`: a StartWorkflowRequest, or an expression (then a
        bad request fails the task when it runs)."""
        request = check.inputs.get(REQUEST_PARAMETER)
        where = ("inputParameters", REQUEST_PARAMETER)
        if request is None:
            check.missing(f"inputParameters.{REQUEST_PARAMETER}", None, *where)
            return
        if is_expression(request):
            return
        if not isinstance(request, dict):
            check.error("startWorkflow must be a StartWorkflowRequest object", request, *where)
            return
        fields, request_path = check.fields, check.at(*where)
        if not is_expression(request.get("name")):
            fields.required_text(request, request_path, "name", "Workflow name cannot be empty")
        if not is_expression(request.get("version")):
            fields.version(request, request_path, "version")
        for key in ("input", "taskToDomain"):
            if not is_expression(request.get(key)):
                fields.object(request, request_path, key)

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def execute(self, run: Run, task: Task) -> bool:
        if task.status != TaskStatus.SCHEDULED:
            return False  # IN_PROGRESS: the service completes it once the start is done
        problem = request_problem(task)
        if problem is not None:
            run.complete(task, TaskStatus.FAILED, problem)
            return True
        started = run.edit(task)
        started.status = TaskStatus.IN_PROGRESS
        started.start_time = run.now
        run.effects.append(StartWorkflowEffect(task_id=task.task_id))
        return True
