"""Cold start: each handler module's import time, and the size of the deployed code."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ("baton.handlers.api", "baton.handlers.events", "baton.handlers.timers")
_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)")


def import_ms(module: str, *, tracing: bool) -> float:
    """Cumulative import time of `module` in a fresh interpreter (`python -X importtime`)."""
    env = {
        **os.environ,
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
    return {
        module: statistics.median(import_ms(module, tracing=tracing) for _ in range(runs))
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
