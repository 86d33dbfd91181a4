"""API keys: a key id and a secret, kept in the metadata table with the secret only hashed.

Each key is one `MetadataItem` under pk `API_KEY`, sk `<key id>`; its body holds the name, the
scrypt parameters, the per-key salt and the hash. The secret itself is shown once, when the key
is created, and never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DeleteError, PutError

from baton.store.models import MetadataItem

KEY_PARTITION = "API_KEY"

# scrypt cost: 16 MiB and tens of milliseconds per check, paid once per token (not per request).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
HASH_BYTES = 32
SALT_BYTES = 16
SECRET_BYTES = 32
MAX_NAME_LENGTH = 200
MAX_KEY_ID_LENGTH = 64

_CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class ApiKey:
    """What may be shown about a key: never its secret nor its hash."""

    key_id: str
    name: str
    created_at: int  # epoch milliseconds


def hash_secret(
    secret: str, *, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES)


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_record(name: str, secret: str, *, created_at: int) -> dict[str, Any]:
    """The stored body of a key: its name and how to check a presented secret against it."""
    salt = secrets.token_bytes(SALT_BYTES)
    return {
        "name": name,
        "algorithm": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": _b64encode(salt),
        "hash": _b64encode(hash_secret(secret, salt=salt)),
        "createdAt": created_at,
    }


def secret_matches(record: dict[str, Any], secret: str) -> bool:
    """Whether `secret` is the one `record` was made from (constant-time comparison)."""
    if record.get("algorithm") != "scrypt":
        return False
    presented = hash_secret(
        secret,
        salt=base64.b64decode(record["salt"]),
        n=int(record["n"]),
        r=int(record["r"]),
        p=int(record["p"]),
    )
    return hmac.compare_digest(presented, base64.b64decode(record["hash"]))


def create_key(name: str, *, now: int | None = None) -> tuple[str, str]:
    """Store a new key named `name` and return `(key_id, key_secret)`; the secret is not kept."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A key needs a name of 1 to {MAX_NAME_LENGTH} characters")
    created_at = now if now is not None else time.time_ns() // 1_000_000
    key_id = str(uuid.uuid4())
    key_secret = secrets.token_urlsafe(SECRET_BYTES)
    item = MetadataItem(
        KEY_PARTITION,
        key_id,
        body=json.dumps(key_record(name, key_secret, created_at=created_at)),
        update_time=created_at,
    )
    try:
        item.save(condition=MetadataItem.sk.does_not_exist())
    except PutError as error:  # a uuid4 collision: astronomically unlikely, never overwrite
        raise RuntimeError(f"Key id {key_id} already exists; create the key again") from error
    return key_id, key_secret


def revoke_key(key_id: str) -> bool:
    """Delete the key; tokens it was issued stop working. False if there was no such key."""
    try:
        MetadataItem(KEY_PARTITION, key_id).delete(condition=MetadataItem.sk.exists())
    except DeleteError as error:
        if error.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def list_keys() -> list[ApiKey]:
    """Every key, oldest first."""
    keys = [
        ApiKey(key_id=item.sk, name=body.get("name", ""), created_at=int(body.get("createdAt", 0)))
        for item in MetadataItem.query(KEY_PARTITION, consistent_read=True)
        for body in [json.loads(item.body or "{}")]
    ]
    return sorted(keys, key=lambda key: (key.created_at, key.key_id))


def _load(key_id: str) -> MetadataItem | None:
    if not key_id or len(key_id) > MAX_KEY_ID_LENGTH:  # DynamoDB rejects such keys outright
        return None
    try:
        return MetadataItem.get(KEY_PARTITION, key_id, consistent_read=True)
    except MetadataItem.DoesNotExist:
        return None


def authenticate(key_id: str, key_secret: str) -> bool:
    """Whether `key_id` exists and `key_secret` is its secret."""
    item = _load(key_id)
    return item is not None and secret_matches(json.loads(item.body or "{}"), key_secret)


def key_exists(key_id: str) -> bool:
    """Whether `key_id` is a key that has not been revoked."""
    return _load(key_id) is not None
