"""`POST /api/token` for the API function: Conductor's key-and-secret exchange."""

from __future__ import annotations

import socket
import time
from typing import Any

from baton.auth.tokens import issue_token


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    # Conductor's error body; `instance` is the answering host, as Conductor's server sets it.
    body = {
        "status": status,
        "message": message,
        "instance": socket.gethostname(),
        "retryable": False,
    }
    return status, body


def token_response(body: object, now: int | None = None) -> tuple[int, dict[str, Any]]:
    """Answer Conductor's `POST /api/token` body `{"keyId", "keySecret"}`.

    Returns the status code and JSON body: 200 `{"token": ...}`, 400 for a malformed body, 401
    for an unknown key or a wrong secret (the same answer for both, so key ids cannot be probed).
    """
    if not isinstance(body, dict):
        return _error(400, 'The body must be a JSON object {"keyId": "...", "keySecret": "..."}')
    key_id, key_secret = body.get("keyId"), body.get("keySecret")
    if (
        not isinstance(key_id, str)
        or not isinstance(key_secret, str)
        or not key_id
        or not key_secret
    ):
        return _error(400, "keyId and keySecret are required and must be strings")
    issued_at = now if now is not None else time.time_ns() // 1_000_000
    token = issue_token(key_id, key_secret, issued_at)
    if token is None:
        return _error(401, "Invalid keyId or keySecret")
    return 200, {"token": token}
