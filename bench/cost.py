"""Dollars per million workflows, from the requests a run really made, beside Step Functions.

Prices live in bench/prices.json (with their date and source). Lambda time is what the
handlers took here, locally, against moto; on AWS it differs (DynamoDB answers faster than
moto, a cold start adds time), so the Lambda line is the least certain one.

`measure_seed` runs seed-like workflows through the embedded runtime under the meter and
returns what one of them asked of AWS (bench/scale_day.py multiplies it out over a day).
Run alone with `.venv/bin/python -m bench.cost [--runs N]`: it writes its section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import results

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"
STEP_FUNCTIONS_SEED = Path(__file__).resolve().parent / "stepfunctions_seed.json"
MILLION = 1_000_000
SECTION_TITLE = "## 3. AWS cost per seed workflow"
SEED_RUNS = 20
# What the seed should cost on Baton, per million workflows and beside Step Functions Standard.
TARGET_PER_MILLION = 12.0
TARGET_RATIO = 0.11
# DynamoDB bills 100 bytes of overhead per stored item, index entries included.
ITEM_OVERHEAD_BYTES = 100
# Tables whose items a workflow leaves behind until its retention ends.
WORKFLOW_TABLES = ("Workflows", "Tasks")


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


# The seed as a Lambda durable function: the operations one run checkpoints, and why.
DURABLE_OPERATIONS: tuple[tuple[str, int, str], ...] = (
    ("execution start", 1, "the durable execution itself"),
    ("parallel", 1, "the FORK (its two branches run side by side)"),
    ("child contexts", 2, "one per branch of the parallel"),
    ("callback", 1, "task_1 waits for the event message, as Step Functions' task token does"),
    ("step: send the callback id", 1, "the callback's submitter puts its id on the queue"),
    ("wait", 1, "task_2, 10 s: the function is suspended, not billed for time"),
    ("step: send_sqs_message", 1, "the EVENT task's SQS send"),
)
# Invocations of the durable function: the first runs to both suspensions, then one resume
# after the wait and one after the callback.
DURABLE_INVOCATIONS = 3


def durable_functions_cost(per_workflow: dict[str, Any]) -> dict[str, Any]:
    """The same workflow as a Lambda durable function, from the published prices."""
    price = prices()
    gb = lambda_memory_gb()
    operations = sum(count for _, count, _ in DURABLE_OPERATIONS)
    # Each invocation replays the log and decides, about what Baton's API function does for a
    # request; the callback consumer's work is the events function's (both as measured here).
    replay_seconds = per_workflow["lambda_mean_seconds"].get("api", 0.03)
    consumer_seconds = per_workflow["lambda_mean_seconds"].get("events", 0.05)
    lines = {
        f"durable operations ({operations})": operations
        * price["lambda_durable_operation"]
        * MILLION,
        f"Lambda requests ({DURABLE_INVOCATIONS} invocations + the callback consumer)": (
            DURABLE_INVOCATIONS + 1
        )
        * price["lambda_request"]
        * MILLION,
        "Lambda duration": (DURABLE_INVOCATIONS * replay_seconds + consumer_seconds)
        * gb
        * price["lambda_arm64_gb_second"]
        * MILLION,
        "SQS (2 messages: send, receive, delete)": 6 * price["sqs_request"] * MILLION,
        "API Gateway HTTP API (the start through it)": price["api_gateway_http_request"] * MILLION,
    }
    return {
        "operations_per_workflow": operations,
        "lines": lines,
        "total": sum(lines.values()),
        "replay_seconds": replay_seconds,
    }


def storage_bytes(runtime: Any, workflows: int) -> dict[str, float]:
    """Bytes one finished workflow keeps in the tables and their indexes until it expires,
    from every item the run left (sizes as DynamoDB bills them, 100 bytes more per item)."""
    from bench.metering import attribute_size, item_size

    stored = {"table": 0.0, "indexes": 0.0}
    for spec in runtime.table_specs:
        if spec.logical_name not in WORKFLOW_TABLES:
            continue
        name = os.environ.get(spec.env_var) or spec.default_name
        table_keys = [k.name for k in (spec.partition_key, spec.sort_key) if k]
        paginator = runtime.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=name):
            for item in page["Items"]:
                stored["table"] += item_size(item) + ITEM_OVERHEAD_BYTES
                for index in spec.indexes:
                    keys = [k.name for k in (index.partition_key, index.sort_key) if k]
                    if all(key in item for key in keys):
                        # Keys-only: the index's keys and the table's, nothing else.
                        stored["indexes"] += ITEM_OVERHEAD_BYTES + sum(
                            len(key) + attribute_size(item[key]) for key in {*keys, *table_keys}
                        )
    return {kind: value / workflows for kind, value in stored.items()}


def write_breakdown_lines(per_workflow: dict[str, Any]) -> list[str]:
    """Where the write units go: each call site's writes, by item, with their size (a write
    is a unit per KB of the item, twice inside a transaction), and the index entries the
    same call site added, moved or removed."""
    breakdown: dict[tuple[str, str, str], tuple[float, float, float]] = per_workflow.get(
        "write_breakdown", {}
    )
    if not breakdown:
        return []
    lines = [
        "Where the write units go, per workflow (table rows: a unit per KB of the item, two "
        "in a transaction, an update billed on the larger of the item before and after; index "
        "rows: one per entry added or removed, two per entry moved):",
        "",
        "| call site | write | item | writes | mean KB | units |",
        "|---|---|---|---|---|---|",
    ]
    ordered = sorted(breakdown.items(), key=lambda entry: (entry[0][1] == "index", entry[0]))
    for (site, operation, item), (writes, units, item_bytes) in ordered:
        if operation == "index":
            lines.append(f"| `{site}` | index entry | `{item}` | | | {units:.2f} |")
        else:
            lines.append(
                f"| `{site}` | {operation} | {item} | {writes:.2f} | "
                f"{item_bytes / 1024:.2f} | {units:.2f} |"
            )
    total = sum(units for _, units, _ in breakdown.values())
    lines += [f"| **all** | | | | | **{total:.2f}** |", ""]
    return lines


def measure_seed(report: Callable[[str], None], runs: int = SEED_RUNS) -> dict[str, Any]:
    """What one seed-like workflow (the tutorial's, a 1 s WAIT) asks of AWS: requests, units,
    invocations and their time, index writes, calls, and the bytes it leaves stored."""
    from bench.end_to_end import Bench, _delta, _per_workflow, _request, _seed_like, _snapshot
    from bench.metering import metering, timed_handler
    from embedded.runtime import Runtime

    load_before = os.getloadavg()[0]
    with metering() as meter, Runtime(port=0, tick_seconds=3600) as runtime:
        for kind, function in runtime.functions.items():
            function.handler = timed_handler(meter, kind, function.handler)
        bench = Bench(runtime, report)
        _request("POST", f"{bench.api}/metadata/workflow", _seed_like("bench_seed"), observer=True)
        report(f"cost of one seed-like workflow ({runs} workflows, 1 s wait)...")
        before = _snapshot(meter)
        by_table = _units_by_table(meter, runtime)
        ids = [bench.start("bench_seed", {"wait": "1s"}) for _ in range(runs)]
        bench.wait_all(ids, 120)
        per_workflow = _per_workflow(_delta(meter, before), runs)
        with meter.paused():
            per_workflow["stored_bytes"] = storage_bytes(runtime, runs)
    per_workflow["units_by_table"] = {
        table: {kind: units / runs for kind, units in counted.items()}
        for table, counted in sorted(by_table.items())
    }
    per_workflow["runs"] = runs
    # Durations move with the machine's load; counts and units do not.
    per_workflow["load_average"] = [load_before, os.getloadavg()[0]]
    return per_workflow


def _tables_of(operation: str, params: dict[str, Any]) -> list[str]:
    """The table each item of a request goes to (one entry per item)."""
    if operation == "TransactWriteItems":
        return [next(iter(entry.values()))["TableName"] for entry in params["TransactItems"]]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [name for name, items in params["RequestItems"].items() for _ in items]
    return [str(params.get("TableName", ""))]


def _units_by_table(meter: Any, runtime: Any) -> dict[str, dict[str, float]]:
    """From now on, each request's units are also counted by table (by logical name), shared
    among the tables its items go to when it spans several."""
    names = {
        os.environ.get(spec.env_var) or spec.default_name: spec.logical_name
        for spec in runtime.table_specs
    }
    counted: dict[str, dict[str, float]] = {}
    record = meter.record
    # The runtime's threads record side by side: one request's units at a time.
    lock = threading.Lock()

    def split(service: str, operation: str, params: dict[str, Any], response: Any) -> None:
        with lock:
            before = (meter.write_units, meter.read_units)
            record(service, operation, params, response)
            written, read = meter.write_units - before[0], meter.read_units - before[1]
            if service != "dynamodb" or not (written or read):
                return
            tables = _tables_of(operation, params)
            for table in tables:
                units = counted.setdefault(names.get(table, table), {"write": 0.0, "read": 0.0})
                units["write"] += written / len(tables)
                units["read"] += read / len(tables)

    meter.record = split
    return counted


def storage_cost_per_month(per_workflow: dict[str, Any]) -> float:
    """Dollars a month that a million finished workflows cost while they are kept."""
    stored: dict[str, float] = per_workflow.get("stored_bytes") or {}
    gigabytes: float = sum(stored.values()) * MILLION / 1024**3
    return gigabytes * float(prices()["dynamodb_storage_gb_month"])


def load_note(per_workflow: dict[str, Any]) -> str:
    load = per_workflow.get("load_average")
    if not load:
        return ""
    return (
        f", the machine's load average (1 min) {load[0]:.1f} before and {load[1]:.1f} after: "
        "durations grow with it, counts and units do not"
    )


def _money(value: float) -> str:
    return f"${value:,.2f}"


def section(per_workflow: dict[str, Any]) -> list[str]:
    """The cost section: Baton per million seed workflows beside Step Functions Standard and
    Lambda durable functions."""
    baton = baton_cost(per_workflow)
    baton_total = sum(baton.values())
    sfn = step_functions_cost(per_workflow)
    durable = durable_functions_cost(per_workflow)
    price = prices()
    runs = per_workflow.get("runs", SEED_RUNS)
    lines = [
        SECTION_TITLE,
        "",
        f"Counted from the requests {runs} seed-like workflows really made "
        f"(`bench.cost.measure_seed`; alone: `.venv/bin/python -m bench.cost`; prices: "
        f"bench/prices.json, {price['region']}, as of {price['as_of']}; Lambda at "
        f"{lambda_memory_gb() * 1024:.0f} MB arm64, durations as measured here against moto"
        + load_note(per_workflow)
        + ").",
        "",
        "Per workflow: "
        f"{per_workflow['dynamodb_write_units']:.1f} write units, "
        f"{sum(per_workflow.get('dynamodb_index_write_units', {}).values()):.1f} index write "
        f"units, {per_workflow['dynamodb_read_units']:.1f} read units, "
        f"{per_workflow['sqs_requests']:.1f} SQS requests, "
        + ", ".join(
            f"{count:.1f} {name} invocations "
            f"({per_workflow['lambda_mean_seconds'].get(name, 0) * 1000:.0f} ms mean)"
            for name, count in sorted(per_workflow["lambda_invocations"].items())
        )
        + f", {per_workflow['api_requests']:.1f} API requests.",
        "",
        "| Baton, per million workflows | dollars |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_money(value)} |" for name, value in baton.items()]
    lines += [f"| **total** | **{_money(baton_total)}** |", ""]
    lines += [
        f"| Step Functions Standard ({sfn['transitions_per_workflow']} transitions), per million "
        "| dollars |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_money(value)} |" for name, value in sfn["standard"].items()]
    lines += [f"| **total** | **{_money(sfn['standard_total'])}** |", ""]
    lines += [
        f"| Lambda durable functions ({durable['operations_per_workflow']} durable operations), "
        "per million | dollars |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_money(value)} |" for name, value in durable["lines"].items()]
    lines += [
        f"| **total** | **{_money(durable['total'])}** |",
        "",
        "The durable operations the seed needs as a durable function (the SDK's `parallel`, "
        "`wait_for_callback` and `wait`), as counted here; each of its "
        f"{DURABLE_INVOCATIONS} invocations is taken to last as long as Baton's API function "
        f"did here ({durable['replay_seconds'] * 1000:.0f} ms), and the callback consumer as "
        "long as its events function. Data the checkpoints write and keep is billed per GB "
        "too, not counted (a few KB per run).",
        "",
        "| durable operation | count | why |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {count} | {why} |" for name, count, why in DURABLE_OPERATIONS]
    ratio = baton_total / sfn["standard_total"]
    on_target = baton_total <= TARGET_PER_MILLION and ratio <= TARGET_RATIO
    stored = per_workflow.get("stored_bytes")
    lines += [
        "",
        f"- Express: {sfn['express']}.",
        f"- Baton / Step Functions Standard: {ratio:.2f}; Baton / durable functions: "
        f"{baton_total / durable['total']:.2f}. Target (issue 15): at most "
        f"{_money(TARGET_PER_MILLION)} per million and {TARGET_RATIO} of Step Functions "
        f"Standard: {'met' if on_target else 'NOT met'}.",
    ]
    if stored:
        lines.append(
            f"- Kept after it ends, until its retention (`retentionDays`, 30 by default): "
            f"{stored['table'] / 1024:.1f} KB of items and {stored['indexes'] / 1024:.1f} KB of "
            f"index entries per workflow, {_money(storage_cost_per_month(per_workflow))} a "
            "month per million workflows kept (point-in-time recovery adds its own per GB)."
        )
    lines += [
        "- Fixed costs, not per workflow: the timers function runs every minute "
        "(43,200 invocations a month), each event source mapping long-polls its queue, "
        "DynamoDB storage and point-in-time recovery are billed per GB-month, and the alarms "
        "and dashboard per month; docs/DEPLOY.md lists what Baton costs at rest.",
        "",
        *write_breakdown_lines(per_workflow),
        "Calls per workflow (receives that found no message are left out: Lambda's pollers "
        "make those whatever the load):",
        "",
    ]
    lines += [f"- {name}: {count:.2f}" for name, count in per_workflow["calls"].items()]
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description="The seed workflow's cost, priced.")
    parser.add_argument("--runs", type=int, default=SEED_RUNS, help="seed-like workflows run")
    arguments = parser.parse_args()
    per_workflow = measure_seed(
        lambda line: print(line, file=sys.stderr, flush=True), arguments.runs
    )
    lines = section(per_workflow)
    print("\n".join(lines))
    results.write_section(SECTION_TITLE, lines)


if __name__ == "__main__":
    main()
