"""The two ways an API caller can authenticate, selected per deployment."""

from __future__ import annotations

import os
from typing import Final, Literal, TypeAlias

from baton import settings

AuthMode: TypeAlias = Literal["iam", "conductor-keys"]

# SigV4-signed requests, checked by API Gateway against the caller's IAM policies.
IAM: Final = "iam"
# Conductor's scheme: a key id and secret exchanged at `POST /api/token` for a short-lived token
# that every other request carries in the `X-Authorization` header.
CONDUCTOR_KEYS: Final = "conductor-keys"
AUTH_MODES: Final[tuple[AuthMode, ...]] = (IAM, CONDUCTOR_KEYS)


def current_mode() -> AuthMode:
    """The mode this deployment runs in, from `BATON_AUTH_MODE` (IAM when unset)."""
    mode = os.environ.get(settings.AUTH_MODE) or IAM
    if mode not in AUTH_MODES:
        raise ValueError(
            f"{settings.AUTH_MODE}={mode!r} is not a known mode: use one of {', '.join(AUTH_MODES)}"
        )
    return mode
