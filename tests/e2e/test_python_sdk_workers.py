"""Conductor's Python SDK workers (`TaskHandler` with `@worker_task`) against `python -m embedded`.

The workers in `tests.e2e.sdk_workers` are run by the SDK's own TaskHandler, unchanged: it
polls through `GET /api/tasks/poll/batch/{type}`, reports through `POST /api/tasks/update-v2`,
and runs each worker in a process of its own. The tests only register definitions, start
workflows over HTTP and read how they ended (`tests.e2e.worker_scenarios`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conductor.client.automator.task_handler import TaskHandler
from conductor.client.configuration.configuration import Configuration

from tests.e2e import sdk_workers, worker_scenarios
from tests.e2e.runtime_process import RuntimeProcess

pytestmark = pytest.mark.slow

PREFIX = "sdk"


@pytest.fixture(scope="module")
def workers(runtime: RuntimeProcess) -> Iterator[RuntimeProcess]:
    worker_scenarios.register(runtime, PREFIX)
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


def test_two_chained_workers_complete_the_workflow(workers: RuntimeProcess) -> None:
    worker_scenarios.check_chain(workers, PREFIX, greeter_id=sdk_workers.GREETER_ID)


def test_a_worker_that_raises_is_retried_per_its_task_def_then_fails(
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
        workers, PREFIX, blue_worker_id="blue-worker", plain_worker_id="plain"
    )
