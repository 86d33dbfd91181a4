"""`make bench`: every benchmark, written to bench/RESULTS.md with the machine and the command.

Figures are medians and ratios: the machine is shared and noisy. Nothing in the results file
is written by hand; run this again to refresh it. Each section comes from one module and
replaces only its own part of the file when that module runs alone (`bench.results`);
`python -m bench --only cost,scale_day` refreshes the sections named, in place.
`make bench BENCH_QUICK=1` (or `--quick`) makes the long runs shorter and says so in each
section it shortened. Each section is measured in a fresh interpreter of its own, so that no
benchmark inherits another's runtime or memory. A section whose module is missing is written
as not measured; such a module provides `SECTION_TITLE` and `section()`, which may take
`report` and `quick`, and returns the section's lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import coldstart, cost, end_to_end, fan_in, local_runtime, machine, results, workers

RESULTS = results.RESULTS
ROOT = Path(__file__).resolve().parent.parent
COMMAND = "make bench  (= .venv/bin/python -m bench)"
QUICK_COMMAND = "make bench BENCH_QUICK=1  (= .venv/bin/python -m bench --quick)"


ENGINE_TITLE = "## 1. Engine (pure decider, one core)"
END_TO_END_TITLE = "## 2. End to end, against the embedded runtime"
CONCURRENCY_TITLE = "## 2b. One workflow, many writers"
COLD_START_TITLE = "## 4. Cold start"


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


def _section_engine(engine: dict[str, Any] | None) -> list[str]:
    if engine is None:
        return [ENGINE_TITLE, "", "Not measured (bench/engine.py is missing).", ""]
    lines = [ENGINE_TITLE, ""]
    lines += [f"- {key}: {value}" for key, value in engine.items()]
    return [*lines, ""]


def _section_end_to_end(result: dict[str, Any]) -> list[str]:
    wall = result["seed_wall_seconds"]
    throughput = result["throughput"]
    timers = result["timer_lateness"]
    lines = [
        END_TO_END_TITLE,
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


def _section_cold_start(
    imports: dict[str, float], traced: dict[str, float], asset_mb: float | None
) -> list[str]:
    lines = [
        COLD_START_TITLE,
        "",
        "Import time of each handler module in a fresh interpreter (`python -X importtime`, "
        "median of 7 runs, this machine's Python and packages, the packages' bytecode read and "
        "Baton's own sources compiled, as on Lambda, whose asset ships no bytecode; target at "
        "most 300 ms). "
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


@dataclass
class Run:
    """What a section is measured with: how to report, how long to take, and the seed's
    measurement, made once in the section's process when it asks for it."""

    report: Callable[[str], None]
    quick: bool
    against: str | None
    _seed: dict[str, Any] | None = field(default=None, repr=False)

    def seed(self) -> dict[str, Any]:
        if self._seed is None:
            runs = QUICK_SEED_RUNS if self.quick else cost.SEED_RUNS
            self._seed = cost.measure_seed(self.report, runs)
        return self._seed


# Shorter runs for `BENCH_QUICK=1`.
QUICK_SEED_RUNS = 5
QUICK_SEARCH_COUNT = 2_000
QUICK_END_TO_END = {"concurrent": 10, "waits": 20}
QUICK_LOCAL = {"scale": 20, "idle_seconds": 10.0, "transactions": False}
SEARCH_COUNT = 10_000


@dataclass(frozen=True)
class Section:
    """One section of RESULTS.md: its name for `--only`, its title, and what writes it."""

    name: str
    title: str
    write: Callable[[Run], list[str]]
    # What `BENCH_QUICK=1` shortens here; None when the section always runs whole.
    shortened: str | None = None


def _engine_section(run: Run) -> list[str]:
    return _section_engine(_engine())


def _end_to_end_section(run: Run) -> list[str]:
    sizes = QUICK_END_TO_END if run.quick else {}
    return _section_end_to_end(end_to_end.run(run.report, **sizes))


def _concurrency_section(run: Run) -> list[str]:
    return [
        CONCURRENCY_TITLE,
        "",
        "`tests/reliability/test_concurrency.py` (run by this command): a FORK of 100 WAITs "
        "whose tasks 8 processes complete at the same moment, against one moto server:",
        "",
        f"- {_concurrency()}",
        "",
    ]


def _cost_section(run: Run) -> list[str]:
    return cost.section(run.seed())


def _cold_start_section(run: Run) -> list[str]:
    imports = coldstart.handler_import_times(tracing=False)
    traced = coldstart.handler_import_times(tracing=True)
    return _section_cold_start(imports, traced, coldstart.asset_size_mb())


