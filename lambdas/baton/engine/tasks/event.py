"""EVENT: publishes a message to a sink (`sqs:<queue>` or `conductor[:<name>]`).

With `asyncComplete` the task stays IN_PROGRESS until an update from outside; then, as in
Conductor, the TaskDef registered under its name applies its `timeoutSeconds` (from the
publication) and `timeoutPolicy`, but not `responseTimeoutSeconds` (an asyncComplete system
task is never response-timed out).
"""

from __future__ import annotations

import re
from typing import Literal

from baton.engine.definitions import JsonObject, WorkflowTask
from baton.engine.effects import PublishMessage
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import EXPRESSION_START, TaskCheck, is_blank
from baton.engine.tasks.simple import check_total_timeout, total_deadline

SQS_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def sink_problem(sink: str) -> str | None:
    """Why Baton cannot publish to `sink`, or None when it can."""
    if sink.startswith(EXPRESSION_START) or sink == "conductor":
        return None
    provider, separator, queue = sink.partition(":")
    if provider == "conductor":
        return None if queue else "sink conductor: needs a name after 'conductor:'"
    if provider == "sqs" and separator:
        # `sqs:${workflow.input.queue}` is resolved when the task runs.
        if EXPRESSION_START in queue or SQS_QUEUE_NAME.fullmatch(queue):
            return None
        return f"sink {sink}: an SQS queue name is 1 to 80 letters, digits, hyphens or underscores"
    if separator and provider:
        return f"sink provider {provider} is not supported by Baton; use sqs:<queue> or conductor"
    return f"Invalid / Unsupported sink specified: {sink}; use sqs:<queue> or conductor"


class SinkError(ValueError):
    """The sink names no queue Baton can publish to."""


def resolve_sink(
    sink: str, workflow_name: str, reference: str
) -> tuple[Literal["sqs", "conductor"], str]:
    """The provider and queue (or event name) a sink names, as Conductor's Event task reads it."""
    if sink == "conductor":
        return "conductor", f"conductor:{workflow_name}:{reference}"
    if sink.startswith("conductor:"):
        return "conductor", f"conductor:{workflow_name}:{sink.removeprefix('conductor:')}"
    if sink.startswith("sqs:") and len(sink) > len("sqs:"):
        return "sqs", sink.removeprefix("sqs:")
    raise SinkError(f"Invalid / Unsupported sink specified: {sink}")


class Event(TaskType):
    name = "EVENT"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """A `sink` Baton can publish to (`sqs:${...}` is resolved when the task runs)."""
        sink = check.task.get("sink")
        if is_blank(sink):
            check.missing("sink", sink, "sink")
        elif not isinstance(sink, str):
            check.error("sink must be a string", sink, "sink")
        else:
            problem = sink_problem(sink)
            if problem is not None:
                check.error(problem, sink, "sink")

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(
            definition,
            iteration=iteration,
            status=TaskStatus.SCHEDULED,
            extra_input={"sink": definition.sink, "asyncComplete": definition.async_complete},
        )
        # Conductor resolves the sink with the other inputs: `sqs:${workflow.input.queue}`.
        task.input_data["sink"] = run.resolve({"sink": definition.sink}, task_id=task.task_id).get(
            "sink"
        )
        return [task]

    def execute(self, run: Run, task: Task) -> bool:
        if task.status == TaskStatus.IN_PROGRESS:
            return check_total_timeout(run, task)  # asyncComplete: completed from outside
        if task.status != TaskStatus.SCHEDULED:
            return False
        wf = run.workflow
        sink = str(task.input_data.get("sink") or "")
        try:
            provider, queue = resolve_sink(sink, wf.definition.name, task.reference_task_name)
            if provider == "sqs" and run.event_queues is not None and queue not in run.event_queues:
                raise SinkError(
                    f"Error loading queue for sink {sink}: no event queue named '{queue}' is "
                    "provisioned; add it to the `eventQueues` context and deploy"
                )
        except SinkError as error:
            run.complete(task, TaskStatus.FAILED, str(error))
            return True
        payload: JsonObject = {
            **task.input_data,
            "workflowInstanceId": wf.workflow_id,
            "workflowType": wf.definition.name,
            "workflowVersion": wf.definition.version,
            "correlationId": wf.correlation_id,
            "taskToDomain": wf.task_to_domain,
        }
        edited = run.edit(task)
        edited.output_data = {
            **payload,
            "event_produced": f"{provider}:{queue}" if provider == "sqs" else queue,
        }
        edited.start_time = run.now
        run.effects.append(
            PublishMessage(
                message_id=task.task_id,
                task_id=task.task_id,
                provider=provider,
                queue=queue,
                payload=payload,
            )
        )
        if task.workflow_task.async_complete:
            edited.status = TaskStatus.IN_PROGRESS
        else:
            run.complete(edited)
        return True

    def deadline(self, task: Task) -> int | None:
        return total_deadline(task) if task.status == TaskStatus.IN_PROGRESS else None
