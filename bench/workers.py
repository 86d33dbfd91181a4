"""Workers: Conductor's Python SDK against the embedded runtime, and what polling costs.

`python -m bench.workers` runs this part alone and rewrites its section of bench/RESULTS.md;
`make bench` runs it in a process of its own (Baton's real handlers serve one runtime per
process) with the rest. Measured:

- tasks completed per second by N worker threads of the SDK's TaskHandler;
- the latency from a task becoming ready (its scheduledTime) to a long poll that was already
  waiting receiving it;
- what one task handed out and one idle worker thread (the SDK's defaults: a batch poll with
  a 100 ms timeout, every 100 ms) ask of AWS, priced with bench/prices.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.end_to_end import _delta, _request, _snapshot, percentile
from bench.metering import metering, timed_handler

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PRICES = json.loads((ROOT / "bench" / "prices.json").read_text())
SECTION_TITLE = "## 5. Workers (Conductor's Python SDK, batch polls)"
COMMAND = ".venv/bin/python -m bench.workers"
# The API function's memory (infra/functions.py MEMORY_MB): a waiting poll is billed for it.
API_MEMORY_GB = 512 / 1024
THREAD_COUNTS = (1, 4, 8)
TASKS_PER_RUN = 60
LATENCY_SAMPLES = 60
IDLE_SECONDS = 20.0
# What the SDKs' poll-interval settings cost per idle worker thread and hour (ms).
INTERVALS_MS = (100, 1_000, 5_000)
SDK_POLL_TIMEOUT_MS = 100


def bench_work(seconds: float = 0) -> dict[str, Any]:
    """The worker the SDK runs: does nothing, at once."""
    return {"done": True}


def _flow(name: str, task_type: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [{"name": task_type, "taskReferenceName": "work_ref", "type": "SIMPLE"}],
    }


def _task_handler(api: str, task_type: str, threads: int, poll_interval_ms: int) -> Any:
    from conductor.client.automator.task_handler import TaskHandler
    from conductor.client.configuration.configuration import Configuration
    from conductor.client.worker.worker import Worker

    worker = Worker(
        task_definition_name=task_type,
        execute_function=bench_work,
        poll_interval=poll_interval_ms,
        thread_count=threads,
    )
    return TaskHandler(
        workers=[worker],
        configuration=Configuration(server_api_url=api),
        scan_for_annotated_workers=False,
        monitor_processes=False,
    )


def _wait_all(api: str, ids: list[str], deadline_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + deadline_s
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(ids):
        for workflow_id in ids:
            if workflow_id not in done:
                workflow = _request("GET", f"{api}/workflow/{workflow_id}", observer=True)
                if workflow["status"] not in ("RUNNING", "PAUSED"):
                    done[workflow_id] = workflow
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(ids) - len(done)} workflows did not end in time")
        time.sleep(0.2)
    return [done[i] for i in ids]


def _start(api: str, name: str) -> str:
    return str(_request("POST", f"{api}/workflow/{name}", {}, observer=True))


def _costs(delta: dict[str, Any], count: float) -> dict[str, float]:
    """Per unit of `count`: requests and units, and their price."""
    api_calls = delta["invocations"].get("api", 0) / count
    api_seconds = delta["invocation_seconds"].get("api", 0.0) / count
    write_units = delta["write_units"] / count
    read_units = delta["read_units"] / count
    sqs = delta["sqs_requests"] / count
    price = (
        api_calls * (PRICES["api_gateway_http_request"] + PRICES["lambda_request"])
        + api_seconds * API_MEMORY_GB * PRICES["lambda_arm64_gb_second"]
        + write_units * PRICES["dynamodb_write_request_unit"]
        + read_units * PRICES["dynamodb_read_request_unit"]
        + sqs * PRICES["sqs_request"]
    )
    queries = delta["calls"].get("dynamodb.Query", 0) / count
    return {
        "api_requests": api_calls,
        "api_seconds": api_seconds,
        "dynamodb_write_units": write_units,
        "dynamodb_read_units": read_units,
        "dynamodb_queries": queries,
        "sqs_requests": sqs,
        "usd": price,
    }


def _throughput(api: str, meter: Any, report: Callable[[str], None]) -> dict[int, Any]:
    runs: dict[int, Any] = {}
    for threads in THREAD_COUNTS:
        task_type = f"bench_work_{threads}"
        name = f"bench_workers_{threads}"
        _request("POST", f"{api}/metadata/workflow", _flow(name, task_type), observer=True)
        handler = _task_handler(api, task_type, threads, 100)
        handler.start_processes()
        try:
            time.sleep(3)  # the worker process is up and polling
            report(f"  {threads} worker thread(s), {TASKS_PER_RUN} tasks...")
            before = _snapshot(meter)
            started = time.time()
            ids = [_start(api, name) for _ in range(TASKS_PER_RUN)]
            done = _wait_all(api, ids, 300)
            span = (max(w["endTime"] for w in done) - started * 1000) / 1000
            delta = _delta(meter, before)
        finally:
            handler.stop_processes()
        runs[threads] = {
            "per_second": TASKS_PER_RUN / span,
            "per_task": _costs(delta, TASKS_PER_RUN),
        }
    return runs


def _latency(api: str, report: Callable[[str], None]) -> dict[str, float]:
    """A long poll waiting when each task is scheduled: how long until it has the task."""
    task_type = "bench_latency"
    _request("POST", f"{api}/metadata/workflow", _flow("bench_latency", task_type), observer=True)
    received: list[tuple[float, dict[str, Any]]] = []
    stop = threading.Event()
    arrived = threading.Semaphore(0)

    def poll() -> None:
        while not stop.is_set():
            tasks = _request(
                "GET", f"{api}/tasks/poll/batch/{task_type}?count=1&timeout=2000", observer=True
            )
            now_ms = time.time() * 1000
            for task in tasks or []:
                received.append((now_ms, task))
                arrived.release()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    report(f"  {LATENCY_SAMPLES} tasks to a waiting long poll...")
    time.sleep(0.5)
    for _ in range(LATENCY_SAMPLES):
        _start(api, "bench_latency")
        if not arrived.acquire(timeout=30):
            raise TimeoutError("the waiting poll did not receive its task")
        time.sleep(0.05)  # the poll is waiting again before the next task
    stop.set()
    poller.join(5)
    latencies = [at - task["scheduledTime"] for at, task in received]
    return {
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
    }


def _idle(api: str, meter: Any, report: Callable[[str], None]) -> dict[str, Any]:
    """One SDK worker thread polling an empty queue with the SDK's defaults."""
    handler = _task_handler(api, "bench_idle", 1, 100)
    handler.start_processes()
    try:
        time.sleep(3)
        report(f"  one idle worker thread for {IDLE_SECONDS:.0f} s...")
        before = _snapshot(meter)
        time.sleep(IDLE_SECONDS)
        delta = _delta(meter, before)
    finally:
        handler.stop_processes()
    polls = delta["invocations"].get("api", 0)
    per_poll = _costs(delta, max(polls, 1))
    per_hour = {k: v * polls * 3600 / IDLE_SECONDS for k, v in per_poll.items()}
    settings = {}
    for interval in INTERVALS_MS:
        # An empty poll waits SDK_POLL_TIMEOUT_MS on the server, then the SDK waits its
        # interval (its back-off after empty polls ends at the interval).
        polls_per_hour = 3_600_000 / (interval + SDK_POLL_TIMEOUT_MS)
        settings[interval] = {
            "polls_per_hour": polls_per_hour,
            "usd_per_hour": polls_per_hour * per_poll["usd"],
            "usd_per_month": polls_per_hour * per_poll["usd"] * 730,
        }
    return {"polls": polls, "per_poll": per_poll, "per_hour": per_hour, "settings": settings}


