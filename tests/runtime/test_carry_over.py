"""A workflow that needs more than one decision's budget, through the real functions.

The API answers once its own decision's bounded work is committed; the rest is carried over
as a timer message due at once, which the timers function turns into the next decision,
until the workflow ends. What each decision spent is checked against its budget.
"""

from __future__ import annotations

import json
from typing import Any

from baton import runtime
from baton.engine.run import DecisionBudget
from baton.handlers import timers
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import FakeContext, call_api, sqs_event

TIMER_QUEUE = "baton-timers"
MAX_STEPS = 40


def counting_loop(name: str, times: int) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": "$.loop['iteration'] < $.times",
                "inputParameters": {"times": times},
                "loopOver": [
                    {
                        "name": "count",
                        "taskReferenceName": "count",
                        "type": "SET_VARIABLE",
                        "inputParameters": {"n": "${loop.output.iteration}"},
                    }
                ],
            }
        ],
    }


def small_budgets() -> list[DecisionBudget]:
    """Give every decision of the functions' service a small budget; return them as issued."""
    issued: list[DecisionBudget] = []

    def budget() -> DecisionBudget:
        issued.append(DecisionBudget(max_steps=MAX_STEPS))
        return issued[-1]

    runtime.baton().budget = budget
    return issued


def get(workflow_id: str) -> dict[str, Any]:
    response = call_api("GET", f"/api/workflow/{workflow_id}")
    assert response.status == 200, response.body
    return dict(response.json())


def loop_iteration(workflow: dict[str, Any]) -> int:
    (loop,) = [t for t in workflow["tasks"] if t["referenceTaskName"] == "loop"]
    return int(loop["outputData"]["iteration"])


def fire_timers(aws: Aws) -> int:
    """Hand every timer message on the queue to the timers function; how many there were."""
    messages = aws.receive(TIMER_QUEUE)
    if messages:
        result = timers.handler(sqs_event(TIMER_QUEUE, messages), FakeContext())
        assert result == {"batchItemFailures": []}
        for message in messages:
            aws.sqs.delete_message(
                QueueUrl=aws.queue_urls[TIMER_QUEUE], ReceiptHandle=message["ReceiptHandle"]
            )
    return len(messages)


def test_the_api_answers_after_one_bounded_decision_and_timers_finish_the_loop(
    aws: Aws,
) -> None:
    issued = small_budgets()
    assert call_api("POST", "/api/metadata/workflow", counting_loop("long_loop", 100)).status == 200

    response = call_api("POST", "/api/workflow/long_loop", {})

    assert response.status == 200, response.body
    workflow_id = response.body
    started = get(workflow_id)
    assert started["status"] == "RUNNING"
    assert 0 < loop_iteration(started) < 100
    (timer,) = aws.receive(TIMER_QUEUE)
    body = json.loads(timer["Body"])
    assert body["workflowId"] == workflow_id
    # The timer names the loop task where the decision stopped, due at once.
    assert body["taskId"] in {t["taskId"] for t in started["tasks"]}
    aws.sqs.change_message_visibility(
        QueueUrl=aws.queue_urls[TIMER_QUEUE],
        ReceiptHandle=timer["ReceiptHandle"],
        VisibilityTimeout=0,
    )

    fired = 0
    for _ in range(100):
        if get(workflow_id)["status"] != "RUNNING":
            break
        fired += fire_timers(aws)
    finished = get(workflow_id)
    assert finished["status"] == "COMPLETED"
    assert loop_iteration(finished) == 100
    assert finished["variables"] == {"n": 100}
    assert len(finished["tasks"]) == 101
    # 100 iterations of two steps each, 40 steps a decision: several carried-over decisions.
    assert fired >= 200 // MAX_STEPS
    assert all(budget.steps <= MAX_STEPS for budget in issued)
    assert aws.receive(TIMER_QUEUE) == []  # nothing left to carry over


def test_a_carry_over_is_in_the_due_index_until_the_next_decision(aws: Aws) -> None:
    small_budgets()
    service = runtime.baton()
    now = [1_800_000_000_000]
    service.clock = service.store.clock = lambda: now[0]
    call_api("POST", "/api/metadata/workflow", counting_loop("indexed_loop", 100))
    workflow_id = call_api("POST", "/api/workflow/indexed_loop", {}).body
    store = service.store
    far = now[0] + 3_600_000
    marked = [entry for entry in store.due_entries(far) if entry.workflow_id == workflow_id]
    assert len(marked) == 1

    now[0] += 1_000
    fire_timers(aws)

    again = [entry for entry in store.due_entries(far) if entry.workflow_id == workflow_id]
    assert len(again) == 1 and again != marked  # the old mark cleared, a new one set
