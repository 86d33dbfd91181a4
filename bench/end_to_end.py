"""End to end against the embedded runtime: wall time, throughput, latencies, what it costs.

The runtime runs in this process so its AWS calls can be counted and its threads sampled.
Locally each function has one execution environment (invocations are serialized, as in one
Lambda container), so throughput here is a floor: on AWS, Lambda runs many in parallel.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.metering import OBSERVER_HEADER, Meter, metering, timed_handler
from bench.sampler import Sampler

SEED = Path(__file__).resolve().parent.parent / "embedded" / "seed" / "event_testing.json"


def _request(method: str, url: str, body: Any = None, *, observer: bool = False) -> Any:
    """Call the API; an observer's call (the bench reading state) is left out of the costs."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if observer:
        headers[OBSERVER_HEADER] = "1"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
    return json.loads(text) if text and text[0] in "{[" else text


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _seed_like(name: str) -> dict[str, Any]:
    """The tutorial's workflow with its WAIT's duration taken from the input."""
    definition: dict[str, Any] = json.loads(SEED.read_text())
    definition["name"] = name
    branch = definition["tasks"][0]["forkTasks"][1]
    branch[0]["inputParameters"] = {"duration": "${workflow.input.wait}"}
    return definition


WAIT_ONLY = {
    "name": "bench_wait",
    "version": 1,
    "tasks": [
        {
            "name": "wait",
            "taskReferenceName": "wait_ref",
            "type": "WAIT",
            "inputParameters": {"duration": "${workflow.input.wait}"},
        }
    ],
}


class Bench:
    def __init__(self, runtime: Any, report: Callable[[str], None]) -> None:
        self.runtime = runtime
        self.api = runtime.api_url
        self.report = report

    def start(self, name: str, workflow_input: dict[str, Any]) -> str:
        return str(_request("POST", f"{self.api}/workflow/{name}", workflow_input))

    def get(self, workflow_id: str) -> dict[str, Any]:
        result = _request("GET", f"{self.api}/workflow/{workflow_id}", observer=True)
        assert isinstance(result, dict)
        return result

    def wait_all(self, ids: list[str], deadline_s: float) -> list[dict[str, Any]]:
        """Every workflow once it has ended. Reading state loads the runtime too, so this
        watches one workflow at a time (the first still running) instead of all of them."""
        finished: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + deadline_s
        for workflow_id in ids:
            while time.monotonic() < deadline:
                workflow = self.get(workflow_id)
                if workflow["status"] != "RUNNING":
                    finished[workflow_id] = workflow
                    break
                time.sleep(0.5)
        missing = [i for i in ids if i not in finished]
        if missing:
            raise RuntimeError(f"{len(missing)} workflows did not finish within {deadline_s} s")
        return [finished[i] for i in ids]


def _task(workflow: dict[str, Any], reference: str) -> dict[str, Any]:
    return next(t for t in workflow["tasks"] if t["referenceTaskName"] == reference)


