"""Synthesized Baton stacks, shared: jsii costs seconds to start, each synthesis a fraction."""

from __future__ import annotations

import os

# Before aws_cdk is imported: jsii prints a long Node 20 end-of-life banner otherwise.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest

from tests.infra.synth import IAM_CONTEXT, KEYS_CONTEXT, Synthesized, synthesize


@pytest.fixture(scope="module")
def iam_mode() -> Synthesized:
    """IAM mode with two event queues and two authorized accounts."""
    return synthesize(IAM_CONTEXT)


@pytest.fixture(scope="module")
def keys_mode() -> Synthesized:
    """Conductor's key-and-secret mode with cdk.json's defaults otherwise."""
    return synthesize(KEYS_CONTEXT)
