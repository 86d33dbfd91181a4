"""Many Lambdas completing the branches of one fork at the same instant: every update lands.

Each of eight spawned processes plays one Lambda execution environment calling
`baton.service.Baton` against one moto server (which applies DynamoDB requests one at a time,
as DynamoDB serializes writes to an item). A barrier releases them together. An update whose
decision loses the race is written onto its task alone; a process playing the timers
function takes the timer queue's batches and makes the decisions they ask for.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3

from bench.fan_in import decide_from_timer_queue
from tests.reliability.lambda_process import (
    Endpoint,
    call_in_processes,
    complete_fork_branches,
    read_workflow,
    spawn_context,
)
from tests.reliability.support import fork_of_waits

FORK_WIDTH = 100
PROCESSES = 8
# DynamoDB's cap on the items of one transaction: the start decision writes more tasks than it.
MAX_TRANSACTION_ITEMS = 100


def raw_items(endpoint: Endpoint, workflow_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The workflow item and every task item as stored, read past Baton's own filtering."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint.url, region_name="us-east-1")
    key = {"workflowId": {"S": workflow_id}}
    workflow = dynamodb.get_item(TableName="baton-workflows", Key=key, ConsistentRead=True)
    tasks = dynamodb.get_paginator("query").paginate(
        TableName="baton-tasks",
        KeyConditionExpression="workflowId = :id",
        ExpressionAttributeValues={":id": {"S": workflow_id}},
        ConsistentRead=True,
    )
    items = [item for page in tasks for item in page["Items"]]
    dynamodb.close()
    return workflow["Item"], items


def test_a_hundred_branches_completed_at_once_from_eight_lambdas_all_land(
    moto_endpoint: Endpoint,
) -> None:
    workflow_id = str(uuid.uuid4())
    definition = fork_of_waits(FORK_WIDTH)
    context = spawn_context()
    barrier, writers_done = context.Barrier(PROCESSES), context.Event()
    shares = [list(range(FORK_WIDTH))[p::PROCESSES] for p in range(PROCESSES)]
    *reports, decided = call_in_processes(
        moto_endpoint.environment(),
        [
            (
                complete_fork_branches,
                (workflow_id, share, barrier, definition if p == 0 else None, writers_done),
            )
            for p, share in enumerate(shares)
        ]
        + [(decide_from_timer_queue, (moto_endpoint.timer_queue_url, writers_done))],
    )
    (workflow,) = call_in_processes(moto_endpoint.environment(), [(read_workflow, (workflow_id,))])
    assert decided["failed"] == 0
    tasks = workflow["tasks"]
    waits = {t["referenceTaskName"]: t for t in tasks if t["taskType"] == "WAIT"}
    joins = [t for t in tasks if t["taskType"] == "JOIN"]

    # No update lost: each WAIT is COMPLETED with the output its own update gave it.
    assert sorted(waits) == sorted(f"wait_{i}_ref" for i in range(FORK_WIDTH))
    assert len([t for t in tasks if t["taskType"] == "WAIT"]) == FORK_WIDTH
    for i in range(FORK_WIDTH):
        assert waits[f"wait_{i}_ref"]["status"] == "COMPLETED"
        assert waits[f"wait_{i}_ref"]["outputData"] == {"branch": i}
    # Every update reported the id of the task it completed.
    updates = [u for report in reports for u in report["updates"]]
    assert {u["reference"]: u["taskId"] for u in updates} == {
        ref: task["taskId"] for ref, task in waits.items()
    }

    # One JOIN, completed once, holding every branch's output under its reference.
    (join,) = joins
    assert join["status"] == "COMPLETED"
    assert join["outputData"] == {f"wait_{i}_ref": {"branch": i} for i in range(FORK_WIDTH)}
    assert workflow["status"] == "COMPLETED"
    # Exactly one committed decision moved it there: an update's, or the timers function's.
    completions = [u for u in updates if u["completedWorkflow"]]
    completions += [d for d in decided["decisions"] if d["status"] == "COMPLETED"]
    assert len(completions) == 1

    # The start made more tasks than one transaction holds. The store holds each task once, in
    # an item the workflow lists, and wrote each twice: created, then completed once; or, for
    # an update written alone, three times: created, written alone, taken in by a decision.
    stored_workflow, stored_tasks = raw_items(moto_endpoint, workflow_id)
    new_at_start = FORK_WIDTH + 2  # the fork, its WAITs and the join
    assert new_at_start > MAX_TRANSACTION_ITEMS
    listed = set(stored_workflow.get("staged_attempts", {}).get("SS", []))
    assert all("attempt" not in item or item["attempt"]["S"] in listed for item in stored_tasks)
    # A task item's key is its task id, then `#<attempt>` for a task staged by a decision.
    stored_ids = [item["taskKey"]["S"].split("#", 1)[0] for item in stored_tasks]
    assert len(stored_tasks) == len(set(stored_ids)) == new_at_start
    versions = {
        task_id: int(item["version"]["N"])
        for task_id, item in zip(stored_ids, stored_tasks, strict=True)
    }
    assert versions[join["taskId"]] == 2
    alone = {u["taskId"] for u in updates if u["writtenAlone"]}
    for task in waits.values():
        assert versions[task["taskId"]] == (3 if task["taskId"] in alone else 2)

    retries = sum(report["retries"] for report in [*reports, decided])
    # Less the start's commit.
    attempts = sum(report["commits"] for report in [*reports, decided]) + retries - 1
    print(
        f"\n{FORK_WIDTH} branches completed by {PROCESSES} processes at once: "
        f"{retries} commit retries in all, {attempts / FORK_WIDTH:.2f} commit attempts per "
        f"completion; {len(alone)} updates written onto their task alone after a lost race; "
        "no call turned away"
    )


def test_two_dynamic_fork_branches_completed_at_the_same_instant_both_land(
    moto_endpoint: Endpoint,
) -> None:
    """The branches of a FORK_JOIN_DYNAMIC (known only once it ran) completed together: the
    JOIN, which waits on the dynamic references, completes once with both outputs."""
    workflow_id = str(uuid.uuid4())
    branches = [
        {"name": f"wait_{i}", "taskReferenceName": f"wait_{i}_ref", "type": "WAIT"}
        for i in range(2)
    ]
    definition = {
        "name": "reliability_dynamic_fork",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan_ref",
                "type": "FORK_JOIN_DYNAMIC",
                "dynamicForkTasksParam": "tasks",
                "dynamicForkTasksInputParamName": "inputs",
                "inputParameters": {"tasks": branches, "inputs": {}},
            },
            {"name": "join", "taskReferenceName": "join_ref", "type": "JOIN", "joinOn": []},
        ],
    }
    context = spawn_context()
    barrier, writers_done = context.Barrier(2), context.Event()
    *reports, decided = call_in_processes(
        moto_endpoint.environment(),
        [
            (
                complete_fork_branches,
                (workflow_id, [p], barrier, definition if p == 0 else None, writers_done),
            )
            for p in range(2)
        ]
        + [(decide_from_timer_queue, (moto_endpoint.timer_queue_url, writers_done))],
    )
    (workflow,) = call_in_processes(moto_endpoint.environment(), [(read_workflow, (workflow_id,))])
    assert workflow["status"] == "COMPLETED"
    (join,) = [t for t in workflow["tasks"] if t["taskType"] == "JOIN"]
    assert join["inputData"]["joinOn"] == ["wait_0_ref", "wait_1_ref"]
    assert join["status"] == "COMPLETED"
    assert join["outputData"] == {"wait_0_ref": {"branch": 0}, "wait_1_ref": {"branch": 1}}
    updates = [u for report in reports for u in report["updates"]]
    completions = [u for u in updates if u["completedWorkflow"]]
    completions += [d for d in decided["decisions"] if d["status"] == "COMPLETED"]
    assert len(completions) == 1
