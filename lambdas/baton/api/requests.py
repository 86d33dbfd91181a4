"""Reading Conductor requests: JSON bodies and query values as Conductor's SDKs send them."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from baton.api.errors import bad_request

# `\ud800` to `\udfff`: JSON allows them alone, but such a string cannot be stored (as UTF-8).
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def json_body(app: BaseRouter, *, default: Any = None) -> Any:
    """The request's JSON body; a missing body gives `default`, a malformed one a 400."""
    raw = app.current_event.decoded_body
    if raw is None or not raw.strip():
        if default is None:
            raise bad_request("A JSON request body is required")
        return default
    try:
        body = json.loads(raw)
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


def query_int(app: BaseRouter, name: str) -> int | None:
    value = query(app, name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as error:
        raise bad_request(f"Query parameter {name} must be an integer, not {value!r}") from error
