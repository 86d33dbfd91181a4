"""One decision in progress: a copy-on-write view of a workflow and what has changed in it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from baton.engine import js, params
from baton.engine.definitions import JsonObject, TaskDef, WorkflowDef, WorkflowTask
from baton.engine.effects import ArmTimer, Effect
from baton.engine.limits import MAX_JSON_DEPTH, json_depth_exceeds
from baton.engine.state import (
    Task,
    TaskStatus,
    Workflow,
    WorkflowStatus,
    base_reference,
    loop_reference,
    task_id_for,
)

ContainerKind = Literal["top", "fork", "case", "loop"]

_FAILED_STATUSES = frozenset({TaskStatus.FAILED, TaskStatus.FAILED_WITH_TERMINAL_ERROR})

# A decision's changes to tasks that were open when read take its commit's transaction (100
# items, the workflow item one of them), where their version conditions catch a worker or a
# poll changing them meanwhile: past this many (and the one it stops at, marked) the decision
# stops and the next goes on. An ending, which cancels every open task, is one step and never
# cut (its cancellations may follow the commit: they read so anyway).
MAX_OPEN_TASKS_CHANGED = 90

# A workflow that grows past this many task instances is failed rather than left to grow
# without end (a DO_WHILE whose body finishes at once and whose condition never turns false).
MAX_TASKS_PER_WORKFLOW = 25_000


@dataclass
class DecisionBudget:
    """The most work one decision may do before it stops and leaves the rest to the next.

    Conductor decides a loop one iteration at a time; Baton moves a workflow as far as it can
    in one decision, and this keeps "as far as it can" bounded, so a request is answered in
    seconds whatever the definition does: a DO_WHILE of a thousand quick iterations, or one
    whose condition takes most of its time limit. A decision checks the budget before each
    step (running one task or acting on one that ended), so it overruns by at most one step:
    a loop's condition and the scripts of what it schedules, each bounded by its own time
    limit. Until a step has changed something the budget is not checked (those steps are
    cheap looks at waiting tasks), so every decision moves the workflow on. `clock` is
    monotonic seconds.
    """

    max_steps: int = 1000
    max_new_tasks: int = 1000
    max_evaluations: int = 500
    max_seconds: float = 2.0
    clock: Callable[[], float] = time.monotonic
    steps: int = 0
    evaluations: int = 0
    # Whether a step has changed anything yet.
    progressed: bool = False
    started: float | None = field(default=None)

    def start(self) -> None:
        if self.started is None:
            self.started = self.clock()

    def spent(self, new_tasks: int) -> bool:
        """True when the decision must stop before its next step."""
        if (
            self.steps >= self.max_steps
            or new_tasks >= self.max_new_tasks
            or self.evaluations >= self.max_evaluations
        ):
            return True
        now = self.clock()
        return now - (self.started if self.started is not None else now) >= self.max_seconds


@dataclass(frozen=True)
class Position:
    """Where a task stands in its definition: the list holding it and what owns that list."""

    container: list[WorkflowTask]
    index: int
    kind: ContainerKind
    owner: WorkflowTask | None


class DefinitionIndex:
    """Positions of every task reference in a definition, built once per definition."""

    def __init__(self, definition: WorkflowDef) -> None:
        self.positions: dict[str, Position] = {}
        self._add(definition.tasks, "top", None)

    def _add(
        self, tasks: list[WorkflowTask], kind: ContainerKind, owner: WorkflowTask | None
    ) -> None:
        for i, task in enumerate(tasks):
            self.positions[task.task_reference_name] = Position(tasks, i, kind, owner)
            for branch in task.fork_tasks:
                self._add(branch, "fork", task)
            for case in task.decision_cases.values():
                self._add(case, "case", task)
            self._add(task.default_case, "case", task)
            self._add(task.loop_over, "loop", task)

    def task(self, reference: str) -> WorkflowTask:
        """The definition of a task instance (`ref__2` is defined by `ref`)."""
        position = self.positions.get(base_reference(reference))
        if position is None:
            raise KeyError(f"No task {reference} in this workflow's definition")
        return position.container[position.index]

    def next_after(self, reference: str) -> WorkflowTask | None:
        """The task that follows `reference` once it succeeds, or None where its list ends.

        The end of the workflow, of a fork branch (the JOIN waits) and of a loop body (the
        DO_WHILE decides) have nothing after them; a SWITCH case continues after the SWITCH.
        """
        position = self.positions.get(base_reference(reference))
        if position is None:
            return None
        if position.index + 1 < len(position.container):
            return position.container[position.index + 1]
        if position.kind == "case" and position.owner is not None:
            return self.next_after(position.owner.task_reference_name)
        return None


def definition_index(definition: WorkflowDef) -> DefinitionIndex:
    """The index of `definition`, cached on the definition object."""
    cached = definition.__dict__.get("_baton_index")
    if isinstance(cached, DefinitionIndex):
        return cached
    index = DefinitionIndex(definition)
    definition.__dict__["_baton_index"] = index
    return index


class ParameterDocument(Mapping[str, Any]):
    """The document `${...}` expressions read: `workflow` and each task by reference.

    Built lazily, key by key, so a fork of a thousand branches does not rebuild a thousand
    task views for every input it resolves.
    """

    def __init__(self, run: Run) -> None:
        self._run = run

    def __getitem__(self, key: str) -> Any:
        if key == "workflow":
            return self._run.workflow_view()
        task = self._run.latest_by_base.get(key)
        if task is None:
            raise KeyError(key)
        return task_view(task, self._run.workflow)

    def __iter__(self) -> Iterator[str]:
        yield "workflow"
        yield from self._run.latest_by_base

    def __len__(self) -> int:
        return 1 + len(self._run.latest_by_base)


def task_view(task: Task, workflow: Workflow) -> JsonObject:
    """What `${ref.<field>}` can read of a task."""
    return {
        "input": task.input_data,
        "output": task.output_data,
        "taskType": task.task_type,
        "status": task.status.value,
        "referenceTaskName": task.reference_task_name,
        "retryCount": task.retry_count,
        "correlationId": workflow.correlation_id,
        "pollCount": task.poll_count,
        "taskDefName": task.task_def_name,
        "scheduledTime": task.scheduled_time,
        "startTime": task.start_time,
        "endTime": task.end_time,
        "workflowInstanceId": workflow.workflow_id,
        "taskId": task.task_id,
        "reasonForIncompletion": task.reason_for_incompletion,
        "callbackAfterSeconds": task.callback_after_seconds,
        "workerId": task.worker_id,
        "iteration": task.iteration,
    }


NO_DOMAIN = "NO_DOMAIN"

# Whether a worker polled a (task type, domain) lately: what a domain fallback list tries.
LivePollers = Callable[[str, str], bool]


def _nobody_polls(task_type: str, domain: str) -> bool:
    return False


# The TaskDef registered under a name, for tasks named while the workflow runs (DYNAMIC, a
# dynamic fork's branches); the others' TaskDefs are snapshotted when the workflow starts.
TaskDefs = Callable[[str], TaskDef | None]


def _no_task_defs(name: str) -> TaskDef | None:
    return None


class Run:
    """A decision being made: copies what it changes, never mutates the state it was given."""

    def __init__(
        self,
        workflow: Workflow,
        now: int,
        *,
        event_queues: frozenset[str] | None = None,
        budget: DecisionBudget | None = None,
    ) -> None:
        self.now = now
        self.event_queues = event_queues
        self.budget = budget or DecisionBudget()
        self.budget.start()
        # Set when the budget ran out with work left: the task the next decision resumes at.
        self.carried_over: Task | None = None
        self.live_pollers: LivePollers = live_pollers_of_this_decision.get()
        self.task_defs: TaskDefs = task_defs_of_this_decision.get()
        # The state as given: what was open before this decision (a child to terminate).
        self.before = workflow
        # Whether a failing end starts the definition's failureWorkflow (a terminate by API
        # does not, as in Conductor).
        self.failure_workflow_allowed = True
        self.workflow = replace(
            workflow,
            tasks=list(workflow.tasks),
            variables=dict(workflow.variables),
            failed_reference_task_names=list(workflow.failed_reference_task_names),
        )
        self.index = definition_index(workflow.definition)
        self.effects: list[Effect] = []
        self.changed: dict[str, Task] = {}
        self.new_ids: set[str] = set()
        # Stored tasks open when read that this decision has changed (MAX_OPEN_TASKS_CHANGED).
        self.open_tasks_changed = 0
        # Tasks taken out of the workflow in this decision (a DO_WHILE's keepLastN).
        self.removed: dict[str, Task] = {}
        self.workflow_changed = False
        self._position = {t.task_id: i for i, t in enumerate(self.workflow.tasks)}
        # Positions of the tasks the decider may still have to act on, in order: a long
        # loop's thousands of finished iterations are not looked at again on every pass.
        self.open_positions = [
            i
            for i, t in enumerate(self.workflow.tasks)
            if not (t.retried or (t.status.is_terminal and t.executed))
        ]
        # Latest attempt of each task reference (`ref__2` separately from `ref__1`).
        self.latest_by_ref: dict[str, Task] = {}
        # Latest instance by definition reference: what `${ref...}` reads (loops: latest wins).
        self.latest_by_base: dict[str, Task] = {}
        for task in self.workflow.tasks:
            self._track(task)
        self.document = ParameterDocument(self)
        self._workflow_view: JsonObject | None = None
        # A carry-over is picked up by whatever decision comes next: clearing the mark
        # rewrites the task, which takes it out of the store's due index.
        for task in list(self.workflow.tasks):
            if task.continue_at:
                self.edit(task).continue_at = 0

    # -- reading ---------------------------------------------------------------------------

    def workflow_view(self) -> JsonObject:
        """What `${workflow.<field>}` can read."""
        if self._workflow_view is None:
            wf = self.workflow
            self._workflow_view = {
                "input": wf.input,
                "output": wf.output,
                "status": wf.status.value,
                "workflowId": wf.workflow_id,
                "parentWorkflowId": wf.parent_workflow_id,
                "parentWorkflowTaskId": wf.parent_workflow_task_id,
                "workflowType": wf.definition.name,
                "version": wf.definition.version,
                "correlationId": wf.correlation_id,
                "reasonForIncompletion": wf.reason_for_incompletion,
                "schemaVersion": wf.definition.schema_version,
                "variables": wf.variables,
                "taskToDomain": wf.task_to_domain,
                "createTime": wf.create_time,
            }
        return self._workflow_view

    def resolve(self, template: JsonObject, *, task_id: str | None = None) -> JsonObject:
        resolved = params.resolve(template, self.document, task_id=task_id)
        if json_depth_exceeds(resolved):
            raise ValueTooDeep(
                f"A parameter resolved to a value nested more than {MAX_JSON_DEPTH} levels deep"
            )
        return resolved if isinstance(resolved, dict) else {}

    def domain_for(self, task_type: str) -> str | None:
        """The task domain a new worker task of `task_type` is queued in (Conductor's
        setTaskDomains): the workflow's taskToDomain entry for the type, else its `*` entry;
        a comma-separated list takes its first domain with a live poller, else its last
        (`NO_DOMAIN` there means no domain)."""
        mapping = self.workflow.task_to_domain
        if task_type in mapping:
            listed = mapping[task_type]
        elif (mapping.get("*") or "").strip():
            listed = mapping["*"]
        else:
            return None
        domains = [d.strip() for d in (listed or "").split(",")]
        for domain in domains if len(domains) > 1 else ():
            if domain and domain.upper() != NO_DOMAIN and self.live_pollers(task_type, domain):
                return domain
        last = domains[-1]
        return None if not last or last.upper() == NO_DOMAIN else last

    def task_for_ref(self, reference: str) -> Task | None:
        return self.latest_by_ref.get(reference)

    # -- the budget ------------------------------------------------------------------------

    def take_step(self) -> bool:
        """Count one step; False when the budget is spent and the decision must stop.

        Steps are taken until one has changed something, so every decision moves the
        workflow on, however long the load before it took.
        """
        budget = self.budget
        if budget.progressed and (
            budget.spent(len(self.new_ids)) or self.open_tasks_changed >= MAX_OPEN_TASKS_CHANGED
        ):
            return False
        budget.steps += 1
        return True

    def evaluate(self, expression: str, bindings: Mapping[str, Any]) -> Any:
        """A script evaluation, counted against the budget."""
        self.budget.evaluations += 1
        return js.evaluate(expression, bindings)

    def carry_over(self, task: Task) -> None:
        """Stop here: the next decision, due at once, resumes at `task`.

        The timer is an effect after the commit like any other; the mark on the task puts it
        in the store's due index, so the sweep wakes the workflow if the timer is lost.
        """
        edited = self.edit(task)
        edited.continue_at = self.now
        self.carried_over = edited
        self.effects.append(ArmTimer(task_id=edited.task_id, due_at=self.now, carry_over=True))

    # -- writing ---------------------------------------------------------------------------

    def _track(self, task: Task) -> None:
        if task.retried:
            return
        self.latest_by_ref[task.reference_task_name] = task
        base = base_reference(task.reference_task_name)
        current = self.latest_by_base.get(base)
        if current is None or task.iteration >= current.iteration:
            self.latest_by_base[base] = task

    def edit(self, task: Task) -> Task:
        """A copy of `task` that this decision may change (the same copy on later calls)."""
        if task.task_id in self.changed:
            return self.changed[task.task_id]
        copy = replace(task, update_time=self.now)
        if task.stored_status is not None and not task.stored_status.is_terminal:
            self.open_tasks_changed += 1
        self.changed[copy.task_id] = copy
        self.workflow.tasks[self._position[copy.task_id]] = copy
        self._track(copy)
        return copy

    def forget(self, done: list[int]) -> None:
        """Take the positions of tasks found done out of the open positions."""
        gone = set(done)
        self.open_positions = [p for p in self.open_positions if p not in gone]

    def add(self, task: Task) -> None:
        if len(self.workflow.tasks) >= MAX_TASKS_PER_WORKFLOW:
            raise TooManyTasks
        self._position[task.task_id] = len(self.workflow.tasks)
        self.open_positions.append(len(self.workflow.tasks))
        self.workflow.tasks.append(task)
        self.changed[task.task_id] = task
        self.new_ids.add(task.task_id)
        self._track(task)

    def remove(self, task: Task) -> None:
        """Take `task` out of the workflow once this decision ends (Conductor's removeTask).

        It stays in the task list until then, so positions the decision holds stay valid.
        """
        self.removed[task.task_id] = self.workflow.tasks[self._position[task.task_id]]

    def take_out_removed(self) -> list[Task]:
        """Drop the removed tasks from the workflow; returns those the store holds."""
        if not self.removed:
            return []
        self.workflow.tasks = [t for t in self.workflow.tasks if t.task_id not in self.removed]
        for task_id in self.removed:
            self.changed.pop(task_id, None)
            self.new_ids.discard(task_id)
        self.workflow_changed = True
        return [t for t in self.removed.values() if t.store_key]

    def touch_workflow(self) -> None:
        self.workflow_changed = True
        self._workflow_view = None
        self.workflow.update_time = self.now

    def new_task(
        self,
        definition: WorkflowTask,
        *,
        iteration: int,
        status: TaskStatus,
        task_type: str | None = None,
        retry_count: int = 0,
        extra_input: JsonObject | None = None,
    ) -> Task:
        """A task instance for `definition`, its input resolved against the workflow now."""
        reference = (
            loop_reference(definition.task_reference_name, iteration)
            if iteration
            else definition.task_reference_name
        )
        task_id = task_id_for(
            self.workflow.workflow_id, reference, retry_count, self.workflow.tasks_from_revision
        )
        template = definition.input_parameters
        task_def = definition.task_definition
        if task_def is not None and task_def.input_template:
            template = {**task_def.input_template, **template}
        input_data = self.resolve(template, task_id=task_id)
        if extra_input:
            input_data.update(extra_input)
        return Task(
            task_id=task_id,
            reference_task_name=reference,
            task_type=task_type or definition.type,
            task_def_name=definition.name,
            status=status,
            workflow_task=definition,
            seq=len(self.workflow.tasks) + 1,
            scheduled_time=self.now,
            input_data=input_data,
            update_time=self.now,
            retry_count=retry_count,
            iteration=iteration,
        )

    def complete(
        self, task: Task, status: TaskStatus = TaskStatus.COMPLETED, reason: str | None = None
    ) -> Task:
        edited = self.edit(task)
        edited.status = status
        if not edited.start_time:
            edited.start_time = self.now
        edited.end_time = self.now
        if reason is not None:
            edited.reason_for_incompletion = reason
        return edited

    def end_workflow(
        self,
        status: WorkflowStatus,
        *,
        reason: str | None = None,
        output: JsonObject | None = None,
    ) -> None:
        """Close the workflow; what still runs in it is CANCELED.

        As Conductor does on every ending, the references of tasks that FAILED (terminal error
        included, retried attempts too) are added to the workflow's failed reference names.
        """
        wf = self.workflow
        wf.status = status
        wf.end_time = self.now
        if reason is not None:
            wf.reason_for_incompletion = reason
        if output is not None:
            wf.output = output
        failed = [t.reference_task_name for t in wf.tasks if t.status in _FAILED_STATUSES]
        if failed:
            wf.failed_reference_task_names = list(
                dict.fromkeys([*wf.failed_reference_task_names, *failed])
            )
        for task in list(wf.tasks):
            if not task.status.is_terminal:
                self.complete(task, TaskStatus.CANCELED)
        self.touch_workflow()


class ValueTooDeep(Exception):
    """Parameters resolved to a value nested deeper than Baton keeps."""


# The service sets this around a decision (it reads poll data); the engine itself does no I/O,
# and without it no domain has live pollers, so a fallback list takes its last entry.
live_pollers_of_this_decision: ContextVar[LivePollers] = ContextVar(
    "live_pollers_of_this_decision", default=_nobody_polls
)


# Set by the service around a decision, like the live pollers: a read of registered metadata.
task_defs_of_this_decision: ContextVar[TaskDefs] = ContextVar(
    "task_defs_of_this_decision", default=_no_task_defs
)


class WorkflowFails(Exception):
    """A task cannot be scheduled as defined: the workflow fails with this reason (Conductor's
    TerminateWorkflowException)."""


class TooManyTasks(Exception):
    """The workflow would grow past MAX_TASKS_PER_WORKFLOW task instances."""
