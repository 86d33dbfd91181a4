"""What the three functions do, over the engine, the store and SQS.

The API, events and timers handlers are thin: they parse their event and call one of these
operations. Each operation loads, decides, commits (retrying lost races) and then carries out
the decision's effects; an effect that fails after the commit is carried out again by the
scheduled sweep, because the commit recorded it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from baton import telemetry
from baton.engine import decider
from baton.engine.decider import Decision, TaskUpdate
from baton.engine.definitions import JsonObject, WorkflowDef
from baton.engine.effects import ArmTimer, PublishMessage
from baton.engine.limits import MAX_JSON_DEPTH, json_depth_exceeds
from baton.engine.run import DecisionBudget
from baton.engine.state import TaskStatus, Workflow, WorkflowStatus
from baton.engine.tasks import TASK_DEF_TYPES, task_type_of
from baton.messaging import Messaging
from baton.store import metadata
from baton.store.clock import now_ms
from baton.store.errors import Conflict, NotFound
from baton.store.workflows import (
    IdempotencyClaim,
    IdempotencyKeyTaken,
    WorkflowExists,
    WorkflowStore,
)
from baton.topology import MAX_TIMER_DELAY_SECONDS

_log = logging.getLogger(__name__)

# Conductor's default threshold for workflow and task payloads; larger ones are refused with
# a 400 rather than risking DynamoDB's 400 KB item limit halfway through a commit.
MAX_PAYLOAD_BYTES = 256 * 1024

IDEMPOTENCY_STRATEGIES = ("FAIL", "RETURN_EXISTING", "FAIL_ON_RUNNING")


class PayloadTooLarge(ValueError):
    """An input or output is larger than MAX_PAYLOAD_BYTES, or nests deeper than
    MAX_JSON_DEPTH levels."""


def check_payload_size(what: str, value: Any) -> None:
    if json_depth_exceeds(value):
        raise PayloadTooLarge(
            f"The {what} nests more than {MAX_JSON_DEPTH} levels deep, more than Baton keeps; "
            "flatten it"
        )
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"The {what} is {size} bytes, more than the limit of {MAX_PAYLOAD_BYTES} bytes; "
            "store large data elsewhere (for example in S3) and pass a reference to it"
        )


@dataclass(frozen=True)
class StartRequest:
    """Conductor's StartWorkflowRequest."""

    name: str
    version: int | None = None
    input: JsonObject = field(default_factory=dict)
    correlation_id: str | None = None
    priority: int = 0
    task_to_domain: dict[str, str] = field(default_factory=dict)
    workflow_def: WorkflowDef | None = None
    idempotency_key: str | None = None
    idempotency_strategy: str = "FAIL"
    # Set by event handlers: a start derived from a message always gets the same id.
    workflow_id: str | None = None
    event: str | None = None


Metric = Callable[[str, float], None]


def _no_metric(name: str, value: float) -> None:
    return None


