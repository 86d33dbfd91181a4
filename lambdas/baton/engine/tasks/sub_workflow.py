"""SUB_WORKFLOW: runs another workflow as one task, and ends as that child ends.

As Conductor's SubWorkflowTaskMapper, the task's input holds `subWorkflowName`,
`subWorkflowVersion` (None: the latest, read when the child starts), `subWorkflowTaskToDomain`,
`subWorkflowDefinition` (an inline definition, given as is or by `${}`), `priority` and
`workflowInput` (the resolved inputParameters, the child's input). The decision that runs the
SCHEDULED task makes it IN_PROGRESS with the child's id, derived from the task id (so a
repeated decision or a resent start never makes a second child), and records a StartWorkflow
effect; the service starts the child after the commit. The child's end comes back as an
update of this task (`endings.child_result`), with Conductor's mapping: COMPLETED, FAILED,
TERMINATED -> CANCELED, TIMED_OUT. A retry is a new task attempt, so it starts a new child.
With a TaskDef, `timeoutSeconds` counts from the start as for any task (responseTimeoutSeconds
does not apply: the task is completed by its child, not by a worker).
"""

from __future__ import annotations

from typing import Any

from baton.engine.definitions import JsonObject, WorkflowTask
from baton.engine.effects import StartWorkflow
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, WorkflowStatus, child_workflow_id
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck, is_expression
from baton.engine.tasks.simple import check_total_timeout, total_deadline

# What Conductor's SubWorkflowParams holds besides the inline definition; each may be `${}`.
_PARAMS = ("name", "version", "taskToDomain", "priority", "idempotencyKey", "idempotencyStrategy")

# Conductor's mapping of a child's end to its SUB_WORKFLOW task's status.
CHILD_END_TO_TASK = {
    WorkflowStatus.COMPLETED: TaskStatus.COMPLETED,
    WorkflowStatus.FAILED: TaskStatus.FAILED,
    WorkflowStatus.TERMINATED: TaskStatus.CANCELED,
    WorkflowStatus.TIMED_OUT: TaskStatus.TIMED_OUT,
}


def sub_workflow_params(definition: WorkflowTask) -> JsonObject:
    params = definition.raw.get("subWorkflowParam")
    return dict(params) if isinstance(params, dict) else {}


class SubWorkflow(TaskType):
    name = "SUB_WORKFLOW"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """`subWorkflowParam` with a name or an inline definition (checked as if registered),
        and what is literal in it of the right type."""
        params = check.task.get("subWorkflowParam")
        if params is None:
            check.missing("subWorkflowParam", None, "subWorkflowParam")
            return
        if not isinstance(params, dict):
            check.error("subWorkflowParam must be a JSON object", params, "subWorkflowParam")
            return
        params_path = check.at("subWorkflowParam")
        inline = params.get("workflowDefinition")
        where = ("subWorkflowParam", "workflowDefinition")
        if isinstance(inline, str):
            if not (is_expression(inline) and inline.endswith("}")):
                check.error(
                    "workflowDefinition is a string, but not a valid DSL string", inline, *where
                )
        elif isinstance(inline, dict):
            inline_path = check.at(*where)
            for inner, message, value in check.workflow_def_problems(inline):
                separator = "" if not inner or inner.startswith("[") else "."
                check.report(f"{inline_path}{separator}{inner}", message, value)
                check.errors += 1
        elif inline is not None:
            check.error(
                "workflowDefinition must be either null, or WorkflowDef, or a valid DSL string",
                inline,
                *where,
            )
        fields = check.fields
        if inline is None:
            fields.required_text(
                params, params_path, "name", "SubWorkflowParams name cannot be null or empty"
            )
        if not is_expression(params.get("version")):
            fields.version(params, params_path, "version")
        if not is_expression(params.get("taskToDomain")):
            fields.object(params, params_path, "taskToDomain")
        priority = params.get("priority")
        if priority is not None and not is_expression(priority):
            fields.integer(params, params_path, "priority", minimum=0)

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)
        params = sub_workflow_params(definition)
        template = {key: params[key] for key in _PARAMS if key in params}
        inline = params.get("workflowDefinition")
        if isinstance(inline, str):
            template["workflowDefinition"] = inline  # `${ref.output.def}`: resolved like the rest
        resolved = run.resolve(template, task_id=task.task_id)
        if inline is not None and not isinstance(inline, str):
            resolved["workflowDefinition"] = inline  # a definition's own `${}` stay as written
        child_input = dict(task.input_data)
        name = resolved.get("name")
        child_definition = resolved.get("workflowDefinition")
        if isinstance(child_definition, dict) and child_definition.get("name"):
            name = child_definition.get("name")
        task_to_domain = resolved.get("taskToDomain")
        task.input_data.update(
            {
                "subWorkflowName": name,
                "subWorkflowVersion": _version(resolved.get("version")),
                "subWorkflowTaskToDomain": task_to_domain
                if isinstance(task_to_domain, dict)
                else None,
                "subWorkflowDefinition": child_definition,
                "priority": resolved.get("priority"),
                "idempotencyKey": resolved.get("idempotencyKey"),
                "idempotencyStrategy": resolved.get("idempotencyStrategy"),
                "workflowInput": child_input,
            }
        )
        return [task]

    def execute(self, run: Run, task: Task) -> bool:
        if task.status == TaskStatus.SCHEDULED:
            started = run.edit(task)
            started.status = TaskStatus.IN_PROGRESS
            started.start_time = run.now
            started.sub_workflow_id = child_workflow_id(task.task_id)
            started.output_data = {**started.output_data, "subWorkflowId": started.sub_workflow_id}
            run.effects.append(StartWorkflow(task_id=task.task_id))
            return True
        return check_total_timeout(run, task)

    def deadline(self, task: Task) -> int | None:
        # Only timeoutSeconds: Conductor's SubWorkflow is asyncComplete, so its
        # responseTimeoutSeconds never applies (the child, not a worker, completes it).
        return total_deadline(task) if task.status == TaskStatus.IN_PROGRESS else None


def _version(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None
