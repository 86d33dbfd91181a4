"""Each function of a template in its own process, as one Lambda execution environment.

The process sees the function's asset, its layer (Powertools, linked from this environment's
install) and what Lambda's Python runtime provides (boto3, botocore and their dependencies),
and nothing else: not the repository's `lambdas/` folder, not this environment's
site-packages. Its environment is the template's `Environment`, resolved, with what Lambda
itself sets; every AWS call it makes is checked against its role's policy from the template.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
import select
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.deployed.cloud import ACCOUNT, REGION, Deployment, Stack, arn
from tests.deployed.sandbox.iam_policy import Principal, Request

SANDBOX = Path(__file__).resolve().parent / "sandbox"
HOST_ARCHITECTURE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[
    platform.machine().lower()
]
# What Lambda's Python runtime ships beside the standard library.
RUNTIME_DISTRIBUTIONS = ("boto3",)
# AWS's public Powertools layer: the library with the extras it is published with.
POWERTOOLS_LAYER = re.compile(r":layer:AWSLambdaPowertoolsPythonV3-python(\d+)-(arm64|x86_64):\d+$")
POWERTOOLS_LAYER_EXTRAS = ("tracer", "parser", "validation")
# Extra time an invocation may take beyond the function's timeout before it counts as one.
INVOKE_MARGIN_SECONDS = 5.0


def _requirement_name(requirement: str) -> tuple[str, str]:
    name = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert name is not None, requirement
    marker = requirement.split(";", 1)[1] if ";" in requirement else ""
    return name.group(0), marker


def distribution_closure(roots: tuple[str, ...], extras: tuple[str, ...] = ()) -> set[str]:
    """The installed distributions `roots` need (with `extras` of the roots), by name."""
    found: set[str] = set()
    pending = [(root, extras) for root in roots]
    while pending:
        name, wanted = pending.pop()
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional extra this environment does not have
        canonical = distribution.metadata["Name"].lower().replace("_", "-")
        if canonical in found:
            continue
        found.add(canonical)
        for requirement in distribution.requires or []:
            dependency, marker = _requirement_name(requirement)
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if extra and extra.group(1) not in wanted:
                continue
            pending.append((dependency, ()))
    return found


def link_distributions(target: Path, names: set[str]) -> Path:
    """A folder holding exactly `names` (links to their installed files), like a layer's."""
    target.mkdir(parents=True, exist_ok=True)
    for name in sorted(names):
        distribution = importlib.metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in distribution.files or []}
        for top in tops:
            if top in ("..", "__pycache__", "bin") or top.endswith(".pth"):
                continue
            source = Path(str(distribution.locate_file(top)))
            link = target / top
            if source.exists() and not link.exists():
                link.symlink_to(source)
    return target


@dataclass
class Invocation:
    result: Any = None
    error: dict[str, Any] | None = None
    refused: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FunctionSpec:
    stack: str
    logical_id: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    paths: list[str]
    asset: Path
    timeout_seconds: int
    memory_mb: int
    principal: Principal
    # Where Lambda writes the function's logs, and whether it sends X-Ray traces (both with
    # the function's role).
    log_group: str
    tracing: bool

    def platform_requests(self) -> list[Request]:
        """What Lambda itself does with the role for every invocation."""
        stream = arn("logs", f"log-group:{self.log_group}:log-stream:2026/01/01/[$LATEST]0")
        requests = [Request("logs:CreateLogStream", stream), Request("logs:PutLogEvents", stream)]
        if self.tracing:
            requests += [
                Request("xray:PutTraceSegments", "*"),
                Request("xray:PutTelemetryRecords", "*"),
            ]
        return requests


def resource_policies(deployment: Deployment) -> dict[str, list[dict[str, Any]]]:
    """Queue ARN -> its queue policy's statements, and each ARN a bucket policy's statement
    names (the bucket, its objects) -> that statement, for every stack."""
    policies: dict[str, list[dict[str, Any]]] = {}
    for stack in deployment.stack_order():
        for policy in stack.of_type("AWS::S3::BucketPolicy").values():
            properties = deployment.resolve(stack, policy["Properties"])
            for statement in properties["PolicyDocument"]["Statement"]:
                resources = statement["Resource"]
                for resource in resources if isinstance(resources, list) else [resources]:
                    policies.setdefault(resource, []).append(statement)
        for policy in stack.of_type("AWS::SQS::QueuePolicy").values():
            properties = deployment.resolve(stack, policy["Properties"])
            for url in properties["Queues"]:
                queue_arn = next(
                    p.attributes["Arn"] for p in deployment.physical.values() if p.ref == url
                )
                policies.setdefault(queue_arn, []).extend(properties["PolicyDocument"]["Statement"])
    return policies


def role_principal(deployment: Deployment, stack: Stack, role_logical_id: str) -> Principal:
    """The role's identity policy, as the template attaches it."""
    role_name = deployment.ref(stack, role_logical_id)
    role = deployment.resolve(stack, stack.resources[role_logical_id].get("Properties", {}))
    if role.get("ManagedPolicyArns"):
        raise NotImplementedError(
            f"{role_logical_id} attaches managed policies {role['ManagedPolicyArns']}: the "
            "deployed-shape test evaluates only policies the template writes out"
        )
    statements = [
        statement
        for inline in role.get("Policies", [])
        for statement in inline["PolicyDocument"]["Statement"]
    ]
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for policy in stack.of_type(type_).values():
            properties = deployment.resolve(stack, policy["Properties"])
            if role_name in properties.get("Roles", []):
                statements.extend(properties["PolicyDocument"]["Statement"])
    secrets = {
        physical.attributes["Name"]: physical.ref
        for physical in deployment.physical.values()
        if "Name" in physical.attributes and physical.ref.startswith("arn:aws:secretsmanager:")
    }
    return Principal(
        role_arn=deployment.get_att(stack, role_logical_id, "Arn"),
        account=ACCOUNT,
        region=REGION,
        statements=statements,
        resource_policies=resource_policies(deployment),
        secret_arns=secrets,
    )


