"""The IAM mode's UI proxy: the UI's files, and /api calls signed with SigV4 for its own pages."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from baton import web_ui
from embedded import ui_proxy


class _FakeApi(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _FakeApi.received.append(
            {"path": self.path, "headers": dict(self.headers.items()), "body": body}
        )
        answer = b"the-workflow-id"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Set-Cookie", "not=forwarded")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    (tmp_path / "index.html").write_text("<!doctype html><title>Baton</title>")
    monkeypatch.setenv(web_ui.UI_DIR_VARIABLE, str(tmp_path))
    api = ThreadingHTTPServer(("127.0.0.1", 0), _FakeApi)
    _serve(api)
    _FakeApi.received = []
    credentials = Credentials("AKIDEXAMPLE", "secret", "session-token")
    forwarder = ui_proxy.SigningForwarder(
        f"http://127.0.0.1:{api.server_address[1]}/prod/", "eu-west-1", credentials
    )
    server = ui_proxy.make_server(forwarder, port=0)
    _serve(server)
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        api.shutdown()
        api.server_close()


def _request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            method, path, body=body, headers={"Host": f"127.0.0.1:{port}", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_api_calls_are_signed_for_execute_api_and_keep_their_path_and_body(proxy: int) -> None:
    status, headers, body = _request(
        proxy,
        "POST",
        "/api/workflow/event_testing?version=1",
        {"Content-Type": "application/json", "Cookie": "private=1"},
        b"{}",
    )
    assert status == 200 and body == b"the-workflow-id"
    assert "Set-Cookie" not in headers
    (received,) = _FakeApi.received
    assert received["path"] == "/prod/api/workflow/event_testing?version=1"
    assert received["body"] == b"{}"
    authorization = received["headers"]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "host" in authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert received["headers"]["X-Amz-Security-Token"] == "session-token"
    assert "Cookie" not in received["headers"]


def test_pages_are_the_ui_build(proxy: int) -> None:
    status, headers, body = _request(proxy, "GET", "/execution/some-id")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<title>Baton</title>" in body


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Host": "rebound.example:8081"},
    ],
)
def test_requests_from_other_sites_or_for_other_hosts_are_refused_unsigned(
    proxy: int, headers: dict[str, str]
) -> None:
    status, _, body = _request(proxy, "POST", "/api/workflow/event_testing", headers, b"{}")
    assert status == 403
    assert json.loads(body)["status"] == 403
    assert _FakeApi.received == []


def test_the_region_is_read_from_the_api_url() -> None:
    url = "https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod/"
    assert ui_proxy.region_of(url) == "ap-southeast-2"
    assert ui_proxy.region_of("https://example.com/prod/") is None
