"""`python -m embedded` with a data directory keeps what it acknowledged through a `kill -9`.

A burst of starts and completions runs on several threads; the whole process group is killed
with SIGKILL while it runs. After a restart on the same directory every workflow whose start
was answered is there with its task, every completion that was answered is COMPLETED, and the
timers that came due while it was down fire.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.runtime_process import RuntimeProcess, http_json, start_runtime, wait_until

WORKFLOW = "durability_wait"
DEFINITION = {
    "name": WORKFLOW,
    "version": 1,
    "schemaVersion": 2,
    "ownerEmail": "tests@example.com",
    "tasks": [
        {
            "name": "hold",
            "taskReferenceName": "hold",
            "type": "WAIT",
            "inputParameters": {"duration": "${workflow.input.wait}"},
        }
    ],
}
CLIENTS = 6
# The kill comes once this many requests have been answered (and the burst goes on meanwhile).
KILL_AFTER_ACKNOWLEDGED = 120
# Workflows started at the beginning with a short timer: due while the runtime is down.
TIMERS = 5
TIMER = "3s"


class Burst:
    """Threads that start WAIT workflows and complete every other one through the API,
    recording only what the API answered with success."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.completed: list[str] = []
        self.answered = 0
        self.stop = threading.Event()

    def client(self) -> None:
        count = 0
        while not self.stop.is_set():
            try:
                status, _, workflow_id = http_json(
                    "POST", f"{self.api}/workflow/{WORKFLOW}", {"wait": "1h"}
                )
            except OSError:
                return  # the runtime is gone
            if status != 200:
                continue
            with self.lock:
                self.started.append(workflow_id)
                self.answered += 1
            count += 1
            if count % 2:
                continue
            try:
                status, _, _ = http_json(
                    "POST", f"{self.api}/tasks/{workflow_id}/hold/COMPLETED", {"by": "burst"}
                )
            except OSError:
                return
            if status == 200:
                with self.lock:
                    self.completed.append(workflow_id)
                    self.answered += 1


def _children(runtime: RuntimeProcess) -> dict[int, str]:
    """The runtime's child processes (moto's server, the API's environments): their commands."""
    pid = runtime.process.pid
    pids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return {p: Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode() for p in pids}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is an ended process its parent (here: nobody, once reaped by init) keeps.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def _workflow(api: str, workflow_id: str) -> dict[str, Any]:
    status, _, body = http_json("GET", f"{api}/workflow/{workflow_id}?includeTasks=true")
    assert status == 200, f"{workflow_id} answered {status}: {body}"
    assert isinstance(body, dict)
    return body


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc for the children")
def test_moto_and_the_environments_end_when_the_runtime_is_killed() -> None:
    runtime = start_runtime(extra_env={"BATON_ENVIRONMENTS": "2"})
    try:
        children = _children(runtime)
        kinds = sorted(
            "moto" if "embedded.moto_server" in command else "environment"
            for command in children.values()
            if "embedded.moto_server" in command or "embedded.environments" in command
        )
        assert kinds == ["environment", "environment", "moto"], children
        os.kill(runtime.process.pid, signal.SIGKILL)
        runtime.process.wait(20)
        wait_until(
            lambda: True if not any(_alive(pid) for pid in children) else None,
            timeout=20,
            what="moto's server and the environments to end with the runtime",
            interval=0.1,
        )
    finally:
        runtime.stop()