def function_specs(
    deployment: Deployment, *, assets: dict[str, Path], layers: dict[str, Path], runtime: Path
) -> list[FunctionSpec]:
    """Every AWS::Lambda::Function of the deployment, ready to run here."""
    specs = []
    for stack in deployment.stack_order():
        for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
            raw = resource["Properties"]
            properties = deployment.resolve(stack, raw)
            where = f"{stack.name}/{logical_id}"
            if not str(properties.get("Runtime", "")).startswith("python3"):
                raise NotImplementedError(f"{where}: runtime {properties.get('Runtime')}")
            (architecture,) = properties.get("Architectures", ["x86_64"])
            if architecture != HOST_ARCHITECTURE:
                raise ValueError(
                    f"{where} is built for {architecture}; this machine runs {HOST_ARCHITECTURE}: "
                    f"synthesize with -c architecture={HOST_ARCHITECTURE}"
                )
            asset = assets[properties["Code"]["S3Key"]]
            layer_paths = []
            for layer_arn in properties.get("Layers", []):
                match = POWERTOOLS_LAYER.search(layer_arn)
                if match is None or match.group(2) != architecture:
                    raise NotImplementedError(f"{where}: layer {layer_arn} cannot be played here")
                layer_paths.append(str(layers["powertools"]))
            role_logical_id = raw["Role"]["Fn::GetAtt"][0]
            specs.append(
                FunctionSpec(
                    stack=stack.name,
                    logical_id=logical_id,
                    name=deployment.ref(stack, logical_id),
                    arn=deployment.get_att(stack, logical_id, "Arn"),
                    handler=properties["Handler"],
                    environment=dict(properties.get("Environment", {}).get("Variables", {})),
                    # Lambda's order: the function's code, then layers, then the runtime.
                    paths=[str(asset), *layer_paths, str(runtime)],
                    asset=asset,
                    timeout_seconds=int(properties.get("Timeout", 3)),
                    memory_mb=int(properties.get("MemorySize", 128)),
                    principal=role_principal(deployment, stack, role_logical_id),
                    log_group=properties.get("LoggingConfig", {}).get("LogGroup")
                    or f"/aws/lambda/{deployment.ref(stack, logical_id)}",
                    tracing=properties.get("TracingConfig", {}).get("Mode") == "Active",
                )
            )
    return specs


class FunctionProcess:
    """One execution environment: started once, invoked one event at a time, as Lambda does."""

    def __init__(self, spec: FunctionSpec, *, endpoint_url: str, workdir: Path) -> None:
        self.spec = spec
        self.endpoint_url = endpoint_url
        self.workdir = workdir
        self.log_path = workdir / f"{spec.logical_id}.log"
        self._process: subprocess.Popen[str] | None = None
        self._reply: Any = None

    def _environment(self) -> dict[str, str]:
        spec = self.spec
        lambda_set = {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "deployed-shape",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "LAMBDA_TASK_ROOT": str(spec.asset),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            # The role's session credentials; moto takes any.
            "AWS_ACCESS_KEY_ID": "ASIADEPLOYEDSHAPE",
            "AWS_SECRET_ACCESS_KEY": "deployed-shape",
            "AWS_SESSION_TOKEN": "deployed-shape",
            # The one difference from AWS: every SDK call goes to moto.
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }
        return {**spec.environment, **lambda_set}

    def start(self) -> None:
        config_path = self.workdir / f"{self.spec.logical_id}.json"
        config_path.write_text(
            json.dumps(
                {
                    "paths": self.spec.paths,
                    "handler": self.spec.handler,
                    "function_name": self.spec.name,
                    "function_arn": self.spec.arn,
                    "memory_mb": self.spec.memory_mb,
                    "timeout_seconds": self.spec.timeout_seconds,
                    "principal": self.spec.principal.__dict__,
                }
            )
        )
        read_end, write_end = os.pipe()
        log = self.log_path.open("a")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                str(SANDBOX / "bootstrap.py"),
                str(config_path),
                str(write_end),
            ],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self._environment(),
            cwd=str(self.spec.asset),
            pass_fds=(write_end,),
            text=True,
        )
        os.close(write_end)
        log.close()
        self._reply = os.fdopen(read_end, "r")

    def _request(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        ready, _, _ = select.select([self._reply], [], [], timeout)
        line = self._reply.readline() if ready else ""
        if not line:
            # Timed out or died: Lambda discards the environment and starts a new one.
            self.stop()
            self.start()
            return {"error": {"errorType": "Sandbox.Timedout", "errorMessage": self.logs()[-2000:]}}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def invoke(self, event: dict[str, Any]) -> Invocation:
        answer = self._request({"event": event}, self.spec.timeout_seconds + INVOKE_MARGIN_SECONDS)
        return Invocation(
            result=answer.get("result"),
            error=answer.get("error"),
            refused=answer.get("refused", []),
        )

    def loaded_modules(self) -> dict[str, str]:
        modules: dict[str, str] = self._request({"probe": "modules"}, 30)["modules"]
        return modules

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reply.close()
        self._process = None
