"""API Gateway's part: HTTP requests become HTTP API proxy events (payload format 1.0) for the
API function, and back.

Every error this server answers itself (a method it has no handler for, a malformed request
line, header or body, a method other than GET or HEAD outside /api, a function that fails) is
an HTTP answer with Conductor's error body, `{status, message, instance, retryable}`, as the
API's own errors are.

The event has the shape an HTTP API gives the stack's routes with a payload format 1.0 Lambda
integration: `ANY /api/{proxy+}` for Conductor's API, `GET /` and `GET /{proxy+}` for the web
UI (baton.web_ui), on the `$default` stage. As on AWS, query string values are decoded, and so
is the path, the way an HTTP API decodes it (`http_api_path`): `/api/event/sqs%3Aq` arrives as
`/api/event/sqs:q`, a `%2F` becomes a `/`, the path ends at an encoded `?`, and what is left is
decoded once more, so an escape that is not one then (from `%25`) is refused with a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from embedded import browser_guard
from embedded.functions import ACCOUNT_ID, Function

logger = logging.getLogger(__name__)

API_PREFIX = "/api"
# The stack's resources (infra/api.py): Conductor's API, and the web UI's.
API_RESOURCE = "/api/{proxy+}"
ROOT_RESOURCE = "/"
UI_RESOURCE = "/{proxy+}"
STAGE = "$default"
API_ID = "local"
PAYLOAD_FORMAT = "1.0"
# A `%` that does not start an escape of two hex digits.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Headers the HTTP server writes itself; a handler's values for them would be wrong here.
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "date", "server"})
# The methods an HTTP API's ANY route takes; the server answers any other with a 501.
GATEWAY_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


# API Gateway's limit on a request's payload.
MAX_BODY_BYTES = 10 * 1024 * 1024


class MalformedRequest(Exception):
    """A request whose framing (Content-Length, chunked encoding) cannot be read."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _too_large(length: int) -> MalformedRequest:
    return MalformedRequest(
        f"The request body is {length} bytes or more; the limit is {MAX_BODY_BYTES}", 413
    )


