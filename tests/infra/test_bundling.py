"""The Lambda bundle's recipe: wheels for the runtime's platform, pins kept in step."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from infra.bundling import (
    ARCHITECTURES,
    LAMBDA_PYTHON_VERSION,
    LAMBDAS_DIR,
    REQUIREMENTS_FILE,
    asset_hash,
    pip_install_command,
)
from tests.infra.synth import synthesize

ROOT = Path(__file__).resolve().parents[2]
ARM64 = ARCHITECTURES["arm64"]
X86_64 = ARCHITECTURES["x86_64"]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


@pytest.mark.parametrize(
    ("architecture", "expected"),
    [
        (ARM64, ["manylinux_2_27_aarch64", "manylinux2014_aarch64"]),
        (X86_64, ["manylinux_2_27_x86_64", "manylinux2014_x86_64"]),
    ],
)
def test_bundle_installs_the_architectures_wheels_for_the_runtime_without_dependencies(
    tmp_path, architecture, expected
):
    command = pip_install_command(tmp_path, architecture)
    assert command[command.index("--python-version") + 1] == LAMBDA_PYTHON_VERSION
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == expected
    assert {"--only-binary=:all:", "--no-deps", "--no-compile"} <= set(command)
    assert command[command.index("--target") + 1] == str(tmp_path)


def test_bundle_leaves_out_what_the_runtime_and_layer_provide():
    bundled = pins(REQUIREMENTS_FILE)
    assert set(bundled) == {"pynamodb", "python-jsonpath", "mini-racer", "jq"}


def test_bundle_pins_match_the_development_pins():
    development = pins(ROOT / "requirements.txt")
    for package, version in pins(REQUIREMENTS_FILE).items():
        assert development.get(package) == version, f"{package} differs from requirements.txt"


def _copy_of_the_sources(tmp_path: Path) -> Path:
    copy = tmp_path / "lambdas"
    shutil.copytree(LAMBDAS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


def test_asset_hash_changes_with_the_architecture_and_the_bundled_requirements(tmp_path):
    sources = _copy_of_the_sources(tmp_path)
    arm64 = asset_hash(ARM64, sources)
    # The same sources elsewhere (another checkout, CI) name the same asset.
    assert asset_hash(ARM64) == arm64
    assert asset_hash(X86_64, sources) != arm64

    requirements = sources / REQUIREMENTS_FILE.name
    requirements.write_text(requirements.read_text().replace("mini-racer==", "mini-racer==9"))
    assert asset_hash(ARM64, sources) != arm64


def test_asset_hash_changes_with_the_code_but_not_with_caches(tmp_path):
    sources = _copy_of_the_sources(tmp_path)
    before = asset_hash(ARM64, sources)
    (sources / "baton" / "__pycache__").mkdir(exist_ok=True)
    (sources / "baton" / "__pycache__" / "service.cpython-311.pyc").write_bytes(b"cache")
    (sources / ".mypy_cache").mkdir()
    (sources / ".mypy_cache" / "x.json").write_text("{}")
    assert asset_hash(ARM64, sources) == before

    service = sources / "baton" / "service.py"
    service.write_text(service.read_text() + "\n# changed\n")
    assert asset_hash(ARM64, sources) != before


def _code_keys(synthesized) -> set[str]:
    functions = synthesized.resources("AWS::Lambda::Function").values()
    return {function["Properties"]["Code"]["S3Key"] for function in functions}


def test_each_architecture_synthesizes_its_own_asset():
    """One asset for all functions per architecture, named after what it was built for: an
    x86_64 synth can never pick up (or be handed, from an existing cdk.out) the arm64 bundle."""
    (arm64_key,) = _code_keys(synthesize({}))
    (x86_64_key,) = _code_keys(synthesize({"architecture": "x86_64"}))
    assert arm64_key != x86_64_key
