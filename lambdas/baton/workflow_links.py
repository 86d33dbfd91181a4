"""What one workflow does to others, carried out after its commit and repaired by the sweep.

A SUB_WORKFLOW task starts its child and the child's end moves the task; a canceled
SUB_WORKFLOW task terminates its child; a START_WORKFLOW task starts a workflow and completes
with its id; a failed workflow starts its failure workflow. Each is an effect of a decision,
recorded with the commit on one of the workflow's tasks (`pending_effect`, and a due time
in the due index), and carried out here right after it. Every step is idempotent: started
workflows have ids derived from the task or workflow that starts them, so a second start
finds the first, and an update to a task that has moved on changes nothing. The sweep
finds a record that was never confirmed and calls `reconcile`, which looks at the state of
both sides and does whatever is still owed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from baton import telemetry
from baton.engine import decider, endings
from baton.engine.decider import Decision, TaskUpdate
from baton.engine.definitions import JsonObject, WorkflowDef
from baton.engine.effects import (
    Effect,
    ReportToParent,
    StartFailureWorkflow,
    StartWorkflow,
    TerminateChild,
    TimeoutAlert,
)
from baton.engine.state import Task, TaskStatus, Workflow, child_workflow_id, failure_workflow_id
from baton.engine.tasks.start_workflow import REQUEST_PARAMETER, request_problem
from baton.engine.tasks.sub_workflow import CHILD_END_TO_TASK
from baton.errors import BadRequest, Conflict, ItemTooLarge, NotFound, PayloadTooLarge

if TYPE_CHECKING:
    from baton.service import Baton

_log = logging.getLogger(__name__)


def _refused(*also: type[Exception]) -> tuple[type[Exception], ...]:
    """What makes a start fail for good (the task fails with it); anything else is transient
    and left to the sweep."""
    # baton.engine.validation is imported by what validates, not by every cold start.
    from baton.engine.validation import ValidationFailed

    return (NotFound, Conflict, ValidationFailed, ValueError, ItemTooLarge, BadRequest, *also)


def carry_out(service: Baton, workflow: Workflow, effect: Effect) -> bool:
    """Carry out one of the effects this module owns; False if `effect` is not one."""
    if isinstance(effect, StartWorkflow):
        task = workflow.task_by_id(effect.task_id)
        if task is not None:
            _start_for_task(service, workflow, task)
    elif isinstance(effect, TerminateChild):
        terminate_child(service, effect.child_workflow_id, effect.reason)
    elif isinstance(effect, ReportToParent):
        report_to_parent(service, workflow)
    elif isinstance(effect, StartFailureWorkflow):
        start_failure_workflow(service, workflow, effect.workflow_id, effect.name, effect.version)
    elif isinstance(effect, TimeoutAlert):
        _log.warning(effect.reason, extra={"workflow_id": workflow.workflow_id})
        service.metric(telemetry.WORKFLOW_TIMEOUT_ALERTS, 1)
    else:
        return False
    return True


def reconcile(service: Baton, workflow: Workflow, task: Task) -> None:
    """Do whatever `task` (and, once ended, its workflow) still owes other workflows."""
    if task.sub_workflow_id:
        child = service.store.load(task.sub_workflow_id)
        if not task.status.is_terminal:
            if child is None:
                _start_for_task(service, workflow, task)
            elif child.status.is_terminal:
                report_to_parent(service, child)
        elif task.status == TaskStatus.CANCELED and child and not child.status.is_terminal:
            terminate_child(service, child.workflow_id, endings.parent_ended_reason(workflow))
    elif task.status == TaskStatus.IN_PROGRESS and task.workflow_task.type == "START_WORKFLOW":
        _start_for_task(service, workflow, task)
    if not workflow.status.is_terminal:
        return
    if workflow.parent_workflow_id:
        report_to_parent(service, workflow)
    started = workflow.output.get(endings.FAILURE_WORKFLOW_OUTPUT)
    name = endings.failure_workflow_name(workflow)
    if isinstance(started, str) and name and started == _failure_id(workflow):
        version = workflow.definition.raw.get("failureWorkflowVersion")
        start_failure_workflow(
            service, workflow, started, name, version if isinstance(version, int) else None
        )


def _failure_id(workflow: Workflow) -> str:
    return failure_workflow_id(workflow.workflow_id)


# -- starting --------------------------------------------------------------------------------


def _start_for_task(service: Baton, workflow: Workflow, task: Task) -> None:
    if task.status != TaskStatus.IN_PROGRESS:
        return  # ended (or canceled) before its start was carried out
    if task.workflow_task.type == "SUB_WORKFLOW":
        _start_child(service, workflow, task)
    else:
        _start_requested(service, workflow, task)


def _start_child(service: Baton, workflow: Workflow, task: Task) -> None:
    from baton.service import StartRequest

    child_id = task.sub_workflow_id or child_workflow_id(task.task_id)
    given = task.input_data
    try:
        definition = _inline_definition(given.get("subWorkflowDefinition"))
        name = definition.name if definition else given.get("subWorkflowName")
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"Task {task.task_def_name} is defined as sub-workflow and is missing "
                "subWorkflowParams. Please check the workflow definition"
            )
        child_input = given.get("workflowInput")
        if not isinstance(child_input, dict) or not child_input:
            child_input = dict(given)  # Conductor's SubWorkflow: no workflowInput, all of it
        own_domains = given.get("subWorkflowTaskToDomain")
        priority = given.get("priority")
        version = given.get("subWorkflowVersion")
        service.start(
            StartRequest(
                name=name,
                version=version if isinstance(version, int) else None,
                input=child_input,
                correlation_id=workflow.correlation_id,
                # Conductor's SubWorkflowParams: an unset priority is the parent's.
                priority=priority if isinstance(priority, int) else workflow.priority,
                task_to_domain=own_domains
                if isinstance(own_domains, dict)
                else dict(workflow.task_to_domain),
                workflow_def=definition,
                idempotency_key=_text(given.get("idempotencyKey")),
                idempotency_strategy=_text(given.get("idempotencyStrategy")) or "FAIL",
                workflow_id=child_id,
                parent_workflow_id=workflow.workflow_id,
                parent_workflow_task_id=task.task_id,
            )
        )
    except _refused() as error:
        if isinstance(error, Conflict) and service.store.load(child_id) is not None:
            return  # its own idempotency key, taken by this very child's first start
        _end_task(service, workflow, task, TaskStatus.FAILED, None, _reason(error))


def _inline_definition(value: Any) -> WorkflowDef | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("workflowDefinition must be either null, or WorkflowDef")
    from baton.engine.validation import validate_workflow_def

    errors = validate_workflow_def(value)
    if errors:
        raise ValueError(
            "The sub workflow's definition is not valid: "
            + "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in errors[:5])
        )
    return WorkflowDef.from_json(value)


def _start_requested(service: Baton, workflow: Workflow, task: Task) -> None:
    """START_WORKFLOW: start its request under the id derived from the task, then complete."""
    from baton.service import StartRequest

    problem = request_problem(task)
    if problem is not None:
        _end_task(service, workflow, task, TaskStatus.FAILED, None, problem)
        return
    request: JsonObject = task.input_data[REQUEST_PARAMETER]
    domains = request.get("taskToDomain")
    priority = request.get("priority")
    try:
        started = service.start(
            StartRequest(
                name=str(request["name"]),
                version=request.get("version"),
                input=dict(request.get("input") or {}),
                correlation_id=_text(request.get("correlationId")) or workflow.correlation_id,
                priority=priority if isinstance(priority, int) else 0,
                task_to_domain=domains if domains else dict(workflow.task_to_domain),
                idempotency_key=_text(request.get("idempotencyKey")),
                idempotency_strategy=_text(request.get("idempotencyStrategy")) or "FAIL",
                workflow_id=child_workflow_id(task.task_id),
            )
        )
    except _refused(PayloadTooLarge) as error:
        if _started_before(service, task):
            started = child_workflow_id(task.task_id)
        else:
            _end_task(service, workflow, task, TaskStatus.FAILED, None, _reason(error))
            return
    _end_task(service, workflow, task, TaskStatus.COMPLETED, {"workflowId": started}, None)


def _started_before(service: Baton, task: Task) -> bool:
    """A repeated start whose idempotency key its own first start holds."""
    return service.store.load(child_workflow_id(task.task_id)) is not None


def start_failure_workflow(
    service: Baton, failed: Workflow, workflow_id: str, name: str, version: int | None
) -> None:
    from baton.service import StartRequest

    if service.store.load(workflow_id) is not None:
        return
    base: JsonObject = {
        **failed.input,
        "workflowId": failed.workflow_id,
        "reason": failed.reason_for_incompletion,
        "failureStatus": failed.status.value,
    }
    if failed.failed_task_id:
        base["failureTaskId"] = failed.failed_task_id
    try:
        try:
            service.start(
                StartRequest(
                    name=name,
                    version=version,
                    input={**base, "failedWorkflow": failed.to_json()},
                    correlation_id=failed.correlation_id,
                    task_to_domain=dict(failed.task_to_domain),
                    workflow_id=workflow_id,
                )
            )
        except PayloadTooLarge:
            # The failed workflow with all its tasks is too large to pass: without them.
            service.start(
                StartRequest(
                    name=name,
                    version=version,
                    input={**base, "failedWorkflow": failed.to_json(include_tasks=False)},
                    correlation_id=failed.correlation_id,
                    task_to_domain=dict(failed.task_to_domain),
                    workflow_id=workflow_id,
                )
            )
    except _refused(PayloadTooLarge) as error:
        _log.warning(
            "Failure workflow %s did not start: %s",
            name,
            error,
            extra={"workflow_id": failed.workflow_id},
        )
        message = f"Error workflow {name} failed to start.  reason: {_reason(error)}"
        _record_output(service, failed.workflow_id, endings.FAILURE_WORKFLOW_OUTPUT, message)


def _record_output(service: Baton, workflow_id: str, key: str, value: str) -> None:
    def change(workflow: Workflow) -> Decision:
        if workflow.output.get(key) == value:
            return Decision(workflow=workflow)
        now = service.clock()
        updated = replace(workflow, output={**workflow.output, key: value}, update_time=now)
        return Decision(workflow=updated, workflow_changed=True)

    service.store.mutate(workflow_id, change)


# -- ending ----------------------------------------------------------------------------------


def terminate_child(service: Baton, child_id: str, reason: str) -> None:
    def change(child: Workflow) -> Decision:
        if child.status.is_terminal:
            return Decision(workflow=child)
        return decider.terminate(child, reason, service.clock())

    try:
        service.mutate(child_id, change)
    except NotFound:
        return  # never started: nothing to terminate


def report_to_parent(service: Baton, child: Workflow) -> None:
    """Move the parent's SUB_WORKFLOW task as the child's end says (Conductor's mapping)."""
    parent_id, task_id = child.parent_workflow_id, child.parent_workflow_task_id
    status = CHILD_END_TO_TASK.get(child.status)
    if not parent_id or not task_id or status is None:
        return
    reason = None
    if not child.status.is_successful:
        reason = (
            f"Sub workflow {child.definition.name}.{child.definition.version}/"
            f"{child.workflow_id} failure reason: {child.reason_for_incompletion}"
        )
    update = TaskUpdate(
        status=status, output=dict(child.output), reason_for_incompletion=reason, merge_output=True
    )

    def change(parent: Workflow) -> Decision:
        task = parent.task_by_id(task_id)
        if task is None or task.status.is_terminal or task.sub_workflow_id != child.workflow_id:
            return Decision(workflow=parent)  # moved on already (a retry has its own child)
        return decider.update_task(
            parent,
            task_id,
            update,
            service.clock(),
            event_queues=service.messaging.event_queue_names,
            budget=service.budget(),
        )

    try:
        service.mutate(parent_id, change)
    except NotFound:
        _log.warning("The parent of workflow %s is gone", child.workflow_id)


def _end_task(
    service: Baton,
    workflow: Workflow,
    task: Task,
    status: TaskStatus,
    output: JsonObject | None,
    reason: str | None,
) -> None:
    update = TaskUpdate(
        status=status, output=output, reason_for_incompletion=reason, merge_output=True
    )

    def change(current: Workflow) -> Decision:
        found = current.task_by_id(task.task_id)
        if found is None or found.status != TaskStatus.IN_PROGRESS:
            return Decision(workflow=current)
        return decider.update_task(
            current,
            task.task_id,
            update,
            service.clock(),
            event_queues=service.messaging.event_queue_names,
            budget=service.budget(),
        )

    service.mutate(workflow.workflow_id, change)


def _reason(error: Exception) -> str:
    from baton.engine.validation import ValidationFailed

    if isinstance(error, ValidationFailed):
        return "; ".join(f"{e.path}: {e.message}" for e in error.errors) or str(error)
    return str(error)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
