"""Cold start: each handler module's import time, and the size of the deployed code.

A cold start on Lambda reads the bytecode of the runtime's packages but compiles Baton's own
sources each time: the asset ships no `__pycache__` (bytecode made by this machine's Python
would not match the runtime's) and `/var/task` is read-only, so none is written. The measured
interpreters do the same whatever the environment or the checkout holds: they read bytecode
from a cache of their own (`PYTHONPYCACHEPREFIX`) that holds every installed package's and,
unless asked, none of Baton's, and write none.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ("baton.handlers.api", "baton.handlers.events", "baton.handlers.timers")
_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)")


def bytecode_cache(into: Path, root: Path = ROOT, *, with_baton: bool = False) -> Path:
    """Fill `into` (a PYTHONPYCACHEPREFIX) with the bytecode of what the handlers import,
    Baton's own sources (under `root`) left out unless `with_baton`."""
    env = {**os.environ, "PYTHONPATH": str(root / "lambdas"), "PYTHONPYCACHEPREFIX": str(into)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for tracing in ("true", "false"):
        subprocess.run(
            [sys.executable, "-c", "import " + ", ".join(HANDLERS)],
            env={**env, "POWERTOOLS_TRACE_DISABLED": tracing, "AWS_DEFAULT_REGION": "us-east-1"},
            cwd=root,
            check=True,
        )
    if not with_baton:
        # The cache mirrors each source folder's absolute path.
        baton_sources = Path(os.path.abspath(root / "lambdas"))
        shutil.rmtree(into / baton_sources.relative_to(baton_sources.anchor), ignore_errors=True)
    return into


def reading_bytecode_from(cache: Path) -> dict[str, str]:
    """The environment of a measured interpreter that reads `cache` and writes no bytecode."""
    return {**os.environ, "PYTHONPYCACHEPREFIX": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}


def import_ms(module: str, *, tracing: bool, cache: Path) -> float:
    """Cumulative import time of `module` in a fresh interpreter (`python -X importtime`)."""
    env = {
        **reading_bytecode_from(cache),
        "PYTHONPATH": str(ROOT / "lambdas"),
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Baton",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match and match.group(2) == module:
            return int(match.group(1)) / 1000
    raise RuntimeError(f"no import time reported for {module}")


def handler_import_times(*, tracing: bool, runs: int = 7) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as temporary:
        cache = bytecode_cache(Path(temporary))
        return {
            module: statistics.median(
                import_ms(module, tracing=tracing, cache=cache) for _ in range(runs)
            )
            for module in HANDLERS
        }


def asset_size_mb() -> float | None:
    """Unzipped size of the bundled Lambda code in cdk.out (None before `make synth`)."""
    cdk_out = ROOT / "cdk.out"
    if not cdk_out.is_dir():
        return None
    sizes = []
    for asset in cdk_out.glob("asset.*"):
        if (asset / "baton" / "handlers").is_dir():
            sizes.append(sum(f.stat().st_size for f in asset.rglob("*") if f.is_file()))
    return max(sizes) / 1024 / 1024 if sizes else None
