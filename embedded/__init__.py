"""Baton on one machine: the Lambdas' handlers behind a local HTTP server, SQS pollers and a
ticker, with moto's server playing DynamoDB and SQS. `python -m embedded` runs it."""

from __future__ import annotations

from embedded.runtime import Runtime

__all__ = ["Runtime"]
