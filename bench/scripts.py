"""JavaScript conditions under load, a long loop, and jq's cost in its supervised child.

Run: `.venv/bin/python -m bench.scripts [evaluations] [iterations]` (defaults 1000 and 3000).

* Conditions over 100 KB inputs: `evaluations` conditions, each over a different input of
  about 100 KB, in one thread (one V8 context, as a Lambda environment has): evaluations per
  second and how many failed. Every one of them is correct, so any failure is the engine's.
* A DO_WHILE of `iterations` iterations whose body is one SET_VARIABLE and whose condition
  is `$.loop['iteration'] < iterations`, decided with the default decision budget as the
  timers function would decide it again (the clock is fake): how many decisions it took, the
  wall time, and how the loop ended.
* jq per evaluation: `evaluations` runs of a small program over a small input, in this process
  (as before the time limit) and through the supervised child (`baton.engine.jq_process`):
  microseconds per evaluation each way, the difference being the limit's overhead, and how
  long the child took to start.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from baton.engine import decider, jq_process, jq_program, js
from baton.engine.definitions import WorkflowDef
from baton.engine.effects import ArmTimer

T0 = 1_700_000_000_000
INPUT_BYTES = 100_000


def _input(seed: int) -> dict[str, Any]:
    item = {"id": 0, "name": "x" * 40, "tags": ["a", "b"], "score": 0.5}
    return {
        "items": [
            {**item, "id": i, "score": (seed * 31 + i) % 97 / 97} for i in range(INPUT_BYTES // 80)
        ],
        "seed": seed,
    }


def conditions(count: int) -> dict[str, Any]:
    inputs = [_input(seed) for seed in range(16)]  # built once: the bench times V8, not this
    failures: list[str] = []
    began = time.perf_counter()
    for n in range(count):
        bindings = {"input": inputs[n % 16], "loop": {"iteration": n}}
        try:
            if (
                js.evaluate("$.input.items.length > 1000 && $.loop.iteration >= 0", bindings)
                is not True
            ):
                failures.append(f"{n}: wrong result")
        except js.ScriptError as error:
            failures.append(f"{n}: {error}")
    elapsed = time.perf_counter() - began
    return {
        "evaluations": count,
        "failed": len(failures),
        "first_failures": failures[:3],
        "evaluations_per_second": round(count / elapsed, 1),
    }


def long_loop(iterations: int) -> dict[str, Any]:
    definition = WorkflowDef.from_json(
        {
            "name": "long_loop",
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "loop",
                    "taskReferenceName": "loop",
                    "type": "DO_WHILE",
                    "loopCondition": f"$.loop['iteration'] < {iterations}",
                    "loopOver": [
                        {
                            "name": "count",
                            "taskReferenceName": "count",
                            "type": "SET_VARIABLE",
                            "inputParameters": {"n": "${loop.output.iteration}"},
                        }
                    ],
                }
            ],
        }
    )
    began = time.perf_counter()
    decision = decider.start(definition, workflow_id="wf-loop", workflow_input={}, now=T0)
    decisions = 1

    def carried_over(decision: decider.Decision) -> bool:
        return any(
            isinstance(e, ArmTimer) and getattr(e, "carry_over", False) for e in decision.effects
        )

    while carried_over(decision):
        decision = decider.decide(decision.workflow, T0 + decisions)
        decisions += 1
    elapsed = time.perf_counter() - began
    loop = decision.workflow.tasks[0]
    return {
        "iterations_asked": iterations,
        "status": decision.workflow.status.value,
        "iterations_run": loop.output_data.get("iteration"),
        "reason": loop.reason_for_incompletion or decision.workflow.reason_for_incompletion,
        "decisions": decisions,
        "seconds": round(elapsed, 2),
    }


def jq_overhead(count: int) -> dict[str, Any]:
    query, text = ".items | map(.price * .qty) | add", '{"items": [{"price": 2, "qty": 3}]}'
    jq_program.run_in_this_process(query, text, 10)  # compiled before timing
    began = time.perf_counter()
    for _ in range(count):
        jq_program.run_in_this_process(query, text, 10)
    in_process = (time.perf_counter() - began) / count
    supervised = jq_process.JqProcess()
    began = time.perf_counter()
    supervised.evaluate(query, text, 10)  # starts the child and compiles there
    start_seconds = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(count):
        supervised.evaluate(query, text, 10)
    in_child = (time.perf_counter() - began) / count
    supervised.close()
    return {
        "evaluations": count,
        "in_process_us": round(in_process * 1e6, 1),
        "in_child_us": round(in_child * 1e6, 1),
        "overhead_us": round((in_child - in_process) * 1e6, 1),
        "child_start_ms": round(start_seconds * 1000, 1),
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    for name, figures in (
        ("conditions", conditions(count)),
        ("loop", long_loop(iterations)),
        ("jq", jq_overhead(count)),
    ):
        print(f"{name}:")
        for key, value in figures.items():
            print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
