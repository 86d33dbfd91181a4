"""`make run` as a user runs it: `python -m embedded` in its own process, durable, driven over HTTP.

- sustained throughput of a one-WAIT workflow started and completed through the API (two
  requests per workflow) over many workflows, from a pool of keep-alive clients;
- p50/p99 latency of those requests, and connection errors, at 8, 32 and 64 clients;
- resident memory (the runtime and its moto process) after 1,000 and 10,000 seed-like
  workflows (the tutorial's fork, SQS event and WAIT);
- CPU used while idle;
- restart time with everything above stored.

Run alone: `python -m bench.local_runtime [--scale 10]` (a tenth of the workflows); it writes
its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "embedded" / "seed" / "event_testing.json"
_API_LINE = re.compile(r"^\s*API\s+http://(?P<host>[^:/]+):(?P<port>\d+)/api\s*$")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")

WAIT_ONLY = {
    "name": "bench_local_wait",
    "version": 1,
    "tasks": [
        {
            "name": "hold",
            "taskReferenceName": "hold",
            "type": "WAIT",
            "inputParameters": {"duration": "${workflow.input.wait}"},
        }
    ],
}


def seed_like(name: str) -> dict[str, Any]:
    """The tutorial's workflow with a one-second WAIT."""
    definition: dict[str, Any] = json.loads(SEED.read_text())
    definition["name"] = name
    branch = definition["tasks"][0]["forkTasks"][1]
    branch[0]["inputParameters"] = {"duration": "1s"}
    return definition


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class Client:
    """One keep-alive HTTP connection to the API."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            self.connection.request(method, "/api" + path, body=data, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read().decode()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise

    def close(self) -> None:
        self.connection.close()


def _process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue  # a thread that has just ended
        for child in children:
            pids += _process_tree(int(child))
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def _process_kind(pid: int) -> str:
    """Which of the runtime's processes `pid` is: moto, an API environment, or the runtime."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    if "embedded.moto_server" in command:
        return "moto"
    if "embedded.environments" in command:
        return "environments"
    return "runtime"


