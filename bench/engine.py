"""The pure engine's speed on one core: seed workflows per second and the cost of wide forks.

Run: `.venv/bin/python -m bench.engine` (or through `make bench`).

* Seed workflows: the tutorial's `event_testing` (read from embedded/seed/event_testing.json)
  decided start to finish as the runtime drives it: started at T0, decided at T0 + 10 s when its
  WAIT falls due (the EVENT task publishes), then task_1 completed from outside through
  `find_task` and `update_task`. Counted for a fixed time per round; the median round is given.
* Wide forks: one FORK of N WAIT branches and its JOIN. Timed: `decider.start` (N + 3 tasks
  scheduled) and one `update_task` completing one branch (the decision that follows it walks
  the whole workflow), medians of repeated runs. If the decider is linear, cost(1000) /
  cost(100) is about 10 (growth exponent log10 of it: 1); a quadratic one would give about 100
  (exponent 2). The ratio of the fastest runs is given too: on a shared machine it is the one
  least disturbed by other processes.
* Wide dynamic forks: the same for a FORK_JOIN_DYNAMIC over N items (`forkTaskType` WAIT,
  `forkTaskInputs` from the workflow input), whose branches are made when it is scheduled.

The clock is fake (integer epoch ms) and nothing here does I/O, so the figures are the engine's
alone. The process is pinned to one CPU while it measures, where the platform allows it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from baton.engine import decider
from baton.engine.definitions import JsonObject, WorkflowDef
from baton.engine.state import TaskStatus, WorkflowStatus

SEED_DEFINITION = (
    Path(__file__).resolve().parent.parent / "embedded" / "seed" / "event_testing.json"
)
SEED_QUEUES = frozenset({"conductor_doug_testing"})
T0 = 1_700_000_000_000
WAIT_SECONDS = 10

SEED_TARGET_PER_SECOND = 2_000
FORK_WIDTHS = (10, 100, 1_000)
# Growth exponent: log10(cost(1000) / cost(100)) is 1 for linear cost and 2 for quadratic.
# Below the midpoint counts as linear; a busy machine inflates the larger forks' medians a little.
LINEAR_GROWTH_EXPONENT_LIMIT = 1.5

Report = Callable[[str], None]


@contextlib.contextmanager
def _one_core() -> Iterator[int | None]:
    """Pin this process to one CPU (the lowest it may use) and restore its affinity after."""
    get_affinity = getattr(os, "sched_getaffinity", None)
    set_affinity = getattr(os, "sched_setaffinity", None)
    if get_affinity is None or set_affinity is None:
        yield None
        return
    allowed: set[int] = get_affinity(0)
    cpu = min(allowed)
    set_affinity(0, {cpu})
    try:
        yield cpu
    finally:
        set_affinity(0, allowed)


def _seed_definition() -> WorkflowDef:
    data: JsonObject = json.loads(SEED_DEFINITION.read_text())
    return WorkflowDef.from_json(data)


def run_seed_workflow(definition: WorkflowDef, workflow_id: str) -> None:
    """One seed workflow, decided start to finish; fails loudly if it does not complete."""
    started = decider.start(
        definition, workflow_id=workflow_id, workflow_input={}, now=T0, event_queues=SEED_QUEUES
    )
    due = decider.decide(started.workflow, T0 + WAIT_SECONDS * 1000, event_queues=SEED_QUEUES)
    task_1 = decider.find_task(due.workflow, reference="task_1_ref")
    if task_1 is None:
        raise AssertionError("the seed workflow has no task_1_ref")
    done = decider.update_task(
        due.workflow,
        task_1.task_id,
        decider.TaskUpdate(status=TaskStatus.COMPLETED),
        T0 + (WAIT_SECONDS + 1) * 1000,
        event_queues=SEED_QUEUES,
    )
    if done.workflow.status != WorkflowStatus.COMPLETED:
        raise AssertionError(f"the seed workflow ended {done.workflow.status}")


def seed_workflows_per_second(
    *, rounds: int, seconds_per_round: float, parse_each: bool, report: Report
) -> list[float]:
    """Workflows completed per second in each round of `seconds_per_round`."""
    shared = _seed_definition()
    rates: list[float] = []
    for round_number in range(1, rounds + 1):
        gc.collect()
        count = 0
        began = time.perf_counter()
        deadline = began + seconds_per_round
        while True:
            definition = _seed_definition() if parse_each else shared
            run_seed_workflow(definition, f"wf-{round_number}-{count}")
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        rates.append(count / (now - began))
        report(f"  seed round {round_number}: {rates[-1]:,.0f} workflows/s")
    return rates


def fork_definition(width: int) -> WorkflowDef:
    """A FORK of `width` WAIT branches (each waiting for an update) and the JOIN on all."""
    branches = [
        [{"name": f"wait_{i}", "taskReferenceName": f"wait_{i}", "type": "WAIT"}]
        for i in range(width)
    ]
    return WorkflowDef.from_json(
        {
            "name": f"fork_{width}",
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": branches,
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": [f"wait_{i}" for i in range(width)],
                },
            ],
        }
    )


def dynamic_fork_definition(width: int) -> WorkflowDef:
    """A FORK_JOIN_DYNAMIC of one WAIT per item of the input `items`, and its JOIN."""
    return WorkflowDef.from_json(
        {
            "name": f"dynamic_fork_{width}",
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN_DYNAMIC",
                    "inputParameters": {
                        "forkTaskType": "WAIT",
                        "forkTaskInputs": "${workflow.input.items}",
                    },
                },
                {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
            ],
        }
    )


def _timings(action: Callable[[], object], repeats: int) -> list[float]:
    """Seconds taken by each of `repeats` runs of `action`."""
    timings: list[float] = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return timings


def fork_costs(
    width: int, repeats: int, *, dynamic: bool = False
) -> tuple[list[float], list[float]]:
    """Seconds of each `decider.start`, and of each `update_task` completing one branch."""
    definition = dynamic_fork_definition(width) if dynamic else fork_definition(width)
    workflow_input: JsonObject = {"items": list(range(width))} if dynamic else {}

    def start() -> decider.Decision:
        return decider.start(
            definition, workflow_id="wf-fork", workflow_input=workflow_input, now=T0
        )

    started = start().workflow
    if len(started.tasks) != width + 2:
        raise AssertionError(f"a fork of {width} scheduled {len(started.tasks)} tasks")
    branch = started.tasks[1]
    result = decider.TaskUpdate(status=TaskStatus.COMPLETED, output={"done": True})

    def complete_one_branch() -> decider.Decision:
        return decider.update_task(started, branch.task_id, result, T0 + 1)

    if complete_one_branch().workflow.status != WorkflowStatus.RUNNING:
        raise AssertionError("completing one branch should leave the join waiting")
    gc.collect()
    return _timings(start, repeats), _timings(complete_one_branch, repeats)


def run(report: Report, *, rounds: int = 5, seconds_per_round: float = 1.0) -> dict[str, Any]:
    """Measure and return the figures; `report` receives progress lines."""
    with _one_core() as cpu:
        report(f"engine: pinned to CPU {cpu}" if cpu is not None else "engine: not pinned")
        report("engine: seed workflows, definition parsed once")
        rates = seed_workflows_per_second(
            rounds=rounds, seconds_per_round=seconds_per_round, parse_each=False, report=report
        )
        report("engine: seed workflows, definition parsed for each workflow")
        rates_parsing = seed_workflows_per_second(
            rounds=rounds, seconds_per_round=seconds_per_round, parse_each=True, report=report
        )
        timings: dict[int, tuple[list[float], list[float]]] = {}
        for width in FORK_WIDTHS:
            timings[width] = fork_costs(width, repeats=41 if width < 1_000 else 21)
            start_ms, update_ms = (statistics.median(t) * 1000 for t in timings[width])
            report(f"  fork of {width}: start {start_ms:.3f} ms, one branch {update_ms:.3f} ms")
        dynamic: dict[int, tuple[list[float], list[float]]] = {}
        for width in FORK_WIDTHS:
            dynamic[width] = fork_costs(width, repeats=41 if width < 1_000 else 21, dynamic=True)
            start_ms, update_ms = (statistics.median(t) * 1000 for t in dynamic[width])
            report(
                f"  dynamic fork of {width}: start {start_ms:.3f} ms, one branch {update_ms:.3f} ms"
            )

    def ratio(which: int, summary: Callable[[list[float]], float]) -> float:
        return summary(timings[1_000][which]) / summary(timings[100][which])

    start_growth, update_growth = ratio(0, statistics.median), ratio(1, statistics.median)
    exponent = math.log10(max(start_growth, update_growth))
    seed_rate = statistics.median(rates)
    results: dict[str, Any] = {
        "cpu": cpu,
        "seed_workflows_per_second": round(seed_rate),
        "seed_workflows_per_second_rounds": [round(rate) for rate in rates],
        "seed_workflows_per_second_parsing_the_definition_each_time": round(
            statistics.median(rates_parsing)
        ),
        "seed_target_per_second": SEED_TARGET_PER_SECOND,
        "seed_target_met": seed_rate >= SEED_TARGET_PER_SECOND,
    }
    for width in FORK_WIDTHS:
        start_timings, update_timings = timings[width]
        results[f"fork_{width}_start_ms"] = round(statistics.median(start_timings) * 1000, 3)
        results[f"fork_{width}_complete_one_branch_ms"] = round(
            statistics.median(update_timings) * 1000, 3
        )
    results.update(
        {
            "fork_start_cost_ratio_1000_over_100": round(start_growth, 2),
            "fork_complete_one_branch_cost_ratio_1000_over_100": round(update_growth, 2),
            "fork_start_cost_ratio_1000_over_100_fastest_runs": round(ratio(0, min), 2),
            "fork_complete_one_branch_cost_ratio_1000_over_100_fastest_runs": round(
                ratio(1, min), 2
            ),
            "fork_growth_exponent": round(exponent, 2),
            "fork_growth_is_linear": exponent < LINEAR_GROWTH_EXPONENT_LIMIT,
        }
    )
    for width in FORK_WIDTHS:
        start_timings, update_timings = dynamic[width]
        results[f"dynamic_fork_{width}_start_ms"] = round(
            statistics.median(start_timings) * 1000, 3
        )
        results[f"dynamic_fork_{width}_complete_one_branch_ms"] = round(
            statistics.median(update_timings) * 1000, 3
        )
    dynamic_growth = max(
        statistics.median(dynamic[1_000][which]) / statistics.median(dynamic[100][which])
        for which in (0, 1)
    )
    dynamic_exponent = math.log10(dynamic_growth)
    results.update(
        {
            "dynamic_fork_cost_ratio_1000_over_100": round(dynamic_growth, 2),
            "dynamic_fork_growth_exponent": round(dynamic_exponent, 2),
            "dynamic_fork_growth_is_linear": dynamic_exponent < LINEAR_GROWTH_EXPONENT_LIMIT,
        }
    )
    return results


if __name__ == "__main__":

    def _progress(line: str) -> None:
        print(line, flush=True)

    for key, value in run(_progress).items():
        print(f"{key}: {value}")
