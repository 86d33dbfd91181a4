"""Search at scale, and what the search indexes add to every workflow's writes.

1. Index writes: 20 seed-like workflows run through the embedded runtime under the meter,
   which counts every global secondary index entry each write adds, moves or removes
   (`bench.metering.IndexWrites`), priced per million workflows beside Step Functions.
2. Search: `COUNT` workflows written into moto (in this process) as the store writes a new
   workflow, then each kind of search run through the service, metered: read units and
   queries per page, and latency. moto answers every index query by scanning the whole table,
   so its latencies grow with the table and say nothing of DynamoDB's; the read units, which
   are computed from what each query returned, are what DynamoDB would bill.

Run alone with `.venv/bin/python -m bench.search` (it writes its section of RESULTS.md), or
with `--index-writes` for the first part alone.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import cost, results
from bench.end_to_end import (
    Bench,
    _delta,
    _per_workflow,
    _request,
    _seed_like,
    _snapshot,
    percentile,
)
from bench.metering import metering, timed_handler

COUNT = 100_000
BASE_TIME = 1_700_000_000_000
TYPES = tuple(f"type_{n}" for n in range(10))
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION_TITLE = "## 6. Search"
INDEX_WRITES_TITLE = "### Index writes per seed-like workflow"
REPEATS = 3


def index_write_cost(report: Callable[[str], None], runs: int = 20) -> dict[str, Any]:
    from embedded.runtime import Runtime

    with metering() as meter, Runtime(port=0, tick_seconds=3600) as runtime:
        for kind, function in runtime.functions.items():
            function.handler = timed_handler(meter, kind, function.handler)
        bench = Bench(runtime, report)
        _request("POST", f"{bench.api}/metadata/workflow", _seed_like("bench_seed"), observer=True)
        report(f"index writes of {runs} seed-like workflows...")
        before = _snapshot(meter)
        ids = [bench.start("bench_seed", {"wait": "1s"}) for _ in range(runs)]
        bench.wait_all(ids, 120)
        per_workflow = _per_workflow(_delta(meter, before), runs)
    return per_workflow


def _seed(count: int, report: Callable[[str], None]) -> float:
    from baton.engine.definitions import WorkflowDef
    from baton.engine.state import Workflow, WorkflowStatus
    from baton.store.models import WorkflowItem
    from baton.store.workflows import WorkflowStore

    store = WorkflowStore()
    definitions = {
        name: WorkflowDef.from_json(
            {
                "name": name,
                "version": 1,
                "tasks": [{"name": "w", "taskReferenceName": "w", "type": "WAIT"}],
            }
        )
        for name in TYPES
    }
    for definition in definitions.values():
        store.metadata.save_snapshot(definition)
    rng = random.Random(7)
    # Most workflows end COMPLETED; a few fail or are still running, as in a busy system.
    weights = {
        "COMPLETED": 80,
        "RUNNING": 10,
        "FAILED": 5,
        "TERMINATED": 3,
        "TIMED_OUT": 1,
        "PAUSED": 1,
    }
    started = time.perf_counter()
    with WorkflowItem.batch_write() as batch:
        for index in range(count):
            status = rng.choices(list(weights), weights=list(weights.values()))[0]
            workflow = Workflow(
                workflow_id=f"wf-{index:07d}",
                definition=definitions[TYPES[index % len(TYPES)]],
                status=WorkflowStatus(status),
                create_time=BASE_TIME + index * 100,
                update_time=BASE_TIME + index * 100,
                correlation_id=f"order-{index // 3}",
                input={"order": index, "note": "x" * 200},
            )
            batch.save(
                store._new_workflow_item(workflow, None, store._workflow_fields(workflow, {}))
            )
            if index and index % 20_000 == 0:
                report(f"  {index} written")
    return time.perf_counter() - started


def searches(count: int) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Each kind of search, aimed at workflows that exist at `count`."""
    recent = BASE_TIME + (count - count // 10) * 100  # the newest tenth
    return (
        ("workflowType and status", {"query": "workflowType = type_3 AND status = FAILED"}),
        (
            "two types, two statuses, the newest tenth",
            {
                "query": "workflowType IN (type_1,type_2) AND status IN (FAILED,TIMED_OUT) "
                f"AND startTime > {recent}"
            },
        ),
        ("status alone (RUNNING)", {"query": "status = RUNNING"}),
        ("correlationId", {"query": f"correlationId = 'order-{count // 7}'"}),
        ("freeText: a workflow id", {"free_text": f"wf-{count // 2:07d}"}),
        ("workflowType alone, page 3", {"query": "workflowType = type_5", "start": 200}),
        ("everything, newest first", {}),
    )


def search_at_scale(report: Callable[[str], None], count: int = COUNT) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from baton.search.workflows import SearchRequest, search_workflows
    from baton.store.metadata import MetadataStore
    from baton.store.schema import table_specs
    from embedded import resources

    results: dict[str, Any] = {"count": count, "searches": []}
    with mock_aws():
        resources.create_tables(boto3.client("dynamodb"), table_specs())
        report(f"writing {count} workflows into moto...")
        results["seed_seconds"] = _seed(count, report)
        snapshots = MetadataStore()
        for label, arguments in searches(count):
            report(f"search: {label}...")
            request = SearchRequest(size=100, **arguments)
            seconds: list[float] = []
            with metering() as meter:
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    answer = search_workflows(request, full=False, metadata=snapshots)
                    seconds.append(time.perf_counter() - started)
            queries = meter.calls.get("dynamodb.Query", 0) / REPEATS
            results["searches"].append(
                {
                    "label": label,
                    "arguments": arguments,
                    "total_hits": answer["totalHits"],
                    "results": len(answer["results"]),
                    "read_units": meter.read_units / REPEATS,
                    "queries": queries,
                    "batch_gets": meter.calls.get("dynamodb.BatchGetItem", 0) / REPEATS,
                    "seconds": seconds,
                }
            )
    return results


def index_write_lines(per_workflow: dict[str, Any]) -> list[str]:
    """The subsection on what the indexes add to each seed-like workflow's writes."""
    price = cost.prices()
    index_units: dict[str, float] = per_workflow.get("dynamodb_index_write_units", {})
    search_indexes = ("by_type_status", "by_status", "by_correlation_id")
    baton = cost.baton_cost(per_workflow)
    total = sum(baton.values())
    sfn = cost.step_functions_cost(per_workflow)["standard_total"]
    search_units = sum(index_units.get(name, 0.0) for name in search_indexes)
    search_dollars = search_units * price["dynamodb_write_request_unit"] * cost.MILLION
    lines = [
        INDEX_WRITES_TITLE,
        "",
        "Every global secondary index entry a write adds or removes is one write unit, one "
        "whose key changes two (`bench.metering.IndexWrites`); 20 seed-like workflows through "
        "the embedded runtime (refreshed alone by `.venv/bin/python -m bench.search "
        "--index-writes`):",
        "",
        "| index | write units per workflow | per million workflows |",
        "|---|---|---|",
    ]
    for name, units in sorted(index_units.items()):
        dollars = units * price["dynamodb_write_request_unit"] * cost.MILLION
        marker = " (search)" if name in search_indexes else ""
        lines.append(f"| `{name}`{marker} | {units:.2f} | ${dollars:.2f} |")
    lines += [
        "",
        f"- The search indexes add {search_units:.2f} write units to each seed-like workflow: "
        f"${search_dollars:.2f} per million workflows. A workflow with a correlationId adds 1 "
        "more (its `by_correlation_id` entry, written once); the seed has none.",
        f"- Per million seed-like workflows, everything counted (table writes "
        f"{per_workflow['dynamodb_write_units']:.1f} and index writes "
        f"{sum(index_units.values()):.1f} units per workflow): ${total:.2f}; Step Functions "
        f"Standard: ${sfn:.2f}; ratio {total / sfn:.3f}.",
        "",
    ]
    return lines


def write_index_writes(lines: list[str]) -> None:
    """Replace the index-writes subsection of section 6 alone."""
    text = RESULTS.read_text()
    pattern = re.compile(rf"^{re.escape(INDEX_WRITES_TITLE)}\n.*?(?=^#+ |\Z)", re.S | re.M)
    block = "\n".join(lines) + "\n"
    if not pattern.search(text):
        raise SystemExit("section 6 has no index-writes subsection: run bench.search in full")
    RESULTS.write_text(pattern.sub(lambda _: block, text))


def section(per_workflow: dict[str, Any], scale: dict[str, Any]) -> list[str]:
    lines = [
        SECTION_TITLE,
        "",
        "Run with `.venv/bin/python -m bench.search` (also part of `make bench`).",
        "",
        *index_write_lines(per_workflow),
        f"### Search at {scale['count']:,} workflows",
        "",
        f"{scale['count']:,} workflows of {len(TYPES)} types (80% COMPLETED, 10% RUNNING, 5% "
        f"FAILED, the rest TERMINATED, TIMED_OUT, PAUSED), each with a correlationId, written "
        f"in {scale['seed_seconds']:.0f} s; pages of 100 WorkflowSummary objects, each search "
        f"run {REPEATS} times through `baton.search.workflows.search_workflows` against moto "
        "in this process. Read units are DynamoDB's (eventually consistent: half a unit per "
        "4 KB); moto scans its whole table for every index query, so its latency is the "
        "latency of moto at this size, not of DynamoDB, where each query reads only its own "
        "partition and the first page of every partition is read side by side.",
        "",
        "| search | totalHits | queries | read units per page | p50 (moto) | p99 (moto) |",
        "|---|---|---|---|---|---|",
    ]
    for found in scale["searches"]:
        lines.append(
            f"| {found['label']} | {found['total_hits']:,} | {found['queries']:.0f} | "
            f"{found['read_units']:.1f} | {percentile(found['seconds'], 0.5):.2f} s | "
            f"{percentile(found['seconds'], 0.99):.2f} s |"
        )
    lines += [
        "",
        "- totalHits counts at most 10,000 (the keys read past the page are what counting "
        "costs); the page's items are one BatchGetItem per 100 workflows.",
        "",
    ]
    return lines


def _report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(report: Callable[[str], None], count: int = COUNT) -> list[str]:
    """Both parts, the search at scale in a process of its own (moto in that process, apart
    from the embedded runtime this one ran)."""
    per_workflow = index_write_cost(report)
    report(f"index writes per workflow: {per_workflow.get('dynamodb_index_write_units')}")
    answer = subprocess.run(
        [sys.executable, "-m", "bench.search", "--scale", str(count)],
        check=True,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, **_FAKE_AWS},
    )
    return section(per_workflow, json.loads(answer.stdout))


_FAKE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--index-writes":
        lines = index_write_lines(index_write_cost(_report))
        print("\n".join(lines))
        write_index_writes(lines)
        return
    if len(sys.argv) > 2 and sys.argv[1] == "--scale":
        print(json.dumps(search_at_scale(_report, int(sys.argv[2]))))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else COUNT
    lines = run(_report, count)
    print("\n".join(lines))
    results.write_section(SECTION_TITLE, lines)


if __name__ == "__main__":
    main()
