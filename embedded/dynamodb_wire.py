"""pynamodb's item requests to the runtime's own moto, written as DynamoDB's JSON without botocore.

pynamodb already builds each request in DynamoDB's wire format; botocore then walked it against
the service model, resolved the endpoint, ran its event hooks, signed it and walked the answer
back: about half of an API environment's CPU per request. For the item operations sent to the
runtime's own moto server (which checks the access key only, see embedded.moto_server) the
request is sent as it is, over the process's kept-alive connections to that server, and the
answer is read as botocore would hand it to pynamodb: binary values decoded, an error raised
as botocore's `ClientError` with its code, message and the error's own fields (a
transaction's `CancellationReasons`). Any other operation, and any other endpoint, goes
through botocore.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

TARGET_PREFIX = "DynamoDB_20120810."
# The operations whose requests and answers hold only JSON and attribute values.
ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
TIMEOUT_SECONDS = 60.0
_ERROR_FIELDS = frozenset({"__type", "message", "Message"})


def _encoded(value: object) -> str:
    """A binary attribute value as DynamoDB's JSON carries it (botocore's blob serializer)."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a DynamoDB JSON value")


def decoded_binaries(value: Any) -> Any:
    """`value` with every binary attribute value (`{"B": text}`, `{"BS": [text]}`) decoded to
    bytes, as botocore's parser hands them over. In an answer only an attribute value holds a
    "B" or "BS" key whose value is text: a map of names holds attribute values (dicts)."""
    if isinstance(value, dict):
        if len(value) == 1:
            if isinstance(value.get("B"), str):
                return {"B": base64.b64decode(value["B"])}
            members = value.get("BS")
            if isinstance(members, list) and all(isinstance(m, str) for m in members):
                return {"BS": [base64.b64decode(m) for m in members]}
        return {name: decoded_binaries(member) for name, member in value.items()}
    if isinstance(value, list):
        return [decoded_binaries(member) for member in value]
    return value


def _parsed(body: bytes) -> Any:
    answer = json.loads(body) if body else {}
    if b'"B"' in body or b'"BS"' in body:
        answer = decoded_binaries(answer)
    return answer


class _Connection:
    """One kept-alive HTTP/1.1 connection: a request written whole, its answer read by its
    Content-Length (the runtime's moto server always sends one)."""

    def __init__(self, host: str, port: int) -> None:
        self.socket = socket.create_connection((host, port), timeout=TIMEOUT_SECONDS)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.socket.makefile("rb")

    def exchange(
        self, head: bytes, body: bytes, *, answer_has_body: bool = True
    ) -> tuple[int, dict[str, str], bytes, bool]:
        """The status, headers (lower-case names), body, and whether the server closes. An
        interim `100 Continue` is skipped; the answer to a HEAD (`answer_has_body` false) has
        no body whatever its Content-Length says."""
        self.socket.sendall(head + body)
        while True:
            status_line = self.reader.readline(65537)
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                raise ConnectionError(f"Not an HTTP answer: {status_line[:80]!r}")
            status = int(parts[1])
            headers: dict[str, str] = {}
            while True:
                line = self.reader.readline(65537)
                if line in (b"\r\n", b"\n"):
                    break
                if not line:
                    raise ConnectionError("The connection closed inside an answer's headers")
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if status != 100:
                break
        length = int(headers.get("content-length", "0")) if answer_has_body else 0
        data = self.reader.read(length) if length else b""
        if len(data) < length:
            raise ConnectionError("The connection closed inside an answer's body")
        return status, headers, data, headers.get("connection", "").lower() == "close"

    def idle_and_open(self) -> bool:
        """False when the server has closed it while it was idle (it reads as ready)."""
        import select

        return not select.select([self.socket], [], [], 0)[0]

    def close(self) -> None:
        self.reader.close()
        self.socket.close()


class ConnectionPool:
    """The idle kept-alive connections of a process to one server, the last returned first.

    Not one per thread: an environment runs each invocation on a thread of its own, so a
    connection per thread was a new connection, and a new thread in moto's server, per
    invocation. One pool per server serves pynamodb's item requests and botocore's others
    (see environments.send_over_plain_connections), so neither keeps connections of its own.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def _take(self) -> tuple[_Connection, bool]:
        """An idle connection the server has not closed, or a new one; whether it was kept."""
        while True:
            with self._lock:
                kept = self._idle.pop() if self._idle else None
            if kept is None:
                return _Connection(self.host, self.port), False
            if kept.idle_and_open():
                return kept, True
            kept.close()

    def exchange(
        self, head: bytes, body: bytes, *, answer_has_body: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request and read its answer: the status, headers and body.

        A kept connection the server closed just now fails at once: tried again on a new
        one, as botocore retries a closed connection. A timeout is not retried: the request
        may have been applied. Raises OSError (ConnectionRefusedError when nothing listens)
        or ValueError for an answer that is not HTTP."""
        for attempt in (1, 2):
            connection, kept = self._take()
            try:
                status, headers, data, closes = connection.exchange(
                    head, body, answer_has_body=answer_has_body
                )
                break
            except (OSError, ValueError) as error:
                connection.close()
                if not (kept and attempt == 1) or isinstance(error, TimeoutError):
                    raise
        if closes:
            connection.close()
        else:
            with self._lock:
                self._idle.append(connection)
        return status, headers, data


