"""Conductor's key-and-secret authentication, for deployments in the "conductor-keys" mode.

Operators create and revoke keys with `python -m baton.auth create|revoke|list`; SDKs exchange a
key id and secret for a token at `POST /api/token` (`token_response`); API Gateway's authorizer
checks that token on every other request (`verify_token`).
"""

from __future__ import annotations

from baton.auth.api import token_response
from baton.auth.keys import ApiKey, create_key, list_keys, revoke_key
from baton.auth.modes import CONDUCTOR_KEYS, IAM, AuthMode, current_mode
from baton.auth.tokens import (
    KEY_ID_CONTEXT,
    TOKEN_HEADER,
    TOKEN_LIFETIME_SECONDS,
    issue_token,
    verify_token,
)

__all__ = [
    "CONDUCTOR_KEYS",
    "IAM",
    "KEY_ID_CONTEXT",
    "TOKEN_HEADER",
    "TOKEN_LIFETIME_SECONDS",
    "ApiKey",
    "AuthMode",
    "create_key",
    "current_mode",
    "issue_token",
    "list_keys",
    "revoke_key",
    "token_response",
    "verify_token",
]
