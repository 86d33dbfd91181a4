"""Runtime state: workflow and task instances, with Conductor's statuses and JSON shapes."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from baton.engine.definitions import JsonObject, WorkflowDef, WorkflowTask

# Deterministic ids: the same decision always names the same task, so a retried commit or a
# repeated effect (a message whose id is the task id) can be recognised as a repeat.
_TASK_ID_NAMESPACE = uuid.UUID("6f1c9a3e-2b8d-4e57-9c41-0d7a5b3e8f21")


class TaskStatus(StrEnum):
    """Conductor's task statuses."""

    IN_PROGRESS = "IN_PROGRESS"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    FAILED_WITH_TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    SCHEDULED = "SCHEDULED"
    TIMED_OUT = "TIMED_OUT"
    SKIPPED = "SKIPPED"

    @property
    def is_terminal(self) -> bool:
        return self not in (TaskStatus.IN_PROGRESS, TaskStatus.SCHEDULED)

    @property
    def is_successful(self) -> bool:
        return self in (
            TaskStatus.COMPLETED,
            TaskStatus.COMPLETED_WITH_ERRORS,
            TaskStatus.SKIPPED,
            TaskStatus.IN_PROGRESS,
            TaskStatus.SCHEDULED,
        )

    @property
    def is_retriable(self) -> bool:
        return self not in (
            TaskStatus.CANCELED,
            TaskStatus.FAILED_WITH_TERMINAL_ERROR,
            TaskStatus.SKIPPED,
        )


class WorkflowStatus(StrEnum):
    """Conductor's workflow statuses."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    TERMINATED = "TERMINATED"
    PAUSED = "PAUSED"

    @property
    def is_terminal(self) -> bool:
        return self not in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)

    @property
    def is_successful(self) -> bool:
        return self in (WorkflowStatus.COMPLETED, WorkflowStatus.PAUSED, WorkflowStatus.RUNNING)


def _without_defaults(data: JsonObject, *, keep: frozenset[str]) -> JsonObject:
    """Leave out what reads back as its default (None, 0, False, empty): every byte of an
    item counts toward its write units."""
    return {k: v for k, v in data.items() if k in keep or v not in (None, 0, False, "", {}, [])}


_TASK_REQUIRED = frozenset(
    {"taskId", "referenceTaskName", "taskType", "taskDefName", "status", "seq", "scheduledTime"}
)
_WORKFLOW_REQUIRED = frozenset({"workflowId", "status", "createTime"})


def task_id_for(
    workflow_id: str, reference_task_name: str, retry_count: int, epoch: int = 0
) -> str:
    """The id of a task instance, derived from where it stands in its workflow.

    `epoch` is the revision from which a restarted or rerun workflow's task set counts
    (`Workflow.tasks_from_revision`): the new run's tasks get ids of their own, so a worker
    still holding a task of the old run cannot update the new one.
    """
    where = f"{workflow_id}/{reference_task_name}/{retry_count}"
    if epoch:
        where = f"{where}/{epoch}"
    # Still a UUID in form, whose first 12 hex digits name the workflow: the store finds a
    # task's workflow from its id alone through one index entry per workflow, not per task.
    hashed = str(uuid.uuid5(_TASK_ID_NAMESPACE, where))
    prefix = workflow_task_prefix(workflow_id)
    return f"{prefix[:8]}-{prefix[8:]}{hashed[13:]}"


TASK_PREFIX_LENGTH = 12


def workflow_task_prefix(workflow_id: str) -> str:
    """The 12 hex digits (48 bits of SHA-256) that begin the ids of a workflow's tasks."""
    return hashlib.sha256(workflow_id.encode("utf-8", "surrogatepass")).hexdigest()[
        :TASK_PREFIX_LENGTH
    ]


def task_prefix_of(task_id: str) -> str | None:
    """The workflow prefix a task id begins with, or None for an id of another form."""
    if len(task_id) != 36 or task_id[8] != "-" or task_id[13] != "-":
        return None
    return task_id[:8] + task_id[9:13]