def _multi_value(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """API Gateway's two views: the last value of each name, and all of them in order."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _decoded(path: str) -> str:
    if _BAD_ESCAPE.search(path):
        raise MalformedRequest("The path holds a '%' that starts no percent-escape")
    try:
        return unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise MalformedRequest("The path holds percent-escapes that are not UTF-8") from None


def http_api_path(raw_path: str) -> str:
    """The path an HTTP API hands its integration for `raw_path` as the client sent it.

    As measured on AWS: decoded, cut at the first `?` that decoding made, then decoded again
    (`%253F` arrives as `?`, `%2525` as `%`, and `%25` followed by no escape is refused).
    """
    once = _decoded(raw_path).partition("?")[0]
    return _decoded(once)


def _path_parameters(resource: str, path: str) -> dict[str, str] | None:
    """What API Gateway puts in `pathParameters.proxy`: the path below the resource's prefix."""
    if not resource.endswith("{proxy+}"):
        return None
    prefix = resource.removesuffix("{proxy+}")
    return {"proxy": path.removeprefix(prefix) if path.startswith(prefix) else path.lstrip("/")}


def proxy_event(
    *,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    source_ip: str,
    request_id: str | None = None,
    resource: str = "/api/{proxy+}",
) -> dict[str, Any]:
    """The HTTP API proxy event for one request; `target` is the raw request-target, and
    `resource` the path of the route it matched (the stack's: infra/api.py).

    Raises MalformedRequest for a path an HTTP API refuses (see `http_api_path`).
    """
    parts = urlsplit(target)
    path = http_api_path(parts.path or "/")
    request_id = request_id or str(uuid.uuid4())
    single_headers, multi_headers = _multi_value(headers)
    query = parse_qsl(parts.query, keep_blank_values=True)
    single_query, multi_query = _multi_value(query)
    if not body:
        text: str | None = None
        is_base64 = False
    else:
        try:
            text = body.decode("utf-8")
            is_base64 = False
        except UnicodeDecodeError:
            text = base64.b64encode(body).decode("ascii")
            is_base64 = True
    user_agent = next((v for k, v in headers if k.lower() == "user-agent"), None)
    host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
    now = time.time()
    return {
        "version": PAYLOAD_FORMAT,
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": _path_parameters(resource, path),
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": None,
            "resourcePath": resource,
            "stage": STAGE,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


class MalformedProxyResult(Exception):
    """The handler returned something API Gateway would answer with a 502."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def error_reply(status: int, message: str, *, retryable: bool = False) -> HttpReply:
    """An answer of the gateway itself, with Conductor's error body."""
    body = {
        "status": status,
        "message": message,
        "instance": socket.gethostname(),
        "retryable": retryable,
    }
    return HttpReply(status, [("Content-Type", "application/json")], json.dumps(body).encode())


def http_reply(result: Any) -> HttpReply:
    """The HTTP response for a proxy integration's result.

    As API Gateway does, `multiValueHeaders` wins over `headers` for a name in both.
    """
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise MalformedProxyResult(f"A proxy result needs an integer statusCode, got {result!r}")
    multi: dict[str, Any] = result.get("multiValueHeaders") or {}
    single: dict[str, Any] = result.get("headers") or {}
    headers = [(name, str(value)) for name, values in multi.items() for value in values]
    in_multi = {name.lower() for name in multi}
    headers += [(n, str(v)) for n, v in single.items() if n.lower() not in in_multi]
    headers = [(n, v) for n, v in headers if n.lower() not in _SERVER_HEADERS]
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise MalformedProxyResult(f"A proxy result's body must be a string, got {type(body)}")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as error:
            raise MalformedProxyResult(f"isBase64Encoded body is not base64: {error}") from None
    else:
        payload = body.encode("utf-8")
    return HttpReply(status=result["statusCode"], headers=headers, body=payload)


class _GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: many clients connecting at once wait to be accepted instead of being
    # reset (the standard library's default is 5).
    request_queue_size = 1024
    function: Function
    hosts: frozenset[str]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        # A response is written as headers then body: without this, Nagle's algorithm holds
        # the body until the client acknowledges the headers, which it delays (40 ms).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _RequestHandler(BaseHTTPRequestHandler):
    server: _GatewayServer
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are closed, so their threads end.
    timeout = 60

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's errors (a method with no `do_` handler, a malformed request
        line or header), answered in Conductor's body instead of an HTML page."""
        phrase = self.responses.get(code, ("Error",))[0]
        method = getattr(self, "command", None)
        if code == 501 and method and method not in GATEWAY_METHODS:
            message = f"Method {method} is not supported; use one of " + ", ".join(GATEWAY_METHODS)
        # A request line too malformed to name its version leaves HTTP/0.9, which would get a
        # body with no status line: answer in this server's HTTP version instead.
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = self.protocol_version
        self.close_connection = True
        self._send(error_reply(code, message or phrase), close=True)

    def _read_body(self) -> bytes:
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunks()
            text = self.headers.get("Content-Length") or "0"
            if not text.strip().isdigit():
                raise MalformedRequest(f"Content-Length must be a number of bytes, not {text!r}")
            length = int(text)
            if length > MAX_BODY_BYTES:
                raise _too_large(length)
        except ValueError as error:
            raise MalformedRequest(f"The chunked body is malformed: {error}") from None
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            raise MalformedRequest(f"The body ended after {len(body)} of {length} bytes")
        return body

    def _read_chunks(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise MalformedRequest("The chunked body ended before its last chunk")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size < 0:
                raise MalformedRequest("A chunk size cannot be negative")
            if size > MAX_BODY_BYTES:
                raise _too_large(size)
            if size == 0:
                # Trailers, if any, end with an empty line.
                while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise MalformedRequest("A chunk is shorter than its size or not ended by CRLF")
            chunks.append(chunk)
            received = sum(map(len, chunks))
            if received > MAX_BODY_BYTES:
                raise _too_large(received)

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except MalformedRequest as error:
            # The rest of the connection cannot be framed: answer, then close it.
            self.close_connection = True
            self._send(error_reply(error.status, str(error)), close=True)
            return
        try:
            path = urlsplit(self.path).path
        except ValueError as error:  # such as an absolute-form target with a broken IPv6 host
            self._send(error_reply(400, f"The request target cannot be read: {error}"))
            return
        try:
            browser_guard.check(
                method=self.command,
                path=path,
                headers={name.lower(): value for name, value in self.headers.items()},
                has_body=bool(body),
                hosts=self.server.hosts,
            )
        except browser_guard.Refusal as refusal:
            self._send(error_reply(refusal.status, str(refusal)))
            return
        try:
            # Routes match the path as the HTTP API decodes it.
            path = http_api_path(path)
        except MalformedRequest as error:
            self._send(error_reply(error.status, str(error)))
            return
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            self._send(self._invoke(body, API_RESOURCE))
        elif self.command in ("GET", "HEAD"):
            # The web UI, from the API function as the deployed stack serves it.
            self._send(self._invoke(body, ROOT_RESOURCE if path == "/" else UI_RESOURCE))
        else:
            self._send(
                error_reply(404, f"Nothing at {path}: Conductor's API is under {API_PREFIX}/")
            )

    def _invoke(self, body: bytes, resource: str) -> HttpReply:
        request_id = str(uuid.uuid4())
        try:
            event = proxy_event(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                request_id=request_id,
                resource=resource,
            )
        except MalformedRequest as error:
            return error_reply(error.status, str(error))
        try:
            reply = http_reply(self.server.function.invoke(event))
        except Exception:
            logger.exception(
                "%s %s failed in %s", self.command, self.path, self.server.function.name
            )
            # API Gateway answers 502 when the integration fails or its result is unreadable.
            reply = error_reply(502, "Internal server error", retryable=True)
        return HttpReply(
            reply.status, [*reply.headers, ("x-amzn-RequestId", request_id)], reply.body
        )

    def _send(self, reply: HttpReply, *, close: bool = False) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and reply.body:
            self.wfile.write(reply.body)


class Gateway:
    """An HTTP server in a thread of its own that hands /api requests to the API function."""

    def __init__(self, *, function: Function, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _GatewayServer((host, port), _RequestHandler)
        self._server.function = function
        self._server.hosts = browser_guard.own_hosts(self.host, self.port)
        self.thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="baton-gateway",
            daemon=True,
        )

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self.thread.is_alive():
            self._server.shutdown()
            self.thread.join(timeout)
        self._server.server_close()
