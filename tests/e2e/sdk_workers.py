"""Workers for the Python SDK tests, written as any conductor-python user writes them.

They live in a module of their own because the SDK's TaskHandler runs each worker in a
process started with `spawn`, which imports the worker's module again by name. The SDK reads
the parameters' annotations as types to convert inputs, so they are not postponed here
(no `from __future__ import annotations`).
"""

from typing import Any

from conductor.client.context.task_context import TaskInProgress, get_task_context
from conductor.client.worker.exception import NonRetryableException
from conductor.client.worker.worker_task import worker_task

# Short intervals: the tests wait for the workers, and an idle worker costs nothing locally.
POLL_MS = 50
GREETER_ID = "py-greeter-1"


@worker_task(task_definition_name="sdk_greet", poll_interval_millis=POLL_MS, worker_id=GREETER_ID)
def greet(name: str) -> dict[str, Any]:
    return {"greeting": f"Hello, {name}"}


@worker_task(task_definition_name="sdk_shout", poll_interval_millis=POLL_MS)
def shout(text: str) -> dict[str, Any]:
    return {"shouted": text.upper()}


@worker_task(task_definition_name="sdk_flaky", poll_interval_millis=POLL_MS)
def flaky(attempt_note: str) -> dict[str, Any]:
    raise RuntimeError(f"flaky worker failed ({attempt_note})")


@worker_task(task_definition_name="sdk_fatal", poll_interval_millis=POLL_MS)
def fatal() -> dict[str, Any]:
    raise NonRetryableException("this input can never be processed")


@worker_task(task_definition_name="sdk_patient", poll_interval_millis=POLL_MS)
def patient() -> dict[str, Any] | TaskInProgress:
    # Not done on the first two polls: come back in a second.
    polls = get_task_context().get_poll_count()
    if polls < 3:
        return TaskInProgress(callback_after_seconds=1, output={"progress": polls})
    return {"done_after_polls": polls}


@worker_task(
    task_definition_name="sdk_routed",
    poll_interval_millis=POLL_MS,
    domain="blue",
    worker_id="blue-worker",
)
def routed_blue() -> dict[str, Any]:
    return {"handled_by": "blue"}


@worker_task(task_definition_name="sdk_routed", poll_interval_millis=POLL_MS, worker_id="plain")
def routed_plain() -> dict[str, Any]:
    return {"handled_by": "no domain"}
