"""Conductor's Python SDK workers (`TaskHandler` with `@worker_task`) against `python -m embedded`.

The workers in `tests.e2e.sdk_workers` are run by the SDK's own TaskHandler, unchanged: it
polls through `GET /api/tasks/poll/batch/{type}`, reports through `update-v2` and its
fallbacks, and runs each worker in a process of its own. The tests only register
definitions, start workflows over HTTP and read what happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration

from tests.e2e import sdk_workers
from tests.e2e.runtime_process import RuntimeProcess, http_json, wait_until

pytestmark = pytest.mark.slow

FINISH_TIMEOUT_SECONDS = 60.0


def _simple(task_name: str, reference: str, **inputs: Any) -> dict[str, Any]:
    return {
        "name": task_name,
        "taskReferenceName": reference,
        "type": "SIMPLE",
        "inputParameters": inputs,
    }


def _workflow(name: str, *tasks: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "version": 1, "schemaVersion": 2, "tasks": list(tasks)}


DEFINITIONS = [
    _workflow(
        "sdk_chain",
        _simple("sdk_greet", "greet_ref", name="${workflow.input.name}"),
        _simple("sdk_shout", "shout_ref", text="${greet_ref.output.greeting}"),
    ),
    _workflow("sdk_retries", _simple("sdk_flaky", "flaky_ref", attempt_note="always")),
    _workflow("sdk_terminal", _simple("sdk_fatal", "fatal_ref")),
    _workflow("sdk_callback", _simple("sdk_patient", "patient_ref")),
    _workflow("sdk_domains", _simple("sdk_routed", "routed_ref")),
]
TASK_DEFS = [
    {"name": name, "retryCount": retries, "retryDelaySeconds": 0, "responseTimeoutSeconds": 60}
    for name, retries in (
        ("sdk_greet", 0),
        ("sdk_shout", 0),
        ("sdk_flaky", 2),
        ("sdk_fatal", 2),
        ("sdk_patient", 0),
        ("sdk_routed", 0),
    )
]


@pytest.fixture(scope="module")
def workers(runtime: RuntimeProcess) -> Iterator[RuntimeProcess]:
    assert http_json("POST", f"{runtime.api_url}/metadata/taskdefs", TASK_DEFS)[0] == 200
    for definition in DEFINITIONS:
        assert http_json("POST", f"{runtime.api_url}/metadata/workflow", definition)[0] == 200
    handler = TaskHandler(
        configuration=Configuration(server_api_url=runtime.api_url),
        scan_for_annotated_workers=True,
        import_modules=[sdk_workers.__name__],
        monitor_processes=False,
    )
    handler.start_processes()
    try:
        yield runtime
    finally:
        handler.stop_processes()


def _start(runtime: RuntimeProcess, name: str, data: dict[str, Any], **request: Any) -> str:
    status, _, workflow_id = http_json(
        "POST", f"{runtime.api_url}/workflow", {"name": name, "input": data, **request}
    )
    assert status == 200, workflow_id
    return str(workflow_id)


def _finished(runtime: RuntimeProcess, workflow_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        _, _, workflow = http_json("GET", f"{runtime.api_url}/workflow/{workflow_id}")
        return workflow if workflow["status"] not in ("RUNNING", "PAUSED") else None

    return wait_until(
        probe,
        timeout=FINISH_TIMEOUT_SECONDS,
        what=f"workflow {workflow_id} to end",
        runtime=runtime,
    )


def test_two_chained_workers_complete_the_workflow(workers: RuntimeProcess) -> None:
    workflow = _finished(workers, _start(workers, "sdk_chain", {"name": "Ada"}))
    assert workflow["status"] == "COMPLETED"
    assert workflow["output"] == {"shouted": "HELLO, ADA"}
    greet, shout = workflow["tasks"]
    assert greet["outputData"] == {"greeting": "Hello, Ada"}
    assert shout["inputData"] == {"text": "Hello, Ada"}
    assert greet["workerId"] == sdk_workers.GREETER_ID
    assert shout["workerId"]  # the SDK's default identity (the host name)
    assert [t["pollCount"] for t in workflow["tasks"]] == [1, 1]


def test_a_worker_that_raises_is_retried_per_its_task_def_then_fails(
    workers: RuntimeProcess,
) -> None:
    workflow = _finished(workers, _start(workers, "sdk_retries", {}))
    assert workflow["status"] == "FAILED"
    attempts = workflow["tasks"]
    assert [t["retryCount"] for t in attempts] == [0, 1, 2]
    assert {t["status"] for t in attempts} == {"FAILED"}
    assert all("flaky worker failed" in t["reasonForIncompletion"] for t in attempts)


def test_a_non_retryable_exception_fails_at_once(workers: RuntimeProcess) -> None:
    workflow = _finished(workers, _start(workers, "sdk_terminal", {}))
    assert workflow["status"] == "FAILED"
    [attempt] = workflow["tasks"]
    assert attempt["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "can never be processed" in attempt["reasonForIncompletion"]


def test_a_task_in_progress_is_polled_again_after_its_callback_and_finishes(
    workers: RuntimeProcess,
) -> None:
    workflow = _finished(workers, _start(workers, "sdk_callback", {}))
    assert workflow["status"] == "COMPLETED"
    [task] = workflow["tasks"]
    assert task["outputData"] == {"done_after_polls": 3}
    assert task["pollCount"] == 3


def test_a_domain_routed_task_reaches_only_the_worker_polling_that_domain(
    workers: RuntimeProcess,
) -> None:
    routed = _finished(
        workers, _start(workers, "sdk_domains", {}, taskToDomain={"sdk_routed": "blue"})
    )
    plain = _finished(workers, _start(workers, "sdk_domains", {}))
    [blue_task] = routed["tasks"]
    [plain_task] = plain["tasks"]
    assert blue_task["domain"] == "blue"
    assert blue_task["outputData"] == {"handled_by": "blue"}
    assert blue_task["workerId"] == "blue-worker"
    assert "domain" not in plain_task
    assert plain_task["outputData"] == {"handled_by": "no domain"}
    assert plain_task["workerId"] == "plain"
