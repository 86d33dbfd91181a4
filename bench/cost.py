"""Dollars per million workflows, from the requests a run really made, beside Step Functions.

Prices live in bench/prices.json (with their date and source). Lambda time is what the
handlers took here, locally, against moto; on AWS it differs (DynamoDB answers faster than
moto, a cold start adds time), so the Lambda line is the least certain one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"
STEP_FUNCTIONS_SEED = Path(__file__).resolve().parent / "stepfunctions_seed.json"
MILLION = 1_000_000


def prices() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return loaded


def lambda_memory_gb() -> float:
    from infra.functions import MEMORY_MB

    return MEMORY_MB / 1024


def states_entered(state_machine: dict[str, Any]) -> int:
    """Transitions of one successful run: every state on the path, Parallel branches included."""
    count = 0
    state_name: str | None = state_machine["StartAt"]
    states = state_machine["States"]
    while state_name is not None:
        state = states[state_name]
        count += 1
        for branch in state.get("Branches", []):
            count += states_entered(branch)
        state_name = (
            None if state.get("End") or state["Type"] in ("Succeed", "Fail") else state["Next"]
        )
    return count


def baton_cost(per_workflow: dict[str, Any]) -> dict[str, float]:
    """Dollars per million workflows on Baton, by line."""
    price = prices()
    gb = lambda_memory_gb()
    invocations = per_workflow["lambda_invocations"]
    seconds = per_workflow["lambda_mean_seconds"]
    # Lambda bills duration in 1 ms steps.
    gb_seconds = sum(invocations[k] * seconds.get(k, 0.0) * gb for k in invocations)
    lines = {
        "DynamoDB writes": per_workflow["dynamodb_write_units"]
        * price["dynamodb_write_request_unit"],
        # Each global secondary index entry written is billed as a write to the table.
        "DynamoDB index writes": sum(per_workflow.get("dynamodb_index_write_units", {}).values())
        * price["dynamodb_write_request_unit"],
        "DynamoDB reads": per_workflow["dynamodb_read_units"] * price["dynamodb_read_request_unit"],
        "SQS": per_workflow["sqs_requests"] * price["sqs_request"],
        "Lambda requests": sum(invocations.values()) * price["lambda_request"],
        "Lambda duration": gb_seconds * price["lambda_arm64_gb_second"],
        "API Gateway (HTTP API)": per_workflow["api_requests"] * price["api_gateway_http_request"],
    }
    return {name: value * MILLION for name, value in lines.items()}


def step_functions_cost(per_workflow: dict[str, Any]) -> dict[str, Any]:
    """The same workflow on Step Functions Standard (and whether Express applies)."""
    price = prices()
    machine = json.loads(STEP_FUNCTIONS_SEED.read_text())
    transitions = states_entered(machine)
    gb = lambda_memory_gb()
    # The callback still needs a consumer: a Lambda reading the message and calling
    # SendTaskSuccess, with the same SQS traffic as Baton's events function (send by the
    # state machine, receive and delete by the event source mapping), for both messages.
    events_seconds = per_workflow["lambda_mean_seconds"].get("events", 0.05)
    standard = {
        "transitions": transitions * price["step_functions_standard_transition"] * MILLION,
        "SQS (2 messages: send, receive, delete)": 6 * price["sqs_request"] * MILLION,
        "callback Lambda": (
            price["lambda_request"] + events_seconds * gb * price["lambda_arm64_gb_second"]
        )
        * MILLION,
        "API Gateway HTTP API (StartExecution through it)": price["api_gateway_http_request"]
        * MILLION,
    }
    return {
        "transitions_per_workflow": transitions,
        "standard": standard,
        "standard_total": sum(standard.values()),
        "express": "does not apply: Express workflows cannot wait for a callback "
        "(.waitForTaskToken), which this workflow's task_1 needs",
    }
