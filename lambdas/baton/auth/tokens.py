"""Short-lived tokens for the "conductor-keys" mode: compact JWTs signed with HMAC-SHA256.

A token names its key id (`sub`) and expiry (`exp`). The signing key is the value of a Secrets
Manager secret (`BATON_TOKEN_SECRET_ARN`), read once and cached for a few minutes so a rotated
secret takes over without a redeploy. Verifying also checks that the key still exists, so a
revoked key's tokens stop working (after API Gateway's authorizer cache, at most 5 minutes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
import time
from typing import Any, Final

from baton import settings
from baton.auth import keys

TOKEN_LIFETIME_SECONDS: Final = 3600
# The request header a token travels in, and the authorizer context key naming its API key.
TOKEN_HEADER: Final = "X-Authorization"
KEY_ID_CONTEXT: Final = "keyId"
# Conductor's SDKs renew tokens after 45 minutes, well within the lifetime above.
_SECRET_CACHE_SECONDS: Final = 300
_HEADER: Final = {"alg": "HS256", "typ": "JWT"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_segment(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


_ENCODED_HEADER: Final = _json_segment(_HEADER)


def _signature(signing_input: str, signing_key: bytes) -> bytes:
    return hmac.new(signing_key, signing_input.encode("ascii"), hashlib.sha256).digest()


def sign_token(key_id: str, now: int, signing_key: bytes) -> str:
    """A token for `key_id`, issued at `now` (epoch ms), valid for TOKEN_LIFETIME_SECONDS."""
    issued_at = now // 1000
    claims = {"sub": key_id, "iat": issued_at, "exp": issued_at + TOKEN_LIFETIME_SECONDS}
    signing_input = f"{_ENCODED_HEADER}.{_json_segment(claims)}"
    return f"{signing_input}.{_b64url(_signature(signing_input, signing_key))}"


def read_token(token: str, now: int, signing_key: bytes) -> str | None:
    """The key id in `token` if its signature is ours and it has not expired at `now` (epoch ms)."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != _ENCODED_HEADER:  # only HS256: no "none", no key confusion
        return None
    encoded_header, encoded_claims, encoded_signature = parts
    try:
        signature = _b64url_decode(encoded_signature)
        claims = json.loads(_b64url_decode(encoded_claims))
    except (binascii.Error, ValueError):
        return None
    expected = _signature(f"{encoded_header}.{encoded_claims}", signing_key)
    if not hmac.compare_digest(signature, expected) or not isinstance(claims, dict):
        return None
    key_id, expires_at = claims.get("sub"), claims.get("exp")
    if not isinstance(key_id, str) or not isinstance(expires_at, int):
        return None
    return key_id if now // 1000 < expires_at else None


_cache_lock = threading.Lock()
_cached_key: tuple[str, float, bytes] | None = None


def signing_key() -> bytes:
    """The HMAC key: the value of the secret named by BATON_TOKEN_SECRET_ARN, cached briefly."""
    global _cached_key  # noqa: PLW0603 - one cached secret per process, like an SDK client
    arn = os.environ.get(settings.TOKEN_SECRET_ARN)
    if not arn:
        raise RuntimeError(
            f"{settings.TOKEN_SECRET_ARN} is not set: the conductor-keys mode signs tokens with a "
            "Secrets Manager secret; deploy with `-c authMode=conductor-keys` to create it"
        )
    with _cache_lock:
        if _cached_key and _cached_key[0] == arn and time.monotonic() < _cached_key[1]:
            return _cached_key[2]
        import boto3  # deferred: only the token paths need Secrets Manager

        value = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
        key = str(value).encode()
        _cached_key = (arn, time.monotonic() + _SECRET_CACHE_SECONDS, key)
        return key


def issue_token(key_id: str, key_secret: str, now: int, *, key: bytes | None = None) -> str | None:
    """A token for the key if `key_secret` is its secret, else None. `now` is epoch ms."""
    if not keys.authenticate(key_id, key_secret):
        return None
    return sign_token(key_id, now, key if key is not None else signing_key())


def verify_token(token: str, now: int, *, key: bytes | None = None) -> str | None:
    """The key id a valid, unexpired token was issued to, if that key still exists."""
    key_id = read_token(token, now, key if key is not None else signing_key())
    if key_id is None or not keys.key_exists(key_id):
        return None
    return key_id
