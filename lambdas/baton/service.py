"""What the three functions do, over the engine, the store and SQS.

The API, events and timers handlers are thin: they parse their event and call one of these
operations. Each operation loads, decides, commits (retrying lost races) and then carries out
the decision's effects; an effect that fails after the commit is carried out again by the
scheduled sweep, because the commit recorded it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from baton import __version__, execution, telemetry, wakeup, workflow_links
from baton.engine import decider, lifecycle
from baton.engine.decider import Decision, TaskUpdate
from baton.engine.definitions import EventHandler, JsonObject, TaskDef, WorkflowDef
from baton.engine.effects import ArmTimer, CallSystemTask, Effect, PublishMessage
from baton.engine.limits import MAX_JSON_DEPTH, json_depth_exceeds
from baton.engine.run import (
    DecisionBudget,
    live_pollers_of_this_decision,
    task_defs_of_this_decision,
)
from baton.engine.state import Task, TaskStatus, Workflow, WorkflowStatus
from baton.engine.tasks import task_type_of, uses_registered_task_def
from baton.engine.tasks.set_variable import MAX_VARIABLES_BYTES
from baton.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    NotFound,
    PayloadOverLimit,
    PayloadTooLarge,
)
from baton.messaging import Messaging
from baton.store import health as store_health
from baton.store import workers
from baton.store.changes import StoredTask, carried
from baton.store.clock import now_ms
from baton.store.metadata import DefinitionVersion, MetadataStore
from baton.store.workflows import (
    Claim,
    IdempotencyClaim,
    IdempotencyKeyTaken,
    WorkflowExists,
    WorkflowStore,
    WrittenAlone,
)
from baton.topology import MAX_TIMER_DELAY_SECONDS

if TYPE_CHECKING:
    # Imported where used: only searches, admin reads and test runs need them, and a cold
    # start pays for every module it imports (Lambda compiles Baton's sources each time).
    from baton import mock_run
    from baton.search.tasks import TaskSearchRequest
    from baton.search.workflows import SearchRequest

_log = logging.getLogger(__name__)

# The hard limits on what a caller may send (Conductor's thresholds for offloading to external
# storage): larger ones are refused with a 413 before anything is stored. Payloads too large
# for a DynamoDB item are kept in S3 (baton.store.payloads).
MAX_WORKFLOW_PAYLOAD_BYTES = 5 * 1024 * 1024
MAX_TASK_PAYLOAD_BYTES = 3 * 1024 * 1024

# What one poll hands out at most: Lambda's response limit is 6 MB.
MAX_POLL_RESPONSE_BYTES = 4 * 1024 * 1024

IDEMPOTENCY_STRATEGIES = ("FAIL", "RETURN_EXISTING", "FAIL_ON_RUNNING")


def check_payload_size(what: str, value: Any, limit: int = MAX_WORKFLOW_PAYLOAD_BYTES) -> None:
    if json_depth_exceeds(value):
        raise PayloadTooLarge(
            f"The {what} nests more than {MAX_JSON_DEPTH} levels deep, more than Baton keeps; "
            "flatten it"
        )
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > limit:
        raise PayloadOverLimit(
            f"The {what} is {size} bytes, more than the limit of {limit} bytes; "
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
    # A SUB_WORKFLOW's child: the workflow and task that started it.
    parent_workflow_id: str | None = None
    parent_workflow_task_id: str | None = None


class _Limits:
    """A TaskDef's limits, checked as one poll hands tasks out (Conductor checks them in
    ExecutionService.poll): `concurrentExecLimit` against the IN_PROGRESS tasks of the type,
    counted once per poll; `rateLimitPerFrequency` per `rateLimitFrequencyInSeconds` window,
    a conditional counter. A task held back stays pollable for a later poll."""

    def __init__(self, store: WorkflowStore, now: int) -> None:
        self.store = store
        self.now = now
        self.running: dict[str, int] = {}

    def admit(self, task: Task) -> bool:
        task_def = task.workflow_task.task_definition
        if task_def is None:
            return True
        if task_def.concurrent_exec_limit > 0:
            running = self.running.get(task.task_def_name)
            if running is None:
                running = self.running[task.task_def_name] = self.store.running(task.task_type)
            if running >= task_def.concurrent_exec_limit:
                return False
        if task_def.rate_limit_per_frequency > 0:
            return workers.take_rate_slot(
                task.task_def_name,
                task_def.rate_limit_per_frequency,
                task_def.rate_limit_frequency_in_seconds,
                self.now,
            )
        return True

    def handed_out(self, task: Task) -> None:
        if task.task_def_name in self.running:
            self.running[task.task_def_name] += 1


Metric = Callable[[str, float], None]


def _no_metric(name: str, value: float) -> None:
    return None


@dataclass
class Baton:
    store: WorkflowStore = field(default_factory=WorkflowStore)
    metadata: MetadataStore = field(default_factory=MetadataStore)
    messaging: Messaging = field(default_factory=Messaging)
    clock: Callable[[], int] = now_ms
    metric: Metric = _no_metric
    # A fresh budget for each decision (a decision retried after a lost race starts anew).
    budget: Callable[[], DecisionBudget] = DecisionBudget
    polls: workers.PollRecorder = field(default_factory=workers.PollRecorder)

    # -- workflows -------------------------------------------------------------------------

    def start(self, request: StartRequest) -> str:
        """Start a workflow and return its id (or, by idempotency key, an existing one's)."""
        definition = request.workflow_def or self.metadata.get_workflow_def(
            request.name, request.version
        )
        check_payload_size("workflow input", request.input)
        self._attach_task_defs(definition)
        workflow_id = request.workflow_id or str(uuid.uuid4())
        claim = None
        if request.idempotency_key:
            claim = IdempotencyClaim(f"idempotency#{definition.name}#{request.idempotency_key}")
        with self._poll_data_for_domains():
            decision = self._decide_start(request, definition, workflow_id)
        try:
            self.store.create(decision, claim=claim)
        except WorkflowExists:
            return workflow_id  # the same message started it before
        except IdempotencyKeyTaken as taken:
            return self._existing_for_key(request, taken.existing_workflow_id)
        self.metric(telemetry.WORKFLOWS_STARTED, 1)
        self._after_commit(decision)
        return workflow_id

    def _decide_start(
        self, request: StartRequest, definition: WorkflowDef, workflow_id: str
    ) -> Decision:
        return decider.start(
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
            parent_workflow_id=request.parent_workflow_id,
            parent_workflow_task_id=request.parent_workflow_task_id,
        )

    @contextlib.contextmanager
    def _poll_data_for_domains(self) -> Iterator[None]:
        """Decisions made inside see which task domains have live pollers (poll data)."""
        token = live_pollers_of_this_decision.set(
            lambda task_type, domain: self.polls.is_live(task_type, domain, self.clock())
        )
        # TaskDefs of tasks named while the workflow runs, read once per name (a GetItem,
        # which every deciding function may call).
        found: dict[str, TaskDef | None] = {}

        def task_def(name: str) -> TaskDef | None:
            if name not in found:
                try:
                    found[name] = self.metadata.get_task_def(name)
                except NotFound:
                    found[name] = None
            return found[name]

        defs_token = task_defs_of_this_decision.set(task_def)
        try:
            yield
        finally:
            task_defs_of_this_decision.reset(defs_token)
            live_pollers_of_this_decision.reset(token)

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
            if uses_registered_task_def(t) and t.task_definition is None
        ]
        found = self.metadata.find_task_defs({t.name for t in wanting})
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

    def search_workflows(self, request: SearchRequest, *, full: bool) -> JsonObject:
        """Conductor's workflow search, answered from the search indexes (baton.search)."""
        from baton.search.workflows import search_workflows

        return search_workflows(request, full=full, metadata=self.metadata)

    def status_summary(
        self, workflow_id: str, *, include_output: bool, include_variables: bool
    ) -> JsonObject:
        """Conductor's WorkflowStatus: the id, the correlation id when there is one, the
        status and, when asked for, the output and the variables; absent keys are left out."""
        loaded = self.store.load(workflow_id)
        if loaded is None:
            # WorkflowServiceImpl.getExecutionStatus's words, which this route answers with.
            raise NotFound(f"Workflow with id: {workflow_id} not found.")
        workflow = loaded.to_json(include_tasks=False)
        summary: JsonObject = {"workflowId": workflow["workflowId"]}
        if workflow.get("correlationId"):
            summary["correlationId"] = workflow["correlationId"]
        if include_output:
            summary["output"] = workflow.get("output") or {}
        if include_variables:
            summary["variables"] = workflow.get("variables") or {}
        summary["status"] = workflow["status"]
        return summary

    def terminate(self, workflow_id: str, reason: str | None) -> None:
        """Conductor's terminate: a running or paused workflow ends TERMINATED, so does a
        FAILED or TIMED_OUT one; a TERMINATED one is left as it is; a COMPLETED one is refused."""
        self._mutate(workflow_id, lambda wf: lifecycle.terminate(wf, reason, self.clock()))

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

    # -- operators' changes: retry, restart, rerun, skip, remove (Conductor's executor ops) --

    def retry(self, workflow_id: str, *, resume_subworkflow_tasks: bool = False) -> None:
        """Run the failed tasks again (Conductor's retry). With `resume_subworkflow_tasks`, a
        failed SUB_WORKFLOW task's child is retried instead, and the task waits for it again."""
        if resume_subworkflow_tasks:
            workflow = self.store.require(workflow_id)
            children = lifecycle.failed_subworkflow_ids(workflow)
            if children and workflow.status.is_terminal:
                self.resume_subworkflows(workflow_id, children)
                return
        self._mutate(
            workflow_id,
            lambda wf: lifecycle.retry(
                wf, self.clock(), event_queues=self._queues(), budget=self.budget()
            ),
        )

    def resume_subworkflows(self, parent_id: str, child_ids: list[str]) -> None:
        """Conductor's retry with resumeSubworkflowTasks: retry each failed child (its own
        failed children first, all the way down), then put the parent's SUB_WORKFLOW tasks
        back to IN_PROGRESS and the parent to RUNNING (Conductor's updateAndPushParents).

        The children go first: a crash in between leaves the parent ended, and retrying it
        again finds the children running (or completed) and only resumes the parent. A child
        that ended before its parent waited for it again is reported to the parent then."""
        for child_id in child_ids:
            child = self.store.require(child_id)
            if child.status.is_terminal and not child.status.is_successful:
                self.retry(child_id, resume_subworkflow_tasks=True)
        resumed = frozenset(child_ids)
        self._mutate(
            parent_id,
            lambda wf: lifecycle.retry(
                wf,
                self.clock(),
                event_queues=self._queues(),
                budget=self.budget(),
                resumed_children=resumed,
            ),
        )
        for child_id in child_ids:
            ended = self.store.load(child_id)
            if ended is not None and ended.status.is_terminal:
                workflow_links.report_to_parent(self, ended)

    def restart(self, workflow_id: str, *, use_latest_definitions: bool = False) -> None:
        """Start the workflow over with the same id and input (Conductor's restart)."""
        latest = None
        if use_latest_definitions:
            name = self.store.require(workflow_id).definition.name
            latest = self.metadata.get_workflow_def(name)
            self._attach_task_defs(latest)

        def change(workflow: Workflow) -> Decision:
            return lifecycle.restart(
                workflow,
                latest or workflow.definition,
                self.clock(),
                event_queues=self._queues(),
                budget=self.budget(),
            )

        self._mutate(workflow_id, change)

    def rerun(self, workflow_id: str, request: lifecycle.RerunRequest) -> str:
        """Run the workflow again from a task (Conductor's rerun); answers the workflow id."""
        if request.task_input is not None:
            check_payload_size("task input", request.task_input)
        if request.workflow_input is not None:
            check_payload_size("workflow input", request.workflow_input)
        self._mutate(
            workflow_id,
            lambda wf: lifecycle.rerun(
                wf, request, self.clock(), event_queues=self._queues(), budget=self.budget()
            ),
        )
        return workflow_id

    def skip_task(
        self,
        workflow_id: str,
        reference: str,
        *,
        task_input: JsonObject | None = None,
        task_output: JsonObject | None = None,
    ) -> None:
        """Skip a task the workflow has not reached yet (Conductor's SkipTaskRequest)."""
        for what, value in (("task input", task_input), ("task output", task_output)):
            if value is not None:
                check_payload_size(what, value)
        self._mutate(
            workflow_id,
            lambda wf: lifecycle.skip_task(
                wf,
                reference,
                self.clock(),
                task_input=task_input,
                task_output=task_output,
                event_queues=self._queues(),
                budget=self.budget(),
            ),
        )

    def reset_callbacks(self, workflow_id: str) -> None:
        self._mutate(workflow_id, lambda wf: lifecycle.reset_callbacks(wf, self.clock()))

    def decide(self, workflow_id: str) -> None:
        """`PUT /api/workflow/decide/{id}`: decide again now."""
        self.wake(workflow_id)

    def remove(self, workflow_id: str) -> None:
        """Delete a workflow and its tasks (Baton keeps no archive beside its tables)."""
        self.store.remove(workflow_id)

    def terminate_remove(self, workflow_id: str, reason: str | None) -> None:
        """Terminate the workflow if it still runs, then remove it."""
        workflow = self.store.require(workflow_id)
        if not workflow.status.is_terminal:
            self.terminate(workflow_id, reason)
        self.remove(workflow_id)

    def workflow_tasks(
        self, workflow_id: str, *, start: int, count: int, statuses: list[str]
    ) -> JsonObject:
        """`GET /api/workflow/{id}/tasks`: a page of the workflow's tasks (of `statuses`, if
        any), as Conductor's SearchResult."""
        workflow = self.store.require(workflow_id)
        wanted = {status.upper() for status in statuses}
        tasks = [t for t in workflow.tasks if not wanted or t.status.value in wanted]
        return {
            "totalHits": len(tasks),
            "results": [t.to_json(workflow) for t in tasks[start : start + count]],
        }

    def running_workflows(
        self, name: str, version: int, *, start_time: int | None, end_time: int | None
    ) -> list[str]:
        """`GET /api/workflow/running/{name}`: ids of the workflows of that definition version
        that have not ended (started between the times, if given), read from their index."""
        return self.store.running_ids(name, version, start_time=start_time, end_time=end_time)

    def correlated_many(
        self, name: str, correlation_ids: list[str], *, include_closed: bool, include_tasks: bool
    ) -> dict[str, list[JsonObject]]:
        """`POST /api/workflow/{name}/correlated`: the workflows of each correlation id."""
        return {
            correlation_id: self.correlated(
                name, correlation_id, include_closed=include_closed, include_tasks=include_tasks
            )
            for correlation_id in dict.fromkeys(correlation_ids)
        }

    def update_variables(
        self, workflow_id: str, variables: JsonObject, *, append_array: bool = False
    ) -> None:
        check_payload_size("workflow variables", variables, MAX_VARIABLES_BYTES)
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

    def wake(
        self,
        workflow_id: str,
        *,
        fresh_task_ids: Collection[str] | None = None,
        written: Mapping[str, StoredTask] | None = None,
    ) -> Decision:
        """Decide again now: a WAIT may be due, or a delayed retry. The timer messages and
        asks pass their tasks' ids (`fresh_task_ids`, see WorkflowStore.load) and the task
        items written alone that asks carry (`written`, by key): the decision reads only
        what changed and those tasks it was not handed; None reads every task."""
        return self._mutate(
            workflow_id,
            lambda wf: decider.decide(
                wf, self.clock(), event_queues=self._queues(), budget=self.budget()
            ),
            fresh_task_ids=fresh_task_ids,
            written=written,
        )

    # -- tasks -----------------------------------------------------------------------------

    def update_task(self, workflow_id: str, task_id: str, update: TaskUpdate) -> str:
        """Apply a TaskResult; an update to an ended task is accepted and changes nothing."""
        self._update_task(workflow_id, task_id, update)
        return task_id

    def add_task_log(self, task_id: str, text: str) -> None:
        """`POST /api/tasks/{taskId}/log`: one log entry for an existing task."""
        if self.store.workflow_id_for_task(task_id) is None:
            raise NotFound(f"No such task found by id: {task_id}")
        workers.append_logs(task_id, [text], self.clock())

    def _update_task(self, workflow_id: str, task_id: str, update: TaskUpdate) -> Decision:
        if update.output is not None:
            check_payload_size("task output", update.output, MAX_TASK_PAYLOAD_BYTES)

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

        def updated(workflow: Workflow) -> Task | None:
            return decider.updated_task(workflow, task_id, update, self.clock())

        # The decision reads what changed since this environment last read the workflow, and
        # the updated task itself (a poll claims it by writing its item alone); in a wide
        # workflow the update reads that task alone and leaves the decision to the timers.
        decision = self._mutate(
            workflow_id, change, updated=updated, fresh_task_ids={task_id}, task_id=task_id
        )
        if update.logs:
            workers.append_logs(task_id, list(update.logs), self.clock())
        return decision

    def update_task_and_poll(
        self, workflow_id: str, task_id: str, update: TaskUpdate
    ) -> JsonObject | None:
        """update-v2: apply a TaskResult; if that ended the task, hand the same worker the next
        task of its type and domain (None when there is none, or the task goes on). A result
        written onto its task alone (its decision lost a race) ends the task all the same."""
        decision = self._update_task(workflow_id, task_id, update)
        task = decision.workflow.task_by_id(task_id)
        if task is None or not task.status.is_terminal:
            return None
        return self.poll(task.task_type, update.worker_id, task.domain)

    def update_task_by_reference(
        self, workflow_id: str, reference: str, update: TaskUpdate
    ) -> str | None:
        """Update the pending task with that reference; None when there is none."""
        if update.output is not None:
            check_payload_size("task output", update.output, MAX_TASK_PAYLOAD_BYTES)
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

        def updated(workflow: Workflow) -> Task | None:
            task = decider.find_task(workflow, reference=reference)
            if task is None:
                return None
            return decider.updated_task(workflow, task.task_id, update, self.clock())

        self._mutate(workflow_id, change, updated=updated)
        return found[0] if found else None

    def signal(self, workflow_id: str, update: TaskUpdate) -> str | None:
        """Apply `update` to the workflow's first WAIT task that has not ended (Conductor's
        signalTask); None when there is none."""
        workflow = self.store.require(workflow_id)
        blocked = next(
            (
                t
                for t in workflow.tasks
                if t.task_type == "WAIT" and not t.status.is_terminal and not t.retried
            ),
            None,
        )
        if blocked is None:
            return None
        self._update_task(workflow_id, blocked.task_id, update)
        return blocked.task_id

    def poll(
        self, task_type: str, worker_id: str | None, domain: str | None = None
    ) -> JsonObject | None:
        """Hand one SCHEDULED worker task of `task_type` to a worker, or None."""
        tasks = self.batch_poll(task_type, worker_id, domain, count=1, timeout_ms=0)
        return tasks[0] if tasks else None

    def batch_poll(
        self,
        task_type: str,
        worker_id: str | None,
        domain: str | None,
        *,
        count: int,
        timeout_ms: int,
    ) -> list[JsonObject]:
        """Hand up to `count` tasks to a worker, waiting up to `timeout_ms` for the first.

        A poll that finds nothing sleeps on the process's wake-up signal rather than querying
        again; it looks at the table again when signalled, and every RECHECK_SECONDS for work
        other processes committed.
        """
        deadline = time.monotonic() + timeout_ms / 1000
        keys = [wakeup.signal_key(task_type, domain)]
        # Recorded first: a worker waiting in a long poll is a live poller of its domain.
        self.polls.record(task_type, domain, worker_id, self.clock())
        signalled: list[wakeup.Candidate] = []
        while True:
            since = {key: wakeup.work_signal.generation(key) for key in keys}
            handed = self._hand_out(task_type, worker_id, domain, count, signalled)
            remaining = deadline - time.monotonic()
            if handed or remaining <= 0:
                return handed
            woken = wakeup.work_signal.wait(keys, since, min(remaining, wakeup.RECHECK_SECONDS))
            if not woken and deadline - time.monotonic() <= 0:
                return []
            signalled = [
                candidate
                for key in keys
                for candidate in wakeup.work_signal.candidates_since(key, since[key])
            ]

    def _hand_out(
        self,
        task_type: str,
        worker_id: str | None,
        domain: str | None,
        count: int,
        signalled: list[wakeup.Candidate],
    ) -> list[JsonObject]:
        now = self.clock()
        handed = self._claim_some(signalled, worker_id, now, count) if signalled else []
        if len(handed) >= count:
            return handed
        # A few more candidates than asked for: others polling at the same moment read the
        # same oldest entries, and each is handed out to one of them only.
        candidates = [
            wakeup.Candidate(workflow_id, task_key)
            for workflow_id, task_key in self.store.pollable(
                task_type, domain, now, limit=min(100, count * 2 + 4)
            )
        ]
        if len(candidates) > count:
            random.shuffle(candidates)
        return handed + self._claim_some(candidates, worker_id, now, count - len(handed))

    def _claim_some(
        self, candidates: list[wakeup.Candidate], worker_id: str | None, now: int, count: int
    ) -> list[JsonObject]:
        handed: list[JsonObject] = []
        size = 0
        limits = _Limits(self.store, now)
        for candidate in candidates:
            if len(handed) >= count or size >= MAX_POLL_RESPONSE_BYTES:
                break
            claim = self.store.claim(
                candidate.workflow_id,
                candidate.task_key,
                lambda task: decider.hand_out(task, worker_id, now),
                now,
                admit=limits.admit,
                known=candidate.known,
            )
            if claim is None:
                continue
            if claim.deadline is not None:
                self._arm_after_claim(claim)
            task_json = claim.task.to_json(claim.workflow)
            size += len(json.dumps(task_json, separators=(",", ":")))
            handed.append(task_json)
            limits.handed_out(claim.task)
        return handed

    def queues(self) -> dict[tuple[str, str | None], int]:
        """Every queue Baton knows of, with its size: each registered TaskDef's queue without
        a domain, and each (task type, domain) a worker has polled (there is no list of task
        types to read otherwise without scanning the tasks)."""
        known: set[tuple[str, str | None]] = {
            (d.name, None) for d in self.metadata.list_task_defs()
        }
        for data in workers.poll_data():
            known.add((str(data.get("queueName")), data.get("domain")))
        return {
            queue: self.store.queue_size(*queue)
            for queue in sorted(known, key=lambda q: (q[0], q[1] or ""))
        }

    def _arm_after_claim(self, claim: Claim) -> None:
        try:
            assert claim.deadline is not None
            self.messaging.arm_timer(
                workflow_id=claim.workflow.workflow_id,
                task_id=claim.task.task_id,
                due_at=claim.deadline,
                now=self.clock(),
            )
        except Exception:
            # The deadline is in the due index with the claim: the sweep fires it.
            _log.warning("Timer deferred to the sweep", exc_info=True)
            self.metric(telemetry.EFFECTS_DEFERRED, 1)

    # -- effects ---------------------------------------------------------------------------

    def _queues(self) -> frozenset[str]:
        return self.messaging.event_queue_names

    def mutate(self, workflow_id: str, change: Callable[[Workflow], Decision]) -> Decision:
        """Decide with `change`, commit and carry out the decision's effects."""
        return self._mutate(workflow_id, change)

    def _mutate(
        self,
        workflow_id: str,
        change: Callable[[Workflow], Decision],
        *,
        updated: Callable[[Workflow], Task | None] | None = None,
        fresh_task_ids: Collection[str] | None = None,
        task_id: str | None = None,
        written: Mapping[str, StoredTask] | None = None,
    ) -> Decision:
        """Decide with `change`, commit and carry out the effects. A task update passes
        `updated` (the task as the update leaves it): if its decision loses a race, the task
        is written alone and the decision is asked of the timers function; the answer is
        then the workflow as read with that task, and nothing was decided. An update of the
        task `task_id` of a wide workflow writes it alone without deciding (see
        WorkflowStore.update_task); its answer's workflow then holds only that task.
        `fresh_task_ids` as WorkflowStore.load takes them (None: the decision reads every
        task)."""
        before_retries = self.store.stats.retries
        with self._poll_data_for_domains():
            if updated is None:
                outcome: Decision | WrittenAlone = self.store.mutate(
                    workflow_id, change, fresh_task_ids=fresh_task_ids, written=written
                )
            else:
                outcome = self.store.update_task(
                    workflow_id, change, updated, fresh_task_ids=fresh_task_ids, task_id=task_id
                )
        retries = self.store.stats.retries - before_retries
        if retries:
            self.metric(telemetry.COMMIT_RETRIES, retries)
        if isinstance(outcome, WrittenAlone):
            self._ask_for_decision(outcome)
            return Decision(workflow=outcome.workflow)
        if outcome.changed:
            self._after_commit(outcome)
        return outcome

    def _ask_for_decision(self, written: WrittenAlone) -> None:
        """One message on the decision queue (FIFO, grouped by workflow): its consumer, the
        timers function, decides the workflow one batch at a time and folds every update
        written alone meanwhile. Lost, the task's mark in the due index has the sweep decide
        once its grace period has passed."""
        now = self.clock()
        task = written.task
        try:
            self.messaging.ask_decision(
                workflow_id=written.workflow.workflow_id,
                task_id=task.task_id,
                # The write this ask follows: the task's id at the version it wrote.
                deduplication_id=f"{task.task_id}#{task.version}",
                now=now,
                # The item as written, so that the decider need not read it back.
                written=carried(written.stored),
            )
        except Exception:
            _log.warning(
                "Decision deferred to the sweep",
                exc_info=True,
                extra={"workflow_id": written.workflow.workflow_id},
            )
            self.metric(telemetry.EFFECTS_DEFERRED, 1)

    def _after_commit(self, decision: Decision) -> None:
        workflow = decision.workflow
        self._signal_new_work(decision)
        # A synchronous execution or signal waiting on this workflow here looks again.
        execution.signal_commit(workflow.workflow_id)
        if decision.workflow_changed and workflow.status.is_terminal:
            if workflow.status == WorkflowStatus.COMPLETED:
                self.metric(telemetry.WORKFLOWS_COMPLETED, 1)
            else:
                self.metric(telemetry.WORKFLOWS_FAILED, 1)
        now = self.clock()
        # An owed effect's record on its task is cleared once every effect owed there is done.
        done: dict[str, bool] = {}
        for effect in decision.effects:
            try:
                self._carry_out(workflow, effect, now)
                succeeded = True
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
                succeeded = False
            if effect.owed:
                done[effect.task_id] = done.get(effect.task_id, True) and succeeded
        timers = {
            e.task_id: e.due_at
            for e in decision.effects
            if isinstance(e, ArmTimer) and not e.carry_over
        }
        for task_id, succeeded in done.items():
            task = workflow.task_by_id(task_id)
            if not succeeded or task is None or not task.store_key:
                continue
            # The task's own timer stays in the due index once nothing is owed there.
            due_at = None
            if not task.status.is_terminal and workflow.status == WorkflowStatus.RUNNING:
                due_at = timers.get(task_id) or task_type_of(task.workflow_task).deadline(task)
            try:
                self.store.confirm_sent(
                    workflow.workflow_id, task.store_key, due_at=due_at, status=task.status.value
                )
            except Exception:
                _log.warning("Confirmation deferred to the sweep", exc_info=True)

    def _signal_new_work(self, decision: Decision) -> None:
        """Wake this process's polls waiting for the worker tasks this commit made pollable."""
        now = self.clock()
        work: dict[wakeup.SignalKey, list[wakeup.Candidate]] = {}
        for task in decision.changed_tasks:
            if (
                task.status == TaskStatus.SCHEDULED
                and task.store_key
                and task.pollable_from() <= now
                and task_type_of(task.workflow_task).polled_by_workers
            ):
                key = wakeup.signal_key(task.task_type, task.domain)
                # The version the commit gave it: 1 when it made the task, else one more.
                version = 1 if task.task_id in decision.new_task_ids else task.version + 1
                committed = replace(task, version=version)
                work.setdefault(key, []).append(
                    wakeup.Candidate(
                        decision.workflow.workflow_id,
                        task.store_key,
                        (decision.workflow, committed),
                    )
                )
        wakeup.work_signal.notify(work)

    def _carry_out(self, workflow: Workflow, effect: Effect, now: int) -> None:
        if isinstance(effect, PublishMessage):
            self.messaging.publish(effect)
        elif isinstance(effect, CallSystemTask):
            # Lost, it is sent again when the task's dispatch deadline passes (engine.tasks.http).
            self.messaging.dispatch_system_task(
                workflow_id=workflow.workflow_id,
                task_id=effect.task_id,
                retry_count=effect.retry_count,
            )
        elif isinstance(effect, ArmTimer):
            self.messaging.arm_timer(
                workflow_id=workflow.workflow_id,
                task_id=effect.task_id,
                due_at=effect.due_at,
                now=now,
            )
        else:
            workflow_links.carry_out(self, workflow, effect)

    def resend(self, workflow: Workflow, task_key: str) -> bool:
        """Carry out what a commit recorded on a task but nobody confirmed (a message to
        send, a workflow to start, a parent to tell); False if nothing is owed there."""
        workflow_id = workflow.workflow_id
        task = next((t for t in workflow.tasks if t.store_key == task_key), None)
        if task is None or not task.pending_effect:
            return False
        if task_type_of(task.workflow_task).name == "EVENT":
            message = self.store.owed_message(workflow, task_key)
            if message is not None:
                self.messaging.publish(message)
        workflow_links.reconcile(self, workflow, task)
        due_at = None
        if not task.status.is_terminal and workflow.status == WorkflowStatus.RUNNING:
            due_at = task_type_of(task.workflow_task).deadline(task)
        self.store.confirm_sent(workflow_id, task_key, due_at=due_at, status=task.status.value)
        return True

    def sweep(self) -> dict[str, int]:
        """The scheduled pass: resend unconfirmed messages, fire overdue timers, arm near ones.

        Timers due within the next 15 minutes were armed as delayed messages when committed;
        the sweep arms those that have just come within reach (due 14 to 15 minutes from
        now) and fires any that are overdue, which covers a lost or failed arming.

        An ended workflow is not decided: an entry of its that owes nothing names a task its
        ending's writes after the commit left open (the writer died) or one written alone as
        it ended. That task is settled as it reads (`WorkflowStore.settle_ended`), so the
        sweep does not come back to it each minute.
        """
        now = self.clock()
        horizon = now + MAX_TIMER_DELAY_SECONDS * 1000
        report = {"resent": 0, "fired": 0, "armed": 0, "failed": 0, "kept": 0, "settled": 0}
        woken: set[str] = set()
        for entry in self.store.due_entries(horizon):
            if entry.due_at <= now:
                workflow = self.store.load(entry.workflow_id)
                if workflow is not None and self.resend(workflow, entry.task_key):
                    report["resent"] += 1
                    continue
                if workflow is not None and workflow.status.is_terminal:
                    self.store.settle_ended(workflow, entry.task_key, now)
                    report["settled"] += 1
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
        try:
            # Tasks of running workflows close to their expiry are kept (on most sweeps, one
            # empty query of a keys-only index).
            report["kept"] = self.store.keep_long_running(now)
        except Exception:
            _log.warning("Sweep could not keep the tasks of long-running workflows", exc_info=True)
        return report

    # -- definitions, health and version: reads that need no workflow ---------------------

    def workflow_defs(self, classifier: str | None = None) -> list[JsonObject]:
        """Every version of every definition (`GET /api/metadata/workflow`); a non-blank
        `classifier` keeps those whose classifier it names, ignoring case, as Conductor does."""
        definitions = self.metadata.list_workflow_defs()
        if classifier is not None and classifier.strip():
            wanted = classifier.strip().lower()
            definitions = [d for d in definitions if classifier_of(d).lower() == wanted]
        return [d.to_json() for d in definitions]

    def workflow_names_and_versions(self) -> dict[str, list[JsonObject]]:
        """Each definition's name, mapped to its versions' summaries in version order."""
        found: dict[str, list[JsonObject]] = {}
        for stored in self.metadata.definition_versions():
            found.setdefault(stored.name, []).append(_summary(stored))
        return found

    def workflow_names(self) -> list[str]:
        """The distinct names of the registered definitions, sorted."""
        return sorted({stored.name for stored in self.metadata.definition_versions()})

    def workflow_versions(self, name: str) -> list[JsonObject]:
        """The summaries of one definition's versions, oldest first; none for an unknown name
        (Conductor answers an empty list, not a 404)."""
        return [_summary(stored) for stored in self.metadata.definition_versions(name)]

    def latest_workflow_defs(self) -> list[JsonObject]:
        """The latest version of each definition."""
        return [d.to_json() for d in self.metadata.latest_workflow_defs()]

    def health(self) -> JsonObject:
        """Conductor's HealthCheckStatus, with one indicator per table the API function reads:
        healthy only when every table answers."""
        indicators = []
        for table in store_health.table_health():
            details: JsonObject = {"name": table.name, "table": table.table}
            indicator: JsonObject = {"healthy": table.healthy, "details": details}
            if table.error is not None:
                details["error"] = table.error
                indicator["errorMessage"] = table.error
            indicators.append(indicator)
        return {"healthy": all(i["healthy"] for i in indicators), "indicators": indicators}

    def version(self) -> str:
        """Baton's version, as Conductor's `GET /api/version` answers its own."""
        return __version__

    # -- metadata: definitions and event handlers -------------------------------------------

    def register_workflow_def(self, definition: WorkflowDef, *, overwrite: bool) -> None:
        self.metadata.put_workflow_def(definition, overwrite=overwrite)

    def update_workflow_defs(self, definitions: list[WorkflowDef]) -> JsonObject:
        """Conductor's BulkResponse for `PUT /api/metadata/workflow`."""
        succeeded = []
        failed: dict[str, str] = {}
        for definition in definitions:
            try:
                self.metadata.put_workflow_def(definition, overwrite=True)
                succeeded.append(definition.name)
            except AlreadyExists as error:
                failed[definition.name] = str(error)
        return {"bulkErrorResults": failed, "bulkSuccessfulResults": succeeded, "message": ""}

    def get_workflow_def(self, name: str, version: int | None) -> JsonObject:
        return self.metadata.get_workflow_def(name, version).to_json()

    def delete_workflow_def(self, name: str, version: int) -> None:
        self.metadata.delete_workflow_def(name, version)

    def register_task_defs(self, definitions: list[TaskDef]) -> None:
        self.metadata.put_task_defs(definitions)

    def task_defs(self) -> list[JsonObject]:
        return [d.to_json() for d in self.metadata.list_task_defs()]

    def get_task_def(self, name: str) -> JsonObject:
        return self.metadata.get_task_def(name).to_json()

    def delete_task_def(self, name: str) -> None:
        self.metadata.delete_task_def(name)

    def put_event_handler(self, handler: EventHandler, *, create: bool) -> None:
        """Add (`create`) or update an event handler; one on an `sqs:` queue that is not
        provisioned is refused, as it would never receive a message."""
        provider, _, queue = handler.event.partition(":")
        provisioned = self.messaging.event_queue_names
        if provider == "sqs" and queue not in provisioned:
            raise BadRequest(
                f"No event queue named '{queue}' is provisioned, so {handler.event} would never "
                f"deliver a message. Add '{queue}' to the `eventQueues` context in cdk.json (or "
                f"pass -c eventQueues=...) and run `cdk deploy`; locally, set "
                f"BATON_EVENT_QUEUES. Provisioned: {', '.join(sorted(provisioned)) or 'none'}"
            )
        self.metadata.put_event_handler(handler, create=create)

    def event_handlers(self) -> list[JsonObject]:
        return [h.to_json() for h in self.metadata.list_event_handlers()]

    def event_handlers_for(self, event: str, *, active_only: bool) -> list[JsonObject]:
        return [
            h.to_json() for h in self.metadata.event_handlers_for(event, active_only=active_only)
        ]

    def delete_event_handler(self, name: str) -> None:
        self.metadata.delete_event_handler(name)

    def event_executions(self, handler: str) -> list[JsonObject]:
        return self.metadata.event_executions(handler)

    # -- what workers left: task reads, logs, poll data, queue sizes -------------------------

    def get_task(self, task_id: str) -> JsonObject:
        workflow_id = self.store.workflow_id_for_task(task_id)
        workflow = self.store.load(workflow_id) if workflow_id else None
        task = workflow.task_by_id(task_id) if workflow else None
        if workflow is None or task is None:
            raise NotFound(f"No such task found by id: {task_id}")
        return task.to_json(workflow)

    def task_logs(self, task_id: str) -> list[JsonObject]:
        return workers.task_logs(task_id)

    def poll_data(self, task_type: str | None = None) -> list[JsonObject]:
        return workers.poll_data(task_type)

    def queue_size(self, task_type: str, domain: str | None) -> int:
        return self.store.queue_size(task_type, domain)

    # -- task search, admin reads and the in-memory test run ---------------------------------

    def search_tasks(self, request: TaskSearchRequest, *, full: bool) -> JsonObject:
        """Conductor's task search: TaskSummary objects, or (`full`) Tasks (baton.search.tasks)."""
        from baton.search import tasks as task_search

        return task_search.search_tasks(request, full=full, store=self.store)

    def search_workflows_by_tasks(self, request: TaskSearchRequest, *, full: bool) -> JsonObject:
        """The workflows with a task matching a task search."""
        from baton.search import tasks as task_search

        return task_search.search_workflows_by_tasks(
            request, full=full, store=self.store, metadata=self.metadata
        )

    def pending_tasks(self, task_type: str, *, start: int, count: int) -> list[JsonObject]:
        """`GET /api/admin/task/{type}`: SCHEDULED tasks of the type, oldest first."""
        from baton import admin

        return admin.pending_tasks(self.store, task_type, start=start, count=count)

    def event_queues(self) -> dict[str, str]:
        """`GET /api/admin/queues`: each event Baton listens on, and its queue."""
        from baton import admin

        return admin.event_queues(self.messaging.event_queue_names)

    def test_workflow(self, test: mock_run.TestRun) -> JsonObject:
        """`POST /api/workflow/test`: the workflow run in memory on mocks, nothing stored."""
        from baton import mock_run

        check_payload_size("workflow input", test.input)
        self._attach_task_defs(test.definition)

        def lookup(name: str, version: int | None) -> WorkflowDef:
            definition = self.metadata.get_workflow_def(name, version)
            self._attach_task_defs(definition)
            return definition

        with self._poll_data_for_domains():
            workflow = mock_run.run(
                test,
                now=self.clock(),
                lookup=lookup,
                event_queues=self._queues(),
                budget=self.budget,
            )
        return workflow.to_json(include_tasks=True)


# What Conductor's WorkflowClassifier calls an untagged definition, and an agent's.
PLAIN_WORKFLOW_CLASSIFIER = "workflow"
AGENT_CLASSIFIER = "agent"


def classifier_of(definition: WorkflowDef) -> str:
    """Conductor's classifier of a definition, read from its `metadata` map: an explicit
    `classifier` string, else `agent` for an agent SDK's definitions, else `workflow`."""
    tags = definition.raw.get("metadata")
    if not isinstance(tags, dict) or not tags:
        return PLAIN_WORKFLOW_CLASSIFIER
    explicit = tags.get("classifier")
    if isinstance(explicit, str) and explicit.strip():
        return explicit
    if tags.get("agent_sdk") is not None or tags.get("agentDef") is not None:
        return AGENT_CLASSIFIER
    return PLAIN_WORKFLOW_CLASSIFIER


def _summary(stored: DefinitionVersion) -> JsonObject:
    # Conductor's WorkflowDefSummary; Baton keeps one time per version, its last save.
    summary: JsonObject = {"name": stored.name, "version": stored.version}
    if stored.update_time is not None:
        summary["updateTime"] = stored.update_time
    return summary
