"""Eight workers batch-polling one task type at once: every task is handed out exactly once.

Each of eight spawned processes plays one Lambda execution environment answering one
worker's batch polls against one moto server. The first starts a workflow whose FORK makes
200 SCHEDULED tasks of one type ready at once; a barrier then releases all eight, and each
polls (10 at a time, no wait) until it gets an empty answer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.reliability.lambda_process import (
    Endpoint,
    call_in_processes,
    poll_until_drained,
    read_workflow,
    spawn_context,
)

READY_TASKS = 200
POLLERS = 8
TASK_TYPE = "race_work"


def _fork_of_workers(width: int) -> dict[str, Any]:
    references = [f"work_{i}_ref" for i in range(width)]
    return {
        "name": "reliability_poll_race",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork_ref",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": TASK_TYPE, "taskReferenceName": ref, "type": "SIMPLE"}]
                    for ref in references
                ],
            },
            {"name": "join", "taskReferenceName": "join_ref", "type": "JOIN", "joinOn": references},
        ],
    }


def test_eight_concurrent_batch_pollers_receive_each_of_200_tasks_exactly_once(
    moto_endpoint: Endpoint,
) -> None:
    barrier = spawn_context().Barrier(POLLERS)
    definition = _fork_of_workers(READY_TASKS)
    reports = call_in_processes(
        moto_endpoint.environment(),
        [
            (
                poll_until_drained,
                (f"worker-{p}", TASK_TYPE, 10, barrier, definition if p == 0 else None),
            )
            for p in range(POLLERS)
        ],
    )

    handed_out = Counter(task_id for report in reports for task_id in report["received"])
    assert sum(handed_out.values()) == READY_TASKS
    assert set(handed_out.values()) == {1}, "a task was handed to more than one poll"
    receiver = {
        task_id: f"worker-{p}" for p, report in enumerate(reports) for task_id in report["received"]
    }
    [workflow] = call_in_processes(
        moto_endpoint.environment(), [(read_workflow, (reports[0]["workflowId"],))]
    )
    workers = [t for t in workflow["tasks"] if t["taskType"] == TASK_TYPE]
    assert {t["taskId"] for t in workers} == set(handed_out)
    for task in workers:
        assert task["status"] == "IN_PROGRESS"
        assert task["pollCount"] == 1
        assert task["workerId"] == receiver[task["taskId"]]
    print(
        f"\n{READY_TASKS} tasks to {POLLERS} pollers: "
        + ", ".join(str(len(r["received"])) for r in reports)
    )
