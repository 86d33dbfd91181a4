"""Conductor's error body, `{status, message, instance, retryable}`, for every failure.

The errors themselves, and the status of each, are `baton.errors`.
"""

from __future__ import annotations

import json
import math
import os
import socket
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.shared.json_encoder import Encoder

from baton.engine.validation import FieldError
from baton.errors import ApiError, BadRequest, BatonError

__all__ = [
    "ApiError",
    "bad_request",
    "error_body",
    "error_response",
    "proxy_error",
    "strict_json",
    "validation_failed",
]


def strict_json(value: Any) -> str:
    """`value` as strict JSON: NaN and the infinities, which JSON lacks, are written null.

    Requests holding them are refused (baton.api.requests); this is the second line, so that no
    answer is a document `JSON.parse` or Jackson cannot read.
    """
    try:
        return json.dumps(value, separators=(",", ":"), cls=Encoder, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), separators=(",", ":"), cls=Encoder, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def bad_request(message: str) -> BadRequest:
    return BadRequest(message)


def validation_failed(errors: list[FieldError]) -> BadRequest:
    return BadRequest("Validation failed, check below errors for detail.", errors)


def _instance() -> str:
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or socket.gethostname()


def error_body(error: BatonError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": error.status,
        "message": error.message,
        "instance": _instance(),
        "retryable": error.retryable,
    }
    if error.validation_errors:
        body["validationErrors"] = [e.to_json() for e in error.validation_errors]
    return body


def error_response(error: BatonError) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=strict_json(error_body(error)),
    )


def proxy_error(error: BatonError) -> dict[str, Any]:
    """The error as an API Gateway proxy response, for answers given before routing."""
    return {
        "statusCode": error.status,
        "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
        "body": strict_json(error_body(error)),
        "isBase64Encoded": False,
    }
