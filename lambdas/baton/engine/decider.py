"""The decider: given a workflow and the time, what changes and what to do after the commit.

`decide` is deterministic and does no I/O, as Conductor's DeciderService: the same state and
clock always give the same decision (task ids included), so a commit that loses a race can
simply be decided again on fresh state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from baton.engine import endings
from baton.engine.definitions import JsonObject, WorkflowDef
from baton.engine.effects import ArmTimer, Effect
from baton.engine.params import java_text
from baton.engine.run import DecisionBudget, Run, TooManyTasks, ValueTooDeep, WorkflowFails
from baton.engine.state import Task, TaskStatus, Workflow, WorkflowStatus, base_reference
from baton.engine.tasks import UnknownTaskType, schedule, task_type_for

# Passes over the task list in one decision before it stops; each pass must change something,
# so this only bounds pathological definitions.
_MAX_PASSES = 100_000


@dataclass
class Decision:
    """The outcome of one decision: the new state, what changed in it, and the effects."""

    workflow: Workflow
    changed_tasks: list[Task] = field(default_factory=list)
    new_task_ids: frozenset[str] = frozenset()
    # Stored tasks this decision took out of the workflow: the store deletes them.
    removed_tasks: list[Task] = field(default_factory=list)
    workflow_changed: bool = False
    effects: list[Effect] = field(default_factory=list)
    # A restart or rerun: the workflow's tasks replace every task stored before (all of them
    # are written anew, at `workflow.tasks_from_revision`).
    fresh_task_set: bool = False

    @property
    def changed(self) -> bool:
        return self.workflow_changed or bool(self.changed_tasks) or bool(self.removed_tasks)


@dataclass(frozen=True)
class TaskUpdate:
    """A result reported from outside: a worker, the task API or an event handler action."""

    status: TaskStatus
    output: JsonObject | None = None
    reason_for_incompletion: str | None = None
    # Replace the output (TaskResult, complete_task) or merge into it (update by reference).
    merge_output: bool = False
    worker_id: str | None = None
    # A worker's IN_PROGRESS result (a TaskResult, whose callbackAfterSeconds defaults to 0)
    # puts a worker task back in its queue, pollable again after this many seconds, as
    # Conductor does. None: the update does not requeue (the task stays IN_PROGRESS).
    requeue_after_seconds: int | None = None
    # A heartbeat (TaskResult.extendLease): the worker still holds the task; only its
    # response timeout starts again.
    extend_lease: bool = False
    # Lines the worker logged (TaskResult.logs); kept beside the task, not in it.
    logs: tuple[str, ...] = ()


def _finish(run: Run) -> Decision:
    endings.child_terminations(run)
    endings.ending_effects(run)
    endings.carry_workflow_deadline(run)
    removed = run.take_out_removed()
    changed = sorted(run.changed.values(), key=lambda t: t.seq)
    # Every open task this decision touched that must be looked at again at some time (a
    # WAIT's end, a worker task's timeouts) gets a timer; a deadline that only repairs is
    # left to the sweep (it is in the due index with the commit).
    armed = {e.task_id for e in run.effects if isinstance(e, ArmTimer) and not e.carry_over}
    if run.workflow.status == WorkflowStatus.RUNNING:
        for task in changed:
            if task.status.is_terminal or task.task_id in armed:
                continue
            kind = task_type_for(task)
            deadline = kind.deadline(task)
            if deadline is not None and not kind.deadline_is_repair(task):
                run.effects.append(ArmTimer(task_id=task.task_id, due_at=deadline))
    return Decision(
        workflow=run.workflow,
        changed_tasks=changed,
        new_task_ids=frozenset(run.new_ids),
        removed_tasks=removed,
        workflow_changed=run.workflow_changed or bool(changed),
        effects=list(run.effects),
    )


def start(
    definition: WorkflowDef,
    *,
    workflow_id: str,
    workflow_input: JsonObject,
    now: int,
    correlation_id: str | None = None,
    priority: int = 0,
    task_to_domain: dict[str, str] | None = None,
    event: str | None = None,
    idempotency_key: str | None = None,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
    parent_workflow_id: str | None = None,
    parent_workflow_task_id: str | None = None,
) -> Decision:
    """A new workflow instance, decided once: its first tasks scheduled."""
    workflow_input = {
        **{k: v for k, v in definition.input_template.items() if k not in workflow_input},
        **workflow_input,
    }
    workflow = Workflow(
        workflow_id=workflow_id,
        definition=definition,
        status=WorkflowStatus.RUNNING,
        create_time=now,
        update_time=now,
        input=workflow_input,
        variables=dict(definition.variables),
        correlation_id=correlation_id,
        priority=priority,
        task_to_domain=dict(task_to_domain or {}),
        event=event,
        idempotency_key=idempotency_key,
        parent_workflow_id=parent_workflow_id,
        parent_workflow_task_id=parent_workflow_task_id,
    )
    decision = decide(workflow, now, event_queues=event_queues, budget=budget)
    decision.workflow_changed = True
    return decision


def decide(
    workflow: Workflow,
    now: int,
    *,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
) -> Decision:
    """Move `workflow` as far as it can go at time `now` (epoch ms), within `budget`.

    `event_queues`, when given, are the SQS queues an `sqs:` sink may name; an EVENT task with
    any other queue fails instead of publishing into the void. A decision that spends its
    budget stops with a timer, due at once, for the next one (`Run.carry_over`).
    """
    run = Run(workflow, now, event_queues=event_queues, budget=budget)
    _advance(run)
    return _finish(run)


def _advance(run: Run) -> None:
    wf = run.workflow
    timeout = endings.timed_out(run)
    if timeout is not None:
        run.end_workflow(WorkflowStatus.TIMED_OUT, reason=timeout, output=_workflow_output(run))
        return
    if wf.status != WorkflowStatus.RUNNING:
        return
    try:
        if not wf.tasks:
            if not wf.definition.tasks:
                _complete_workflow(run)
                return
            schedule(run, wf.definition.tasks[0], 0)
        for _ in range(_MAX_PASSES):
            if not _one_pass(run) or wf.status != WorkflowStatus.RUNNING:
                break
        if run.carried_over is not None:
            return
        if wf.status == WorkflowStatus.RUNNING and _all_done(wf):
            _complete_workflow(run)
    except (WorkflowFails, UnknownTaskType) as error:
        run.end_workflow(WorkflowStatus.FAILED, reason=str(error))
    except ValueTooDeep as error:
        run.end_workflow(WorkflowStatus.FAILED, reason=str(error))
    except TooManyTasks:
        run.end_workflow(
            WorkflowStatus.FAILED,
            reason=f"Workflow has more than {len(wf.tasks)} task instances; a loop may not end",
        )


def _one_pass(run: Run) -> bool:
    """Act once on every open task; True when something changed and another pass may help."""
    progressed = False
    # New tasks appended during the pass are handled in the next pass.
    tasks = run.workflow.tasks
    # Tasks found done are left out of later passes (one acted on now is found so next pass).
    done: list[int] = []
    try:
        for position in list(run.open_positions):
            task = tasks[position]
            if task.retried or (task.status.is_terminal and task.executed):
                done.append(position)
                continue
            if not run.take_step():
                run.carry_over(task)
                return False
            if _act_on(run, task):
                progressed = run.budget.progressed = True
            if run.workflow.status != WorkflowStatus.RUNNING:
                return False
        return progressed
    finally:
        if done:
            run.forget(done)


def _act_on(run: Run, current: Task) -> bool:
    """Run one open task, or act on its end; True when something changed."""
    progressed = False
    if not current.status.is_terminal:
        progressed = task_type_for(current).execute(run, current)
        current = run.changed.get(current.task_id, current)
    if current.status.is_terminal and not current.executed:
        _after_terminal(run, current)
        progressed = True
    return progressed


def _after_terminal(run: Run, task: Task) -> None:
    """Act on a task that has just ended: retry it, fail the workflow, or schedule what's next."""
    task = run.edit(task)
    task.executed = True
    if not task.status.is_successful:
        if _retry(run, task):
            return
        if task.workflow_task.optional:
            task.status = TaskStatus.COMPLETED_WITH_ERRORS
        else:
            _fail_workflow(run, task)
            return
    following = task_type_for(task).next_after_success(run, task)
    if following is None:
        return
    iteration = 0 if task.workflow_task.type == "DO_WHILE" else task.iteration
    reference = following.task_reference_name
    if iteration:
        reference = f"{reference}__{iteration}"
    if run.task_for_ref(reference) is None:
        schedule(run, following, iteration)


