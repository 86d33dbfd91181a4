"""The Lambda code asset: `lambdas/`, its few dependencies and the web UI, bundled without Docker.

boto3/botocore come with the Lambda runtime and Powertools with AWS's public layer, so the
bundle holds only Baton's own code, the web UI's build (`ui/`, which the API function serves)
and `lambdas/requirements-lambda.txt`, installed as wheels for the functions' platform (Linux
on the deployment's architecture, CPython LAMBDA_PYTHON_VERSION).
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPOSITORY_ROOT / "lambdas"
REQUIREMENTS_FILE = LAMBDAS_DIR / "requirements-lambda.txt"
# The web UI's build (`make ui`), which the API function serves; `ui/` in the asset.
UI_BUILD_DIR = REPOSITORY_ROOT / "ui" / "dist"
UI_ASSET_DIR = "ui"


class UiNotBuilt(Exception):
    """Synthesizing needs the web UI's build, which goes into the Lambda asset."""


LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13
# The same interpreter, as pip's --python-version and as Powertools' layer names spell it.
LAMBDA_PYTHON_VERSION = "3.13"

ArchitectureName: TypeAlias = Literal["arm64", "x86_64"]
ARM64: Final = "arm64"
X86_64: Final = "x86_64"


@dataclass(frozen=True)
class TargetArchitecture:
    """What one Lambda architecture decides: the functions', the wheels' and the layer's."""

    # As Lambda, the CDK context and Powertools' layer names spell it.
    name: ArchitectureName
    # mini-racer's wheels are tagged manylinux_2_27 (Lambda's Amazon Linux 2023 has glibc 2.34).
    wheel_platforms: tuple[str, ...]

    @property
    def lambda_architecture(self) -> lambda_.Architecture:
        return lambda_.Architecture.ARM_64 if self.name == ARM64 else lambda_.Architecture.X86_64


ARCHITECTURES: Final[dict[ArchitectureName, TargetArchitecture]] = {
    ARM64: TargetArchitecture(ARM64, ("manylinux_2_27_aarch64", "manylinux2014_aarch64")),
    X86_64: TargetArchitecture(X86_64, ("manylinux_2_27_x86_64", "manylinux2014_x86_64")),
}
# Graviton: cheaper per GB-second than x86_64.
DEFAULT_ARCHITECTURE: Final[ArchitectureName] = ARM64

# Neither the bundle nor the asset hash should change with caches.
EXCLUDED_FROM_ASSET = ("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", ".ruff_cache")


def pip_target_options(architecture: TargetArchitecture) -> list[str]:
    """pip's options that choose the wheels: `architecture`'s Linux, the runtime's CPython."""
    platforms = [
        arg for platform in architecture.wheel_platforms for arg in ("--platform", platform)
    ]
    return [
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        # botocore, pynamodb's only dependency, is already in the runtime.
        "--no-deps",
        # .pyc files made by this machine's Python would not match the runtime's.
        "--no-compile",
    ]


def pip_install_command(target: Path, architecture: TargetArchitecture) -> list[str]:
    """pip installing the Lambda's dependencies as `architecture`'s wheels into `target`."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--requirement",
        str(REQUIREMENTS_FILE),
        "--target",
        str(target),
        *pip_target_options(architecture),
    ]


def _is_excluded(relative: Path) -> bool:
    return any(
        fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in EXCLUDED_FROM_ASSET
    )


def _source_files(source: Path) -> Iterator[Path]:
    for path in sorted(source.rglob("*")):
        if path.is_file() and not _is_excluded(path.relative_to(source)):
            yield path


def asset_hash(architecture: TargetArchitecture, source: Path = LAMBDAS_DIR) -> str:
    """The bundle's identity: its sources (the requirements file among them) and its target.

    CDK's source hash would see only the sources, so an x86_64 bundle would take the arm64
    one's name (and an existing `cdk.out` would keep the arm64 wheels); the wheels' platform,
    the Python version and pip's command are part of what is built, so they are hashed too.
    """
    digest = hashlib.sha256()
    # Nothing of this machine (paths, interpreter) goes in: the same sources hash the same.
    digest.update("\0".join([architecture.name, *pip_target_options(architecture)]).encode())
    for path in _source_files(source):
        digest.update(b"\0" + path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    for path in _source_files(ui_build()):
        digest.update(b"\0ui\0" + path.relative_to(UI_BUILD_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ui_build() -> Path:
    """The web UI's build folder; synthesizing without one would ship an API with no UI."""
    if not (UI_BUILD_DIR / "index.html").is_file():
        raise UiNotBuilt(
            f"The web UI is not built ({UI_BUILD_DIR.relative_to(REPOSITORY_ROOT)}/index.html is "
            "missing): run `make ui` (make synth and make test build it first)"
        )
    return UI_BUILD_DIR


@jsii.implements(ILocalBundling)
class LocalPipBundler:
    """Copies `lambdas/` and pip-installs its requirements, so synth needs no Docker."""

    def __init__(self, architecture: TargetArchitecture) -> None:
        self.architecture = architecture

    def try_bundle(self, output_dir: str, *_options: Any) -> bool:
        # jsii passes the BundlingOptions as a second positional argument; nothing in it is needed.
        target = Path(output_dir)
        shutil.copytree(
            LAMBDAS_DIR,
            target,
            dirs_exist_ok=True,
            # The requirements file stays in the asset hash (a new pin rebundles), not the bundle.
            ignore=shutil.ignore_patterns(*EXCLUDED_FROM_ASSET, REQUIREMENTS_FILE.name),
        )
        shutil.copytree(ui_build(), target / UI_ASSET_DIR, dirs_exist_ok=True)
        subprocess.run(pip_install_command(target, self.architecture), check=True)
        return True


def lambda_code(architecture: TargetArchitecture) -> lambda_.Code:
    """One asset for every function: they share the `baton` package and differ by handler."""
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR),
        exclude=list(EXCLUDED_FROM_ASSET),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(architecture),
        bundling=BundlingOptions(
            # Required by the API but never pulled: the local bundler always succeeds.
            image=DockerImage.from_registry("baton-local-bundling-only"),
            # jsii hands try_bundle its options positionally, unlike the typed interface says.
            local=cast(ILocalBundling, LocalPipBundler(architecture)),
        ),
    )
