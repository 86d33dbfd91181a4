"""docs/DEPLOY.md names the outputs and parameters the stacks really have."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from infra.functions import powertools_layer_parameter

DEPLOY_MD = Path(__file__).resolve().parents[2] / "docs" / "DEPLOY.md"
REPOSITORY_ROOT = DEPLOY_MD.parents[1]


def _outputs(synthesized, stack):
    """The stack's own outputs, without the exports CDK adds for cross-stack references."""
    template = synthesized.stateful if stack == "stateful" else synthesized.stateless
    return {key for key in template.find_outputs("*") if not key.startswith("ExportsOutput")}


def test_every_output_the_doc_reads_exists(iam_mode, keys_mode):
    text = DEPLOY_MD.read_text()
    used = re.findall(r"\boutput baton-(stateful|stateless) (\w+)", text)
    assert used
    for stack, key in used:
        assert key in _outputs(iam_mode, stack) | _outputs(keys_mode, stack), key


def test_the_outputs_table_lists_every_output_and_no_other(iam_mode, keys_mode):
    table = re.findall(r"^\| (stateful|stateless) \| (.+?) \|", DEPLOY_MD.read_text(), re.M)
    documented = {(stack, key) for stack, keys in table for key in re.findall(r"`(\w+)`", keys)}
    actual = {
        (stack, key)
        for stack in ("stateful", "stateless")
        for key in _outputs(iam_mode, stack) | _outputs(keys_mode, stack)
    }
    assert documented == actual


def test_the_layer_check_asks_for_the_parameter_the_stack_resolves():
    (script,) = re.findall(r"^release=(\$\(.+\))$", DEPLOY_MD.read_text(), re.M)
    release = subprocess.run(
        ["sh", "-c", f"echo {script}"],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert "/aws/service/powertools/python/arm64/python3.13/$release" in DEPLOY_MD.read_text()
    assert powertools_layer_parameter().endswith(f"/{release}")
