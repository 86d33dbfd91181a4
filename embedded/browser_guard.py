"""What keeps web pages out of the local API: its own Host names and Origin only, JSON bodies.

The local API, as Conductor's local server, has no authentication: anything that can reach
127.0.0.1 could otherwise drive it.

- **Host.** A page on a domain that resolves to 127.0.0.1 (DNS rebinding) sends its own name as
  Host: only this server's own names (127.0.0.1, localhost, [::1], or the address it is bound
  to, with its port) are served.
- **Origin.** A browser names the page that sent a request in Origin (and, for the requests
  that may go without, in Sec-Fetch-Site): a request from any other origin than this server's
  own (where its UI is served) is refused.
- **Content type.** A cross-site form or `fetch` without a preflight can only send text/plain,
  form or multipart bodies: a body is accepted as JSON only, as Conductor's API reads it,
  except where Conductor takes text (a task's log line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# Routes whose body Conductor reads as text, by method; any other body must be JSON.
_TEXT_BODIES = {"POST": (re.compile(r"^/api/tasks/[^/]+/log$"),)}
_JSON = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
_TEXT = "text/plain"


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def own_hosts(bound_host: str, port: int) -> frozenset[str]:
    """The Host values this server answers to."""
    names = set(LOOPBACK_NAMES)
    if bound_host not in ("", "0.0.0.0", "::"):
        names.add(f"[{bound_host}]" if ":" in bound_host else bound_host)
    return frozenset(f"{name}:{port}" for name in names)


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def check(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    has_body: bool,
    hosts: frozenset[str],
) -> None:
    """Raise Refusal if this request must not be served; `headers` by lower-case name."""
    host = headers.get("host", "").strip().lower()
    if host not in hosts:
        raise Refusal(
            403, f"Host {host or '(none)'!r} is not this server; use one of {sorted(hosts)}"
        )
    origin = headers.get("origin")
    if origin is not None:
        own = origin.strip().lower().removeprefix("http://")
        if not origin.strip().lower().startswith("http://") or own not in hosts:
            raise Refusal(403, f"Requests from {origin!r} are refused: it is not this server")
    elif headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        raise Refusal(403, "Requests from other sites are refused")
    if not has_body or not path.startswith("/api/"):
        return
    media_type = _media_type(headers.get("content-type", ""))
    if _JSON.match(media_type):
        return
    takes_text = any(p.match(path) for p in _TEXT_BODIES.get(method, ()))
    if takes_text and media_type == _TEXT:
        return
    expected = "application/json" + (" or text/plain" if takes_text else "")
    raise Refusal(
        415, f"Content type {media_type or '(none)'!r} is not supported here: send {expected}"
    )
