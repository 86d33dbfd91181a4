"""The web UI: how long an execution of 1,000 tasks takes to open in Chromium.

A workflow whose FORK_JOIN_DYNAMIC starts `BRANCHES` branches (NOOPs that complete, WAITs in
progress, SIMPLE tasks scheduled for a worker that never comes) runs in the embedded runtime
(in this process). Chromium, driven by Playwright, then opens its page `LOADS` times, each in a
fresh browser context (nothing cached), and the page itself records when the diagram is drawn
and the task list shown (`performance.now()`, from the navigation's start):

- as served: the page, its scripts and `GET /api/workflow/{id}` from the runtime;
- the UI alone: the same, with the API's answer (read once beforehand) handed to the page by
  Playwright, so that what the browser does is measured apart from the API, with the CPU time
  of Chromium's processes (which the neighbours' load moves less than the wall time);
- the UI alone opened again in one context, its scripts cached.

One more load of the UI alone runs under Chrome's sampling profiler, which says where the
page's time goes (the diagram, the pages, React, the browser's own work).

Run alone with `.venv/bin/python -m bench.ui [--branches N] [--loads N]` (it writes its
section of RESULTS.md). It needs the built UI (`make ui`) and Chromium (`make browser`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import results
from bench.end_to_end import percentile
from bench.machine import describe

BRANCHES = 1_000
LOADS = 10
ROOT = Path(__file__).resolve().parent.parent
SECTION_TITLE = "## 11. The web UI"
WORKFLOW = "bench_ui_wide"
TARGET_SECONDS = 1.0
# The flags a headless Chromium needs on a closed network, as the browser tests use them.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Branch kinds in turn: one completes at once, one stays in progress, one waits for a worker.
BRANCH_KINDS = (("NOOP", "bench_noop"), ("WAIT", "bench_hold"), ("SIMPLE", "bench_work"))
# Injected before the page's own scripts: notes the moment the diagram has its nodes (the
# fork, a branch, the JOIN, by status) and the task list its first page.
OPENED_PROBE = """
(() => {
  const drawn = (reference) =>
    document.querySelector(`[data-testid=diagram] g[data-task='${reference}'][data-status]`);
  const opened = () =>
    drawn("fan") && drawn("branch_0") && drawn("gather") &&
    document.querySelector("tr[data-task='fan']");
  const observer = new MutationObserver(() => {
    if (window.__openedAt === undefined && opened()) {
      window.__openedAt = performance.now();
      observer.disconnect();
    }
  });
  document.addEventListener("DOMContentLoaded", () =>
    observer.observe(document.body, { childList: true, subtree: true, attributes: true }));
})();
"""
PAGE_TIMEOUT_MS = 120_000


def _request(method: str, url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        text = response.read().decode()
    return json.loads(text) if text and text[0] in "{[" else text


def wide_workflow(branches: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The definition, and the input that makes its dynamic fork start `branches` branches."""
    definition = {
        "name": WORKFLOW,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {"branches": "${workflow.input.branches}", "inputs": {}},
                "dynamicForkTasksParam": "branches",
                "dynamicForkTasksInputParamName": "inputs",
            },
            {"name": "gather", "taskReferenceName": "gather", "type": "JOIN"},
        ],
    }
    listed = [
        {
            "name": BRANCH_KINDS[i % len(BRANCH_KINDS)][1],
            "taskReferenceName": f"branch_{i}",
            "type": BRANCH_KINDS[i % len(BRANCH_KINDS)][0],
        }
        for i in range(branches)
    ]
    return definition, {"branches": listed}


def chromium_path() -> str:
    path = os.environ.get("BATON_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise SystemExit("bench.ui needs Chromium: `make browser`, or set BATON_CHROMIUM")
    return path


@contextmanager
def _runtime() -> Iterator[str]:
    from embedded.runtime import Runtime

    with Runtime(port=0, tick_seconds=3600) as runtime:
        yield runtime.api_url


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _chromium_cpu_seconds() -> float:
    """CPU time (user and system) of every Chromium process this one has started: what a load
    costs whatever the neighbours' load, unlike its wall time."""
    total = 0
    pending = [os.getpid()]
    while pending:
        pid = pending.pop()
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
            if Path(f"/proc/{pid}/comm").read_text().strip() in ("chromium", "chrome"):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except OSError:
            continue  # a process or thread that has just ended
    return total / CLOCK_TICKS


def _opened_seconds(page: Any, url: str) -> float:
    page.goto(url)
    page.wait_for_function("() => window.__openedAt !== undefined", timeout=PAGE_TIMEOUT_MS)
    return float(page.evaluate("() => window.__openedAt")) / 1000


def _api_seconds(page: Any) -> float | None:
    """How long the page's read of the execution took, from its Resource Timing entry."""
    durations = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/api/workflow/')).map(e => e.duration)"
    )
    return float(durations[0]) / 1000 if durations else None


