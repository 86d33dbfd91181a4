"""`make bench`: every benchmark, written to bench/RESULTS.md with the machine and the command.

Figures are medians and ratios: the machine is shared and noisy. Nothing in the results file
is written by hand; run this again to refresh it.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import coldstart, cost, end_to_end, fan_in, local_runtime, machine, workers

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
ROOT = Path(__file__).resolve().parent.parent
COMMAND = "make bench  (= .venv/bin/python -m bench)"


def _report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _engine() -> dict[str, Any] | None:
    try:
        from bench import engine
    except ImportError:
        return None
    result: dict[str, Any] = engine.run(_report)
    return result


def _concurrency() -> str:
    """The concurrency test's own report: commit retries for 100 branches ended at once."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "tests/reliability/test_concurrency.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.strip() for line in result.stdout.splitlines() if "branches completed" in line]
    if result.returncode != 0 or not lines:
        return f"not measured: the concurrency test failed (exit {result.returncode})"
    return lines[-1]


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _section_engine(engine: dict[str, Any] | None) -> list[str]:
    if engine is None:
        return ["## 1. Engine", "", "Not measured (bench/engine.py is missing).", ""]
    lines = ["## 1. Engine (pure decider, one core)", ""]
    lines += [f"- {key}: {value}" for key, value in engine.items()]
    return [*lines, ""]


def _section_end_to_end(result: dict[str, Any]) -> list[str]:
    wall = result["seed_wall_seconds"]
    throughput = result["throughput"]
    timers = result["timer_lateness"]
    lines = [
        "## 2. End to end, against the embedded runtime",
        "",
        "Each function has one execution environment here (invocations run one at a time, as "
        "in one Lambda container), and DynamoDB and SQS are moto's server: throughput is a "
        "floor, not what AWS gives with many environments.",
        "",
        f"- Seed workflow (`event_testing`, its 10 s WAIT as printed) wall time, from its own "
        f"create and end times: median {wall['median']:.2f} s "
        f"(runs: {', '.join(f'{w:.2f}' for w in wall['runs'])}); target 10 s + at most 1 s: "
        f"{'met' if wall['median'] <= 11 else 'NOT met'}",
        f"- {throughput['workflows']} seed-like workflows (1 s WAIT) at once: "
        f"{throughput['per_second']:.2f} workflows completed per second "
        f"({throughput['seconds']:.1f} s in all)",
        f"- From the event message's send to the task's completion by the handler: "
        f"p50 {throughput['event_to_completion_p50']:.3f} s, "
        f"p99 {throughput['event_to_completion_p99']:.3f} s",
        f"- WAIT timer lateness over {timers['waits']} two-second waits (20 started per second):"
        f" p50 {timers['p50']:.3f} s, p99 {timers['p99']:.3f} s, max {timers['max']:.3f} s; "
        f"target p99 at most 1 s: {'met' if timers['p99'] <= 1 else 'NOT met'}",
        "",
        "Where the time goes in the concurrent run: stacks of every thread of the runtime "
        "sampled every 5 ms, idle waits left out; each share is of the busy samples.",
        "",
    ]
    baton = throughput["profile_baton"]
    aws_share, engine_share = throughput["share_aws_calls"], throughput["share_engine"]
    bottleneck = (
        "requests to DynamoDB and SQS (moto's server, over HTTP)"
        if aws_share >= engine_share
        else "the engine's decisions"
    )
    lines += [
        f"Bottleneck: {bottleneck}. Requests to DynamoDB and SQS: {aws_share:.0f}% of busy "
        f"samples; the engine (decide and its task types): {engine_share:.0f}%.",
        "",
    ]
    lines += ["| Baton function (inclusive) | share |", "|---|---|"]
    lines += [f"| `{label}` | {share:.1f}% |" for label, share in baton]
    lines += ["", "| function (own time) | share |", "|---|---|"]
    lines += [f"| `{label}` | {share:.1f}% |" for label, share in throughput["profile_own"]]
    return [*lines, ""]


