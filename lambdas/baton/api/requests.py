"""Reading Conductor requests: JSON bodies and query values as Conductor's SDKs send them."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from baton.api.errors import bad_request

# `\ud800` to `\udfff`: JSON allows them alone, but such a string cannot be stored (as UTF-8).
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# What Java's Integer.parseInt reads (int() would also take spaces, underscores, other digits).
_INTEGER = re.compile(r"[+-]?[0-9]+")


class _NotStrictJson(ValueError):
    """NaN, Infinity or a number too large for a double: Python reads them, JSON has none."""


def _refuse_constant(name: str) -> Any:
    raise _NotStrictJson(
        f"{name} is not a JSON value (JSON has no NaN or Infinity; send null or a string)"
    )


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotStrictJson(f"the number {text[:40]} is too large for a double")
    return value


def _body_text(app: BaseRouter) -> str | None:
    """The body as text: API Gateway hands bodies that are not UTF-8 over in base64."""
    event = app.current_event
    body = event.body
    if not body or not event.is_base64_encoded:
        return body
    try:
        data = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise bad_request("The request body is marked base64-encoded but is not") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_request(
            f"The request body is not valid UTF-8 (byte {error.start}: {error.reason}); "
            "request bodies must be UTF-8"
        ) from None


def text_body(app: BaseRouter) -> str:
    """The body as text ("" when there is none); a 400 when it is not UTF-8."""
    return _body_text(app) or ""


def json_body(app: BaseRouter, *, default: Any = None) -> Any:
    """The request's JSON body; a missing body gives `default`, a malformed one a 400."""
    raw = _body_text(app)
    if raw is None or not raw.strip():
        if default is None:
            raise bad_request("A JSON request body is required")
        return default
    try:
        body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotStrictJson as error:
        raise bad_request(f"The request body is not strict JSON: {error}") from None
    except ValueError as error:
        raise bad_request(f"The request body is not valid JSON: {error}") from error
    except RecursionError:
        raise bad_request("The request body is nested too deeply to read") from None
    if _LONE_SURROGATE_ESCAPE.search(raw) or not _is_unicode_text(raw):
        try:
            json.dumps(body, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise bad_request(
                "The request body holds half a surrogate pair (such as a lone \\ud800 escape), "
                "which is not a character: escape characters beyond U+FFFF as a whole pair"
            ) from None
    return body


def _is_unicode_text(raw: str) -> bool:
    try:
        raw.encode()
    except UnicodeEncodeError:
        return False
    return True


def json_object(app: BaseRouter, *, what: str, default: Any = None) -> dict[str, Any]:
    body = json_body(app, default=default)
    if not isinstance(body, dict):
        raise bad_request(f"The request body must be a JSON object ({what})")
    return body


def json_type(value: Any) -> str:
    """What JSON calls the type of `value`, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def query(app: BaseRouter, name: str) -> str | None:
    return app.current_event.get_query_string_value(name)


def query_bool(app: BaseRouter, name: str, default: bool) -> bool:
    """A boolean query value; Conductor's Python SDK writes some of them `True`/`False`."""
    value = query(app, name)
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise bad_request(f"Query parameter {name} must be true or false, not {value!r}")


def query_int(
    app: BaseRouter, name: str, *, minimum: int = -(2**31), maximum: int = 2**31 - 1
) -> int | None:
    """An integer query value within `minimum` and `maximum` (by default, a Java int's range)."""
    value = query(app, name)
    if value is None or value == "":
        return None
    if not _INTEGER.fullmatch(value):
        raise bad_request(f"Query parameter {name} must be an integer, not {value[:40]!r}")
    number = int(value) if len(value) <= 20 else maximum + 1
    if not minimum <= number <= maximum:
        raise bad_request(
            f"Query parameter {name} must be from {minimum} to {maximum}, not {value[:40]}"
        )
    return number
