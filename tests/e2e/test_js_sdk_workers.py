"""Conductor's JavaScript SDK workers (`TaskManager` of @io-orkes/conductor-javascript v4)
against `python -m embedded`.

`tests/e2e/js/worker_fleet.mjs` runs under Node with the SDK that `package.json` pins (the
Makefile installs it with the CDK CLI). Its TaskManagers poll through
`GET /api/tasks/poll/batch/{type}` and report through `POST /api/tasks/update-v2`, unchanged;
the checks are the Python SDK's (`tests.e2e.worker_scenarios`).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import worker_scenarios
from tests.e2e.runtime_process import REPOSITORY_ROOT, RuntimeProcess

pytestmark = pytest.mark.slow

PREFIX = "js"
FLEET = Path(__file__).parent / "js" / "worker_fleet.mjs"
SDK = REPOSITORY_ROOT / "node_modules" / "@io-orkes" / "conductor-javascript"
READY_TIMEOUT_SECONDS = 30.0


@pytest.fixture(scope="module")
def workers(runtime: RuntimeProcess) -> Iterator[RuntimeProcess]:
    node = shutil.which("node")
    if node is None or not SDK.exists():
        pytest.fail(
            "Node.js and the JavaScript SDK are needed: run `npm install` (or any make target "
            "that installs node_modules)",
            pytrace=False,
        )
    worker_scenarios.register(runtime, PREFIX)
    fleet = subprocess.Popen(
        [node, str(FLEET), runtime.api_url],
        cwd=REPOSITORY_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ready = threading.Event()
    output: list[str] = []

    def read() -> None:
        assert fleet.stdout is not None
        for line in fleet.stdout:
            output.append(line)
            if line.strip() == "READY":
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(READY_TIMEOUT_SECONDS):
            pytest.fail("The JavaScript worker fleet did not start:\n" + "".join(output))
        yield runtime
    finally:
        fleet.send_signal(signal.SIGTERM)
        try:
            fleet.wait(10)
        except subprocess.TimeoutExpired:
            fleet.kill()
            fleet.wait(10)
        reader.join(5)


def test_two_chained_workers_complete_the_workflow(workers: RuntimeProcess) -> None:
    worker_scenarios.check_chain(workers, PREFIX, greeter_id="js-fleet")


def test_a_worker_that_throws_is_retried_per_its_task_def_then_fails(
    workers: RuntimeProcess,
) -> None:
    worker_scenarios.check_retries(workers, PREFIX)


def test_a_non_retryable_exception_fails_at_once(workers: RuntimeProcess) -> None:
    worker_scenarios.check_terminal(workers, PREFIX)


def test_a_task_in_progress_is_polled_again_after_its_callback_and_finishes(
    workers: RuntimeProcess,
) -> None:
    worker_scenarios.check_callback(workers, PREFIX)


def test_a_domain_routed_task_reaches_only_the_worker_polling_that_domain(
    workers: RuntimeProcess,
) -> None:
    worker_scenarios.check_domains(
        workers, PREFIX, blue_worker_id="js-blue-worker", plain_worker_id="js-fleet"
    )
