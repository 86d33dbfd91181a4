"""Baton's Lambda functions: the API, the events consumer and the timers sweep."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from baton import telemetry
from baton.topology import FUNCTION_TIMEOUT_SECONDS
from infra.bundling import LAMBDA_PYTHON_VERSION, LAMBDA_RUNTIME, TargetArchitecture

# AWS's public Powertools layer, version pinned here and nowhere else. Keep it on the Powertools
# release in requirements.txt: `aws ssm get-parameter --name
# /aws/service/powertools/python/arm64/python3.13/<release>` prints the matching layer ARN.
POWERTOOLS_LAYER_VERSION: Final = 38
POWERTOOLS_LAYER_ACCOUNT: Final = "017000801446"

# V8 (INLINE tasks) and the SDK clients want room; more memory also buys CPU for cold starts.
MEMORY_MB: Final = 512
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
LOG_LEVEL: Final = "INFO"


def powertools_layer_arn(region: str, architecture: TargetArchitecture) -> str:
    python = LAMBDA_PYTHON_VERSION.replace(".", "")
    layer = (
        f"AWSLambdaPowertoolsPythonV3-python{python}-{architecture.name}:{POWERTOOLS_LAYER_VERSION}"
    )
    return f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:{layer}"


def powertools_layer(scope: Construct, architecture: TargetArchitecture) -> lambda_.ILayerVersion:
    """The layer for `scope`'s stack region (a token resolved at deploy time)."""
    arn = powertools_layer_arn(Stack.of(scope).region, architecture)
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)


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
    """The three functions that run the engine, all on the same code asset."""

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

    @property
    def all(self) -> dict[str, lambda_.Function]:
        return {"Api": self.api, "Events": self.events, "Timers": self.timers}
