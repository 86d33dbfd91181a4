"""Conductor's error body, `{status, message, instance, retryable}`, for every failure."""

from __future__ import annotations

import json
import math
import os
import socket
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.shared.json_encoder import Encoder

from baton.engine.validation import FieldError


class ApiError(Exception):
    """An error answered with `status` and Conductor's body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retryable: bool = False,
        validation_errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retryable = retryable
        self.validation_errors = validation_errors or []


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


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def validation_failed(errors: list[FieldError]) -> ApiError:
    return ApiError(
        400, "Validation failed, check below errors for detail.", validation_errors=errors
    )


def _instance() -> str:
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or socket.gethostname()


def error_body(error: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": error.status,
        "message": error.message,
        "instance": _instance(),
        "retryable": error.retryable,
    }
    if error.validation_errors:
        body["validationErrors"] = [e.to_json() for e in error.validation_errors]
    return body


def error_response(error: ApiError) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body=strict_json(error_body(error)),
    )


def proxy_error(error: ApiError) -> dict[str, Any]:
    """The error as an API Gateway proxy response, for answers given before routing."""
    return {
        "statusCode": error.status,
        "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
        "body": strict_json(error_body(error)),
        "isBase64Encoded": False,
    }