def _cpu_by_kind(pids: list[int]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for pid in pids:
        kind = _process_kind(pid)
        totals[kind] = totals.get(kind, 0.0) + _cpu_seconds([pid])
    return totals


def _rss_mb(pids: list[int]) -> dict[int, float]:
    return {
        pid: int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES / 1e6
        for pid in pids
    }


class LocalRuntime:
    """`python -m embedded` on a free port with a data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = env or {}
        self.process: subprocess.Popen[str] | None = None
        self.host, self.port = "127.0.0.1", 0
        self.started_in = 0.0

    def start(self) -> LocalRuntime:
        env = dict(os.environ) | {
            "PORT": "0",
            "BATON_DATA_DIR": str(self.data_dir),
            "PYTHONUNBUFFERED": "1",
            "BATON_TICK_SECONDS": "5",
        }
        env.pop("AWS_ENDPOINT_URL", None)
        began = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "embedded"],
            cwd=ROOT,
            env=env | self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if match := _API_LINE.match(line):
                self.host, self.port = match["host"], int(match["port"])
                break
        else:
            raise RuntimeError("python -m embedded ended before it printed its API")
        threading.Thread(target=self._drain, daemon=True).start()
        client = Client(self.host, self.port)
        while client.call("GET", "/metadata/workflow/event_testing")[0] != 200:
            time.sleep(0.1)
        client.close()
        self.started_in = time.monotonic() - began
        return self

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    def pids(self) -> list[int]:
        assert self.process is not None
        return _process_tree(self.process.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _pool(runtime: LocalRuntime, clients: int, work: Callable[[Client], None]) -> None:
    def run() -> None:
        client = Client(runtime.host, runtime.port)
        try:
            work(client)
        finally:
            client.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def start_and_complete(runtime: LocalRuntime, count: int, clients: int) -> dict[str, Any]:
    """`count` one-WAIT workflows, each started then completed by reference, by `clients`."""
    lock = threading.Lock()
    remaining = [count]
    latencies: list[float] = []
    errors: list[str] = []
    failures: list[int] = []

    def work(client: Client) -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            try:
                began = time.perf_counter()
                status, workflow_id = client.call(
                    "POST", f"/workflow/{WAIT_ONLY['name']}", {"wait": "1h"}
                )
                started = time.perf_counter()
                if status != 200:
                    failures.append(status)
                    continue
                status, _ = client.call("POST", f"/tasks/{workflow_id}/hold/COMPLETED", {})
                ended = time.perf_counter()
                if status != 200:
                    failures.append(status)
                with lock:
                    latencies.extend((started - began, ended - started))
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    errors.append(type(error).__name__)

    pids = runtime.pids()
    cpu_before = _cpu_by_kind(pids)
    began = time.monotonic()
    _pool(runtime, clients, work)
    seconds = time.monotonic() - began
    cpu_after = _cpu_by_kind(pids)
    return {
        # CPU per workflow by process, which the machine's load moves least.
        "cpu_ms_per_workflow": {
            kind: (cpu_after[kind] - cpu_before.get(kind, 0.0)) * 1000 / count for kind in cpu_after
        },
        "load_average": os.getloadavg()[0],
        "workflows": count,
        "clients": clients,
        "seconds": seconds,
        "per_second": count / seconds,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "connection_errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "non_200": len(failures),
    }


def seed_like_workflows(runtime: LocalRuntime, count: int, clients: int = 8) -> float:
    """Start `count` seed-like workflows and wait for them to finish; the seconds it took."""
    ids: list[str] = []
    lock = threading.Lock()
    remaining = [count]

    def work(client: Client) -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            status, workflow_id = client.call("POST", "/workflow/bench_local_seed", {})
            if status == 200:
                with lock:
                    ids.append(workflow_id)

    began = time.monotonic()
    _pool(runtime, clients, work)
    client = Client(runtime.host, runtime.port)
    try:
        for workflow_id in ids:
            while True:
                status, body = client.call("GET", f"/workflow/{workflow_id}?includeTasks=false")
                if status == 200 and json.loads(body)["status"] != "RUNNING":
                    break
                time.sleep(0.2)
    finally:
        client.close()
    return time.monotonic() - began


def idle_cpu(runtime: LocalRuntime, seconds: float = 30.0) -> float:
    """The share of one core the runtime and moto use with nothing to do."""
    pids = runtime.pids()
    before, began = _cpu_seconds(pids), time.monotonic()
    time.sleep(seconds)
    return (_cpu_seconds(pids) - before) / (time.monotonic() - began)


# moto in process: a table of 2,000 items, then 200 two-item transactions; resident memory
# before and after (garbage collected) and the time the transactions took.
_TRANSACTIONS_SCRIPT = """
import gc, json, sys, time, boto3
from moto import mock_aws
if sys.argv[1] == "patched":
    from embedded import moto_patches
    moto_patches.apply()
def rss():
    gc.collect()
    return int(open("/proc/self/statm").read().split()[1]) * PAGE / 1e6
def key(name):
    return {"AttributeName": name, "KeyType": "HASH" if name == "pk" else "RANGE"}
def string(name):
    return {"AttributeName": name, "AttributeType": "S"}
def put(pk, sk, **more):
    item = {"pk": {"S": pk}, "sk": {"S": sk}} | {k: {"S": v} for k, v in more.items()}
    return {"Put": {"TableName": "t", "Item": item}}
with mock_aws():
    db = boto3.client("dynamodb", region_name="us-east-1")
    db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[key("pk"), key("sk")], AttributeDefinitions=[string("pk"), string("sk")])
    for i in range(2000):
        db.put_item(**put(f"p{i % 100}", str(i), d="x" * 1000)["Put"])
    before = rss()
    began = time.perf_counter()
    for i in range(200):
        db.transact_write_items(TransactItems=[put("a", str(i)), put("b", str(i))])
    seconds = time.perf_counter() - began
    print(json.dumps({"before_mb": before, "after_mb": rss(), "seconds": seconds}))
