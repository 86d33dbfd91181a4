"""Synthesizing Baton's stacks for the tests, once per configuration per session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.application import BatonStacks, build

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"
# Bundling runs pip; the templates under test do not depend on the bundle's content.
SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}

# The settings the IAM-mode tests deploy: more than one event queue, other accounts.
AUTHORIZED_ACCOUNTS = ("111111111111", "222222222222")
EVENT_QUEUES = ("conductor_doug_testing", "orders")
IAM_CONTEXT: dict[str, Any] = {
    "eventQueues": list(EVENT_QUEUES),
    "authorizedAccounts": list(AUTHORIZED_ACCOUNTS),
    "retentionDays": 7,
}
KEYS_CONTEXT: dict[str, Any] = {"authMode": "conductor-keys"}
# The remaining knobs, in one more synthesis.
CUSTOM_CONTEXT: dict[str, Any] = {"prefix": "staging", "apiRateLimit": 50, "apiBurstLimit": 60}


@dataclass(frozen=True)
class Synthesized:
    stacks: BatonStacks
    stateful: Template
    stateless: Template

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        """The stateless stack's resources of one type, by logical id."""
        found = self.stateless.find_resources(type_)
        return {name: dict(resource) for name, resource in found.items()}


def app_context(overrides: dict[str, Any]) -> dict[str, Any]:
    """cdk.json's context, as `cdk synth` reads it, with `overrides` on top (as `-c` would)."""
    context = dict(json.loads(CDK_JSON.read_text())["context"])
    return {**context, **SKIP_BUNDLING, **overrides}


def new_app(overrides: dict[str, Any]) -> cdk.App:
    return cdk.App(context=app_context(overrides))


@cache
def _synthesize(context_json: str) -> Synthesized:
    stacks = build(new_app(json.loads(context_json)))
    return Synthesized(
        stacks=stacks,
        stateful=Template.from_stack(stacks.stateful),
        stateless=Template.from_stack(stacks.stateless),
    )


def synthesize(overrides: dict[str, Any]) -> Synthesized:
    """Both stacks for these context overrides, synthesized once per test session."""
    return _synthesize(json.dumps(overrides, sort_keys=True))


def iter_identity_statements(template: Template) -> Iterator[dict[str, Any]]:
    """Every statement of every identity policy (not queue or key resource policies)."""
    for policy in template.find_resources("AWS::IAM::Policy").values():
        yield from policy["Properties"]["PolicyDocument"]["Statement"]
    for role in template.find_resources("AWS::IAM::Role").values():
        for inline in role["Properties"].get("Policies", []):
            yield from inline["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
