"""What a deployment may choose, read from CDK context (cdk.json, or `cdk deploy -c key=value`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, cast

from constructs import Node

from baton.auth.modes import AUTH_MODES, IAM, AuthMode
from baton.outbound import parse_networks
from baton.topology import DEFAULT_EVENT_QUEUES
from infra.bundling import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    ArchitectureName,
    TargetArchitecture,
)

# Name prefixes end up in queue, stack and metric names: keep them short and plain.
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
# SQS queue names: letters, digits, '-' and '_', at most 80 characters (DLQs add "_dlq").
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,76}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _string_list(value: Any, key: str) -> tuple[str, ...] | None:
    """A list from cdk.json (a JSON list) or from `-c key=...` (a JSON list or a,b,c)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [p for p in text.split(",") if p]
    if not isinstance(value, list) or not all(isinstance(item, str | int) for item in value):
        raise ValueError(f"Context {key!r} must be a list of strings, got {value!r}")
    return tuple(str(item).strip() for item in value)


def _positive_int(value: Any, key: str, default: int, *, minimum: int = 1) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"Context {key!r} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"Context {key!r} must be at least {minimum}, got {number}")
    return number


@dataclass(frozen=True)
class BatonConfig:
    """One deployment's choices; every field has a default that deploys a working Baton."""

    # Names internal queues, stacks and the metrics service dimension (several Batons per account).
    prefix: str = "baton"
    # Queues that `sqs:<name>` sinks and event handlers use, named exactly (Conductor's queues).
    event_queues: tuple[str, ...] = DEFAULT_EVENT_QUEUES
    # Accounts besides this one that may send to the event queues (Conductor's authorized-accounts).
    authorized_accounts: tuple[str, ...] = ()
    auth_mode: AuthMode = IAM
    # Days a finished workflow is kept before DynamoDB's TTL removes it; 0 keeps it forever.
    retention_days: int = 30
    # Stage throttling: steady requests per second and burst; Conductor workers poll often.
    api_rate_limit: int = 200
    api_burst_limit: int = 400
    # Powertools' Tracer (subsegments for each AWS call). Lambda's own active tracing is on
    # either way; the X-Ray SDK the Tracer loads adds to every cold start, so it is opt-in.
    tracer: bool = False
    # The functions' processor; the bundled wheels and the Powertools layer follow it.
    architecture: ArchitectureName = DEFAULT_ARCHITECTURE
    # Networks (CIDR blocks) HTTP tasks may call although they are private, loopback or
    # link-local, which are refused otherwise (baton.outbound): say, a VPC's own services.
    http_allowed_networks: tuple[str, ...] = ()
    # The most system-task function instances the system-task queue runs at once (the event
    # source mapping's maximum concurrency, 2 to 1000): a bound on concurrent HTTP calls.
    system_task_concurrency: int = 10

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise ValueError(
                f"Context 'prefix' {self.prefix!r} must be 1-30 lowercase letters, digits or '-', "
                "starting with a letter"
            )
        bad_queues = [name for name in self.event_queues if not _QUEUE_NAME.match(name)]
        if bad_queues:
            raise ValueError(
                f"Context 'eventQueues' has invalid SQS queue names {bad_queues}: use letters, "
                "digits, '-' or '_', at most 76 characters (the DLQ adds '_dlq')"
            )
        if len(set(self.event_queues)) != len(self.event_queues):
            raise ValueError(
                f"Context 'eventQueues' lists a queue twice: {list(self.event_queues)}"
            )
        bad_accounts = [a for a in self.authorized_accounts if not _ACCOUNT_ID.match(a)]
        if bad_accounts:
            raise ValueError(
                "Context 'authorizedAccounts' must hold 12-digit AWS account ids, "
                f"got {bad_accounts}"
            )
        if self.auth_mode not in AUTH_MODES:
            raise ValueError(
                f"Context 'authMode' {self.auth_mode!r} is not one of {', '.join(AUTH_MODES)}"
            )
        try:
            parse_networks(self.http_allowed_networks)
        except ValueError as error:
            raise ValueError(f"Context 'httpAllowedNetworks': {error}") from None
        if not 2 <= self.system_task_concurrency <= 1000:
            raise ValueError(
                "Context 'systemTaskConcurrency' must be 2 to 1000 (SQS event source mappings' "
                f"maximum concurrency), got {self.system_task_concurrency}"
            )
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"Context 'architecture' {self.architecture!r} is not one of "
                f"{', '.join(ARCHITECTURES)} (Lambda's names: arm64 is Graviton)"
            )

    @property
    def target_architecture(self) -> TargetArchitecture:
        return ARCHITECTURES[self.architecture]

    @classmethod
    def from_context(cls, node: Node) -> BatonConfig:
        """Read the settings from `node`'s context, falling back to the defaults above."""
        defaults = cls()
        if node.try_get_context("apiGatewayCloudWatchRole") is not None:
            # It set the REST API's account-wide logging role; an HTTP API logs without one.
            raise ValueError(
                "apiGatewayCloudWatchRole is no longer a setting: Baton's HTTP API writes its "
                "access logs without API Gateway's account CloudWatch role; drop it"
            )
        event_queues = _string_list(node.try_get_context("eventQueues"), "eventQueues")
        accounts = _string_list(node.try_get_context("authorizedAccounts"), "authorizedAccounts")
        allowed = _string_list(node.try_get_context("httpAllowedNetworks"), "httpAllowedNetworks")
        return cls(
            prefix=str(node.try_get_context("prefix") or defaults.prefix),
            event_queues=defaults.event_queues if event_queues is None else event_queues,
            authorized_accounts=accounts or (),
            auth_mode=cast(AuthMode, node.try_get_context("authMode") or defaults.auth_mode),
            retention_days=_positive_int(
                node.try_get_context("retentionDays"),
                "retentionDays",
                defaults.retention_days,
                minimum=0,
            ),
            tracer=str(node.try_get_context("tracer") or "false").lower() == "true",
            architecture=cast(
                ArchitectureName,
                node.try_get_context("architecture") or defaults.architecture,
            ),
            api_rate_limit=_positive_int(
                node.try_get_context("apiRateLimit"), "apiRateLimit", defaults.api_rate_limit
            ),
            api_burst_limit=_positive_int(
                node.try_get_context("apiBurstLimit"), "apiBurstLimit", defaults.api_burst_limit
            ),
            http_allowed_networks=allowed or (),
            system_task_concurrency=_positive_int(
                node.try_get_context("systemTaskConcurrency"),
                "systemTaskConcurrency",
                defaults.system_task_concurrency,
            ),
        )
