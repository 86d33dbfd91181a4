"""Instructions, not seconds: the engine's and the cold start's cost counted by valgrind.

On a shared machine wall-clock figures move with the neighbours' load (the same code has
measured 2,380 and 5,400 seed workflows per second); instructions executed do not. Run
`.venv/bin/python -m bench.instructions [--against REV]` (valgrind must be installed;
`--tool=callgrind` counts every instruction of the interpreter) to write its section of
bench/RESULTS.md; with `--against`, the same is measured on the sources of git revision REV
(extracted with `git archive`) beside the current ones:

- instructions per seed workflow decided start to finish (bench/engine.py's
  `run_seed_workflow`), from two runs that differ only in how many workflows they decide;
- instructions to import each handler module in a fresh interpreter (what a cold start pays
  before the first request), less those of an interpreter that imports nothing: with Baton's
  own sources compiled, as on Lambda, and with their bytecode read, which shows what the
  compiling costs (bench/coldstart.py says why Lambda compiles them).

Hash randomization is off in the measured interpreters, so a rerun gives the same counts to
within a fraction of a percent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.coldstart import bytecode_cache, reading_bytecode_from

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ("baton.handlers.api", "baton.handlers.events", "baton.handlers.timers")
SEED_WORKFLOWS = 300
_COLLECTED = re.compile(r"Collected : (\d+)")

_SEED_SCRIPT = """
import sys
from bench import engine
definition = engine._seed_definition()
for i in range(int(sys.argv[1])):
    engine.run_seed_workflow(definition, f"wf-{i}")
"""


RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION_TITLE = "## 7. Instructions (valgrind, not moved by the machine's load)"


def _instructions(root: Path, cache: Path, code: str, *args: str) -> int:
    env = {
        **reading_bytecode_from(cache),
        "PYTHONPATH": f"{root / 'lambdas'}{os.pathsep}{root}",
        "PYTHONHASHSEED": "0",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Baton",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            code,
            *args,
        ],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    match = _COLLECTED.search(result.stderr)
    if match is None:
        raise RuntimeError(f"callgrind reported no count:\n{result.stderr[-2000:]}")
    return int(match.group(1))


def per_seed_workflow(root: Path, cache: Path) -> float:
    """Instructions per seed workflow, imports and start-up left out."""
    baseline = _instructions(root, cache, _SEED_SCRIPT, "0")
    loaded = _instructions(root, cache, _SEED_SCRIPT, str(SEED_WORKFLOWS))
    return (loaded - baseline) / SEED_WORKFLOWS


def handler_imports(root: Path, cache: Path) -> dict[str, int]:
    """Instructions to import each handler module, an empty interpreter's left out."""
    bare = _instructions(root, cache, "pass")
    return {module: _instructions(root, cache, f"import {module}") - bare for module in HANDLERS}


def measure(root: Path = ROOT) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as lambda_like, tempfile.TemporaryDirectory() as whole:
        cache = bytecode_cache(Path(lambda_like), root)
        read = handler_imports(root, bytecode_cache(Path(whole), root, with_baton=True))
        return {
            "seed workflow": per_seed_workflow(root, cache),
            **handler_imports(root, cache),
            **{f"{module}, Baton's bytecode read": count for module, count in read.items()},
        }


def _sources_of(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def section(current: dict[str, float], before: dict[str, float] | None, revision: str) -> list[str]:
    lines = [
        SECTION_TITLE,
        "",
        "Run with `.venv/bin/python -m bench.instructions"
        + (f" --against {revision}`" if before else "`")
        + ": millions of instructions counted by valgrind's callgrind, hash randomization "
        "off. A seed workflow is bench/engine.py's, decided start to finish (start-up left "
        "out); an import is a handler module's in a fresh interpreter (an empty one's left "
        "out), the work of a cold start before its first request, with Baton's own sources "
        "compiled as on Lambda (its asset ships no bytecode) or, where said, their bytecode "
        "read.",
        "",
    ]
    if before is None:
        lines += ["| measured | M instructions |", "|---|---|"]
        lines += [f"| {name} | {value / 1e6:.3f} |" for name, value in current.items()]
    else:
        lines += [f"| measured | at `{revision}` | now | change |", "|---|---|---|---|"]
        lines += [
            f"| {name} | {before[name] / 1e6:.3f} | {value / 1e6:.3f} | "
            f"{(value / before[name] - 1) * 100:+.1f}% |"
            for name, value in current.items()
        ]
    return [*lines, ""]


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    revision = sys.argv[sys.argv.index("--against") + 1] if "--against" in sys.argv else ""
    current = measure()
    before = None
    if revision:
        with tempfile.TemporaryDirectory() as temporary:
            before = measure(_sources_of(revision, Path(temporary)))
    lines = section(current, before, revision)
    print("\n".join(lines))
    text = RESULTS.read_text()
    if SECTION_TITLE in text:
        text = replace_section_titled(text, SECTION_TITLE, lines)
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    RESULTS.write_text(text)


def replace_section_titled(text: str, title: str, lines: list[str]) -> str:
    start = text.find(title)
    end = text.find("\n## ", start + len(title))
    rest = text[end + 1 :] if end >= 0 else ""
    return text[:start] + "\n".join(lines) + ("\n" + rest if rest else "\n")


if __name__ == "__main__":
    main()