# The profile's samples, by what they were doing: by the script they ran in (the build puts
# the diagram, the pages and the libraries in chunks of their own), else the browser itself.
PROFILE_PARTS = (
    ("diagram", "the diagram: its layout and drawing (the diagram chunk)"),
    ("app", "the pages: the task list, the panels (the main chunk)"),
    ("vendor", "React and the router (the vendor chunk)"),
    ("browser", "the browser's own work (parsing and compiling, style, layout, paint)"),
    ("gc", "garbage collection"),
    ("idle", "idle (waiting on the network or a timer)"),
)
CHUNK_PARTS = (("diagram-", "diagram"), ("index-", "app"), ("vendor-", "vendor"))


def _profile(page: Any, url: str) -> dict[str, float]:
    """Milliseconds of one load by part (PROFILE_PARTS), from Chrome's sampling profiler."""
    session = page.context.new_cdp_session(page)
    session.send("Profiler.enable")
    session.send("Profiler.setSamplingInterval", {"interval": 200})
    session.send("Profiler.start")
    _opened_seconds(page, url)
    profile = session.send("Profiler.stop")["profile"]
    nodes = {node["id"]: node for node in profile["nodes"]}

    def part(node_id: int) -> str:
        frame = nodes[node_id]["callFrame"]
        name, script = frame["functionName"], Path(frame["url"]).name
        if name == "(idle)":
            return "idle"
        if name == "(garbage collector)":
            return "gc"
        for prefix, chunk_part in CHUNK_PARTS:
            if script.startswith(prefix):
                return chunk_part
        return "browser"

    parts: Counter[str] = Counter()
    for sample, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        parts[part(sample)] += delta / 1000
    return {key: parts[key] for key, _ in PROFILE_PARTS}


def measure(
    report: Callable[[str], None], branches: int = BRANCHES, loads: int = LOADS
) -> dict[str, Any]:
    from playwright.sync_api import Route, sync_playwright

    load_before = os.getloadavg()[0]
    with _runtime() as api:
        definition, workflow_input = wide_workflow(branches)
        _request("POST", f"{api}/metadata/taskdefs", [{"name": "bench_work", "retryCount": 0}])
        _request("POST", f"{api}/metadata/workflow", definition)
        report(f"starting a workflow of {branches} branches...")
        started = time.perf_counter()
        workflow_id = str(_request("POST", f"{api}/workflow/{WORKFLOW}", workflow_input))
        start_seconds = time.perf_counter() - started
        read_started = time.perf_counter()
        execution = _request("GET", f"{api}/workflow/{workflow_id}?includeTasks=true")
        read_seconds = time.perf_counter() - read_started
        answer = json.dumps(execution)
        statuses = Counter(task["status"] for task in execution["tasks"])
        url = f"{api.removesuffix('/api')}/execution/{workflow_id}"

        def from_memory(route: Route) -> None:
            route.fulfill(status=200, content_type="application/json", body=answer)

        served: list[float] = []
        api_reads: list[float] = []
        alone: list[float] = []
        alone_cpu: list[float] = []
        warm: list[float] = []
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            try:
                for kind in ("served", "alone", "profile"):
                    for load in range(1 if kind == "profile" else loads):
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        context.add_init_script(OPENED_PROBE)
                        page = context.new_page()
                        if kind != "served":
                            page.route(re.compile(rf"/api/workflow/{workflow_id}\?"), from_memory)
                        if kind == "profile":
                            profile = _profile(page, url)
                        else:
                            cpu_before = _chromium_cpu_seconds()
                            seconds = _opened_seconds(page, url)
                            cpu = _chromium_cpu_seconds() - cpu_before
                            if kind == "served":
                                served.append(seconds)
                                if (read := _api_seconds(page)) is not None:
                                    api_reads.append(read)
                            else:
                                alone.append(seconds)
                                alone_cpu.append(cpu)
                            report(f"  {kind} load {load + 1}: {seconds:.3f} s, {cpu:.2f} s CPU")
                        context.close()
                # Opened again in the same context: the scripts come from the browser's cache,
                # compiled code too, as for someone who has opened a page before.
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_init_script(OPENED_PROBE)
                page = context.new_page()
                page.route(re.compile(rf"/api/workflow/{workflow_id}\?"), from_memory)
                _opened_seconds(page, url)
                for load in range(loads):
                    seconds = _opened_seconds(page, url)
                    warm.append(seconds)
                    report(f"  warm load {load + 1}: {seconds:.3f} s")
                context.close()
            finally:
                browser.close()
    return {
        "branches": branches,
        "tasks": len(execution["tasks"]),
        "statuses": dict(statuses),
        "answer_bytes": len(answer.encode()),
        "start_seconds": start_seconds,
        "read_seconds": read_seconds,
        "served": served,
        "api_reads": api_reads,
        "alone": alone,
        "alone_cpu": alone_cpu,
        "warm": warm,
        "profile": profile,
        "load": {"before": load_before, "after": os.getloadavg()[0]},
        "machine": describe(),
    }