def child_workflow_id(task_id: str) -> str:
    """The id of the workflow a SUB_WORKFLOW or START_WORKFLOW task attempt starts: derived from
    the task id, so a repeated decision or a resent start names the same workflow."""
    return str(uuid.uuid5(_TASK_ID_NAMESPACE, f"started-by/{task_id}"))


def failure_workflow_id(workflow_id: str) -> str:
    """The id of the failure workflow a failed workflow starts (once: the id says so)."""
    return str(uuid.uuid5(_TASK_ID_NAMESPACE, f"failure-workflow-of/{workflow_id}"))


def loop_reference(reference_task_name: str, iteration: int) -> str:
    """A DO_WHILE body task's reference in one iteration: `ref__1`, `ref__2`, ..."""
    return f"{reference_task_name}__{iteration}"


def base_reference(reference_task_name: str) -> str:
    """The definition's reference of a task instance (`ref__3` -> `ref`)."""
    head, sep, tail = reference_task_name.rpartition("__")
    return head if sep and tail.isdigit() else reference_task_name


def stored_workflow_task(body: JsonObject, find: Callable[[str], WorkflowTask]) -> WorkflowTask:
    """The definition of a stored task: its own copy if it was made while the workflow ran,
    else the one `find` finds in the workflow's definition by reference."""
    own = body.get("workflowTask")
    if isinstance(own, dict):
        definition = WorkflowTask.from_json(own)
        definition.generated = True
        return definition
    return find(body["referenceTaskName"])


