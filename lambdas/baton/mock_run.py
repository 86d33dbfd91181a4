"""`POST /api/workflow/test`: a workflow run in memory on mocked task outputs; nothing is stored.

As Conductor's WorkflowTestService: the workflow starts, and while it runs, each task that
waits for the outside world (a worker's SIMPLE task, WAIT, HUMAN, HTTP, START_WORKFLOW, an
EVENT with `asyncComplete`) takes the next of its mocks from `taskRefToMockOutput` (a TaskResult's
`status` and `output`; a FAILED mock on a task with retries leaves the retry to the next
mock). Operators (SWITCH, FORK, JOIN, DO_WHILE, INLINE, SET_VARIABLE, TERMINATE, ...) run as
they always do, in the decisions. A SUB_WORKFLOW with a `subWorkflowTestRequest` under its
reference runs that request's child in memory, and its end moves the task as a child's end
does. The run stops when the workflow ends, or when a task that waits has no mock left (as
Conductor's does, answering the workflow as it is then).

Baton's engine is pure, so the run needs no store, queue or worker: decisions are made one
after another on a clock that moves by itself (a mock's `queueWaitTime` and `executionTime`
pass before it applies; a WAIT with a `duration` or `until` and no mock ends when its time
comes), each decision within its own budget, and the whole run within `MAX_DECISIONS` and
`MAX_SECONDS`. Nothing is called: no HTTP request is sent, no message published (an EVENT
task completes as it would, its message dropped), no workflow started. A definition holding
an HTTP or START_WORKFLOW task without a mock for it is refused with a 400 before anything
runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from baton.engine import decider
from baton.engine.decider import Decision, TaskUpdate
from baton.engine.definitions import JsonObject, WorkflowDef
from baton.engine.effects import ArmTimer
from baton.engine.run import DecisionBudget
from baton.engine.state import Task, TaskStatus, Workflow
from baton.engine.tasks.sub_workflow import CHILD_END_TO_TASK
from baton.errors import BadRequest

# What one test run may do at most: decisions (Conductor's loop allows 20,000 passes), and
# time, well within API Gateway's 29 s.
MAX_DECISIONS = 2000
MAX_SECONDS = 10.0
# Sub-workflow test requests nested at most this deep.
MAX_DEPTH = 8

MOCK_STATUSES = ("IN_PROGRESS", "COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR")
# The tasks that wait on a call to the outside world: without a mock, a test run cannot stand
# in for them. (An EVENT task completes in its decision, its message not sent; with
# `asyncComplete` it waits, as HUMAN does, for a mock.)
CALLING_TYPES = ("HTTP", "START_WORKFLOW")
# The tasks that wait for the outside world and take mocks.
WAITING_TYPES = ("SIMPLE", "WAIT", "HUMAN", "EVENT", "SUB_WORKFLOW", *CALLING_TYPES)


@dataclass
class TaskMock:
    """Conductor's WorkflowTestRequest.TaskMock."""

    status: TaskStatus
    output: JsonObject = field(default_factory=dict)
    execution_time: int = 0  # ms
    queue_wait_time: int = 0  # ms


@dataclass
class TestRun:
    """One workflow of a test: its definition, start values, mocks and children's tests."""

    definition: WorkflowDef
    input: JsonObject = field(default_factory=dict)
    correlation_id: str | None = None
    priority: int = 0
    task_to_domain: dict[str, str] = field(default_factory=dict)
    mocks: dict[str, list[TaskMock]] = field(default_factory=dict)
    # By SUB_WORKFLOW reference: the child's test (its definition is the task's child's).
    children: dict[str, ChildTest] = field(default_factory=dict)


@dataclass
class ChildTest:
    """A `subWorkflowTestRequest` entry: mocks for the child, and its own children's tests."""

    mocks: dict[str, list[TaskMock]] = field(default_factory=dict)
    children: dict[str, ChildTest] = field(default_factory=dict)


# How a child's definition is found: (name, version or None for the latest) -> definition.
DefinitionLookup = Callable[[str, int | None], WorkflowDef]


@dataclass
class _Limits:
    deadline: float
    decisions: int = 0

    def spend(self) -> bool:
        """Count one decision; False once the run has used up its decisions or its time."""
        self.decisions += 1
        return self.decisions <= MAX_DECISIONS and time.monotonic() < self.deadline


def refuse_unmocked_calls(definition: WorkflowDef, mocks: dict[str, list[TaskMock]]) -> None:
    """A 400 for a task that would act on the outside world and has no mock."""
    for task in definition.all_tasks():
        reference = task.task_reference_name
        mocked = any(
            queue and (key == reference or key.startswith(reference + "__"))
            for key, queue in mocks.items()
        )
        if task.type in CALLING_TYPES and not mocked:
            raise BadRequest(
                f"Task {reference} ({task.type}) has no mock in taskRefToMockOutput: a test "
                "run sends no HTTP request and starts no workflow, so give it a mock output"
            )


def run(
    test: TestRun,
    *,
    now: int,
    lookup: DefinitionLookup,
    event_queues: frozenset[str],
    budget: Callable[[], DecisionBudget] = DecisionBudget,
) -> Workflow:
    """The workflow of `test` as it stands when the run stops (ended, or waiting on a task
    without a mock)."""
    refuse_unmocked_calls(test.definition, test.mocks)
    limits = _Limits(deadline=time.monotonic() + MAX_SECONDS)
    decision = decider.start(
        test.definition,
        workflow_id=str(uuid.uuid4()),
        workflow_input=test.input,
        now=now,
        correlation_id=test.correlation_id,
        priority=test.priority,
        task_to_domain=test.task_to_domain,
        event_queues=event_queues,
        budget=budget(),
    )
    runner = _Runner(lookup, event_queues, budget, limits)
    return runner.drive(decision, now, test.mocks, test.children, depth=0)


