"""Long polls against `python -m embedded`: waiting polls woken by one commit share its task once.

The runtime plays Lambda with several API environments (processes), each letting other requests
in while a poll waits, and the commit wakes the polls waiting in every one; moto's server
applies DynamoDB requests one at a time, as DynamoDB applies writes to one item: the claims
race on their condition as they would on AWS.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.e2e.runtime_process import RuntimeProcess, http_json

pytestmark = pytest.mark.slow

POLLERS = 4


def test_waiting_polls_woken_by_one_task_share_it_once(runtime: RuntimeProcess) -> None:
    definition = {
        "name": "long_poll_once",
        "version": 1,
        "tasks": [{"name": "long_poll_work", "taskReferenceName": "work_ref", "type": "SIMPLE"}],
    }
    assert http_json("POST", f"{runtime.api_url}/metadata/workflow", definition)[0] == 200
    received: list[Any] = []
    waiting = threading.Barrier(POLLERS + 1)

    def wait_for_work() -> None:
        waiting.wait(30)
        url = f"{runtime.api_url}/tasks/poll/batch/long_poll_work?timeout=3000&count=5"
        received.append(http_json("GET", url)[2])

    pollers = [threading.Thread(target=wait_for_work) for _ in range(POLLERS)]
    for poller in pollers:
        poller.start()
    waiting.wait(30)
    status, _, workflow_id = http_json("POST", f"{runtime.api_url}/workflow/long_poll_once", {})
    assert status == 200
    for poller in pollers:
        poller.join(30)
    handed = [task["workflowInstanceId"] for batch in received for task in batch]
    assert handed == [workflow_id]
