"""The Lambda code asset: `lambdas/` plus its few dependencies, bundled here without Docker.

boto3/botocore come with the Lambda runtime and Powertools with AWS's public layer, so the
bundle holds only Baton's own code and `lambdas/requirements-lambda.txt`, installed as wheels
for the functions' platform (Linux on Graviton, CPython LAMBDA_PYTHON_VERSION).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPOSITORY_ROOT / "lambdas"
REQUIREMENTS_FILE = LAMBDAS_DIR / "requirements-lambda.txt"

LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_13
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
# The same interpreter, as pip's --python-version and as Powertools' layer names spell it.
LAMBDA_PYTHON_VERSION = "3.13"
# mini-racer's wheel is tagged manylinux_2_27 (Lambda's Amazon Linux 2023 has glibc 2.34).
WHEEL_PLATFORMS = ("manylinux_2_27_aarch64", "manylinux2014_aarch64")

# Neither the bundle nor the asset hash should change with caches.
EXCLUDED_FROM_ASSET = ("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", ".ruff_cache")


def pip_install_command(target: Path) -> list[str]:
    """pip installing the Lambda's dependencies as aarch64 wheels into `target`."""
    platforms = [arg for platform in WHEEL_PLATFORMS for arg in ("--platform", platform)]
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


@jsii.implements(ILocalBundling)
class LocalPipBundler:
    """Copies `lambdas/` and pip-installs its requirements, so synth needs no Docker."""

    def try_bundle(self, output_dir: str, *_options: Any) -> bool:
        # jsii passes the BundlingOptions as a second positional argument; nothing in it is needed.
        target = Path(output_dir)
        shutil.copytree(
            LAMBDAS_DIR,
            target,
            dirs_exist_ok=True,
            # The requirements file stays in the source hash (a new pin rebundles), not the bundle.
            ignore=shutil.ignore_patterns(*EXCLUDED_FROM_ASSET, REQUIREMENTS_FILE.name),
        )
        subprocess.run(pip_install_command(target), check=True)
        return True


def lambda_code() -> lambda_.Code:
    """One asset for every function: they share the `baton` package and differ by handler."""
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR),
        exclude=list(EXCLUDED_FROM_ASSET),
        asset_hash_type=AssetHashType.SOURCE,
        bundling=BundlingOptions(
            # Required by the API but never pulled: the local bundler always succeeds.
            image=DockerImage.from_registry("baton-local-bundling-only"),
            # jsii hands try_bundle its options positionally, unlike the typed interface says.
            local=cast(ILocalBundling, LocalPipBundler()),
        ),
    )
