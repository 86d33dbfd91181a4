"""The Lambda bundle's recipe: wheels for the runtime's platform, pins kept in step."""

from __future__ import annotations

import re
from pathlib import Path

from infra.bundling import LAMBDA_PYTHON_VERSION, REQUIREMENTS_FILE, pip_install_command

ROOT = Path(__file__).resolve().parents[2]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_bundle_installs_aarch64_wheels_for_the_runtime_without_dependencies(tmp_path):
    command = pip_install_command(tmp_path)
    assert command[command.index("--python-version") + 1] == LAMBDA_PYTHON_VERSION
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == ["manylinux_2_27_aarch64", "manylinux2014_aarch64"]
    assert {"--only-binary=:all:", "--no-deps", "--no-compile"} <= set(command)
    assert command[command.index("--target") + 1] == str(tmp_path)


def test_bundle_leaves_out_what_the_runtime_and_layer_provide():
    bundled = pins(REQUIREMENTS_FILE)
    assert set(bundled) == {"pynamodb", "python-jsonpath", "mini-racer"}


def test_bundle_pins_match_the_development_pins():
    development = pins(ROOT / "requirements.txt")
    for package, version in pins(REQUIREMENTS_FILE).items():
        assert development.get(package) == version, f"{package} differs from requirements.txt"