def _retry(run: Run, task: Task) -> bool:
    if not task.status.is_retriable:
        return False
    task_def = task.workflow_task.task_definition
    if task.workflow_task.retry_count is not None:
        allowed = task.workflow_task.retry_count
    elif task_def is not None:
        allowed = task_def.retry_count
    else:
        allowed = 0  # no TaskDef: Conductor gives such a task no retries
    if task.retry_count >= allowed or not task_type_for(task).retriable:
        return False
    delay = 0
    if task_def is not None:
        base = task_def.retry_delay_seconds
        if task_def.retry_logic == "LINEAR_BACKOFF":
            delay = base * task_def.backoff_scale_factor * (task.retry_count + 1)
        elif task_def.retry_logic == "EXPONENTIAL_BACKOFF":
            delay = base * (2**task.retry_count)
        else:
            delay = base
        if task_def.max_retry_delay_seconds:
            delay = min(delay, task_def.max_retry_delay_seconds)
    task.retried = True
    definition = task.workflow_task
    retried = run.new_task(
        definition,
        iteration=task.iteration,
        status=TaskStatus.SCHEDULED,
        task_type=task.task_type,
        retry_count=task.retry_count + 1,
    )
    retried.input_data = dict(task.input_data)
    retried.retried_task_id = task.task_id
    # Queued again by Conductor's domain rule: a fallback list may land elsewhere now.
    if task_type_for(task).polled_by_workers:
        retried.domain = run.domain_for(task.task_type)
    retried.callback_after_seconds = delay
    run.add(retried)
    return True


