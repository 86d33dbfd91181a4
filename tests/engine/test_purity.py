"""The engine is pure: importing every module of it loads no AWS library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
AWS_LIBRARIES = ("boto3", "botocore", "pynamodb", "aws_lambda_powertools")

# Runs in a fresh interpreter, so nothing the test session imported can hide a dependency.
_IMPORT_EVERY_ENGINE_MODULE = """
import importlib, json, pkgutil, sys
import baton.engine
names = ["baton.engine"] + [
    module.name
    for module in pkgutil.walk_packages(baton.engine.__path__, prefix="baton.engine.")
]
for name in names:
    importlib.import_module(name)
aws = sorted(
    name for name in sys.modules
    if name.split(".")[0] in {aws_libraries!r}
)
print(json.dumps({{"imported": names, "aws": aws}}))
"""


def _import_engine_in_a_fresh_interpreter(preamble: str = "") -> dict[str, list[str]]:
    environment = {**os.environ, "PYTHONPATH": str(LAMBDAS)}
    script = preamble + _IMPORT_EVERY_ENGINE_MODULE.format(aws_libraries=set(AWS_LIBRARIES))
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    result: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_importing_every_engine_module_loads_no_aws_library():
    result = _import_engine_in_a_fresh_interpreter()
    assert result["aws"] == []


def test_the_walk_reaches_every_engine_module():
    imported = set(_import_engine_in_a_fresh_interpreter()["imported"])
    engine = LAMBDAS / "baton" / "engine"
    on_disk = {
        "baton." + ".".join(path.relative_to(LAMBDAS / "baton").with_suffix("").parts)
        for path in engine.rglob("*.py")
        if path.name != "__init__.py"
    }
    assert on_disk <= imported
    assert {"baton.engine.decider", "baton.engine.tasks.wait"} <= imported


def test_the_check_notices_an_aws_library_when_one_is_loaded():
    result = _import_engine_in_a_fresh_interpreter(preamble="import botocore\n")
    assert "botocore" in result["aws"]
