"""The CDK app: both stacks from the context's settings, checked by cdk-nag's AWS Solutions pack."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import BatonConfig
from infra.stateful import StatefulStack
from infra.stateless import StatelessStack


@dataclass(frozen=True)
class BatonStacks:
    config: BatonConfig
    stateful: StatefulStack
    stateless: StatelessStack


def build(app: App) -> BatonStacks:
    """Add Baton's stacks to `app`; synthesis fails on any unacknowledged cdk-nag error."""
    config = BatonConfig.from_context(app.node)
    stateful = StatefulStack(
        app,
        f"{config.prefix}-stateful",
        description="Baton's tables and payload bucket (retained on delete)",
        retention_days=config.retention_days,
    )
    stateless = StatelessStack(
        app,
        f"{config.prefix}-stateless",
        description="Baton's queues, functions, API, schedule and monitoring",
        config=config,
        workflows=stateful.table("Workflows"),
        tasks=stateful.table("Tasks"),
        metadata=stateful.table("Metadata"),
        idempotency=stateful.table("Idempotency"),
        stateful_stack_name=stateful.stack_name,
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return BatonStacks(config=config, stateful=stateful, stateless=stateless)
