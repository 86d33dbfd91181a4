"""The WSGI server in front of moto: requests parsed as the standard library parses them."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from embedded.wsgi_server import KeepAliveWsgiServer


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "headers": {k: v for k, v in environ.items() if k.startswith("HTTP_")},
        "content_type": environ.get("CONTENT_TYPE"),
        "body": body.decode(),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


@pytest.fixture
def server() -> Iterator[KeepAliveWsgiServer]:
    running = KeepAliveWsgiServer("127.0.0.1", 0, echo)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _raw(server: KeepAliveWsgiServer, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_requests_on_one_kept_connection_are_read_whole(server: KeepAliveWsgiServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    for number in range(2):
        connection.request(
            "POST",
            f"/a%20path?n={number}",
            body=b'{"x": 1}',
            headers={"Content-Type": "application/json", "X-Amz-Target": "Service.Op"},
        )
        response = connection.getresponse()
        seen = json.loads(response.read())
        assert response.status == 200 and not response.will_close
        assert seen["path"] == "/a path" and seen["query"] == f"n={number}"
        assert seen["headers"]["HTTP_X_AMZ_TARGET"] == "Service.Op"
        assert seen["content_type"] == "application/json" and seen["body"] == '{"x": 1}'
    connection.close()


def test_close_http_1_0_folded_lines_and_oversized_headers(server: KeepAliveWsgiServer) -> None:
    closed = _raw(server, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert closed.startswith(b"HTTP/1.1 200") and b"Connection: close" in closed
    # HTTP/1.0 closes unless asked to keep the connection (the read above would hang).
    assert _raw(server, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 200")
    folded = _raw(server, b"GET / HTTP/1.1\r\nX-Long: one\r\n two\r\nConnection: close\r\n\r\n")
    body = json.loads(folded.split(b"\r\n\r\n", 1)[1])
    assert body["headers"]["HTTP_X_LONG"] == "one two"
    too_long = _raw(server, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert too_long.startswith(b"HTTP/1.1 431")
    too_many = b"".join(b"X-%d: v\r\n" % n for n in range(101))
    assert _raw(server, b"GET / HTTP/1.1\r\n" + too_many + b"\r\n").startswith(b"HTTP/1.1 431")
    # Refused by the standard library's own parse.
    assert b"505" in _raw(server, b"GET / HTTP/2.0\r\n\r\n")
