"""Baton on one machine: the Lambdas' handlers behind a local HTTP server, SQS pollers and a
ticker, with moto's server playing DynamoDB and SQS. `python -m embedded` runs it."""

from __future__ import annotations

import sys
from pathlib import Path

# The Lambdas' code imports as `baton`, from lambdas/ (the Lambda asset root): set here, so
# that every `python -m embedded...` command (the runtime, the UI proxy) finds it.
LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))

from embedded.runtime import Runtime  # noqa: E402 - lambdas/ on sys.path first

__all__ = ["Runtime"]