"""


def transactions_memory() -> dict[str, Any]:
    """moto's TransactWriteItems as shipped and as the runtime patches it."""
    script = _TRANSACTIONS_SCRIPT.replace("PAGE", str(PAGE_BYTES))
    results = {}
    for variant in ("moto", "patched"):
        output = subprocess.run(
            [sys.executable, "-c", script, variant],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ) | {"PYTHONPATH": str(ROOT)},
        ).stdout
        results[variant] = json.loads(output.strip().splitlines()[-1])
    return results


def run(
    report: Callable[[str], None] = print,
    *,
    scale: int = 1,
    idle_seconds: float = 30.0,
    transactions: bool = True,
) -> dict[str, Any]:
    """Every figure; `scale` divides the numbers of workflows (a quicker, rougher run)."""
    sustained = 10_000 // scale
    small, large = 1_000 // scale, 10_000 // scale
    results: dict[str, Any] = {}
    if transactions:
        report("moto's transactions, as shipped and patched...")
        results["transactions"] = transactions_memory()
        report(json.dumps(results["transactions"]))
    data_dir = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    # Finished workflows expire after a day: they are still stored for the whole run.
    runtime = LocalRuntime(data_dir).start()
    try:
        setup = Client(runtime.host, runtime.port)
        for definition in (WAIT_ONLY, seed_like("bench_local_seed")):
            status, body = setup.call("POST", "/metadata/workflow", definition)
            assert status == 200, body
        setup.close()
        results["first_start_seconds"] = runtime.started_in

        report(f"idle CPU ({idle_seconds:.0f} s, {data_dir} empty)...")
        results["idle_cpu_empty"] = idle_cpu(runtime, idle_seconds)
        report(json.dumps({"idle_cpu_empty": results["idle_cpu_empty"]}))

        for clients in (8, 32, 64):
            report(f"latency with {clients} clients...")
            results[f"latency_{clients}"] = start_and_complete(
                runtime, 50 * clients // scale, clients
            )
            report(json.dumps(results[f"latency_{clients}"]))

        report(f"sustained: {sustained} workflows started and completed by 16 clients...")
        results["sustained"] = start_and_complete(runtime, sustained, 16)
        report(json.dumps(results["sustained"]))

        report(f"{small} seed-like workflows...")
        results["seed_small_seconds"] = seed_like_workflows(runtime, small)
        time.sleep(5)
        results["process_kinds"] = {str(pid): _process_kind(pid) for pid in runtime.pids()}
        results["rss_small_mb"] = _rss_mb(runtime.pids())
        report(json.dumps({"rss_small_mb": results["rss_small_mb"]}))
        report(f"{large - small} more seed-like workflows...")
        results["seed_large_seconds"] = seed_like_workflows(runtime, large - small)
        time.sleep(5)
        results["rss_large_mb"] = _rss_mb(runtime.pids())
        report(json.dumps({"rss_large_mb": results["rss_large_mb"]}))

        report(f"idle CPU ({idle_seconds:.0f} s, after the load)...")
        results["idle_cpu_loaded"] = idle_cpu(runtime, idle_seconds)
        report(json.dumps({"idle_cpu_loaded": results["idle_cpu_loaded"]}))
    finally:
        runtime.stop()
    results["data_dir_mb"] = sum(p.stat().st_size for p in data_dir.iterdir()) / 1e6
    report("restart with everything stored...")
    # With `make run`'s own sweep interval, for the idle figure a user sees.
    again = LocalRuntime(data_dir, {"BATON_TICK_SECONDS": "60"}).start()
    try:
        results["restart_seconds"] = again.started_in
        results["rss_after_restart_mb"] = _rss_mb(again.pids())
        report(f"idle CPU ({idle_seconds:.0f} s, restarted, sweeping every 60 s)...")
        results["idle_cpu_restarted"] = idle_cpu(again, idle_seconds)
    finally:
        again.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    results["seed_counts"] = [small, large]
    results["command"] = " ".join(
        [f"python -m bench.local_runtime --scale {scale} --idle-seconds {idle_seconds:g}"]
        + ([] if transactions else ["--no-transactions"])
    )
    results["scale"] = scale
    results["stored_workflows"] = (
        sustained + large + sum(results[f"latency_{c}"]["workflows"] for c in (8, 32, 64))
    )
    return results