def _workers_section(run: Run) -> list[str]:
    result = workers.run_in_subprocess(run.report)
    if result is None:
        return [workers.SECTION_TITLE, "", "Not measured: the workers benchmark failed.", ""]
    return workers.section(result)


def _search_section(run: Run) -> list[str]:
    from bench import search

    return search.run(run.report, QUICK_SEARCH_COUNT if run.quick else SEARCH_COUNT)


def _instructions_section(run: Run) -> list[str]:
    from bench import instructions

    if shutil.which("valgrind") is None:
        return [instructions.SECTION_TITLE, "", "Not measured: valgrind is not installed.", ""]
    current = instructions.measure()
    before = None
    if run.against:
        with tempfile.TemporaryDirectory() as temporary:
            before = instructions.measure(instructions._sources_of(run.against, Path(temporary)))
    return instructions.section(current, before, run.against or "")


def _local_runtime_section(run: Run) -> list[str]:
    options: dict[str, Any] = QUICK_LOCAL if run.quick else {}
    return local_runtime.section(local_runtime.run(run.report, **options))


def _scale_day_section(run: Run) -> list[str]:
    from bench import scale_day

    return scale_day.section(run.seed())


# Shorter fan-in for `BENCH_QUICK=1`: the full one takes about 20 minutes against moto.
QUICK_FAN_IN = {"width": 200, "writers": 20}


def _fan_in_section(run: Run) -> list[str]:
    sizes = QUICK_FAN_IN if run.quick else {}
    return fan_in.section(fan_in.measure(run.report, **sizes))


UI_TITLE = "## 11. The web UI"


def _ui_section(run: Run) -> list[str]:
    from bench import ui

    if not (ROOT / "ui" / "dist" / "index.html").is_file():
        return [UI_TITLE, "", "Not measured: the UI is not built (`make ui`).", ""]
    return ui.run(run.report)


def sections() -> list[Section]:
    """Every section, in the file's order."""
    from bench import instructions, scale_day, search

    return [
        Section("engine", ENGINE_TITLE, _engine_section),
        Section(
            "end_to_end",
            END_TO_END_TITLE,
            _end_to_end_section,
            shortened=f"{QUICK_END_TO_END['concurrent']} concurrent workflows and "
            f"{QUICK_END_TO_END['waits']} timed waits instead of 40 and 100",
        ),
        Section("concurrency", CONCURRENCY_TITLE, _concurrency_section),
        Section(
            "cost",
            cost.SECTION_TITLE,
            _cost_section,
            shortened=f"{QUICK_SEED_RUNS} seed-like workflows measured instead of {cost.SEED_RUNS}",
        ),
        Section("cold_start", COLD_START_TITLE, _cold_start_section),
        Section("workers", workers.SECTION_TITLE, _workers_section),
        Section(
            "search",
            search.SECTION_TITLE,
            _search_section,
            shortened=f"{QUICK_SEARCH_COUNT:,} workflows searched instead of {SEARCH_COUNT:,}",
        ),
        Section("instructions", instructions.SECTION_TITLE, _instructions_section),
        Section(
            "local_runtime",
            local_runtime.SECTION_TITLE,
            _local_runtime_section,
            shortened=f"`python -m bench.local_runtime --scale {QUICK_LOCAL['scale']} "
            f"--idle-seconds {QUICK_LOCAL['idle_seconds']:.0f} --no-transactions` "
            f"(a {QUICK_LOCAL['scale']}th of the workflows, shorter idle periods, no "
            "transactions piece) instead of the full run of about 30 minutes",
        ),
        Section(
            "fan_in",
            fan_in.SECTION_TITLE,
            _fan_in_section,
            shortened=f"{QUICK_FAN_IN['width']} branches and {QUICK_FAN_IN['writers']} writers "
            "instead of 1,000 and 100",
        ),
        Section(
            "scale_day",
            scale_day.SECTION_TITLE,
            _scale_day_section,
            shortened=f"the seed measured over {QUICK_SEED_RUNS} workflows instead of "
            f"{cost.SEED_RUNS}",
        ),
        Section("ui", UI_TITLE, _ui_section),
    ]


def _with_note(lines: list[str], note: str) -> list[str]:
    """The section with a paragraph under its title."""
    return [lines[0], "", note, *lines[1:]]