@dataclass
class Task:
    """One task instance of a running workflow."""

    task_id: str
    reference_task_name: str
    task_type: str
    task_def_name: str
    status: TaskStatus
    workflow_task: WorkflowTask
    seq: int
    scheduled_time: int
    input_data: JsonObject = field(default_factory=dict)
    output_data: JsonObject = field(default_factory=dict)
    start_time: int = 0
    end_time: int = 0
    update_time: int = 0
    retry_count: int = 0
    iteration: int = 0
    retried: bool = False
    # The decider has already acted on this task's terminal status (scheduled what follows).
    executed: bool = False
    reason_for_incompletion: str | None = None
    callback_after_seconds: int = 0
    # WAIT: when the wait ends (epoch ms); 0 means it waits for an update from outside.
    wait_timeout: int = 0
    worker_id: str | None = None
    poll_count: int = 0
    retried_task_id: str | None = None
    # The task domain it was scheduled in (None: no domain); only polls naming it receive it.
    domain: str | None = None
    # Store bookkeeping, not part of Conductor's JSON.
    version: int = 0
    created_revision: int = 0
    # A message this task published has not been confirmed sent yet.
    pending_effect: bool = False
    # The task's key in the store (empty until it is stored).
    store_key: str = ""
    # A decision ran out of budget here: the next decision is due at this time (epoch ms).
    continue_at: int = 0
    # SUB_WORKFLOW: the child workflow this attempt started.
    sub_workflow_id: str | None = None
    # A system task (HTTP): when its call was last sent to the system-task queue (epoch ms).
    dispatched_at: int = 0
    # The status its item holds as read (None: not stored yet); `status` may differ when a
    # rule of `Workflow.from_store` settled it.
    stored_status: TaskStatus | None = None

    def pollable_from(self) -> int:
        """When a SCHEDULED worker task may be handed out: after its startDelay or a retry's
        delay, or a worker's callbackAfterSeconds counted from its IN_PROGRESS update."""
        return (self.update_time or self.scheduled_time) + self.callback_after_seconds * 1000

    def to_json(self, workflow: Workflow) -> JsonObject:
        """Conductor's Task JSON (nulls omitted, as Conductor's mapper does)."""
        # Conductor copies these from the TaskDef when it schedules the task.
        task_def = self.workflow_task.task_definition
        data: JsonObject = {
            "taskType": self.task_type,
            "status": self.status.value,
            "inputData": self.input_data,
            "referenceTaskName": self.reference_task_name,
            "retryCount": self.retry_count,
            "seq": self.seq,
            "pollCount": self.poll_count,
            "taskDefName": self.task_def_name,
            "scheduledTime": self.scheduled_time,
            "startTime": self.start_time,
            "endTime": self.end_time,
            "updateTime": self.update_time,
            "startDelayInSeconds": self.workflow_task.start_delay,
            "retried": self.retried,
            "executed": self.executed,
            "callbackFromWorker": True,
            "responseTimeoutSeconds": task_def.response_timeout_seconds if task_def else 0,
            "workflowInstanceId": workflow.workflow_id,
            "workflowType": workflow.definition.name,
            "taskId": self.task_id,
            "callbackAfterSeconds": self.callback_after_seconds,
            "outputData": self.output_data,
            "workflowTask": self.workflow_task.to_json(),
            "rateLimitPerFrequency": task_def.rate_limit_per_frequency if task_def else 0,
            "rateLimitFrequencyInSeconds": (
                task_def.rate_limit_frequency_in_seconds if task_def else 0
            ),
            "workflowPriority": workflow.priority,
            "iteration": self.iteration,
            "loopOverTask": self.iteration > 0,
            "queueWaitTime": max(0, self.start_time - self.scheduled_time)
            if self.start_time
            else 0,
            "taskStatus": self.status.value,
        }
        optional = {
            "correlationId": workflow.correlation_id,
            "reasonForIncompletion": self.reason_for_incompletion,
            "workerId": self.worker_id,
            "retriedTaskId": self.retried_task_id,
            "domain": self.domain,
            "subWorkflowId": self.sub_workflow_id,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        if self.wait_timeout:
            data["waitTimeout"] = self.wait_timeout
        return data

    def to_store(self) -> JsonObject:
        """The fields Baton persists for this task (Conductor's names where they exist).

        The task's definition is not repeated: it is found again in the workflow's definition
        by reference, which keeps each task item to about one write unit.
        """
        data: JsonObject = {
            "taskId": self.task_id,
            "referenceTaskName": self.reference_task_name,
            "taskType": self.task_type,
            "taskDefName": self.task_def_name,
            "status": self.status.value,
            "seq": self.seq,
            "scheduledTime": self.scheduled_time,
            "inputData": self.input_data,
            "outputData": self.output_data,
            "startTime": self.start_time,
            "endTime": self.end_time,
            "updateTime": self.update_time,
            "retryCount": self.retry_count,
            "iteration": self.iteration,
            "retried": self.retried,
            "executed": self.executed,
            "reasonForIncompletion": self.reason_for_incompletion,
            "callbackAfterSeconds": self.callback_after_seconds,
            "waitTimeout": self.wait_timeout,
            "workerId": self.worker_id,
            "pollCount": self.poll_count,
            "retriedTaskId": self.retried_task_id,
            "continueAt": self.continue_at,
            "dispatchedAt": self.dispatched_at,
            "domain": self.domain,
            "subWorkflowId": self.sub_workflow_id,
        }
        if self.workflow_task.generated:
            data["workflowTask"] = self.workflow_task.to_json()
        return _without_defaults(data, keep=_TASK_REQUIRED)

    @classmethod
    def from_store(
        cls,
        data: JsonObject,
        workflow_task: WorkflowTask,
        *,
        version: int = 0,
        created_revision: int = 0,
        pending_effect: bool = False,
        store_key: str = "",
    ) -> Task:
        return cls(
            task_id=data["taskId"],
            reference_task_name=data["referenceTaskName"],
            task_type=data["taskType"],
            task_def_name=data["taskDefName"],
            status=TaskStatus(data["status"]),
            workflow_task=workflow_task,
            seq=data["seq"],
            scheduled_time=data["scheduledTime"],
            input_data=data.get("inputData") or {},
            output_data=data.get("outputData") or {},
            start_time=data.get("startTime", 0),
            end_time=data.get("endTime", 0),
            update_time=data.get("updateTime", 0),
            retry_count=data.get("retryCount", 0),
            iteration=data.get("iteration", 0),
            retried=data.get("retried", False),
            executed=data.get("executed", False),
            reason_for_incompletion=data.get("reasonForIncompletion"),
            callback_after_seconds=data.get("callbackAfterSeconds", 0),
            wait_timeout=data.get("waitTimeout", 0),
            worker_id=data.get("workerId"),
            poll_count=data.get("pollCount", 0),
            retried_task_id=data.get("retriedTaskId"),
            continue_at=data.get("continueAt", 0),
            dispatched_at=data.get("dispatchedAt", 0),
            domain=data.get("domain"),
            sub_workflow_id=data.get("subWorkflowId"),
            stored_status=TaskStatus(data["status"]),
            version=version,
            created_revision=created_revision,
            pending_effect=pending_effect,
            store_key=store_key,
        )


@dataclass
class Workflow:
    """One workflow instance: its definition snapshot, data and tasks."""

    workflow_id: str
    definition: WorkflowDef
    status: WorkflowStatus
    create_time: int
    input: JsonObject = field(default_factory=dict)
    output: JsonObject = field(default_factory=dict)
    variables: JsonObject = field(default_factory=dict)
    correlation_id: str | None = None
    update_time: int = 0
    end_time: int = 0
    reason_for_incompletion: str | None = None
    task_to_domain: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    event: str | None = None
    idempotency_key: str | None = None
    failed_reference_task_names: list[str] = field(default_factory=list)
    # A SUB_WORKFLOW's child: the workflow and task that started it, told when it ends.
    parent_workflow_id: str | None = None
    parent_workflow_task_id: str | None = None
    # The task whose failure ended the workflow (Conductor's failedTaskId: the failure
    # workflow's `failureTaskId`).
    failed_task_id: str | None = None
    tasks: list[Task] = field(default_factory=list)
    # Store bookkeeping: the revision this state was read at.
    revision: int = 0
    # When the workflow was last retried (epoch ms; 0: never).
    last_retried_time: int = 0
    # A restart or rerun replaced the task set at this revision: the store reads only tasks
    # written from it on (0: the first run's tasks).
    tasks_from_revision: int = 0

    def task_by_id(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.task_id == task_id), None)

    def to_json(self, *, include_tasks: bool = True) -> JsonObject:
        """Conductor's Workflow JSON (nulls omitted)."""
        data: JsonObject = {
            "workflowId": self.workflow_id,
            "workflowName": self.definition.name,
            "workflowVersion": self.definition.version,
            "status": self.status.value,
            "createTime": self.create_time,
            "startTime": self.create_time,
            "updateTime": self.update_time,
            "endTime": self.end_time,
            "input": self.input,
            "output": self.output,
            "variables": self.variables,
            "taskToDomain": self.task_to_domain,
            "priority": self.priority,
            "failedReferenceTaskNames": self.failed_reference_task_names,
            "failedTaskNames": [
                t.task_def_name
                for t in self.tasks
                if t.reference_task_name in self.failed_reference_task_names
            ],
            "workflowDefinition": self.definition.to_json(),
            "lastRetriedTime": self.last_retried_time,
            "tasks": [t.to_json(self) for t in self.tasks] if include_tasks else [],
        }
        optional = {
            "correlationId": self.correlation_id,
            "reasonForIncompletion": self.reason_for_incompletion,
            "event": self.event,
            "idempotencyKey": self.idempotency_key,
            "parentWorkflowId": self.parent_workflow_id,
            "parentWorkflowTaskId": self.parent_workflow_task_id,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data

    def to_store(self) -> JsonObject:
        """The workflow's own fields as Baton persists them.

        Tasks are stored apart, and so is the definition snapshot, which never changes.
        """
        data: JsonObject = {
            "workflowId": self.workflow_id,
            "status": self.status.value,
            "createTime": self.create_time,
            "updateTime": self.update_time,
            "endTime": self.end_time,
            "input": self.input,
            "output": self.output,
            "variables": self.variables,
            "correlationId": self.correlation_id,
            "reasonForIncompletion": self.reason_for_incompletion,
            "taskToDomain": self.task_to_domain,
            "priority": self.priority,
            "event": self.event,
            "idempotencyKey": self.idempotency_key,
            "failedReferenceTaskNames": self.failed_reference_task_names,
            "lastRetriedTime": self.last_retried_time,
            "tasksFromRevision": self.tasks_from_revision,
            "parentWorkflowId": self.parent_workflow_id,
            "parentWorkflowTaskId": self.parent_workflow_task_id,
            "failedTaskId": self.failed_task_id,
        }
        return _without_defaults(data, keep=_WORKFLOW_REQUIRED)

    @classmethod
    def from_store(
        cls,
        data: JsonObject,
        definition: WorkflowDef,
        tasks: list[Task] | None = None,
        *,
        revision: int = 0,
    ) -> Workflow:
        return cls(
            workflow_id=data["workflowId"],
            definition=definition,
            status=WorkflowStatus(data["status"]),
            create_time=data["createTime"],
            update_time=data.get("updateTime", 0),
            end_time=data.get("endTime", 0),
            input=data.get("input") or {},
            output=data.get("output") or {},
            variables=data.get("variables") or {},
            correlation_id=data.get("correlationId"),
            reason_for_incompletion=data.get("reasonForIncompletion"),
            task_to_domain=data.get("taskToDomain") or {},
            priority=data.get("priority", 0),
            event=data.get("event"),
            idempotency_key=data.get("idempotencyKey"),
            failed_reference_task_names=data.get("failedReferenceTaskNames") or [],
            parent_workflow_id=data.get("parentWorkflowId"),
            parent_workflow_task_id=data.get("parentWorkflowTaskId"),
            failed_task_id=data.get("failedTaskId"),
            tasks=settled(
                WorkflowStatus(data["status"]),
                data.get("endTime", 0),
                sorted(tasks or [], key=lambda t: t.seq),
            ),
            revision=revision,
            last_retried_time=data.get("lastRetriedTime", 0),
            tasks_from_revision=data.get("tasksFromRevision", 0),
        )


def canceled_by_end(task: Task, end_time: int) -> Task:
    """`task` as its workflow's ending leaves a task still open: CANCELED at the end."""
    return replace(
        task,
        status=TaskStatus.CANCELED,
        start_time=task.start_time or end_time,
        end_time=end_time,
        update_time=max(task.update_time, end_time),
    )


def settled(status: WorkflowStatus, end_time: int, tasks: list[Task]) -> list[Task]:
    """Tasks as their stored items read, with what the commit that changed them implies
    although the writes after it may not have landed yet (or ever, if the writer crashed):
    a decision changing more tasks than one transaction holds commits the workflow item
    with some of them and writes the rest after it.

    - Under an ended workflow no task is open: one still SCHEDULED or IN_PROGRESS is
      CANCELED at the workflow's end, as the ending cancels it (Conductor's
      cancelNonTerminalTasks). A task that ended otherwise first (a worker's COMPLETED)
      keeps its own ending.
    - A task another task retries (its `retriedTaskId`) has been retried and acted on: the
      retry exists only once the commit that marked it so has landed.
    """
    retried = {t.retried_task_id for t in tasks if t.retried_task_id}
    ended = status.is_terminal
    if not retried and not ended:
        return tasks
    found: list[Task] = []
    for stored in tasks:
        task = stored
        if task.task_id in retried and not task.retried:
            task = replace(task, retried=True, executed=True)
        if ended and not task.status.is_terminal:
            task = canceled_by_end(task, end_time)
        found.append(task)
    return found