SECTION_TITLE = "## 8. The local runtime (`make run`, durable)"


def _totals_by_kind(pids_mb: dict[Any, float], kinds: dict[str, str]) -> dict[str, float]:
    """Resident memory by process kind (the API's environments summed); pids as numbers (a
    run's own result) or text (read back from its JSON)."""
    totals: dict[str, float] = {}
    for pid, mb in pids_mb.items():
        kind = kinds.get(str(pid), "?")
        totals[kind] = totals.get(kind, 0.0) + mb
    return totals


def _by_kind(pids_mb: dict[Any, float], kinds: dict[str, str]) -> str:
    """Resident memory by process kind, as `kind N MB`."""
    totals = _totals_by_kind(pids_mb, kinds)
    return ", ".join(f"{kind} {mb:.0f} MB" for kind, mb in sorted(totals.items()))


def section(result: dict[str, Any]) -> list[str]:
    def total(rss: dict[str, float]) -> float:
        return sum(rss.values())

    small, large = total(result["rss_small_mb"]), total(result["rss_large_mb"])
    small_count, large_count = result["seed_counts"]
    # A run that did not name its processes listed them as the process tree does: the
    # runtime, then its children in the order it started them (moto, then the environments).
    order = ["runtime", "moto"] + ["environments"] * (len(result["rss_small_mb"]) - 2)
    kinds: dict[str, str] = result.get("process_kinds") or dict(
        zip(map(str, result["rss_small_mb"]), order, strict=False)
    )
    moto_growth_kb = (
        (
            _totals_by_kind(result["rss_large_mb"], kinds).get("moto", 0.0)
            - _totals_by_kind(result["rss_small_mb"], kinds).get("moto", 0.0)
        )
        * 1000
        / max(1, large_count - small_count)
    )
    sustained = result["sustained"]
    command = result.get("command", "python -m bench.local_runtime")
    scale = result.get("scale", round(1_000 / small_count))
    cpu = sustained["cpu_ms_per_workflow"]
    moto_busy = cpu.get("moto", 0.0) * sustained["per_second"] / 10  # percent of one core
    lines = [
        SECTION_TITLE,
        "",
        "`python -m embedded` in its own process with a data directory (journal fsync'd before",
        "every answer), driven over HTTP with keep-alive connections, by",
        f"`{command}`" + (f" (1/{scale} of the workflows)." if scale != 1 else "."),
        "The machine's 2 cores were shared with other jobs: the load average is given with each",
        "figure. CPU per workflow and process is the figure the load moves least; 100",
        "workflows/s on these 2 cores needs all processes together under 20 ms per workflow,",
        "and moto, one interpreter that applies DynamoDB requests one at a time (six per",
        "workflow), under 10 ms.",
        "",
        f"- Sustained: {sustained['workflows']:,} one-WAIT workflows started and completed (two"
        f" requests each) by {sustained['clients']} clients in {sustained['seconds']:.0f} s:",
        f"  **{sustained['per_second']:.0f} workflows/s**, p50 {sustained['p50_ms']:.0f} ms, p99"
        f" {sustained['p99_ms']:.0f} ms, {sustained['connection_errors']} connection errors"
        f" (load average {sustained['load_average']:.1f} at its end).",
        "- CPU per workflow, by process: "
        + ", ".join(f"{kind} {ms:.1f} ms" for kind, ms in sorted(cpu.items()))
        + f" ({sum(cpu.values()):.1f} ms in all). moto, one interpreter applying DynamoDB"
        f" requests one at a time, was busy {moto_busy:.0f}% of a core.",
        "",
        "| clients | workflows | workflows/s | p50 ms | p99 ms | connection errors | non-200 "
        "| load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for clients in (8, 32, 64):
        row = result[f"latency_{clients}"]
        lines.append(
            f"| {clients} | {row['workflows']:,} | {row['per_second']:.0f} | "
            f"{row['p50_ms']:.0f} | {row['p99_ms']:.0f} | {row['connection_errors']} | "
            f"{row['non_200']} | {row['load_average']:.1f} |"
        )
    lines += [
        "",
        "  Each client sends its next request when the last is answered, so at 64 clients the",
        "  mean latency is 64 over the requests served per second (two per workflow): p99 at",
        "  most 250 ms at 64 clients needs about 130 workflows/s, which is not reached.",
        f"- Resident memory, every process: {small:.0f} MB after the first {small_count:,}"
        " seed-like workflows",
        f"  ({_by_kind(result['rss_small_mb'], kinds)}), {large:.0f} MB after {large_count:,}",
        f"  ({_by_kind(result['rss_large_mb'], kinds)}): {large / small:.2f}x; moto grew"
        f" {moto_growth_kb:.0f} KB per seed-like workflow stored. All are kept",
        "  (they expire after the 30-day retention).",
        f"- Idle CPU: {result['idle_cpu_empty'] * 100:.2f}% of a core empty, "
        f"{result['idle_cpu_loaded'] * 100:.2f}% with everything stored (both sweeping every 5 s),",
        f"  {result['idle_cpu_restarted'] * 100:.2f}% restarted with everything stored and"
        " `make run`'s sweep every 60 s.",
        f"- Restart with {result['stored_workflows']:,} workflows stored "
        f"({result['data_dir_mb']:.0f} MB on disk): {result['restart_seconds']:.1f} s to answer "
        f"(first start {result['first_start_seconds']:.1f} s).",
    ]
    if "transactions" not in result:
        return [*lines, ""]
    moto, patched = result["transactions"]["moto"], result["transactions"]["patched"]
    lines += [
        "- moto's TransactWriteItems, a table of 2,000 items then 200 two-item transactions,",
        f"  in process: as shipped {moto['before_mb']:.0f} -> {moto['after_mb']:.0f} MB in "
        f"{moto['seconds']:.1f} s; as the runtime patches it {patched['before_mb']:.0f} -> "
        f"{patched['after_mb']:.0f} MB in {patched['seconds']:.1f} s.",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1, help="divide the workflows by this")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--no-transactions", action="store_true")
    parser.add_argument(
        "--from-output",
        type=Path,
        help="write the section from a finished run's output (its JSON) instead of running",
    )
    arguments = parser.parse_args()
    if arguments.from_output is not None:
        result = _result_in(arguments.from_output.read_text())
        # A run from before runs recorded their command: the options given here were its own.
        result.setdefault(
            "command",
            f"python -m bench.local_runtime --scale {arguments.scale} "
            f"--idle-seconds {arguments.idle_seconds:g}"
            + (" --no-transactions" if arguments.no_transactions else ""),
        )
        result.setdefault("scale", arguments.scale)
    else:
        result = run(
            lambda line: print(line, file=sys.stderr, flush=True),
            scale=arguments.scale,
            idle_seconds=arguments.idle_seconds,
            transactions=not arguments.no_transactions,
        )
        print(json.dumps(result, indent=2))
    lines = section(result)
    print("\n".join(lines))
    write_section(SECTION_TITLE, lines)


def _result_in(output: str) -> dict[str, Any]:
    """The result a run printed: the JSON object that starts on a line of its own."""
    start = output.index("\n{\n") + 1 if not output.startswith("{\n") else 0
    found: dict[str, Any] = json.JSONDecoder().raw_decode(output[start:])[0]
    return found


if __name__ == "__main__":
    main()