def _p(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction):.3f} s" if values else "n/a"


def section(result: dict[str, Any], command: str = "python -m bench.ui") -> list[str]:
    alone, served, reads = result["alone"], result["served"], result["api_reads"]
    load = result["load"]
    machine = result["machine"]
    met = percentile(alone, 0.99) <= TARGET_SECONDS
    read_share = percentile(reads, 0.5) / percentile(served, 0.5) if reads and served else 0.0
    statuses = ", ".join(
        f"{count} {status}" for status, count in sorted(result["statuses"].items())
    )
    lines = [
        SECTION_TITLE,
        "",
        f"Run with `.venv/bin/{command}` on {machine['cores']} cores; the machine's load "
        f"average (1 min) was {load['before']:.1f} before and {load['after']:.1f} after. "
        f"An execution of {result['tasks']:,} tasks (a FORK_JOIN_DYNAMIC of "
        f"{result['branches']:,} branches and its JOIN: {statuses}; the API's answer is "
        f"{result['answer_bytes'] / 1e6:.1f} MB) opened {len(alone)} times in headless "
        "Chromium, each in a fresh browser context; the page notes when its diagram is drawn "
        "(the fork, its first branches and the node standing for the rest, by status) and the "
        "task list its first page (of 100 tasks), counted from the navigation's start.",
        "",
        "| load | p50 | p99 (the slowest, of so few) |",
        "|---|---|---|",
        f"| the UI alone (the API's answer handed over from memory) | {_p(alone, 0.5)} | "
        f"{_p(alone, 0.99)} |",
        f"| the UI alone: CPU time of Chromium's processes | {_p(result['alone_cpu'], 0.5)} | "
        f"{_p(result['alone_cpu'], 0.99)} |",
        f"| the UI alone, opened again in the same browser context (scripts cached) | "
        f"{_p(result['warm'], 0.5)} | {_p(result['warm'], 0.99)} |",
        f"| as served by the embedded runtime | {_p(served, 0.5)} | {_p(served, 0.99)} |",
        f"| of which the page's `GET /api/workflow/{{id}}` | {_p(reads, 0.5)} | "
        f"{_p(reads, 0.99)} |",
        "",
        f"- Target, the UI opening an execution of 1,000 tasks in under {TARGET_SECONDS:.0f} s: "
        f"{'met' if met else 'NOT met'} by the UI alone (p99, wall time on this machine at "
        "this load).",
        f"- As served, the page's read of the workflow took {read_share:.0%} of the load (p50 "
        "over p50): the API, over moto's server behind the embedded runtime, each task an "
        f"item. Starting the workflow took {result['start_seconds']:.1f} s, and reading it "
        f"once from Python {result['read_seconds']:.1f} s.",
        "- Where one more load of the UI alone spends its time (Chrome's sampling profiler on "
        "the page's main thread, wall time):",
        "",
        "| part | ms |",
        "|---|---|",
    ]
    lines += [f"| {label} | {result['profile'][key]:.0f} |" for key, label in PROFILE_PARTS]
    return [*lines, ""]


def run(report: Callable[[str], None]) -> list[str]:
    """The section as `make bench` writes it."""
    return section(measure(report))


def _report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ui")
    parser.add_argument("--branches", type=int, default=BRANCHES)
    parser.add_argument("--loads", type=int, default=LOADS)
    arguments = parser.parse_args()
    if not (ROOT / "ui" / "dist" / "index.html").is_file():
        raise SystemExit("The UI is not built: `make ui`")
    result = measure(_report, arguments.branches, arguments.loads)
    command = "python -m bench.ui" + "".join(
        f" --{name} {value}"
        for name, value, default in (
            ("branches", arguments.branches, BRANCHES),
            ("loads", arguments.loads, LOADS),
        )
        if value != default
    )
    lines = section(result, command)
    print("\n".join(lines))
    results.write_section(SECTION_TITLE, lines)


if __name__ == "__main__":
    main()