_pools: dict[tuple[str, int], ConnectionPool] = {}
_pools_lock = threading.Lock()


def pool_for(host: str, port: int) -> ConnectionPool:
    """This process's one pool of connections to `host`:`port`."""
    with _pools_lock:
        pool = _pools.get((host, port))
        if pool is None:
            pool = _pools[(host, port)] = ConnectionPool(host, port)
        return pool


class WireClient:
    """What pynamodb calls on its botocore client, `_make_api_call`, for one endpoint: the
    item operations over the wire, the rest through `botocore_client` (whose `meta` this has)."""

    def __init__(
        self,
        botocore_client: Any,
        endpoint_url: str,
        access_key_id: str,
        region: str,
        pool: ConnectionPool | None = None,
    ):
        parts = urlsplit(endpoint_url)
        self.botocore_client = botocore_client
        self.meta = botocore_client.meta
        self._netloc = parts.netloc
        self._access_key_id = access_key_id
        self._region = region
        self.pool = pool or pool_for(parts.hostname or "127.0.0.1", parts.port or 80)

    def _authorization(self) -> str:
        # What the runtime's moto checks: the access key (see environments.sign_with_key_only).
        day = time.strftime("%Y%m%d", time.gmtime())
        return (
            f"AWS4-HMAC-SHA256 Credential={self._access_key_id}/{day}/{self._region}/dynamodb/"
            "aws4_request, SignedHeaders=host, Signature=unsigned"
        )

    def _make_api_call(self, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
        if operation_name not in ITEM_OPERATIONS:
            return self.botocore_client._make_api_call(operation_name, operation_kwargs)
        from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

        body = json.dumps(operation_kwargs, separators=(",", ":"), default=_encoded).encode()
        head = (
            f"POST / HTTP/1.1\r\nHost: {self._netloc}\r\n"
            "Content-Type: application/x-amz-json-1.0\r\n"
            f"X-Amz-Target: {TARGET_PREFIX}{operation_name}\r\n"
            f"Authorization: {self._authorization()}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        url = f"http://{self._netloc}/"
        try:
            status, headers, data = self.pool.exchange(head, body)
        except ConnectionRefusedError as error:
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        except (OSError, ValueError) as error:
            raise ConnectionClosedError(endpoint_url=url, request=None, error=error) from error
        metadata = {"HTTPStatusCode": status, "HTTPHeaders": headers}
        if status < 300:
            answer = _parsed(data)
            answer["ResponseMetadata"] = metadata
            return answer
        try:
            error_body = _parsed(data)
        except ValueError:
            error_body = {"message": data.decode("utf-8", "replace")}
        code = str(error_body.get("__type", "")).rsplit("#", 1)[-1] or str(status)
        message = error_body.get("message", error_body.get("Message", ""))
        parsed = {
            name: value for name, value in error_body.items() if name not in _ERROR_FIELDS
        } | {"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}
        raise ClientError(parsed, operation_name)


def write_integers_directly() -> None:
    """pynamodb writes every number attribute with `json.dumps`, which builds an encoder per
    call: a tenth of an API environment's CPU. An int is written as `json.dumps` writes it,
    its decimal digits; anything else (a float, a bool) still goes through `json.dumps`."""
    from pynamodb.attributes import NumberAttribute

    through_json = NumberAttribute.serialize

    def serialize(attribute: Any, value: Any) -> Any:
        if type(value) is int:
            return str(value)
        return through_json(attribute, value)

    NumberAttribute.serialize = serialize  # type: ignore[method-assign]


def route_item_requests(endpoint_url: str, access_key_id: str, region: str) -> None:
    """pynamodb connections to `endpoint_url` in this process send their item operations over
    the wire. Only for processes whose requests to it need no signature (see
    environments.sign_with_key_only)."""
    from pynamodb.connection.base import Connection

    through_botocore: Any = Connection.client

    def client(connection: Any) -> Any:
        botocore_client = through_botocore.fget(connection)
        if connection.host != endpoint_url:
            return botocore_client
        wire: WireClient | None = connection.__dict__.get("_wire_client")
        if wire is None or wire.botocore_client is not botocore_client:
            wire = WireClient(botocore_client, endpoint_url, access_key_id, region)
            connection.__dict__["_wire_client"] = wire
        return wire

    Connection.client = property(client)  # type: ignore[method-assign,assignment]
    write_integers_directly()
