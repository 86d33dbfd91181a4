"""`/api/health` and `/api/version`: Conductor's HealthCheckResource and VersionResource.

Conductor also answers health at `/health`; Baton's stack routes only `/api/...` to the API
function (infra/api.py), so health is served at `/api/health` alone.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from baton.api.errors import strict_json
from baton.runtime import baton

router = Router()


@router.get("/api/health")
def health() -> Response[str]:
    status = baton().health()
    # Conductor always answers 200 (its check is a constant); a 503 when a table does not
    # answer lets a load balancer or monitor act on the status code alone.
    return Response(
        status_code=200 if status["healthy"] else 503,
        content_type=content_types.APPLICATION_JSON,
        body=strict_json(status),
    )


@router.get("/api/version")
def version() -> Response[str]:
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=baton().version())
