"""Baton's Lambda functions: the API, the events consumer, the timers sweep and system tasks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from baton import telemetry
from baton.topology import FUNCTION_TIMEOUT_SECONDS
from infra.bundling import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    LAMBDA_PYTHON_VERSION,
    LAMBDA_RUNTIME,
    REPOSITORY_ROOT,
    TargetArchitecture,
)

# AWS's public Powertools layer, at the release requirements.txt pins (the one place the
# version is written), for the functions' architecture and Python. AWS publishes each layer's
# ARN as a public SSM parameter in every region that has the layer; CloudFormation resolves it
# at deploy time, so synthesis needs no AWS access.
POWERTOOLS_PACKAGE: Final = "aws-lambda-powertools"
REQUIREMENTS_FILE: Final = REPOSITORY_ROOT / "requirements.txt"
POWERTOOLS_PARAMETER_PREFIX: Final = "/aws/service/powertools/python"
DEFAULT_TARGET: Final = ARCHITECTURES[DEFAULT_ARCHITECTURE]

# V8 (INLINE tasks) and the SDK clients want room; more memory also buys CPU for cold starts.
MEMORY_MB: Final = 512
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
LOG_LEVEL: Final = "INFO"


def pinned_version(package: str, requirements: Path = REQUIREMENTS_FILE) -> str:
    """The version `requirements` pins `package` to with `==`; an error if it does not."""
    wanted = package.lower().replace("_", "-")
    for line in requirements.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        name, separator, version = requirement.partition("==")
        if separator and name.strip().lower().replace("_", "-") == wanted:
            return version.strip()
    raise ValueError(f"{requirements.name} must pin {package} with '=='")


POWERTOOLS_VERSION: Final = pinned_version(POWERTOOLS_PACKAGE)


def powertools_layer_parameter(
    architecture: TargetArchitecture = DEFAULT_TARGET,
    *,
    python_version: str = LAMBDA_PYTHON_VERSION,
    version: str = POWERTOOLS_VERSION,
) -> str:
    """The public SSM parameter holding the layer's ARN, e.g.
    `/aws/service/powertools/python/arm64/python3.13/3.37.0`."""
    return f"{POWERTOOLS_PARAMETER_PREFIX}/{architecture.name}/python{python_version}/{version}"


def powertools_layer_arn(
    scope: Construct, architecture: TargetArchitecture = DEFAULT_TARGET
) -> str:
    """The layer's ARN in `scope`'s stack region: a template parameter of SSM type, resolved
    by CloudFormation at deploy time."""
    return ssm.StringParameter.value_for_string_parameter(
        scope, powertools_layer_parameter(architecture)
    )


def powertools_layer(
    scope: Construct, architecture: TargetArchitecture = DEFAULT_TARGET
) -> lambda_.ILayerVersion:
    arn = powertools_layer_arn(scope, architecture)
    return lambda_.LayerVersion.from_layer_version_arn(
        scope, f"PowertoolsLayer-{architecture.name}", arn
    )


def observability_environment(service_name: str, *, tracer: bool = False) -> dict[str, str]:
    """Powertools' settings: one service and namespace so the dashboard sums all functions."""
    return {
        "POWERTOOLS_SERVICE_NAME": service_name,
        "POWERTOOLS_METRICS_NAMESPACE": telemetry.NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": LOG_LEVEL,
        "POWERTOOLS_TRACE_DISABLED": "false" if tracer else "true",
        # Workflow inputs and outputs can be large or sensitive: keep them out of X-Ray.
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    }


class BatonFunction(Construct):
    """A traced Python function with its own log group and a role that starts empty.

    The role is not AWSLambdaBasicExecutionRole: it may write to this function's log group only,
    and every other permission is granted where the function meets a table or a queue.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        handler: str,
        description: str,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        architecture: TargetArchitecture,
        timeout_seconds: int,
        environment: Mapping[str, str],
        memory_mb: int = MEMORY_MB,
    ) -> None:
        super().__init__(scope, id_)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=LOG_RETENTION,
            # The stateless stack can be torn down and redeployed; its logs go with it.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {handler}",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=LAMBDA_RUNTIME,
            architecture=architecture.lambda_architecture,
            handler=handler,
            code=code,
            layers=[layer],
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_mb,
            environment=dict(environment),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason=f"Python {LAMBDA_PYTHON_VERSION} is pinned in one place (infra/bundling.py) "
                "together with the Powertools layer built for it and the wheels bundled for it; "
                "moving to a newer runtime moves all three at once",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="Active tracing: X-Ray's PutTraceSegments and PutTelemetryRecords accept "
                "no resource other than '*'",
            ),
        )


class Functions(Construct):
    """The four functions that run the engine, all on the same code asset."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        architecture: TargetArchitecture,
        environment: Mapping[str, str],
        api_environment: Mapping[str, str],
        system_task_environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        self.api = BatonFunction(
            self,
            "Api",
            handler="baton.handlers.api.handler",
            description="Conductor's REST API",
            code=code,
            layer=layer,
            architecture=architecture,
            timeout_seconds=FUNCTION_TIMEOUT_SECONDS["api"],
            environment={**environment, **api_environment},
        ).function
        self.events = BatonFunction(
            self,
            "Events",
            handler="baton.handlers.events.handler",
            description="Consumes the event queues: event handlers and conductor: sinks",
            code=code,
            layer=layer,
            architecture=architecture,
            timeout_seconds=FUNCTION_TIMEOUT_SECONDS["events"],
            environment=environment,
        ).function
        self.timers = BatonFunction(
            self,
            "Timers",
            handler="baton.handlers.timers.handler",
            description="Fires due WAIT timers: the timer queue and the per-minute sweep",
            code=code,
            layer=layer,
            architecture=architecture,
            timeout_seconds=FUNCTION_TIMEOUT_SECONDS["timers"],
            environment=environment,
        ).function
        self.system_tasks = BatonFunction(
            self,
            "SystemTasks",
            handler="baton.handlers.system_tasks.handler",
            description="Runs system tasks' calls (HTTP) from the system-task queue",
            code=code,
            layer=layer,
            architecture=architecture,
            timeout_seconds=FUNCTION_TIMEOUT_SECONDS["system_tasks"],
            environment={**environment, **system_task_environment},
        ).function

    @property
    def all(self) -> dict[str, lambda_.Function]:
        return {
            "Api": self.api,
            "Events": self.events,
            "Timers": self.timers,
            "SystemTasks": self.system_tasks,
        }

    @property
    def by_code_name(self) -> dict[str, lambda_.Function]:
        """Each function under its handler module's name, as infra/access.py names them."""
        return {
            "api": self.api,
            "events": self.events,
            "timers": self.timers,
            "system_tasks": self.system_tasks,
        }