@dataclass
class Baton:
    store: WorkflowStore = field(default_factory=WorkflowStore)
    messaging: Messaging = field(default_factory=Messaging)
    clock: Callable[[], int] = now_ms
    metric: Metric = _no_metric
    # A fresh budget for each decision (a decision retried after a lost race starts anew).
    budget: Callable[[], DecisionBudget] = DecisionBudget

    # -- workflows -------------------------------------------------------------------------

    def start(self, request: StartRequest) -> str:
        """Start a workflow and return its id (or, by idempotency key, an existing one's)."""
        definition = request.workflow_def or metadata.get_workflow_def(
            request.name, request.version
        )
        check_payload_size("workflow input", request.input)
        self._attach_task_defs(definition)
        workflow_id = request.workflow_id or str(uuid.uuid4())
        claim = None
        if request.idempotency_key:
            claim = IdempotencyClaim(f"idempotency#{definition.name}#{request.idempotency_key}")
        decision = decider.start(
            definition,
            workflow_id=workflow_id,
            workflow_input=request.input,
            now=self.clock(),
            correlation_id=request.correlation_id,
            priority=request.priority,
            task_to_domain=request.task_to_domain,
            event=request.event,
            idempotency_key=request.idempotency_key,
            event_queues=self.messaging.event_queue_names,
            budget=self.budget(),
        )
        try:
            self.store.create(decision, claim=claim)
        except WorkflowExists:
            return workflow_id  # the same message started it before
        except IdempotencyKeyTaken as taken:
            return self._existing_for_key(request, taken.existing_workflow_id)
        self.metric(telemetry.WORKFLOWS_STARTED, 1)
        self._after_commit(decision)
        return workflow_id

    def _existing_for_key(self, request: StartRequest, existing_id: str | None) -> str:
        strategy = (request.idempotency_strategy or "FAIL").upper()
        if strategy == "RETURN_EXISTING" and existing_id:
            return existing_id
        if strategy == "FAIL_ON_RUNNING" and existing_id:
            existing = self.store.load(existing_id)
            if existing is not None and existing.status.is_terminal:
                raise Conflict(
                    f"Idempotency key {request.idempotency_key} was used by workflow "
                    f"{existing_id}, which has ended; use a new key to start again"
                )
        raise Conflict(
            f"Workflow with idempotencyKey {request.idempotency_key} already exists: {existing_id}"
        )

    def _attach_task_defs(self, definition: WorkflowDef) -> None:
        """Snapshot registered TaskDefs into the definition, as Conductor does at start."""
        wanting = [
            t
            for t in definition.all_tasks()
            if task_type_of(t).name in TASK_DEF_TYPES and t.task_definition is None
        ]
        found = metadata.find_task_defs({t.name for t in wanting})
        for task in wanting:
            task_def = found.get(task.name)
            if task_def is not None:
                task.task_definition = task_def
                task.raw["taskDefinition"] = task_def.to_json()

    def get(self, workflow_id: str, *, include_tasks: bool = True) -> JsonObject:
        workflow = self.store.require(workflow_id)
        return workflow.to_json(include_tasks=include_tasks)

    def correlated(
        self, name: str, correlation_id: str, *, include_closed: bool, include_tasks: bool
    ) -> list[JsonObject]:
        found = []
        for workflow_id in self.store.ids_by_correlation(name, correlation_id):
            workflow = self.store.load(workflow_id)
            if workflow is None or (workflow.status.is_terminal and not include_closed):
                continue
            found.append(workflow.to_json(include_tasks=include_tasks))
        return found

    def terminate(self, workflow_id: str, reason: str | None) -> None:
        def change(workflow: Workflow) -> Decision:
            if workflow.status.is_terminal:
                raise Conflict(f"Workflow is in terminal state. Status: {workflow.status.value}")
            return decider.terminate(workflow, reason, self.clock())

        self._mutate(workflow_id, change)

    def pause(self, workflow_id: str) -> None:
        def change(workflow: Workflow) -> Decision:
            if workflow.status.is_terminal:
                raise Conflict(
                    f"The workflow {workflow_id} has ended and cannot be paused. "
                    f"Status: {workflow.status.value}"
                )
            return decider.pause(workflow, self.clock())

        self._mutate(workflow_id, change)

    def resume(self, workflow_id: str) -> None:
        def change(workflow: Workflow) -> Decision:
            if workflow.status != WorkflowStatus.PAUSED:
                raise Conflict(
                    f"The workflow {workflow_id} is not paused. Status: {workflow.status.value}"
                )
            return decider.resume(
                workflow, self.clock(), event_queues=self._queues(), budget=self.budget()
            )

        self._mutate(workflow_id, change)

    def update_variables(
        self, workflow_id: str, variables: JsonObject, *, append_array: bool = False
    ) -> None:
        check_payload_size("workflow variables", variables)
        self._mutate(
            workflow_id,
            lambda wf: decider.update_variables(
                wf,
                variables,
                self.clock(),
                append_array=append_array,
                event_queues=self._queues(),
                budget=self.budget(),
            ),
        )

    def wake(self, workflow_id: str) -> Decision:
        """Decide again now: a WAIT may be due, or a delayed retry."""
        return self._mutate(
            workflow_id,
            lambda wf: decider.decide(
                wf, self.clock(), event_queues=self._queues(), budget=self.budget()
            ),
        )

    # -- tasks -----------------------------------------------------------------------------

    def update_task(self, workflow_id: str, task_id: str, update: TaskUpdate) -> str:
        """Apply a TaskResult; an update to an ended task is accepted and changes nothing."""
        if update.output is not None:
            check_payload_size("task output", update.output)

        def change(workflow: Workflow) -> Decision:
            if workflow.task_by_id(task_id) is None:
                raise NotFound(f"No such task found by id: {task_id}")
            return decider.update_task(
                workflow,
                task_id,
                update,
                self.clock(),
                event_queues=self._queues(),
                budget=self.budget(),
            )

        self._mutate(workflow_id, change)
        return task_id

    def update_task_by_reference(
        self, workflow_id: str, reference: str, update: TaskUpdate
    ) -> str | None:
        """Update the pending task with that reference; None when there is none."""
        if update.output is not None:
            check_payload_size("task output", update.output)
        found: list[str] = []

        def change(workflow: Workflow) -> Decision:
            task = decider.find_task(workflow, reference=reference)
            found[:] = [task.task_id] if task is not None else []
            if task is None or task.status.is_terminal:
                return Decision(workflow=workflow)
            return decider.update_task(
                workflow,
                task.task_id,
                update,
                self.clock(),
                event_queues=self._queues(),
                budget=self.budget(),
            )

        self._mutate(workflow_id, change)
        return found[0] if found else None

    def poll(self, task_type: str, worker_id: str | None) -> JsonObject | None:
        """Hand one SCHEDULED worker task of `task_type` to a worker, or None."""
        for workflow_id, task_key in self.store.pollable(task_type, self.clock(), limit=10):
            try:
                task = self._claim(workflow_id, task_key, worker_id)
            except NotFound:
                self.store.forget_due(workflow_id, task_key)
                continue
            if task is not None:
                return task
        return None

    def _claim(self, workflow_id: str, task_key: str, worker_id: str | None) -> JsonObject | None:
        claimed: list[JsonObject] = []

        def change(workflow: Workflow) -> Decision:
            claimed.clear()
            task = next((t for t in workflow.tasks if t.store_key == task_key), None)
            if task is None:
                # Left by a commit that never landed: take it out of the poll index.
                self.store.forget_due(workflow_id, task_key)
                return Decision(workflow=workflow)
            if task.status != TaskStatus.SCHEDULED or workflow.status != WorkflowStatus.RUNNING:
                return Decision(workflow=workflow)
            decision = decider.update_task(
                workflow,
                task.task_id,
                TaskUpdate(status=TaskStatus.IN_PROGRESS, worker_id=worker_id),
                self.clock(),
                budget=self.budget(),
            )
            started = decision.workflow.task_by_id(task.task_id)
            if started is not None:
                started.poll_count += 1
                claimed.append(started.to_json(decision.workflow))
            return decision

        self._mutate(workflow_id, change)
        return claimed[0] if claimed else None

    # -- effects ---------------------------------------------------------------------------

    def _queues(self) -> frozenset[str]:
        return self.messaging.event_queue_names

    def _mutate(self, workflow_id: str, change: Callable[[Workflow], Decision]) -> Decision:
        before_retries = self.store.stats.retries
        decision = self.store.mutate(workflow_id, change)
        retries = self.store.stats.retries - before_retries
        if retries:
            self.metric(telemetry.COMMIT_RETRIES, retries)
        if decision.changed:
            self._after_commit(decision)
        return decision

    def _after_commit(self, decision: Decision) -> None:
        workflow = decision.workflow
        if decision.workflow_changed and workflow.status.is_terminal:
            if workflow.status == WorkflowStatus.COMPLETED:
                self.metric(telemetry.WORKFLOWS_COMPLETED, 1)
            else:
                self.metric(telemetry.WORKFLOWS_FAILED, 1)
        now = self.clock()
        for effect in decision.effects:
            try:
                self._carry_out(workflow, effect, now)
            except Exception:
                # The effect is recorded with the commit (an owed message, a due time in the
                # index): the scheduled sweep carries it out. Failing the caller here would
                # make it retry what has already happened.
                _log.warning(
                    "Effect deferred to the sweep",
                    exc_info=True,
                    extra={"workflow_id": workflow.workflow_id, "task_id": effect.task_id},
                )
                self.metric(telemetry.EFFECTS_DEFERRED, 1)

    def _carry_out(self, workflow: Workflow, effect: ArmTimer | PublishMessage, now: int) -> None:
        if isinstance(effect, PublishMessage):
            self.messaging.publish(effect)
            task = workflow.task_by_id(effect.task_id)
            if task is not None:
                self.store.confirm_sent(workflow.workflow_id, task.store_key)
        else:
            self.messaging.arm_timer(
                workflow_id=workflow.workflow_id,
                task_id=effect.task_id,
                due_at=effect.due_at,
                now=now,
            )

    def resend(self, workflow_id: str, task_key: str) -> bool:
        """Send a message a commit recorded but nobody confirmed; False if none is owed."""
        workflow = self.store.load(workflow_id)
        message = self.store.owed_message(workflow, task_key) if workflow else None
        if message is None:
            return False
        self.messaging.publish(message)
        self.store.confirm_sent(workflow_id, task_key)
        return True

    def sweep(self) -> dict[str, int]:
        """The scheduled pass: resend unconfirmed messages, fire overdue timers, arm near ones.

        Timers due within the next 15 minutes were armed as delayed messages when committed;
        the sweep arms those that have just come within reach (due 14 to 15 minutes from
        now) and fires any that are overdue, which covers a lost or failed arming.
        """
        now = self.clock()
        horizon = now + MAX_TIMER_DELAY_SECONDS * 1000
        report = {"resent": 0, "fired": 0, "armed": 0, "failed": 0}
        woken: set[str] = set()
        for entry in self.store.due_entries(horizon):
            if entry.due_at <= now:
                if self.resend(entry.workflow_id, entry.task_key):
                    report["resent"] += 1
                    continue
                if entry.workflow_id in woken:
                    continue
                woken.add(entry.workflow_id)
                try:
                    decision = self.wake(entry.workflow_id)
                except NotFound:
                    self.store.forget_due(entry.workflow_id, entry.task_key)
                    continue
                except Exception:
                    # One workflow that cannot be decided (say, its change is too large to
                    # store) must not stop the sweep for every other one.
                    _log.warning(
                        "Sweep could not decide a workflow",
                        exc_info=True,
                        extra={"workflow_id": entry.workflow_id},
                    )
                    report["failed"] += 1
                    continue
                if not decision.changed and not any(
                    t.store_key == entry.task_key for t in decision.workflow.tasks
                ):
                    self.store.forget_due(entry.workflow_id, entry.task_key)
                report["fired"] += 1
            elif entry.due_at > horizon - 60_000:
                self.messaging.arm_timer(
                    workflow_id=entry.workflow_id,
                    task_id=entry.task_key,
                    due_at=entry.due_at,
                    now=now,
                )
                report["armed"] += 1
        return report
