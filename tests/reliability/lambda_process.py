"""Code that runs in processes of their own, each playing one Lambda execution environment.

pynamodb's models read AWS_ENDPOINT_URL when they are first imported, and the pytest process
imported `baton` while collecting tests; so a process that must talk to a moto *server* is
started with multiprocessing's "spawn" method and sets its environment before it imports
`baton`. Nothing in this module imports `baton` at the top, since a spawned process imports
this module to find the function it runs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Generous, only so that a broken run fails instead of hanging; nothing is timed against it.
PROCESS_DEADLINE_SECONDS = 240.0


@dataclass(frozen=True)
class Endpoint:
    """A moto server with Baton's tables and queues, as the functions' environment names it."""

    url: str
    event_queue_urls: dict[str, str]
    timer_queue_url: str
    internal_event_queue_url: str
    decision_queue_url: str = ""

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "BATON_EVENT_QUEUE_URLS": json.dumps(self.event_queue_urls),
            "BATON_TIMER_QUEUE_URL": self.timer_queue_url,
            "BATON_INTERNAL_EVENT_QUEUE_URL": self.internal_event_queue_url,
            "BATON_DECISION_QUEUE_URL": self.decision_queue_url,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }


def enter(environment: dict[str, str]) -> None:
    """Set the environment a function has, before anything imports `baton`."""
    os.environ.update(environment)


def spawn_context() -> Any:
    return multiprocessing.get_context("spawn")


def call_in_processes(
    environment: dict[str, str], calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]
) -> list[Any]:
    """Run each `function(*args)` at once, each in a fresh spawned process; their results."""
    from bench.fan_in import call_in_processes as call_spawned

    return call_spawned(environment, calls, enter=enter, deadline_seconds=PROCESS_DEADLINE_SECONDS)


def complete_fork_branches(
    workflow_id: str,
    branches: list[int],
    barrier: Any,
    definition: dict[str, Any] | None = None,
    writers_done: Any = None,
) -> dict[str, Any]:
    """One Lambda environment completing WAIT branches `wait_<i>_ref` with `{"branch": i}`.

    With `definition`, this environment first starts the workflow (before the barrier, so the
    others begin only once it exists). Each update goes through
    `Baton.update_task_by_reference`; the store records what each update did: the decision it
    committed, or that it was written onto its task alone after its decision lost a race (the
    timers function then decides: see `bench.fan_in.decide_from_timer_queue`). Once every
    environment has finished (the barrier again), `writers_done` is set if given. An update
    that fails is not tried again: the test expects none to.
    """
    try:
        return _complete_fork_branches(workflow_id, branches, barrier, definition, writers_done)
    except BaseException:
        barrier.abort()  # the other environments stop waiting for this one
        if writers_done is not None:
            writers_done.set()
        raise


def _complete_fork_branches(
    workflow_id: str,
    branches: list[int],
    barrier: Any,
    definition: dict[str, Any] | None,
    writers_done: Any,
) -> dict[str, Any]:
    from baton.engine.decider import Decision, TaskUpdate
    from baton.engine.definitions import WorkflowDef
    from baton.engine.state import Task, TaskStatus, Workflow, WorkflowStatus
    from baton.service import Baton, StartRequest
    from baton.store.workflows import WorkflowStore, WrittenAlone

    outcomes: list[Decision | WrittenAlone] = []

    class RecordingStore(WorkflowStore):
        def update_task(
            self,
            workflow_id: str,
            change: Callable[[Workflow], Decision],
            updated: Callable[[Workflow], Task | None],
            **options: Any,
        ) -> Decision | WrittenAlone:
            outcome = super().update_task(workflow_id, change, updated, **options)
            outcomes.append(outcome)
            return outcome

    service = Baton(store=RecordingStore())
    if definition is not None:
        service.start(
            StartRequest(
                name=definition["name"],
                workflow_def=WorkflowDef.from_json(definition),
                workflow_id=workflow_id,
            )
        )
    else:
        service.store.load(workflow_id)  # opens the connection, as a warm container has it
    barrier.wait(PROCESS_DEADLINE_SECONDS)
    updates = []
    for branch in branches:
        reference = f"wait_{branch}_ref"
        update = TaskUpdate(status=TaskStatus.COMPLETED, output={"branch": branch})
        outcomes.clear()
        task_id = service.update_task_by_reference(workflow_id, reference, update)
        (outcome,) = outcomes
        updates.append(
            {
                "reference": reference,
                "taskId": task_id,
                "writtenAlone": isinstance(outcome, WrittenAlone),
                "completedWorkflow": isinstance(outcome, Decision)
                and outcome.workflow_changed
                and outcome.workflow.status == WorkflowStatus.COMPLETED,
            }
        )
    report: dict[str, Any] = {
        "updates": updates,
        "retries": service.store.stats.retries,
        "commits": service.store.stats.commits,
    }
    barrier.wait(PROCESS_DEADLINE_SECONDS)
    if writers_done is not None:
        writers_done.set()
    return report


# A message whose body holds this marker loses the first delete the pollers make of it, as if
# the events function's environment had died between handling the message and deleting it.
DROP_FIRST_DELETE_MARKER = "reliability-drop-first-delete"


def run_embedded_runtime(
    environment: dict[str, str], ready: Any, deliveries: Any, stop: Any
) -> None:
    """`Runtime.from_environment()` with the real handlers, until `stop` is set.

    Puts the API URL on `ready` once started, and on `deliveries` one entry per record its
    pollers hand to a function (and per delete they drop).
    """
    enter(environment)
    from embedded import pollers
    from embedded.runtime import Runtime

    deliver = pollers.QueuePoller._deliver
    delete = pollers.QueuePoller._delete
    dropped: set[str] = set()

    def reporting_deliver(self: Any, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            deliveries.put(
                {
                    "kind": "delivered",
                    "queue": self.queue.spec.name,
                    "messageId": message["MessageId"],
                    "receiveCount": int(message["Attributes"]["ApproximateReceiveCount"]),
                    "body": message.get("Body", ""),
                }
            )
        deliver(self, messages)

    def dropping_delete(self: Any, records: list[dict[str, Any]]) -> None:
        kept = []
        for record in records:
            if DROP_FIRST_DELETE_MARKER in record["body"] and record["messageId"] not in dropped:
                dropped.add(record["messageId"])
                deliveries.put({"kind": "delete-dropped", "messageId": record["messageId"]})
            else:
                kept.append(record)
        if kept:
            delete(self, kept)

    pollers.QueuePoller._deliver = reporting_deliver  # type: ignore[method-assign]
    pollers.QueuePoller._delete = dropping_delete  # type: ignore[method-assign]
    runtime = Runtime.from_environment()
    runtime.start()
    try:
        ready.put({"api_url": runtime.api_url})
        stop.wait(PROCESS_DEADLINE_SECONDS * 4)
    finally:
        runtime.stop()


def poll_until_drained(
    worker_id: str,
    task_type: str,
    count: int,
    barrier: Any,
    definition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Lambda environment answering batch polls for one worker until the queue is empty.

    With `definition`, this environment first starts the workflow (before the barrier, so the
    others begin only once its tasks are ready). Each poll is `Baton.batch_poll` with `count`
    and no wait; the environment stops after an empty answer. Reports the task ids handed to
    this worker, in order.
    """
    try:
        return _poll_until_drained(worker_id, task_type, count, barrier, definition)
    except BaseException:
        barrier.abort()
        raise


def _poll_until_drained(
    worker_id: str,
    task_type: str,
    count: int,
    barrier: Any,
    definition: dict[str, Any] | None,
) -> dict[str, Any]:
    from baton.engine.definitions import WorkflowDef
    from baton.service import Baton, StartRequest

    service = Baton()
    workflow_id = None
    if definition is not None:
        workflow_id = service.start(
            StartRequest(name=definition["name"], workflow_def=WorkflowDef.from_json(definition))
        )
    barrier.wait(PROCESS_DEADLINE_SECONDS)
    received: list[str] = []
    polls = 0
    while True:
        polls += 1
        tasks = service.batch_poll(task_type, worker_id, None, count=count, timeout_ms=0)
        if not tasks:
            break
        received += [task["taskId"] for task in tasks]
    return {"workflowId": workflow_id, "received": received, "polls": polls}


def read_workflow(workflow_id: str) -> dict[str, Any]:
    """The workflow's JSON with its tasks, as `GET /api/workflow/{id}` gives it."""
    from baton.service import Baton

    return Baton().get(workflow_id, include_tasks=True)
