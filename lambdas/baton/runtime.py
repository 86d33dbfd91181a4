"""The objects each function builds once per container: service, logger, metrics, tracer."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from baton import settings, telemetry
from baton.messaging import Messaging
from baton.service import Baton
from baton.store.metadata import MetadataStore
from baton.store.workflows import WorkflowStore

logger = Logger()
metrics = Metrics()

Handler = TypeVar("Handler", bound=Callable[..., Any])


class _NoTracer:
    """Stands in for Powertools' Tracer when tracing is off, without importing the X-Ray SDK
    (about a third of a cold start)."""

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        return handler


def _tracer() -> Any:
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("true", "1"):
        return _NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer()


tracer = _tracer()


def emit_metric(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit(telemetry.UNITS[name]), value=value)


@cache
def baton() -> Baton:
    retention = int(os.environ.get(settings.RETENTION_DAYS) or 30)
    # One metadata store for the service and the workflow store's definition snapshots.
    definitions = MetadataStore()
    return Baton(
        store=WorkflowStore(retention_days=retention, metadata=definitions),
        metadata=definitions,
        messaging=Messaging(),
        metric=emit_metric,
    )
