"""Baton synthesized for this machine's architecture, stood up in moto the way AWS would run it.

One synthesis (with real bundling: pip installs the asset's wheels) per auth mode per session;
each deployment gets its own moto server and its own function processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from embedded.moto_server import MotoProcess
from tests.deployed.cloud import REGION, Deployment, asset_directories, cloud_assembly
from tests.deployed.driver import ApiGateway, Cloud, Services, start_functions
from tests.deployed.lambdas import (
    HOST_ARCHITECTURE,
    POWERTOOLS_LAYER_EXTRAS,
    RUNTIME_DISTRIBUTIONS,
    distribution_closure,
    function_specs,
    link_distributions,
)
from tests.deployed.provision import Provisioner

ROOT = Path(__file__).resolve().parents[2]
MODES = {"iam": {}, "conductor-keys": {"authMode": "conductor-keys"}}


def _synthesize(outdir: Path, overrides: dict[str, Any]) -> Path:
    import aws_cdk as cdk

    from infra.application import build

    context = {
        **json.loads((ROOT / "cdk.json").read_text())["context"],
        "architecture": HOST_ARCHITECTURE,
        # The HTTP scenario calls a server on this machine: the allow-list admits loopback,
        # which a deployment refuses otherwise.
        "httpAllowedNetworks": ["127.0.0.1/32"],
        **overrides,
    }
    app = cdk.App(context=context, outdir=str(outdir))
    build(app)
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """cdk.out for each auth mode, bundled for this machine (synthesized on first use)."""
    return {}


@pytest.fixture(scope="session")
def platform_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """What Lambda's Python runtime and AWS's Powertools layer put on a function's path."""
    base = tmp_path_factory.mktemp("lambda-platform")
    runtime = distribution_closure(RUNTIME_DISTRIBUTIONS)
    layer = distribution_closure(("aws-lambda-powertools",), POWERTOOLS_LAYER_EXTRAS) - runtime
    return {
        "runtime": link_distributions(base / "runtime", runtime),
        "powertools": link_distributions(base / "powertools", layer),
    }


@dataclass
class Deployed:
    mode: str
    cloud: Cloud
    services: Services
    outdir: Path

    @property
    def api(self) -> ApiGateway:
        (api,) = self.services.apis
        return api

    def table_name(self, output: str) -> str:
        for stack in self.cloud.deployment.stack_order():
            outputs = stack.template.get("Outputs", {})
            if output in outputs:
                return str(self.cloud.deployment.resolve(stack, outputs[output]["Value"]))
        raise KeyError(output)

    def create_api_key(self) -> dict[str, str]:
        """What an operator runs against the deployment: `python -m baton.auth create`."""
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "baton.auth",
                "--table",
                self.table_name("MetadataTableName"),
                "--region",
                REGION,
                "create",
                "deployed-shape",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT / "lambdas"),
                "AWS_ENDPOINT_URL": self.cloud.endpoint_url,
            },
            capture_output=True,
            text=True,
            check=True,
        )
        key: dict[str, str] = json.loads(completed.stdout)
        return key


@pytest.fixture(scope="module", params=list(MODES))
def deployed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    assemblies: dict[str, Path],
    platform_paths: dict[str, Path],
) -> Iterator[Deployed]:
    mode: str = request.param
    if mode not in assemblies:
        assemblies[mode] = _synthesize(tmp_path_factory.mktemp(f"cdk.out.{mode}"), MODES[mode])
    outdir = assemblies[mode]
    moto = MotoProcess("127.0.0.1").start()
    functions: dict[str, Any] = {}
    try:
        admin = {
            "endpoint_url": moto.url,
            "region_name": REGION,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        import boto3

        deployment = Deployment(cloud_assembly(outdir))
        Provisioner(
            deployment,
            dynamodb=boto3.client("dynamodb", **admin),
            sqs=boto3.client("sqs", **admin),
            secrets=boto3.client("secretsmanager", **admin),
            s3=boto3.client("s3", **admin),
        ).provision()
        specs = function_specs(
            deployment,
            assets=asset_directories(outdir),
            layers={"powertools": platform_paths["powertools"]},
            runtime=platform_paths["runtime"],
        )
        functions = start_functions(
            specs, endpoint_url=moto.url, workdir=tmp_path_factory.mktemp(f"functions.{mode}")
        )
        cloud = Cloud(deployment=deployment, functions=functions, endpoint_url=moto.url)
        yield Deployed(
            mode=mode, cloud=cloud, services=Services.from_templates(cloud), outdir=outdir
        )
    finally:
        for process in functions.values():
            process.stop()
        moto.stop()
