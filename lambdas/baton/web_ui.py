"""Baton's web UI, served by the API function from its build: files, and `index.html` for routes.

The API function answers these only for the API's UI resources (`/` and `/{proxy+}`, GET and
HEAD), never for `/api`: what it serves here is the built UI and nothing else, so these routes
need no authorization of their own. Every call the UI makes goes to `/api`, with the caller's
credentials, like any other client's.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Where the build is: BATON_UI_DIR; in the Lambda asset, `ui/` beside the `baton` package; in a
# checkout, the UI's build folder.
UI_DIR_VARIABLE = "BATON_UI_DIR"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
CANDIDATE_DIRS = (_PACKAGE_ROOT / "ui", _PACKAGE_ROOT.parent / "ui" / "dist")
# The API Gateway resources whose requests are the UI's.
UI_RESOURCES = frozenset({"/", "/{proxy+}"})

_TEXT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
NOT_BUILT_PAGE = (
    "Baton is running; Conductor's REST API is under /api.\n"
    "The web UI is not built: `make run` builds it (make ui).\n"
)


@dataclass(frozen=True)
class StaticFile:
    content_type: str
    body: bytes
    # Built assets are named by their content's hash, so a name never changes content.
    immutable: bool


def ui_dir() -> Path | None:
    configured = os.environ.get(UI_DIR_VARIABLE)
    candidates = (Path(configured),) if configured else CANDIDATE_DIRS
    return next((d for d in candidates if (d / "index.html").is_file()), None)


def static_file(path: str, root: Path | None = None) -> StaticFile | None:
    """The file a request path names, `index.html` for any other path; None if not built."""
    base = root or ui_dir()
    if base is None or not (base / "index.html").is_file():
        return None
    base = base.resolve()
    index = base / "index.html"
    relative = path.lstrip("/")
    candidate = (base / relative).resolve() if relative else index
    # A path that climbs out of the build (`..`, a symlink) gets the page, never the file.
    if not candidate.is_relative_to(base) or not candidate.is_file():
        candidate = index
    content_type = _TEXT_TYPES.get(candidate.suffix) or (
        mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
    )
    immutable = candidate != index and candidate.parent.name == "assets"
    return StaticFile(content_type, candidate.read_bytes(), immutable)


def is_ui_request(event: dict[str, Any]) -> bool:
    return event.get("resource") in UI_RESOURCES


def answer(event: dict[str, Any]) -> dict[str, Any]:
    """The proxy result for a request to one of the UI's resources."""
    method = str(event.get("httpMethod", "GET")).upper()
    path = str(event.get("path") or "/")
    if method not in ("GET", "HEAD"):
        return _plain(405, "The web UI answers GET and HEAD; Conductor's API is under /api\n")
    found = static_file(path)
    if found is None:
        return _plain(200 if path == "/" else 404, NOT_BUILT_PAGE)
    cache = "public, max-age=31536000, immutable" if found.immutable else "no-cache"
    headers = {
        "Content-Type": found.content_type,
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        # The UI loads nothing from elsewhere and is never framed.
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'",
    }
    if found.content_type.startswith(("text/", "application/json", "image/svg")):
        return {"statusCode": 200, "headers": headers, "body": found.body.decode("utf-8")}
    return {
        "statusCode": 200,
        "headers": headers,
        "body": base64.b64encode(found.body).decode("ascii"),
        "isBase64Encoded": True,
    }


def _plain(status: int, text: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "text/plain; charset=utf-8"},
        "body": text,
    }