def run(report: Callable[[str], None] = print) -> dict[str, Any]:
    from embedded.runtime import Runtime

    load_before = os.getloadavg()[0]
    with metering() as meter, Runtime(port=0, tick_seconds=3600) as runtime:
        for kind, function in runtime.functions.items():
            function.handler = timed_handler(meter, kind, function.handler)
        api = runtime.api_url
        report("workers: throughput...")
        throughput = _throughput(api, meter, report)
        report("workers: long-poll latency...")
        latency = _latency(api, report)
        report("workers: an idle poller...")
        idle = _idle(api, meter, report)
    load = {"before": load_before, "after": os.getloadavg()[0]}
    return {"throughput": throughput, "latency": latency, "idle": idle, "load": load}


def _usd(value: float) -> str:
    return f"${value:.8f}" if value < 0.01 else f"${value:,.4f}"


def _load_note(load: dict[str, float] | None) -> str:
    """Times and rates here are wall-clock: how busy the machine was says how far to trust
    them (request counts and units do not depend on it)."""
    if not load:
        return ""
    return (
        f" The machine's load average (1 min) was {load['before']:.1f} before and "
        f"{load['after']:.1f} after this run: well above its core count, times and rates "
        "measure the neighbours as much as Baton; request counts and units do not."
        if max(load.values()) > (os.cpu_count() or 1)
        else f" The machine's load average (1 min): {load['before']:.1f} before, "
        f"{load['after']:.1f} after."
    )


