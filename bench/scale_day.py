"""A day at 1,000 seed workflow starts per second: what it costs and which default quotas it passes.

Nothing here is measured on AWS. The per-workflow requests, units, invocations and stored bytes
are what `bench.cost.measure_seed` measures for the seed through the embedded runtime; this
module multiplies them out over 86,400 seconds, prices them with bench/prices.json, adds the
fixed costs, and checks every default quota docs/SCALE.md names against the peak rates (the
mean times a stated peak-to-mean factor). Run alone with `.venv/bin/python -m bench.scale_day
[--rate 1000] [--peak 2] [--runs 20]`: it writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import cost, results

SECTION_TITLE = "## 10. A day of seed workflows at scale (simulated)"
SECONDS_PER_DAY = 86_400
DAYS_PER_MONTH = 30.4
STARTS_PER_SECOND = 1_000.0
PEAK_TO_MEAN = 2.0
# A bound used this much at the peak is reported as near.
NEAR = 0.8
# The seed as printed waits 10 s: that many seconds of starts are running at any moment.
SEED_WAIT_SECONDS = 10.0
# Estimates for the one-minute sweep, which the measurement does not exercise: its Lambda
# time, and the bytes of one keys-only due-index entry it reads.
SWEEP_SECONDS = 2.0
DUE_ENTRY_BYTES = 150

# AWS's default quotas (docs/SCALE.md gives the source of each).
API_GATEWAY_ACCOUNT_RPS = 10_000
LAMBDA_CONCURRENCY = 1_000
LAMBDA_SCALING_PER_10_SECONDS = 1_000
SQS_MAPPING_MAX_CONCURRENCY = 1_000
SQS_MAPPING_RAMP_PER_MINUTE = 300
SQS_STANDARD_IN_FLIGHT = 120_000
DYNAMODB_TABLE_UNITS = 40_000
DYNAMODB_NEW_TABLE_WRITES = 4_000
DYNAMODB_NEW_TABLE_READS = 12_000
DYNAMODB_PARTITION_WRITES = 1_000
DYNAMODB_DOUBLING_MINUTES = 30


@dataclass(frozen=True)
class Check:
    """One bound against the demand the day puts on it at its peak."""

    bound: str
    limit: float
    demand: float
    unit: str
    raise_by: str  # what lifts the bound: a quota request, a setting, or a change to Baton

    @property
    def use(self) -> float:
        return self.demand / self.limit if self.limit else math.inf

    @property
    def exceeded(self) -> bool:
        return self.demand > self.limit


def _shards() -> dict[str, int]:
    """Partitions each sharded index spreads one workflow type (or status) over."""
    # Imported here: baton.store must not be imported before a runtime has started.
    from baton.store.models import (
        DUE_SHARDS,
        POLL_SHARDS,
        STATUS_SHARDS,
        TYPE_STATUS_SHARDS,
    )

    return {
        "by_due_time": DUE_SHARDS,
        "by_status": STATUS_SHARDS,
        "by_type_status": TYPE_STATUS_SHARDS,
        "by_poll_key": POLL_SHARDS,
    }


def concurrency(per_workflow: dict[str, Any], rate: float) -> dict[str, float]:
    """Execution environments each function holds at `rate` workflows per second."""
    seconds = per_workflow["lambda_mean_seconds"]
    return {
        name: rate * count * seconds.get(name, 0.0)
        for name, count in sorted(per_workflow["lambda_invocations"].items())
    }


def checks(per_workflow: dict[str, Any], peak: float) -> list[Check]:
    from infra.config import BatonConfig

    config = BatonConfig()
    api_rps = per_workflow["api_requests"] * peak
    environments = concurrency(per_workflow, peak)
    found = [
        Check(
            "API Gateway, account (per region)",
            API_GATEWAY_ACCOUNT_RPS,
            api_rps,
            "requests/s",
            "quota request",
        ),
        Check(
            "API Gateway, Baton's stage (`apiRateLimit`)",
            config.api_rate_limit,
            api_rps,
            "requests/s",
            "`-c apiRateLimit=...` (and `apiBurstLimit`)",
        ),
        Check(
            "Lambda concurrent executions (per region)",
            LAMBDA_CONCURRENCY,
            sum(environments.values()),
            "environments",
            "quota request",
        ),
    ]
    busiest = max(environments.items(), key=lambda item: item[1], default=("api", 0.0))
    found.append(
        Check(
            f"Lambda scaling rate: `{busiest[0]}` from cold in one 10 s step",
            LAMBDA_SCALING_PER_10_SECONDS,
            busiest[1],
            "environments",
            "none: a ramp of 1,000 more every 10 s",
        )
    )
    events = environments.get("events", 0.0)
    found.append(
        Check(
            "SQS event source mapping, concurrent batches (`events`)",
            SQS_MAPPING_MAX_CONCURRENCY,
            events,
            "batches",
            "more queues (one mapping each)",
        )
    )
    found.append(
        Check(
            "SQS event source mapping, first minute of a burst (5, then 300 more)",
            5 + SQS_MAPPING_RAMP_PER_MINUTE,
            events,
            "batches",
            "none: a ramp of 300 more a minute",
        )
    )
    sends = per_workflow["calls"].get("sqs.SendMessage", 0.0) * peak
    slowest = max(per_workflow["lambda_mean_seconds"].values(), default=0.0)
    found.append(
        Check(
            "SQS standard queue, messages in flight",
            SQS_STANDARD_IN_FLIGHT,
            sends * slowest,
            "messages",
            "quota request",
        )
    )
    for table, units in per_workflow.get("units_by_table", {}).items():
        writes, reads = units["write"] * peak, units["read"] * peak
        found += [
            Check(
                f"DynamoDB `{table}` table, writes (on-demand table quota)",
                DYNAMODB_TABLE_UNITS,
                writes,
                "write units/s",
                "quota request",
            ),
            Check(
                f"DynamoDB `{table}` table, writes a new table takes at once",
                DYNAMODB_NEW_TABLE_WRITES,
                writes,
                "write units/s",
                "warm throughput, or a ramp doubling every 30 min",
            ),
            Check(
                f"DynamoDB `{table}` table, reads a new table takes at once",
                DYNAMODB_NEW_TABLE_READS,
                reads,
                "read units/s",
                "warm throughput, or a ramp doubling every 30 min",
            ),
        ]
    shards = _shards()
    for index, units in sorted(per_workflow.get("dynamodb_index_write_units", {}).items()):
        found.append(
            Check(
                f"DynamoDB index `{index}`, writes (on-demand quota)",
                DYNAMODB_TABLE_UNITS,
                units * peak,
                "write units/s",
                "quota request",
            )
        )
        if index in shards:
            found.append(
                Check(
                    f"DynamoDB index `{index}`, one of its {shards[index]} partitions",
                    DYNAMODB_PARTITION_WRITES,
                    units * peak / shards[index],
                    "write units/s",
                    "more shards (a change to Baton)",
                )
            )
    return found


def _ramp_minutes(check: Check) -> float:
    """Minutes a new on-demand table takes to double up to the demand."""
    if not check.exceeded:
        return 0.0
    return math.ceil(math.log2(check.demand / check.limit)) * DYNAMODB_DOUBLING_MINUTES


def day(per_workflow: dict[str, Any], rate: float, peak_factor: float) -> dict[str, Any]:
    """Everything the section reports, from the measured workflow."""
    from infra.config import BatonConfig

    price = cost.prices()
    retention_days = BatonConfig().retention_days
    workflows = rate * SECONDS_PER_DAY
    per_million = cost.baton_cost(per_workflow)
    variable = {name: value * workflows / cost.MILLION for name, value in per_million.items()}
    sweeps = SECONDS_PER_DAY / 60
    due_entries = rate * SEED_WAIT_SECONDS
    sweep_reads = math.ceil(due_entries * DUE_ENTRY_BYTES / 4096) / 2
    stored = sum((per_workflow.get("stored_bytes") or {}).values())
    kept_gb = stored * workflows * retention_days / 1024**3
    fixed = {
        "timers sweep, once a minute (Lambda)": sweeps
        * (
            price["lambda_request"]
            + SWEEP_SECONDS * cost.lambda_memory_gb() * price["lambda_arm64_gb_second"]
        ),
        "timers sweep, due-index reads": sweeps * sweep_reads * price["dynamodb_read_request_unit"],
        f"storage at {retention_days} days' retention (steady state)": kept_gb
        * price["dynamodb_storage_gb_month"]
        / DAYS_PER_MONTH,
        "point-in-time recovery of that storage": kept_gb
        * price["dynamodb_pitr_gb_month"]
        / DAYS_PER_MONTH,
    }
    return {
        "rate": rate,
        "peak_factor": peak_factor,
        "workflows": workflows,
        "variable": variable,
        "fixed": fixed,
        "kept_gb": kept_gb,
        "retention_days": retention_days,
        "due_entries": due_entries,
        "checks": checks(per_workflow, rate * peak_factor),
        "concurrency": concurrency(per_workflow, rate * peak_factor),
    }


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def section(
    per_workflow: dict[str, Any], rate: float = STARTS_PER_SECOND, peak_factor: float = PEAK_TO_MEAN
) -> list[str]:
    simulated = day(per_workflow, rate, peak_factor)
    peak = rate * peak_factor
    variable, fixed = simulated["variable"], simulated["fixed"]
    total = sum(variable.values()) + sum(fixed.values())
    runs = per_workflow.get("runs", cost.SEED_RUNS)
    lines = [
        SECTION_TITLE,
        "",
        f"`.venv/bin/python -m bench.scale_day` (also part of `make bench`): the counts "
        f"`bench.cost.measure_seed` measured for one seed-like workflow ({runs} run through the "
        f"embedded runtime; section 3) multiplied by {rate:,.0f} starts a second over 86,400 s "
        f"({simulated['workflows'] / 1e6:,.1f} million workflows), priced with "
        f"bench/prices.json; quotas checked at a peak of {peak_factor:g} times the mean "
        f"({peak:,.0f} starts a second). Lambda time is as measured against moto here, so "
        "concurrency and duration are the least certain figures"
        + cost.load_note(per_workflow)
        + ". An index's write units per workflow are all counted on one set of its "
        "partitions (one workflow type, one status): where an entry moves between two keys "
        "(RUNNING to COMPLETED) the busier key takes two of its three units, so those rows "
        "are upper bounds. docs/SCALE.md gives the source of every quota and what Baton does "
        "at each.",
        "",
        "| line | per workflow | per day | dollars |",
        "|---|---|---|---|",
    ]
    amounts = {
        "DynamoDB writes": per_workflow["dynamodb_write_units"],
        "DynamoDB index writes": sum(per_workflow.get("dynamodb_index_write_units", {}).values()),
        "DynamoDB reads": per_workflow["dynamodb_read_units"],
        "SQS": per_workflow["sqs_requests"],
        "Lambda requests": sum(per_workflow["lambda_invocations"].values()),
        "Lambda duration": sum(
            count * per_workflow["lambda_mean_seconds"].get(name, 0.0)
            for name, count in per_workflow["lambda_invocations"].items()
        )
        * cost.lambda_memory_gb(),
        "API Gateway": per_workflow["api_requests"],
    }
    units = {
        "Lambda duration": " GB-s",
        "SQS": " requests",
        "Lambda requests": " invocations",
        "API Gateway": " requests",
    }
    for name, dollars in variable.items():
        amount = amounts.get(name, 0.0)
        unit = units.get(name, " units" if name.startswith("DynamoDB") else "")
        lines.append(
            f"| {name} | {amount:.2f}{unit} | {_number(amount * simulated['workflows'])}{unit} "
            f"| {_money(dollars)} |"
        )
    lines += [
        f"| **per-workflow total** | | | **{_money(sum(variable.values()))}** |",
        "",
        "| fixed, per day | dollars |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_money(value)} |" for name, value in fixed.items()]
    lines += [
        f"| **day in all** | **{_money(total)}** ({_money(total * DAYS_PER_MONTH)} a month) |",
        "",
        f"- Stored at {simulated['retention_days']} days' retention: "
        f"{simulated['kept_gb']:,.0f} GB (steady state, from the bytes a finished workflow "
        f"keeps); the sweep reads about {simulated['due_entries']:,.0f} due-index entries a "
        f"minute (the {SEED_WAIT_SECONDS:.0f} s WAITs running at once) and is taken to run "
        f"{SWEEP_SECONDS:.0f} s. Not counted: CloudWatch Logs ingestion, X-Ray traces and "
        "custom metrics, which grow with the requests too.",
        "- Lambda environments held at the peak: "
        + ", ".join(f"`{n}` {v:,.0f}" for n, v in simulated["concurrency"].items())
        + ".",
        "",
        f"| bound at the peak ({peak:,.0f} starts/s) | default | demand | use | |",
        "|---|---|---|---|---|",
    ]
    for check in simulated["checks"]:
        verdict = (
            f"**exceeded {check.use:.1f}x**: {check.raise_by}"
            if check.exceeded
            else ("within, near it" if check.use >= NEAR else "within")
        )
        if check.exceeded and "new table" in check.bound:
            verdict += f" ({_ramp_minutes(check):.0f} min of doubling from cold)"
        lines.append(
            f"| {check.bound} | {_number(check.limit)} {check.unit} | {_number(check.demand)} "
            f"| {check.use * 100:.0f}% | {verdict} |"
        )
    exceeded = [c for c in simulated["checks"] if c.exceeded]
    lines += [
        "",
        f"- Exceeded at the peak: {len(exceeded)} of {len(simulated['checks'])} bounds"
        + (": " + "; ".join(f"{c.bound} by {c.use:.1f}x" for c in exceeded) if exceeded else "")
        + ".",
        "",
    ]
    return lines


def run(report: Callable[[str], None], runs: int = cost.SEED_RUNS) -> list[str]:
    return section(cost.measure_seed(report, runs))


def main() -> None:
    parser = argparse.ArgumentParser(description="A simulated day of seed workflows.")
    parser.add_argument("--rate", type=float, default=STARTS_PER_SECOND, help="starts a second")
    parser.add_argument("--peak", type=float, default=PEAK_TO_MEAN, help="peak-to-mean factor")
    parser.add_argument("--runs", type=int, default=cost.SEED_RUNS, help="workflows measured")
    arguments = parser.parse_args()
    per_workflow = cost.measure_seed(
        lambda line: print(line, file=sys.stderr, flush=True), arguments.runs
    )
    lines = section(per_workflow, arguments.rate, arguments.peak)
    print("\n".join(lines))
    results.write_section(SECTION_TITLE, lines)


if __name__ == "__main__":
    main()
