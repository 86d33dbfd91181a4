"""The objects each function builds once per container: service, logger, metrics, tracer."""

from __future__ import annotations

import os
from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from baton import settings
from baton.messaging import Messaging
from baton.service import Baton
from baton.store.workflows import WorkflowStore

logger = Logger()
metrics = Metrics()
tracer = Tracer()

_UNITS = {"TimerLatenessMs": MetricUnit.Milliseconds}


def emit_metric(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=_UNITS.get(name, MetricUnit.Count), value=value)


@cache
def baton() -> Baton:
    retention = int(os.environ.get(settings.RETENTION_DAYS) or 30)
    return Baton(
        store=WorkflowStore(retention_days=retention),
        messaging=Messaging(),
        metric=emit_metric,
    )