def _fail_workflow(run: Run, task: Task) -> None:
    status = {
        TaskStatus.TIMED_OUT: WorkflowStatus.TIMED_OUT,
        TaskStatus.CANCELED: WorkflowStatus.TERMINATED,
    }.get(task.status, WorkflowStatus.FAILED)
    # Conductor's message names the workflow's new status and prints a missing reason as null.
    reason = (
        f"Task {task.task_id} failed with status: {status.value} and reason: "
        f"'{java_text(task.reason_for_incompletion)}'"
    )
    run.workflow.failed_task_id = task.task_id
    run.end_workflow(status, reason=reason, output=_workflow_output(run, task))


def _all_done(workflow: Workflow) -> bool:
    return all(t.retried or (t.status.is_terminal and t.executed) for t in workflow.tasks)


def _workflow_output(run: Run, last: Task | None = None) -> JsonObject:
    """The definition's outputParameters resolved, else the output of `last` (by default the
    last task in the workflow), as Conductor's updateWorkflowOutput computes it."""
    wf = run.workflow
    if wf.definition.output_parameters:
        return run.resolve(wf.definition.output_parameters)
    if last is None:
        last = next((t for t in reversed(wf.tasks) if not t.retried), None)
    return dict(last.output_data) if last else {}


def _complete_workflow(run: Run) -> None:
    run.end_workflow(WorkflowStatus.COMPLETED, output=_workflow_output(run))


# -- changes from outside --------------------------------------------------------------------


def find_task(
    workflow: Workflow, *, task_id: str | None = None, reference: str | None = None
) -> Task | None:
    """The task an update is for: by id, else the pending task with that reference.

    A reference names a loop task of any iteration (`ref` finds `ref__3`); the latest
    iteration wins, and a pending instance is preferred to an ended one.
    """
    if task_id:
        return workflow.task_by_id(task_id)
    if not reference:
        return None
    candidates = [
        t
        for t in workflow.tasks
        if not t.retried
        and (
            t.reference_task_name == reference or base_reference(t.reference_task_name) == reference
        )
    ]
    pending = [t for t in candidates if not t.status.is_terminal]
    chosen = pending or candidates
    return max(chosen, key=lambda t: (t.iteration, t.seq)) if chosen else None


def update_task(
    workflow: Workflow,
    task_id: str,
    update: TaskUpdate,
    now: int,
    *,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
) -> Decision:
    """Apply a task result, then decide. An update to an ended task or workflow changes nothing."""
    task = workflow.task_by_id(task_id)
    if not _takes_update(workflow, task, update):
        return Decision(workflow=workflow)
    assert task is not None
    run = Run(workflow, now, event_queues=event_queues, budget=budget)
    _apply_update(run, task, update)
    if update.extend_lease:
        return _finish(run)
    _advance(run)
    return _finish(run)