@dataclass
class _Runner:
    lookup: DefinitionLookup
    event_queues: frozenset[str]
    budget: Callable[[], DecisionBudget]
    limits: _Limits
    # SUB_WORKFLOW tasks whose child's test ran and did not end: not run again.
    blocked_children: set[str] = field(default_factory=set)

    def drive(
        self,
        decision: Decision,
        now: int,
        mocks: dict[str, list[TaskMock]],
        children: dict[str, ChildTest],
        *,
        depth: int,
    ) -> Workflow:
        remaining = {reference: list(queue) for reference, queue in mocks.items()}
        timers: set[int] = set()
        workflow = decision.workflow
        clock = now
        while not workflow.status.is_terminal and self.limits.spend():
            timers.update(e.due_at for e in decision.effects if isinstance(e, ArmTimer))
            step = self._step(workflow, clock, remaining, children, depth)
            if step is not None:
                decision, clock = step
            elif self._waits_without_mock(workflow, remaining, children):
                break  # as Conductor's run: a task no mock stands in for ends the run
            elif timers:
                due = min(timers)
                timers.discard(due)
                clock = max(clock, due)
                decision = decider.decide(
                    workflow, clock, event_queues=self.event_queues, budget=self.budget()
                )
            else:
                break  # waiting on a task no mock stands in for
            workflow = decision.workflow
        return workflow

    def _waits_without_mock(
        self,
        workflow: Workflow,
        remaining: dict[str, list[TaskMock]],
        children: dict[str, ChildTest],
    ) -> bool:
        """Whether a task waits for the outside world with nothing left to stand in for it
        (a WAIT with a duration or `until` waits for the clock instead)."""
        for task in workflow.tasks:
            kind = task.workflow_task.type
            if task.status.is_terminal or kind not in WAITING_TYPES:
                continue
            if kind == "WAIT" and task.wait_timeout:
                continue
            reference = task.reference_task_name
            if remaining.get(reference) or remaining.get(reference.split("__")[0]):
                continue
            if (
                kind == "SUB_WORKFLOW"
                and reference in children
                and task.task_id not in self.blocked_children
            ):
                continue
            return True
        return False

    def _step(
        self,
        workflow: Workflow,
        clock: int,
        remaining: dict[str, list[TaskMock]],
        children: dict[str, ChildTest],
        depth: int,
    ) -> tuple[Decision, int] | None:
        """The next mock (or child's end) applied, or None when none applies."""
        for task in workflow.tasks:
            # A SIMPLE task's taskType is its name: its definition says what kind it is.
            kind = task.workflow_task.type
            if task.status.is_terminal or kind not in WAITING_TYPES:
                continue
            reference = task.reference_task_name
            child = children.get(reference)
            if kind == "SUB_WORKFLOW" and child is not None:
                if task.status != TaskStatus.IN_PROGRESS or task.task_id in self.blocked_children:
                    continue
                if depth >= MAX_DEPTH:
                    raise BadRequest(
                        f"subWorkflowTestRequest nests more than {MAX_DEPTH} levels deep"
                    )
                update = self._child_end(workflow, task, child, clock, depth)
                if update is None:
                    self.blocked_children.add(task.task_id)
                    continue
                return self._apply(workflow, task, update, clock), clock
            queue = remaining.get(reference) or remaining.get(reference.split("__")[0])
            if not queue:
                continue
            mock = queue.pop(0)
            clock += max(0, mock.queue_wait_time) + max(0, mock.execution_time)
            update = TaskUpdate(status=mock.status, output=dict(mock.output))
            return self._apply(workflow, task, update, clock), clock
        return None

    def _apply(self, workflow: Workflow, task: Task, update: TaskUpdate, clock: int) -> Decision:
        return decider.update_task(
            workflow,
            task.task_id,
            update,
            clock,
            event_queues=self.event_queues,
            budget=self.budget(),
        )

    def _child_end(
        self, parent: Workflow, task: Task, child: ChildTest, clock: int, depth: int
    ) -> TaskUpdate | None:
        """The update a SUB_WORKFLOW task gets from its child's test run, if the child ends."""
        data: dict[str, Any] = task.input_data
        inline = data.get("subWorkflowDefinition")
        if isinstance(inline, dict):
            definition = WorkflowDef.from_json(inline)
        else:
            version = data.get("subWorkflowVersion")
            definition = self.lookup(
                str(data.get("subWorkflowName")), version if isinstance(version, int) else None
            )
        child_input = data.get("workflowInput")
        refuse_unmocked_calls(definition, child.mocks)
        decision = decider.start(
            definition,
            workflow_id=task.sub_workflow_id or str(uuid.uuid4()),
            workflow_input=child_input if isinstance(child_input, dict) else {},
            now=clock,
            correlation_id=parent.correlation_id,
            priority=parent.priority,
            task_to_domain=parent.task_to_domain,
            event_queues=self.event_queues,
            budget=self.budget(),
            parent_workflow_id=parent.workflow_id,
            parent_workflow_task_id=task.task_id,
        )
        ended = self.drive(decision, clock, child.mocks, child.children, depth=depth + 1)
        status = CHILD_END_TO_TASK.get(ended.status)
        if status is None:
            return None
        reason = None
        if not ended.status.is_successful:
            reason = (
                f"Sub workflow {ended.workflow_id} failure reason: {ended.reason_for_incompletion}"
            )
        return TaskUpdate(
            status=status,
            output=dict(ended.output),
            reason_for_incompletion=reason,
            merge_output=True,
        )