def run(report: Callable[[str], None], *, concurrent: int = 40, waits: int = 100) -> dict[str, Any]:
    from embedded.runtime import Runtime

    results: dict[str, Any] = {}
    with metering() as meter, Runtime(port=0, tick_seconds=3600) as runtime:
        for kind, function in runtime.functions.items():
            function.handler = timed_handler(meter, kind, function.handler)
        bench = Bench(runtime, report)
        _request("POST", f"{bench.api}/metadata/workflow", _seed_like("bench_seed"), observer=True)
        _request("POST", f"{bench.api}/metadata/workflow", WAIT_ONLY, observer=True)

        # 1. The tutorial's workflow, as printed (a 10 s WAIT), wall time from its own clock.
        report("seed workflow wall time (3 at once)...")
        ids = [bench.start("event_testing", {}) for _ in range(3)]
        done = bench.wait_all(ids, 90)
        walls = [(w["endTime"] - w["createTime"]) / 1000 for w in done]
        results["seed_wall_seconds"] = {"median": statistics.median(walls), "runs": walls}

        # 2. What one seed-like workflow costs: only its own requests are counted.
        report("cost of one seed-like workflow (20 workflows, 1 s wait)...")
        cost_runs = 20
        before = _snapshot(meter)
        ids = [bench.start("bench_seed", {"wait": "1s"}) for _ in range(cost_runs)]
        bench.wait_all(ids, 120)
        results["per_workflow"] = _per_workflow(_delta(meter, before), cost_runs)

        # 3. Throughput and event latency with N at once, sampled for the bottleneck.
        report(f"{concurrent} concurrent seed-like workflows (1 s wait)...")
        with Sampler() as sampler:
            started = time.time()
            ids = [bench.start("bench_seed", {"wait": "1s"}) for _ in range(concurrent)]
            done = bench.wait_all(ids, 300)
        span = (max(w["endTime"] for w in done) - started * 1000) / 1000
        latencies = [
            (_task(w, "task_1_ref")["endTime"] - _task(w, "send_sqs_message_ref")["endTime"]) / 1000
            for w in done
        ]
        results["throughput"] = {
            "workflows": concurrent,
            "seconds": span,
            "per_second": concurrent / span,
            "event_to_completion_p50": percentile(latencies, 0.5),
            "event_to_completion_p99": percentile(latencies, 0.99),
            "profile_baton": sampler.top(sampler.inclusive, prefix="baton/"),
            "share_aws_calls": sampler.share("botocore/client.py:_make_api_call"),
            "share_engine": max(
                (share for _, share in sampler.top(sampler.inclusive, 50, "baton/engine/")),
                default=0.0,
            ),
            "profile_own": sampler.top(sampler.own),
        }

        # 4. Timer lateness: 100 two-second WAITs started at 20 per second.
        report(f"timer lateness over {waits} two-second waits...")
        ids = []
        for _ in range(waits):
            ids.append(bench.start("bench_wait", {"wait": "2s"}))
            time.sleep(0.05)
        done = bench.wait_all(ids, 300)
        lateness = [
            (_task(w, "wait_ref")["endTime"] - _task(w, "wait_ref")["waitTimeout"]) / 1000
            for w in done
        ]
        results["timer_lateness"] = {
            "waits": waits,
            "p50": percentile(lateness, 0.5),
            "p99": percentile(lateness, 0.99),
            "max": max(lateness),
        }
    return results


def _snapshot(meter: Meter) -> dict[str, Any]:
    return {
        "write_units": meter.write_units,
        "read_units": meter.read_units,
        "sqs_requests": meter.sqs_requests,
        "invocations": dict(meter.invocations),
        "invocation_seconds": dict(meter.invocation_seconds),
        "calls": dict(meter.calls),
        "index_write_units": dict(meter.index_writes.by_index),
        "write_breakdown": {
            key: (line.writes, line.units, line.item_bytes)
            for key, line in meter.write_breakdown().items()
        },
    }


def _delta(meter: Meter, before: dict[str, Any]) -> dict[str, Any]:
    after = _snapshot(meter)
    delta: dict[str, Any] = {}
    for key, value in after.items():
        if key == "write_breakdown":
            zero = (0, 0.0, 0)
            delta[key] = {
                site: tuple(a - b for a, b in zip(line, before[key].get(site, zero), strict=True))
                for site, line in value.items()
            }
        elif isinstance(value, dict):
            delta[key] = {k: v - before[key].get(k, 0) for k, v in value.items()}
        else:
            delta[key] = value - before[key]
    return delta


def _per_workflow(delta: dict[str, Any], count: int) -> dict[str, Any]:
    invocations = {k: v / count for k, v in delta["invocations"].items() if v}
    durations = {
        k: delta["invocation_seconds"][k] / delta["invocations"][k]
        for k in delta["invocations"]
        if delta["invocations"][k]
    }
    return {
        "dynamodb_write_units": delta["write_units"] / count,
        "dynamodb_read_units": delta["read_units"] / count,
        "dynamodb_index_write_units": {
            k: v / count for k, v in sorted(delta["index_write_units"].items()) if v
        },
        "sqs_requests": delta["sqs_requests"] / count,
        "lambda_invocations": invocations,
        "lambda_mean_seconds": durations,
        "api_requests": invocations.get("api", 0.0),
        "calls": {k: v / count for k, v in sorted(delta["calls"].items()) if v},
        # (call site, operation, item) -> (writes, units, mean item bytes), per workflow.
        "write_breakdown": {
            site: (writes / count, units / count, item_bytes / writes if writes else 0.0)
            for site, (writes, units, item_bytes) in sorted(delta["write_breakdown"].items())
            if units
        },
    }