def updated_task(workflow: Workflow, task_id: str, update: TaskUpdate, now: int) -> Task | None:
    """The task as `update` leaves it before any decision acts on it; None when the update
    changes nothing. A store may write this task alone when the update's decision loses a
    race: the next decision acts on it exactly as `update_task`'s decision would have."""
    task = workflow.task_by_id(task_id)
    if not _takes_update(workflow, task, update):
        return None
    assert task is not None
    return _apply_update(Run(workflow, now), task, update)


def _takes_update(workflow: Workflow, task: Task | None, update: TaskUpdate) -> bool:
    if task is None or task.status.is_terminal or workflow.status.is_terminal:
        return False
    # Only a task a worker holds has a lease.
    return not update.extend_lease or task.status == TaskStatus.IN_PROGRESS


def _apply_update(run: Run, task: Task, update: TaskUpdate) -> Task:
    edited = run.edit(task)  # its updateTime is now: the response timeout counts from here
    if update.extend_lease:
        return edited
    now = run.now
    if update.output is not None:
        edited.output_data = (
            {**edited.output_data, **update.output} if update.merge_output else dict(update.output)
        )
    if update.worker_id:
        edited.worker_id = update.worker_id
    if update.status.is_terminal:
        run.complete(edited, update.status, update.reason_for_incompletion)
    elif (
        update.status == TaskStatus.IN_PROGRESS
        and update.requeue_after_seconds is not None
        and task_type_for(edited).polled_by_workers
    ):
        edited.status = TaskStatus.SCHEDULED
        edited.callback_after_seconds = max(0, update.requeue_after_seconds)
        if update.reason_for_incompletion:
            edited.reason_for_incompletion = update.reason_for_incompletion
    else:
        edited.status = update.status
        if update.status == TaskStatus.IN_PROGRESS and not edited.start_time:
            edited.start_time = now  # taken by a worker: its timeouts count from here
        if update.reason_for_incompletion:
            edited.reason_for_incompletion = update.reason_for_incompletion
    return edited


def hand_out(task: Task, worker_id: str | None, now: int) -> Task:
    """The task as a poll hands it to a worker (Conductor's ExecutionService.poll): IN_PROGRESS,
    started now unless it was started before (a callback puts it back), polled once more."""
    return replace(
        task,
        status=TaskStatus.IN_PROGRESS,
        start_time=task.start_time or now,
        update_time=now,
        worker_id=worker_id,
        poll_count=task.poll_count + 1,
        callback_after_seconds=0,
    )


def terminate(workflow: Workflow, reason: str | None, now: int) -> Decision:
    """End a running or paused workflow as TERMINATED; its pending tasks are CANCELED (and
    their children terminated). As Conductor's terminate API, no failure workflow starts."""
    run = Run(workflow, now)
    run.failure_workflow_allowed = False
    if not workflow.status.is_terminal:
        run.end_workflow(WorkflowStatus.TERMINATED, reason=reason, output=_workflow_output(run))
    return _finish(run)


def pause(workflow: Workflow, now: int) -> Decision:
    run = Run(workflow, now)
    if workflow.status == WorkflowStatus.RUNNING:
        run.workflow.status = WorkflowStatus.PAUSED
        run.touch_workflow()
    return _finish(run)


def resume(
    workflow: Workflow,
    now: int,
    *,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
) -> Decision:
    run = Run(workflow, now, event_queues=event_queues, budget=budget)
    if workflow.status == WorkflowStatus.PAUSED:
        run.workflow.status = WorkflowStatus.RUNNING
        run.touch_workflow()
        _advance(run)
    return _finish(run)


def update_variables(
    workflow: Workflow,
    variables: JsonObject,
    now: int,
    *,
    append_array: bool = False,
    event_queues: frozenset[str] | None = None,
    budget: DecisionBudget | None = None,
) -> Decision:
    """Merge `variables` into the workflow's (the `update_workflow_variables` action).

    With `append_array`, a list value is appended to the list already held under its name.
    """
    run = Run(workflow, now, event_queues=event_queues, budget=budget)
    if workflow.status.is_terminal:
        return _finish(run)
    merged = dict(run.workflow.variables)
    for name, value in variables.items():
        current = merged.get(name)
        if append_array and isinstance(current, list):
            merged[name] = [*current, *(value if isinstance(value, list) else [value])]
        else:
            merged[name] = value
    run.workflow.variables = merged
    run.touch_workflow()
    _advance(run)
    return _finish(run)
