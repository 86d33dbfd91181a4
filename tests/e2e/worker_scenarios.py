"""The workflows both SDKs' worker fleets run, and the checks on how they ended.

Each SDK's fleet serves the same task types under its own prefix (`sdk_` for Python, `js_`
for JavaScript): a greeter and a shouter chained by `${}`, a worker that raises (retried
twice), one that raises a non-retryable error, one that asks to be called back twice, and
one task type served by a worker in domain `blue` and one without a domain.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.runtime_process import RuntimeProcess, http_json, wait_until

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


def register(runtime: RuntimeProcess, prefix: str) -> None:
    """Task definitions and workflows `<prefix>_chain`, `_retries`, `_terminal`, `_callback`
    and `_domains`."""
    p = prefix
    task_defs = [
        {
            "name": f"{p}_{name}",
            "retryCount": retries,
            "retryDelaySeconds": 0,
            "responseTimeoutSeconds": 60,
        }
        for name, retries in (
            ("greet", 0),
            ("shout", 0),
            ("flaky", 2),
            ("fatal", 2),
            ("patient", 0),
            ("routed", 0),
        )
    ]
    workflows = [
        _workflow(
            f"{p}_chain",
            _simple(f"{p}_greet", "greet_ref", name="${workflow.input.name}"),
            _simple(f"{p}_shout", "shout_ref", text="${greet_ref.output.greeting}"),
        ),
        _workflow(f"{p}_retries", _simple(f"{p}_flaky", "flaky_ref", attempt_note="always")),
        _workflow(f"{p}_terminal", _simple(f"{p}_fatal", "fatal_ref")),
        _workflow(f"{p}_callback", _simple(f"{p}_patient", "patient_ref")),
        _workflow(f"{p}_domains", _simple(f"{p}_routed", "routed_ref")),
    ]
    assert http_json("POST", f"{runtime.api_url}/metadata/taskdefs", task_defs)[0] == 200
    for definition in workflows:
        assert http_json("POST", f"{runtime.api_url}/metadata/workflow", definition)[0] == 200


def start(runtime: RuntimeProcess, name: str, data: dict[str, Any], **request: Any) -> str:
    status, _, workflow_id = http_json(
        "POST", f"{runtime.api_url}/workflow", {"name": name, "input": data, **request}
    )
    assert status == 200, workflow_id
    return str(workflow_id)


def finished(runtime: RuntimeProcess, workflow_id: str) -> dict[str, Any]:
    """The workflow once it has ended (failing the test if it does not in time)."""

    def probe() -> dict[str, Any] | None:
        _, _, workflow = http_json("GET", f"{runtime.api_url}/workflow/{workflow_id}")
        return workflow if workflow["status"] not in ("RUNNING", "PAUSED") else None

    return wait_until(
        probe,
        timeout=FINISH_TIMEOUT_SECONDS,
        what=f"workflow {workflow_id} to end",
        runtime=runtime,
    )


def check_chain(runtime: RuntimeProcess, prefix: str, greeter_id: str) -> None:
    workflow = finished(runtime, start(runtime, f"{prefix}_chain", {"name": "Ada"}))
    assert workflow["status"] == "COMPLETED"
    assert workflow["output"] == {"shouted": "HELLO, ADA"}
    greet, shout = workflow["tasks"]
    assert greet["outputData"] == {"greeting": "Hello, Ada"}
    assert shout["inputData"] == {"text": "Hello, Ada"}
    assert greet["workerId"] == greeter_id
    assert shout["workerId"]
    assert [t["pollCount"] for t in workflow["tasks"]] == [1, 1]


def check_retries(runtime: RuntimeProcess, prefix: str) -> None:
    workflow = finished(runtime, start(runtime, f"{prefix}_retries", {}))
    assert workflow["status"] == "FAILED"
    attempts = workflow["tasks"]
    assert [t["retryCount"] for t in attempts] == [0, 1, 2]
    assert {t["status"] for t in attempts} == {"FAILED"}
    assert all("flaky worker failed" in t["reasonForIncompletion"] for t in attempts)


def check_terminal(runtime: RuntimeProcess, prefix: str) -> None:
    workflow = finished(runtime, start(runtime, f"{prefix}_terminal", {}))
    assert workflow["status"] == "FAILED"
    [attempt] = workflow["tasks"]
    assert attempt["status"] == "FAILED_WITH_TERMINAL_ERROR"
    assert "can never be processed" in attempt["reasonForIncompletion"]


def check_callback(runtime: RuntimeProcess, prefix: str) -> None:
    workflow = finished(runtime, start(runtime, f"{prefix}_callback", {}))
    assert workflow["status"] == "COMPLETED"
    [task] = workflow["tasks"]
    assert task["outputData"] == {"done_after_polls": 3}
    assert task["pollCount"] == 3


def check_domains(
    runtime: RuntimeProcess, prefix: str, blue_worker_id: str, plain_worker_id: str
) -> None:
    routed_type = f"{prefix}_routed"
    routed = finished(
        runtime, start(runtime, f"{prefix}_domains", {}, taskToDomain={routed_type: "blue"})
    )
    plain = finished(runtime, start(runtime, f"{prefix}_domains", {}))
    [blue_task] = routed["tasks"]
    [plain_task] = plain["tasks"]
    assert blue_task["domain"] == "blue"
    assert blue_task["outputData"] == {"handled_by": "blue"}
    assert blue_task["workerId"] == blue_worker_id
    assert "domain" not in plain_task
    assert plain_task["outputData"] == {"handled_by": "no domain"}
    assert plain_task["workerId"] == plain_worker_id