def test_kill_9_during_a_burst_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    first = start_runtime(data_dir=data_dir, tick_seconds="1")
    try:
        status, _, body = http_json("POST", f"{first.api_url}/metadata/workflow", DEFINITION)
        assert status == 200, body
        timers = []
        for _ in range(TIMERS):
            status, _, workflow_id = http_json(
                "POST", f"{first.api_url}/workflow/{WORKFLOW}", {"wait": TIMER}
            )
            assert status == 200
            timers.append(workflow_id)
        burst = Burst(first.api_url)
        threads = [threading.Thread(target=burst.client, daemon=True) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        wait_until(
            lambda: True if burst.answered >= KILL_AFTER_ACKNOWLEDGED else None,
            timeout=120,
            what=f"{KILL_AFTER_ACKNOWLEDGED} answered requests",
            runtime=first,
            interval=0.05,
        )
        os.killpg(first.process.pid, signal.SIGKILL)
        burst.stop.set()
        first.process.wait(20)
        for thread in threads:
            thread.join(40)
    finally:
        first.stop()
    with burst.lock:
        started, completed = list(burst.started), set(burst.completed)
    assert len(started) + len(completed) >= KILL_AFTER_ACKNOWLEDGED
    # The timers come due while nothing runs.
    time.sleep(3)

    second = start_runtime(data_dir=data_dir, tick_seconds="1")
    try:
        api = second.api_url
        for workflow_id in started:
            workflow = _workflow(api, workflow_id)
            tasks = [t for t in workflow["tasks"] if t["referenceTaskName"] == "hold"]
            assert len(tasks) == 1, workflow
            if workflow_id in completed:
                assert tasks[0]["status"] == "COMPLETED", workflow
                assert workflow["status"] == "COMPLETED", workflow
            else:
                assert tasks[0]["status"] in ("IN_PROGRESS", "COMPLETED"), workflow

        def timers_fired() -> bool | None:
            statuses = [_workflow(api, workflow_id)["status"] for workflow_id in timers]
            return True if statuses == ["COMPLETED"] * len(timers) else None

        wait_until(
            timers_fired,
            timeout=60,
            what="the timers that came due while the runtime was down",
            runtime=second,
        )
        # The restarted runtime goes on taking work.
        status, _, workflow_id = http_json("POST", f"{api}/workflow/{WORKFLOW}", {"wait": "1s"})
        assert status == 200
        wait_until(
            lambda: True if _workflow(api, workflow_id)["status"] == "COMPLETED" else None,
            timeout=60,
            what="a workflow started after the restart",
            runtime=second,
        )
    finally:
        second.stop()


def test_a_clean_stop_keeps_definitions_and_workflows(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    first = start_runtime(data_dir=data_dir)
    try:
        status, _, _ = http_json("POST", f"{first.api_url}/metadata/workflow", DEFINITION)
        assert status == 200
        status, _, workflow_id = http_json(
            "POST", f"{first.api_url}/workflow/{WORKFLOW}", {"wait": "1h"}
        )
        assert status == 200
    finally:
        first.stop()
    assert first.process.returncode == 0
    second = start_runtime(data_dir=data_dir)
    try:
        status, _, definition = http_json("GET", f"{second.api_url}/metadata/workflow/{WORKFLOW}")
        assert status == 200 and definition["name"] == WORKFLOW
        workflow = _workflow(second.api_url, workflow_id)
        assert workflow["status"] == "RUNNING"
        assert [t["status"] for t in workflow["tasks"]] == ["IN_PROGRESS"]
    finally:
        second.stop()


def test_state_kept_with_the_running_index_still_lists_and_ends_its_workflows(
    tmp_path: Path,
) -> None:
    """State kept by a Baton that had the `by_running` index (the running list's own, now
    read from `by_type_status`): a table with that index, workflow items with its key. The
    runtime starts on it, lists those workflows as running, and ends them."""
    import boto3

    from baton.store.schema import table_specs
    from tests.e2e.runtime_process import ACCESS_KEY_ID, REGION

    data_dir = tmp_path / "state"
    (spec,) = [s for s in table_specs() if s.logical_name == "Workflows"]
    first = start_runtime(data_dir=data_dir)
    try:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=first.moto_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=ACCESS_KEY_ID,
        )
        dynamodb.update_table(
            TableName=spec.default_name,
            AttributeDefinitions=[
                {"AttributeName": "running_key", "AttributeType": "S"},
                {"AttributeName": "create_time", "AttributeType": "N"},
            ],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "by_running",
                        "KeySchema": [
                            {"AttributeName": "running_key", "KeyType": "HASH"},
                            {"AttributeName": "create_time", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    }
                }
            ],
        )
        assert http_json("POST", f"{first.api_url}/metadata/workflow", DEFINITION)[0] == 200
        started = []
        for _ in range(2):
            status, _, workflow_id = http_json(
                "POST", f"{first.api_url}/workflow/{WORKFLOW}", {"wait": "1h"}
            )
            assert status == 200
            started.append(workflow_id)
            # As the earlier commit wrote it: the running index's key on the item.
            dynamodb.update_item(
                TableName=spec.default_name,
                Key={"workflowId": {"S": workflow_id}},
                UpdateExpression="SET running_key = :key",
                ExpressionAttributeValues={":key": {"S": f"{WORKFLOW}#1#0"}},
            )
    finally:
        first.stop()
    second = start_runtime(data_dir=data_dir)
    try:
        running = f"{second.api_url}/workflow/running/{WORKFLOW}"
        assert sorted(http_json("GET", running)[2]) == sorted(started)
        assert (
            http_json("POST", f"{second.api_url}/tasks/{started[0]}/hold/COMPLETED", {})[0] == 200
        )
        assert _workflow(second.api_url, started[0])["status"] == "COMPLETED"
        assert http_json("GET", running)[2] == [started[1]]
    finally:
        second.stop()
