"""Operators' changes to a workflow: retry, restart, rerun, skip a task, reset callbacks.

Conductor's WorkflowExecutorOps, as pure decisions: each takes the workflow as loaded and the
time, refuses what Conductor refuses (with Conductor's words), and returns a Decision the store
commits on the workflow's revision like any other, so an operation racing a task update or
another operation is decided again on the new state rather than overwriting it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from baton.engine import decider
from baton.engine.decider import Decision, _advance, _finish
from baton.engine.definitions import JsonObject, WorkflowDef
from baton.engine.run import DecisionBudget, Run
from baton.engine.state import Task, TaskStatus, Workflow, WorkflowStatus, task_id_for
from baton.engine.tasks import task_type_for
from baton.errors import BadRequest, Conflict, NotFound

# Tasks that hold others open: reopened (IN_PROGRESS) rather than run again.
_CONTAINERS = frozenset({"JOIN", "DO_WHILE"})
# Types whose scheduling starts other tasks with them.
_STARTS_OTHERS = frozenset({"FORK_JOIN", "DO_WHILE", "SWITCH", "DECISION"})
_RETRIED_STATUSES = frozenset(
    {TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR, TaskStatus.TIMED_OUT}
)


@dataclass(frozen=True)
class RerunRequest:
    """Conductor's RerunWorkflowRequest (its reRunFromWorkflowId is the path's id)."""

    rerun_from_task_id: str | None = None
    task_input: JsonObject | None = None
    workflow_input: JsonObject | None = None
    correlation_id: str | None = None


def _reopen(run: Run, task: Task) -> None:
    """A JOIN or DO_WHILE that ended with the run is open again, to wait for its tasks."""
    edited = run.edit(task)
    edited.status = TaskStatus.IN_PROGRESS
    edited.executed = False
    edited.end_time = 0
    edited.reason_for_incompletion = None
    run.open_positions.append(run.workflow.tasks.index(edited))


def _running_again(run: Run) -> None:
    workflow = run.workflow
    workflow.status = WorkflowStatus.RUNNING
    workflow.reason_for_incompletion = None
    workflow.end_time = 0
    run.touch_workflow()


def retry(
    workflow: Workflow,
    now: int,
    *,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
    resumed_children: frozenset[str] = frozenset(),
) -> Decision:
    """Run again the last attempt of each task that failed, timed out or was canceled, as
    Conductor's retry does; a JOIN or DO_WHILE canceled with the workflow is reopened.

    With `resumed_children` (the ids of children retried by `resumeSubworkflowTasks`), this is
    Conductor's updateAndPushParents instead: each SUB_WORKFLOW task of one of those children
    is IN_PROGRESS again, waiting for it, and of the other tasks only the canceled ones run
    again."""
    if not workflow.status.is_terminal:
        # Conductor answers this with its NotFoundException (404), and so does Baton.
        raise NotFound(f"Workflow is still running.  status={workflow.status.value}")
    if not workflow.tasks:
        raise Conflict("Workflow has not started yet")
    run = Run(workflow, now, event_queues=event_queues, budget=budget)
    retriable: dict[str, Task] = {}
    reopened: list[Task] = []
    resumed: list[Task] = []
    for task in workflow.tasks:
        if task.retried:
            continue
        container = task_type_for(task).name in _CONTAINERS
        unsuccessful = task.status.is_terminal and not task.status.is_successful
        if unsuccessful and task.sub_workflow_id in resumed_children:
            resumed.append(task)
            retriable.pop(task.reference_task_name, None)
        elif container and unsuccessful:
            reopened.append(task)  # it waits again for the tasks it holds
        elif resumed_children and task.status != TaskStatus.CANCELED:
            retriable.pop(task.reference_task_name, None)
        elif task.status in _RETRIED_STATUSES or task.status == TaskStatus.CANCELED:
            retriable[task.reference_task_name] = task
        else:
            retriable.pop(task.reference_task_name, None)
    if resumed_children and not resumed:
        raise Conflict("None of this workflow's SUB_WORKFLOW tasks waits for the retried child")
    if not retriable and not resumed and workflow.status != WorkflowStatus.TIMED_OUT:
        raise Conflict(
            "There are no retryable tasks! Use restart if you want to attempt entire workflow "
            "execution again."
        )
    _running_again(run)
    run.workflow.last_retried_time = now
    if resumed:
        run.workflow.failed_task_id = None
    for task in reopened:
        _reopen(run, task)
    for task in resumed:
        _reopen(run, task)  # IN_PROGRESS again, waiting for its retried child
    for task in sorted(retriable.values(), key=lambda t: t.seq):
        _reschedule(run, task)
    _advance(run)
    decision = _finish(run)
    decision.workflow_changed = True
    return decision


def _reschedule(run: Run, task: Task) -> None:
    """A new attempt of `task` (one more retry, a new id); the old one is marked retried."""
    old = run.edit(task)
    old.retried = True
    old.executed = True
    attempt = _new_attempt(run, task, task.retry_count + 1, dict(task.input_data))
    attempt.retried_task_id = task.task_id


def _new_attempt(run: Run, task: Task, retry_count: int, input_data: JsonObject) -> Task:
    """`task` scheduled again by its own type (a WAIT waits again, a worker task is queued in
    its domain), under the id of this attempt, with `input_data`."""
    kind = task_type_for(task)
    if retry_count and kind.name in _STARTS_OTHERS:
        # Scheduling it would start its first tasks again under ids they hold already.
        created = []
    else:
        created = kind.schedule(run, task.workflow_task, task.iteration)
    if len(created) > 1 and retry_count == 0:
        # A rerun from a FORK_JOIN or DO_WHILE: it starts again with what it starts, as when
        # it was first scheduled (the ids are the new run's).
        for started in created:
            if started.task_id not in run.changed:
                run.add(started)
        return created[0]
    if len(created) == 1:
        attempt = created[0]
    else:  # a retried container that starts several tasks: it alone runs again
        attempt = replace(
            created[0] if created else task,
            status=TaskStatus.SCHEDULED,
            start_time=0,
            end_time=0,
            output_data={},
            executed=False,
            retried=False,
        )
    placeholder = attempt.task_id
    attempt.task_id = task_id_for(
        run.workflow.workflow_id,
        task.reference_task_name,
        retry_count,
        run.workflow.tasks_from_revision,
    )
    attempt.retry_count = retry_count
    attempt.input_data = input_data
    # What the type's scheduling asked for (a WAIT's timer) is for this attempt's id.
    run.effects = [
        replace(e, task_id=attempt.task_id) if e.task_id == placeholder else e for e in run.effects
    ]
    run.add(attempt)
    return attempt


def restart(
    workflow: Workflow,
    definition: WorkflowDef,
    now: int,
    *,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
) -> Decision:
    """The workflow from its first task again, with the same id and input (Conductor's
    restart); `definition` is its own, or the latest when asked for."""
    if not workflow.status.is_terminal:
        raise Conflict(
            f"Workflow: {workflow.workflow_id} is not in terminal state, unable to restart."
        )
    if not definition.restartable and workflow.status == WorkflowStatus.COMPLETED:
        # Conductor refuses with its NotFoundException (404), and so does Baton.
        raise NotFound(f"Workflow: {workflow.workflow_id} is non-restartable")
    fresh = replace(
        workflow,
        definition=definition,
        create_time=now,
        output={},
        failed_reference_task_names=[],
        last_retried_time=0,
    )
    return _fresh_run(fresh, [], now, event_queues=event_queues, budget=budget)


def rerun(
    workflow: Workflow,
    request: RerunRequest,
    now: int,
    *,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
) -> Decision:
    """Run the workflow again from one of its tasks (or, with none named, from the start),
    keeping what ran before that task (Conductor's rerun)."""
    if not workflow.status.is_terminal:
        raise Conflict(
            f"Workflow: {workflow.workflow_id} is not in terminal state, unable to rerun."
        )
    changed = replace(
        workflow,
        input=request.workflow_input if request.workflow_input is not None else workflow.input,
        correlation_id=request.correlation_id or workflow.correlation_id,
        failed_reference_task_names=[],
    )
    if request.rerun_from_task_id is None:
        return _fresh_run(changed, [], now, event_queues=event_queues, budget=budget)
    start = workflow.task_by_id(request.rerun_from_task_id)
    if start is None:
        raise BadRequest(f"Task {request.rerun_from_task_id} not found")
    kept = [t for t in workflow.tasks if t.seq < start.seq]
    return _fresh_run(
        changed,
        kept,
        now,
        event_queues=event_queues,
        budget=budget,
        rerun_from=start,
        task_input=request.task_input,
    )


def _fresh_run(
    workflow: Workflow,
    kept: list[Task],
    now: int,
    *,
    event_queues: frozenset[str] | None,
    budget: DecisionBudget | None,
    rerun_from: Task | None = None,
    task_input: JsonObject | None = None,
) -> Decision:
    """The workflow RUNNING on a new task set: `kept` (written again as they are), then what
    the decider schedules. Every task of the new set is new to the store."""
    epoch = workflow.revision + 1  # the revision this decision commits at
    fresh = replace(
        workflow,
        status=WorkflowStatus.RUNNING,
        reason_for_incompletion=None,
        end_time=0,
        tasks=[_stored_anew(t) for t in kept],
        tasks_from_revision=epoch,
    )
    run = Run(fresh, now, event_queues=event_queues, budget=budget)
    run.touch_workflow()
    for task in list(run.workflow.tasks):
        run.changed[task.task_id] = task
        run.new_ids.add(task.task_id)
        if task.status.is_terminal and not task.status.is_successful:
            # As Conductor's finalizeRerun: what ended unsuccessfully before the rerun task
            # runs again (a JOIN or DO_WHILE waits again).
            if task_type_for(task).name in _CONTAINERS:
                _reopen(run, task)
            elif not task.retried:
                _reschedule(run, task)
    if rerun_from is not None:
        _new_attempt(
            run,
            rerun_from,
            0,
            dict(task_input) if task_input is not None else dict(rerun_from.input_data),
        )
    _advance(run)
    decision = _finish(run)
    decision.workflow_changed = True
    decision.fresh_task_set = True
    decision.changed_tasks = sorted(
        {t.task_id: t for t in [*decision.changed_tasks, *decision.workflow.tasks]}.values(),
        key=lambda t: t.seq,
    )
    decision.new_task_ids = frozenset(t.task_id for t in decision.workflow.tasks)
    return decision


def _stored_anew(task: Task) -> Task:
    return replace(task, version=0, created_revision=0, store_key="", pending_effect=False)


def skip_task(
    workflow: Workflow,
    reference: str,
    now: int,
    *,
    task_input: JsonObject | None = None,
    task_output: JsonObject | None = None,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
) -> Decision:
    """Mark a task of the definition that has not been scheduled yet SKIPPED, so that the
    workflow passes over it when it gets there (Conductor's skipTaskFromWorkflow)."""
    if workflow.status != WorkflowStatus.RUNNING:
        raise Conflict(
            f"The workflow {workflow.workflow_id} is not running so the task referenced by "
            f"{reference} cannot be skipped"
        )
    definition = next(
        (t for t in workflow.definition.all_tasks() if t.task_reference_name == reference), None
    )
    if definition is None:
        raise Conflict(
            f"The task referenced by {reference} does not exist in the WorkflowDefinition "
            f"{workflow.definition.name}"
        )
    if any(t.reference_task_name == reference for t in workflow.tasks):
        raise Conflict(
            f"The task referenced {reference} has already been processed, cannot be skipped"
        )
    run = Run(workflow, now, event_queues=event_queues, budget=budget)
    skipped = run.new_task(definition, iteration=0, status=TaskStatus.SKIPPED)
    skipped.input_data = dict(task_input or {})
    skipped.output_data = dict(task_output or {})
    skipped.end_time = now
    skipped.executed = True
    run.add(skipped)
    run.touch_workflow()
    _advance(run)
    return _finish(run)


def reset_callbacks(workflow: Workflow, now: int) -> Decision:
    """Worker tasks waiting out a `callbackAfterSeconds` become pollable at once."""
    if workflow.status.is_terminal:
        raise Conflict(f"Workflow is in terminal state. Status = {workflow.status.value}")
    run = Run(workflow, now)
    for task in workflow.tasks:
        if (
            task.status == TaskStatus.SCHEDULED
            and task.callback_after_seconds > 0
            and task_type_for(task).name == "SIMPLE"
        ):
            run.edit(task).callback_after_seconds = 0
    return _finish(run)


def failed_subworkflow_ids(workflow: Workflow) -> list[str]:
    """What `retry` with `resumeSubworkflowTasks` retries instead of the workflow's own tasks,
    as Conductor's: when the first task that ended unsuccessfully is a SUB_WORKFLOW, its child
    and the children of the other SUB_WORKFLOW tasks that ended so; otherwise nothing."""
    failed = [
        task
        for task in workflow.tasks
        if not task.retried and task.status.is_terminal and not task.status.is_successful
    ]
    if not failed or failed[0].task_type != "SUB_WORKFLOW":
        return []
    return [
        task.sub_workflow_id
        for task in failed
        if task.task_type == "SUB_WORKFLOW"
        and task.sub_workflow_id
        and task.status != TaskStatus.CANCELED
    ]


def terminate(workflow: Workflow, reason: str | None, now: int) -> Decision:
    """Conductor's terminateWorkflow: a COMPLETED workflow is refused, a TERMINATED one is
    left as it is, a FAILED or TIMED_OUT one becomes TERMINATED (its tasks ended already)."""
    if workflow.status == WorkflowStatus.COMPLETED:
        raise Conflict("Cannot terminate a COMPLETED workflow.")
    if workflow.status == WorkflowStatus.TERMINATED:
        return Decision(workflow=workflow)
    if not workflow.status.is_terminal:
        return decider.terminate(workflow, reason, now)
    run = Run(workflow, now)
    # The terminate API starts no failure workflow (the failure already started one).
    run.failure_workflow_allowed = False
    run.workflow.status = WorkflowStatus.TERMINATED
    if reason is not None:
        run.workflow.reason_for_incompletion = reason
    run.touch_workflow()
    return _finish(run)
