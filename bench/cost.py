"""Dollars per million workflows, from the requests a run really made, beside Step Functions.

Prices live in bench/prices.json (with their date and source). Lambda time is what the
handlers took here, locally, against moto; on AWS it differs (DynamoDB answers faster than
moto, a cold start adds time), so the Lambda line is the least certain one.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"
STEP_FUNCTIONS_SEED = Path(__file__).resolve().parent / "stepfunctions_seed.json"
MILLION = 1_000_000
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION_TITLE = "## 3. AWS cost per seed workflow"
SEED_RUNS = 20
# Issue 15's target for the seed workflow, everything counted.
TARGET_PER_MILLION = 12.0


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
        "API Gateway": per_workflow["api_requests"] * price["api_gateway_rest_request"],
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
        "API Gateway (StartExecution through it)": price["api_gateway_rest_request"] * MILLION,
    }
    return {
        "transitions_per_workflow": transitions,
        "standard": standard,
        "standard_total": sum(standard.values()),
        "express": "does not apply: Express workflows cannot wait for a callback "
        "(.waitForTaskToken), which this workflow's task_1 needs",
    }


def _load_note(per_workflow: dict[str, Any]) -> str:
    load = per_workflow.get("load_average")
    if load is None:
        return ""
    return (
        f" The machine's load average (1 min) was {load[0]:.1f} before and {load[1]:.1f} after "
        "the run: Lambda durations measure the neighbours as well; units and counts do not."
    )


def _money(value: float) -> str:
    return f"${value:,.2f}"


def section(per_workflow: dict[str, Any]) -> list[str]:
    """Section 3 of RESULTS.md: the seed's cost by line, beside Step Functions, and where
    each DynamoDB write unit goes."""
    baton = baton_cost(per_workflow)
    baton_total = sum(baton.values())
    sfn = step_functions_cost(per_workflow)
    price = prices()
    index_units = per_workflow.get("dynamodb_index_write_units", {})
    lines = [
        SECTION_TITLE,
        "",
        f"Counted from the requests {SEED_RUNS} seed-like workflows really made (prices: "
        f"bench/prices.json, {price['region']}, as of {price['as_of']}; Lambda at "
        f"{lambda_memory_gb() * 1024:.0f} MB arm64, durations as measured here against "
        "moto)." + _load_note(per_workflow),
        "",
        "Per workflow: "
        f"{per_workflow['dynamodb_write_units']:.1f} table write units and "
        f"{sum(index_units.values()):.1f} index write units, "
        f"{per_workflow['dynamodb_read_units']:.1f} read units, "
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
    ratio = baton_total / sfn["standard_total"]
    lines += [
        f"| **total** | **{_money(sfn['standard_total'])}** |",
        "",
        f"- Express: {sfn['express']}.",
        f"- Baton / Step Functions Standard: {ratio:.2f}; target at most "
        f"{_money(TARGET_PER_MILLION)} per million: "
        f"{'met' if baton_total <= TARGET_PER_MILLION else 'NOT met'}.",
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


def measure(report: Callable[[str], None], runs: int = SEED_RUNS) -> dict[str, Any]:
    """Per-workflow counts of `runs` seed-like workflows (1 s WAIT) through the embedded
    runtime, only their own requests counted."""
    from bench.end_to_end import (
        Bench,
        _delta,
        _per_workflow,
        _request,
        _seed_like,
        _snapshot,
    )
    from bench.metering import metering, timed_handler
    from embedded.runtime import Runtime

    with metering() as meter, Runtime(port=0, tick_seconds=3600) as runtime:
        for kind, function in runtime.functions.items():
            function.handler = timed_handler(meter, kind, function.handler)
        bench = Bench(runtime, report)
        _request("POST", f"{bench.api}/metadata/workflow", _seed_like("bench_seed"), observer=True)
        report(f"{runs} seed-like workflows, metered...")
        load_before = os.getloadavg()[0]
        before = _snapshot(meter)
        ids = [bench.start("bench_seed", {"wait": "1s"}) for _ in range(runs)]
        bench.wait_all(ids, 120)
        per_workflow = _per_workflow(_delta(meter, before), runs)
        per_workflow["load_average"] = (load_before, os.getloadavg()[0])
        return per_workflow


def write_section(lines: list[str], title: str = SECTION_TITLE) -> None:
    """Replace one section of RESULTS.md (or add it at the end)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    block = "\n".join(lines) + "\n"
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block
    )
    RESULTS.write_text(text)


def main() -> None:
    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    lines = section(measure(report))
    print("\n".join(lines))
    write_section(lines)


if __name__ == "__main__":
    main()
