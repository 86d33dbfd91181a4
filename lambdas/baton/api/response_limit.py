"""Answers larger than Lambda can return: a clear 413 instead of Lambda's own failure.

A synchronous Lambda invocation returns at most 6 MB (the proxy response as JSON, the body
escaped inside it); past that the caller would get API Gateway's bare 502. Payloads are
returned inline, as Conductor returns them, so a workflow whose payloads add up to more
(say three tasks with 2.5 MB outputs) cannot be read whole in one answer: the 413 says so and
names the reads that fit (without tasks, or one task at a time).
"""

from __future__ import annotations

import json
from typing import Any, Final

from baton.api.errors import ApiError, proxy_error

# Lambda's limit for a synchronous response is 6 MB (6,291,456 bytes); this leaves room for
# what Lambda adds around the function's answer.
MAX_RESPONSE_BYTES: Final = 6 * 1024 * 1024 - 64 * 1024
# Bodies shorter than this cannot grow past the limit when escaped (at most 2x, `"` -> `\"`).
_SURELY_FITS: Final = MAX_RESPONSE_BYTES // 2


def response_size(response: dict[str, Any]) -> int:
    return len(json.dumps(response, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def fit(response: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The response itself when Lambda can return it, else Conductor's error body, 413."""
    body = response.get("body")
    if not isinstance(body, str) or len(body) <= _SURELY_FITS // 3:
        return response  # even three bytes a character (UTF-8), escaped, fits
    size = response_size(response)
    if size <= MAX_RESPONSE_BYTES:
        return response
    return proxy_error(
        ApiError(
            413,
            f"The answer to {method} {path} is {size} bytes, more than the "
            f"{MAX_RESPONSE_BYTES} bytes the API can return at once (Lambda's response "
            "limit); read the workflow without its tasks (includeTasks=false), then each "
            "task with GET /api/tasks/{taskId}",
        )
    )
