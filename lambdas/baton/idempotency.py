"""Once-only actions through Powertools' idempotency utility, for what is not idempotent already.

Most event handler actions are idempotent by construction (completing an ended task changes
nothing; a workflow started from a message gets an id derived from it), so they need no record.
`update_workflow_variables` with `appendArray` is not: a second delivery would append twice.
Such actions run through here. Powertools is imported on first use: it brings boto3, which
the functions otherwise do without.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

from baton import settings

# How long a message's action is remembered: longer than SQS retries a message before its DLQ.
REMEMBER_SECONDS = 24 * 3600

_lambda_context: list[Any] = []


def remember_lambda_context(context: Any) -> None:
    """The current invocation's context, so the utility knows the time left (set per call)."""
    _lambda_context[:] = [context]


@cache
def _utility() -> tuple[Any, Any, Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=REMEMBER_SECONDS)
    persistence = DynamoDBPersistenceLayer(
        table_name=os.environ.get(settings.IDEMPOTENCY_TABLE, "baton-idempotency")
    )
    return config, persistence, idempotent_function


def once(key: str, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `action` once per `key`; a repeat returns the first run's result."""
    config, persistence, idempotent_function = _utility()
    if _lambda_context:
        config.register_lambda_context(_lambda_context[0])

    @idempotent_function(
        data_keyword_argument="request", config=config, persistence_store=persistence
    )
    def run(request: dict[str, str]) -> dict[str, Any]:
        return action()

    result: dict[str, Any] = run(request={"key": key})
    return result
