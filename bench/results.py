"""bench/RESULTS.md by sections: one module refreshes its own section and keeps the others.

A section starts at its `## ` title and runs to the next `## ` title. `make bench` writes
every section in its order; a module run alone replaces only its own (or appends it).
"""

from __future__ import annotations

import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADING = "# Benchmark results"
# `make bench BENCH_QUICK=1` (or `python -m bench --quick`): reduced runs, said in each section.
QUICK_VARIABLE = "BENCH_QUICK"


def quick_from_environment() -> bool:
    return os.environ.get(QUICK_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _start_of(text: str, title: str) -> int:
    """Where the section titled `title` starts in `text`, or -1."""
    if text.startswith(f"{title}\n"):
        return 0
    found = text.find(f"\n{title}\n")
    return found + 1 if found >= 0 else -1


def replace_section(
    text: str, title: str, lines: list[str], followers: tuple[str, ...] = ()
) -> str:
    """`text` with the section titled `title` replaced by `lines`. Absent, it goes before the
    first of `followers` (the titles of the sections after it) that `text` has, else last."""
    block = "\n".join(lines).rstrip("\n") + "\n"
    start = _start_of(text, title)
    if start < 0:
        for follower in followers:
            at = _start_of(text, follower)
            if at >= 0:
                return text[:at] + block + "\n" + text[at:]
        return text.rstrip("\n") + "\n\n" + block
    end = text.find("\n## ", start + len(title))
    rest = text[end + 1 :] if end >= 0 else ""
    return text[:start] + block + ("\n" + rest if rest else "")


def write_section(title: str, lines: list[str], results: Path = RESULTS) -> None:
    """Refresh one section of the results file, leaving every other one as it is."""
    text = results.read_text() if results.exists() else HEADING + "\n"
    results.write_text(replace_section(text, title, lines))