def section(result: dict[str, Any]) -> list[str]:
    throughput, latency, idle = result["throughput"], result["latency"], result["idle"]
    lines = [
        SECTION_TITLE,
        "",
        f"Run with `{COMMAND}` (also part of `make bench`). The SDK's TaskHandler runs the "
        "worker in a process of its own against the embedded runtime (moto's server for "
        "DynamoDB and SQS, one API environment that lets other requests in while a poll "
        "waits). Prices: bench/prices.json (API Gateway HTTP API, Lambda arm64 at 512 MB for the "
        "whole time a poll waits, DynamoDB on demand); DynamoDB units as the meter computes "
        "them from item sizes. Tasks per second here are bounded by that one API environment "
        "(every poll and update runs in it, one at a time, each a few requests to moto's "
        "server): more worker threads only queue for it. On AWS each waiting poll holds an "
        "environment of its own. Per task: the worker's batch polls and its update-v2 (which "
        "commits the result, decides, and claims the next task); the start is not counted."
        + _load_note(result.get("load")),
        "",
        "| worker threads | tasks completed per second | API requests per task | "
        "DynamoDB queries / read units / write units per task | price per task |",
        "|---|---|---|---|---|",
    ]
    for threads, run_ in throughput.items():
        cost = run_["per_task"]
        lines.append(
            f"| {threads} | {run_['per_second']:.1f} | {cost['api_requests']:.2f} | "
            f"{cost['dynamodb_queries']:.1f} / {cost['dynamodb_read_units']:.1f} / "
            f"{cost['dynamodb_write_units']:.1f} | {_usd(cost['usd'])} |"
        )
    per_poll, per_hour = idle["per_poll"], idle["per_hour"]
    lines += [
        "",
        f"- From a task becoming ready to a waiting long poll receiving it, over "
        f"{LATENCY_SAMPLES} tasks: p50 {latency['p50_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} "
        f"ms, max {latency['max_ms']:.0f} ms (target p99 at most 100 ms locally: "
        f"{'met' if latency['p99_ms'] <= 100 else 'not met'}).",
        f"- One idle worker thread with the SDK's defaults made {idle['polls']} polls in "
        f"{IDLE_SECONDS:.0f} s. Each empty poll: {per_poll['api_requests']:.2f} API request, "
        f"{per_poll['api_seconds'] * 1000:.0f} ms of Lambda, "
        f"{per_poll['dynamodb_queries']:.1f} DynamoDB queries "
        f"({per_poll['dynamodb_read_units']:.2f} read units), "
        f"{per_poll['dynamodb_write_units']:.2f} write units (poll data, written at most "
        f"every 5 s): {_usd(per_poll['usd'])}. Per idle poller-hour: "
        f"{per_hour['api_requests']:,.0f} requests, {_usd(per_hour['usd'])}.",
        "",
        "What the SDKs' poll interval costs per idle worker thread (each empty poll also waits "
        f"{SDK_POLL_TIMEOUT_MS} ms on the server, the SDKs' batch-poll timeout):",
        "",
        "| poll interval | polls per hour | per hour | per month (730 h) |",
        "|---|---|---|---|",
    ]
    for interval, cost in idle["settings"].items():
        lines.append(
            f"| {int(interval):,} ms | {cost['polls_per_hour']:,.0f} | "
            f"{_usd(cost['usd_per_hour'])} | {_usd(cost['usd_per_month'])} |"
        )
    return [*lines, ""]


def run_in_subprocess(report: Callable[[str], None]) -> dict[str, Any] | None:
    """`run()` in a fresh process (the handlers serve one runtime per process)."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.workers", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in completed.stderr.splitlines():
        if line.startswith("  ") or line.startswith("workers:"):
            report(line)
    if completed.returncode != 0:
        report(f"workers benchmark failed:\n{completed.stderr[-3000:]}")
        return None
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def replace_section(text: str, lines: list[str]) -> str:
    """RESULTS.md with this section replaced (or added at the end)."""
    start = text.find(SECTION_TITLE)
    block = "\n".join(lines)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + block + "\n"
    end = text.find("\n## ", start + len(SECTION_TITLE))
    rest = text[end + 1 :] if end >= 0 else ""
    return text[:start] + block + ("\n" + rest if rest else "\n")


def main() -> None:
    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = run(report)
    if "--json" in sys.argv:
        print(json.dumps(result))
        return
    RESULTS.write_text(replace_section(RESULTS.read_text(), section(result)))
    report(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
