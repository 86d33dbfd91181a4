"""`python -m embedded` under many clients at once, and at rest.

64 clients connect at the same moment and start and complete workflows: none is reset or
refused (the listen backlogs are deep, and moto's server keeps its connections). With nothing
to do, the runtime and its moto server use a small share of a core (a generous bound: the
figure itself is in bench/RESULTS.md).
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.runtime_process import RuntimeDidNotStart, RuntimeProcess, http_json, start_runtime

CLIENTS = 64
WORKFLOWS_PER_CLIENT = 2
WORKFLOW = "load_wait"
DEFINITION = {
    "name": WORKFLOW,
    "version": 1,
    "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
}
IDLE_SECONDS = 10.0
# A generous bound on the share of a core used at rest (the pollers long-poll; 50 ms short
# polls used about 20%).
IDLE_CPU_BOUND = 0.05


@pytest.fixture(scope="module")
def runtime() -> Iterator[RuntimeProcess]:
    try:
        started = start_runtime(tick_seconds="60")
    except RuntimeDidNotStart as error:
        pytest.fail(str(error), pytrace=False)
    try:
        status, _, body = http_json("POST", f"{started.api_url}/metadata/workflow", DEFINITION)
        assert status == 200, body
        yield started
    finally:
        started.stop()


def test_64_clients_at_once_are_all_served(runtime: RuntimeProcess) -> None:
    parts = urlsplit(runtime.api_url)
    host, port = parts.hostname, parts.port
    assert host and port
    barrier = threading.Barrier(CLIENTS)
    errors: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        barrier.wait(30)
        connection = http.client.HTTPConnection(host, port, timeout=120)
        headers = {"Content-Type": "application/json"}
        try:
            for _ in range(WORKFLOWS_PER_CLIENT):
                connection.request("POST", f"/api/workflow/{WORKFLOW}", b"{}", headers)
                started = connection.getresponse()
                workflow_id = started.read().decode()
                connection.request(
                    "POST", f"/api/tasks/{workflow_id}/hold/COMPLETED", b"{}", headers
                )
                completed = connection.getresponse()
                completed.read()
                with lock:
                    statuses.extend((started.status, completed.status))
        except (OSError, http.client.HTTPException) as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert statuses == [200] * (2 * CLIENTS * WORKFLOWS_PER_CLIENT)


def _cpu_seconds(pid: int) -> float:
    total = 0.0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(") ", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc for CPU time")
def test_at_rest_it_uses_little_cpu(runtime: RuntimeProcess) -> None:
    # Let the last burst settle (pollers, the sweep) before measuring.
    time.sleep(2)
    before, began = _cpu_seconds(runtime.process.pid), time.monotonic()
    time.sleep(IDLE_SECONDS)
    share = (_cpu_seconds(runtime.process.pid) - before) / (time.monotonic() - began)
    assert share < IDLE_CPU_BOUND, json.dumps({"share_of_a_core": share})