def _section_cost(per_workflow: dict[str, Any]) -> list[str]:
    baton = cost.baton_cost(per_workflow)
    baton_total = sum(baton.values())
    sfn = cost.step_functions_cost(per_workflow)
    price = cost.prices()
    lines = [
        "## 3. AWS cost per seed workflow",
        "",
        f"Counted from the requests 20 seed-like workflows really made (prices: "
        f"bench/prices.json, {price['region']}, as of {price['as_of']}; Lambda at "
        f"{cost.lambda_memory_gb() * 1024:.0f} MB arm64, durations as measured here against "
        "moto).",
        "",
        "Per workflow: "
        f"{per_workflow['dynamodb_write_units']:.1f} write units, "
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
        f"- Baton / Step Functions Standard: {ratio:.2f}; target at most 0.20: "
        f"{'met' if ratio <= 0.2 else 'NOT met'}.",
        "- Fixed costs, not per workflow: the timers function runs every minute "
        "(43,200 invocations a month), each event source mapping long-polls its queue, "
        "DynamoDB storage and point-in-time recovery are billed per GB-month, and the alarms "
        "and dashboard per month; docs/DEPLOY.md lists what Baton costs at rest.",
        "",
        "Calls per workflow (receives that found no message are left out: Lambda's pollers "
        "make those whatever the load):",
        "",
    ]
    lines += [f"- {name}: {count:.2f}" for name, count in per_workflow["calls"].items()]
    return [*lines, ""]


def _section_cold_start(
    imports: dict[str, float], traced: dict[str, float], asset_mb: float | None
) -> list[str]:
    lines = [
        "## 4. Cold start",
        "",
        "Import time of each handler module in a fresh interpreter (`python -X importtime`, "
        "median of 7 runs, this machine's Python and packages; target at most 300 ms). "
        "Deployed Baton runs with Powertools' Tracer off (Lambda's own X-Ray tracing stays on); "
        "with `-c tracer=true` the Tracer imports the X-Ray SDK:",
        "",
        "| handler | Tracer off (default) | Tracer on |",
        "|---|---|---|",
    ]
    lines += [
        f"| `{module}` | {ms:.0f} ms ({'met' if ms <= 300 else 'NOT met'}) | "
        f"{traced[module]:.0f} ms ({'met' if traced[module] <= 300 else 'NOT met'}) |"
        for module, ms in imports.items()
    ]
    lines.append("")
    lines.append(
        f"- Deployed code asset (unzipped, from cdk.out): {asset_mb:.1f} MB"
        if asset_mb is not None
        else "- Deployed code asset: run `make synth` first to measure it"
    )
    return [*lines, ""]


def main() -> None:
    started = dt.datetime.now(dt.UTC)
    _report("engine...")
    engine = _engine()
    _report("end to end...")
    result = end_to_end.run(_report)
    _report("concurrency...")
    concurrency = _concurrency()
    _report("fan-in (one FORK of 1,000 branches, 100 writers; then the width sweep)...")
    fanned_in = fan_in.measure(_report)
    _report("workers (in a process of its own)...")
    worker_result = workers.run_in_subprocess(_report)
    _report("local runtime (make run, durable; about 30 minutes)...")
    local = local_runtime.run(_report)
    _report("cold start...")
    imports = coldstart.handler_import_times(tracing=False)
    traced = coldstart.handler_import_times(tracing=True)
    info = machine.describe()
    lines = [
        "# Benchmark results",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `{COMMAND}` on {info['cores']} cores, "
        f"{info['memory']}, {info['cpu']}, {info['system']}, Python {info['python']}.",
        "",
        *_section_engine(engine),
        *_section_end_to_end(result),
        "## 2b. One workflow, many writers",
        "",
        "`tests/reliability/test_concurrency.py` (run by this command): a FORK of 100 WAITs "
        "whose tasks 8 processes complete at the same moment, against one moto server:",
        "",
        f"- {concurrency}",
        "",
        *_section_cost(result["per_workflow"]),
        *_section_cold_start(imports, traced, coldstart.asset_size_mb()),
        *(
            workers.section(worker_result)
            if worker_result is not None
            else [workers.SECTION_TITLE, "", "Not measured: the workers benchmark failed.", ""]
        ),
        *local_runtime.section(local),
        *fan_in.section(fanned_in),
    ]
    RESULTS.write_text("\n".join(lines))
    _report(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
