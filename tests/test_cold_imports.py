"""What a cold start imports: modules only some requests need stay out of every handler's import.

A Lambda cold start pays for each module its handler imports, and on Lambda Baton's own
sources are compiled on each one (the asset ships no bytecode), so a module that only
searches, admin reads, test runs or jq tasks use is imported where it is used. Counted, not
timed: each handler is imported in a fresh interpreter and its `sys.modules` read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Needed only by some requests, never by a cold start.
ON_DEMAND = (
    "baton.search.tasks",
    "baton.search.workflows",
    "baton.mock_run",
    "baton.api.openapi",
    # JSON_JQ_TRANSFORM's child process, started on the first jq task.
    "multiprocessing",
    "pickle",
)
# The API validates definitions; the deciding functions only when a child's is inline.
NOT_DECIDING = ("baton.engine.validation", "baton.admin")


def _imported_by(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "lambdas"),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Baton",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("handler", ["api", "events", "timers", "system_tasks"])
def test_a_cold_start_imports_no_module_only_some_requests_need(handler: str) -> None:
    imported = _imported_by(f"baton.handlers.{handler}")
    unwanted = ON_DEMAND if handler == "api" else ON_DEMAND + NOT_DECIDING
    imported_too_soon = sorted(imported & set(unwanted))
    assert not imported_too_soon


def test_the_cold_start_benchmarks_compile_batons_sources_as_lambda_does(tmp_path: Path) -> None:
    from bench.coldstart import bytecode_cache

    cache = bytecode_cache(tmp_path / "cache")
    cached = {path.name.split(".")[0] for path in cache.rglob("*.pyc")}
    assert {"api_gateway", "models", "client"} <= cached
    baton_sources = Path(os.path.abspath(ROOT / "lambdas"))
    assert not (cache / baton_sources.relative_to(baton_sources.anchor)).exists()
