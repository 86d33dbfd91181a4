"""DynamoDB's Time to Live, which moto does not play: expired items are deleted in the background.

DynamoDB deletes an item some time after its TTL attribute (epoch seconds) has passed; Baton
sets it on finished workflows (their retention), so the store does not grow without bound.
Each round looks at every table with TTL enabled and deletes what has expired, one DeleteItem
each, through the same path as any request (serialized with the others, and journalled), with a
condition so that an item whose TTL was pushed back meanwhile stays. A round reads only the
items that have expired (moto_patches keeps each table's items by their expiry time), not every
stored one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

INTERVAL_VARIABLE = "BATON_EXPIRY_SECONDS"
DEFAULT_INTERVAL_SECONDS = 60.0
_REGION = "us-east-1"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def expired_keys(table: Any, now: float) -> list[dict[str, Any]]:
    """The keys of a table's items whose TTL attribute is a number of seconds before `now`
    (the items that expire later are not read: see `moto_patches.expired_keys`)."""
    from embedded import moto_patches

    attribute = table.ttl.get("AttributeName")
    if table.ttl.get("TimeToLiveStatus") != "ENABLED" or not attribute:
        return []
    keys = []
    for hash_key, range_key in moto_patches.expired_keys(table, attribute, now):
        key = {table.hash_key_attr: hash_key.to_json()}
        if table.range_key_attr:
            key[table.range_key_attr] = range_key.to_json()
        keys.append(key)
    return keys


def _delete_request(table_name: str, attribute: str, key: dict[str, Any], now: float) -> bytes:
    import json

    return json.dumps(
        {
            "TableName": table_name,
            "Key": key,
            "ConditionExpression": "#expires <= :now",
            "ExpressionAttributeNames": {"#expires": attribute},
            "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
        }
    ).encode()


def delete_expired(app: WsgiApp, *, now: float | None = None) -> int:
    """One round over every table; the number of items deleted."""
    import io

    from embedded import moto_patches

    now = time.time() if now is None else now
    deleted = 0
    for key_name, table in moto_patches.all_tables().items():
        region, _, table_name = key_name.partition("/")
        attribute = table.ttl.get("AttributeName", "")
        for key in expired_keys(table, now):
            body = _delete_request(table_name, attribute, key, now)
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/",
                "QUERY_STRING": "",
                "SERVER_NAME": "localhost",
                "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": io.StringIO(),
                "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": "application/x-amz-json-1.0",
                "HTTP_HOST": "localhost",
                "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.DeleteItem",
                "HTTP_AUTHORIZATION": (
                    f"AWS4-HMAC-SHA256 Credential=expiry/20000101/{region or _REGION}/dynamodb/"
                    "aws4_request, SignedHeaders=host, Signature=0"
                ),
            }
            if _status(app, environ) == 200:
                deleted += 1
    return deleted


def _status(app: WsgiApp, environ: dict[str, Any]) -> int:
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    list(app(environ, start_response))
    return int(statuses[0].split(" ", 1)[0]) if statuses else 500


class Expiry:
    """A daemon thread that deletes expired items every `interval_seconds`."""

    def __init__(self, app: WsgiApp, interval_seconds: float | None = None) -> None:
        self._app = app
        self.interval_seconds = (
            interval_seconds
            if interval_seconds is not None
            else float(os.environ.get(INTERVAL_VARIABLE) or DEFAULT_INTERVAL_SECONDS)
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ttl-expiry", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_seconds):
            try:
                deleted = delete_expired(self._app)
                if deleted:
                    logger.info("Deleted %d expired item(s)", deleted)
            except Exception:
                logger.exception("Deleting expired items failed; trying again next round")