def _lines_in_child(section: Section, run: Run) -> list[str]:
    """The section's lines as a fresh interpreter writes them: each benchmark starts its own
    runtime, and one whose modules were imported against another's endpoints would talk to a
    server that is gone."""
    with tempfile.TemporaryDirectory() as temporary:
        lines_file = Path(temporary) / "lines.json"
        command = [sys.executable, "-m", "bench", "--lines-of", section.name]
        command += ["--lines-to", str(lines_file)]
        command += ["--quick"] if run.quick else []
        command += ["--against", run.against] if run.against else []
        done = subprocess.run(command, cwd=ROOT, check=False)
        if done.returncode != 0 or not lines_file.is_file():
            raise RuntimeError(f"its process ended with exit status {done.returncode}")
        lines: list[str] = json.loads(lines_file.read_text())
        return lines


# How a section is measured; the tests measure their own sections in their own process.
measure: Callable[[Section, Run], list[str]] = _lines_in_child


def _write(section: Section, run: Run, previous: str) -> list[str]:
    """The section's lines, said to be shortened if they were; when its module fails, the
    section from the file before, said to be stale."""
    try:
        lines = measure(section, run)
    except Exception as error:  # one broken benchmark must not cost the others their figures
        run.report(f"{section.name} failed: {type(error).__name__}: {error}")
        kept = _section_text(previous, section.title)
        note = (
            f"**Not refreshed by the last `make bench`** ({type(error).__name__}: {error}); "
            "these figures are from an earlier run."
        )
        return _with_note(kept or [section.title, ""], note)
    if run.quick and section.shortened:
        lines = _with_note(
            lines,
            f"**Shortened run** (`BENCH_QUICK=1`): {section.shortened}; the full run's "
            "figures are not these.",
        )
    return lines


def _section_text(text: str, title: str) -> list[str]:
    start = text.find(f"{title}\n")
    if start < 0:
        return []
    end = text.find("\n## ", start + len(title))
    block = text[start : end if end >= 0 else len(text)]
    return block.rstrip("\n").splitlines()


def _header(started: dt.datetime, quick: bool) -> list[str]:
    info = machine.describe()
    return [
        results.HEADING,
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `{QUICK_COMMAND if quick else COMMAND}` on "
        f"{info['cores']} cores, {info['memory']}, {info['cpu']}, {info['system']}, Python "
        f"{info['python']}. A section refreshed since by its own module (the command it "
        "names) or by `python -m bench --only NAME` replaced only itself.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Every benchmark, into bench/RESULTS.md.")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=results.quick_from_environment(),
        help=f"shorter runs (also {results.QUICK_VARIABLE}=1), said in each shortened section",
    )
    parser.add_argument("--only", default="", help="comma-separated section names to refresh")
    parser.add_argument("--against", default=None, help="instructions: also measure this REV")
    parser.add_argument("--lines-of", default="", help=argparse.SUPPRESS)
    parser.add_argument("--lines-to", default="", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    run = Run(_report, arguments.quick, arguments.against)
    chosen = sections()
    if arguments.lines_of:
        # One section, measured in this process for the parent that runs them all.
        named = [s for s in chosen if s.name == arguments.lines_of]
        if not named:
            parser.error(f"no such section: {arguments.lines_of}")
        section = named[0]
        Path(arguments.lines_to).write_text(json.dumps(section.write(run)))
        return
    wanted = {name.strip() for name in arguments.only.split(",") if name.strip()}
    unknown = wanted - {section.name for section in chosen}
    if unknown:
        parser.error(
            f"no such section: {', '.join(sorted(unknown))} "
            f"(sections: {', '.join(s.name for s in chosen)})"
        )
    previous = RESULTS.read_text() if RESULTS.exists() else results.HEADING + "\n"
    started = dt.datetime.now(dt.UTC)
    if wanted:
        text = previous
        for position, section in enumerate(chosen):
            if section.name in wanted:
                _report(f"{section.name}...")
                lines = _write(section, run, previous)
                lines = _with_note(
                    lines,
                    f"Refreshed alone on {started:%Y-%m-%d %H:%M} UTC with "
                    f"`python -m bench --only {section.name}"
                    f"{' --quick' if run.quick else ''}`.",
                )
                followers = tuple(later.title for later in chosen[position + 1 :])
                text = results.replace_section(text, section.title, lines, followers)
        RESULTS.write_text(text)
    else:
        lines = _header(started, run.quick)
        for section in chosen:
            _report(f"{section.name}...")
            lines += _write(section, run, previous)
        RESULTS.write_text("\n".join(lines).rstrip("\n") + "\n")
    _report(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
