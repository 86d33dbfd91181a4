"""The local API refuses what a web page could send: foreign origins and hosts, non-JSON bodies."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from embedded.browser_guard import own_hosts
from embedded.functions import LocalFunction
from embedded.gateway import Gateway


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls += 1
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def gateway(recorder: Recorder) -> Iterator[Gateway]:
    function = LocalFunction(
        name="baton-api", handler=recorder, region="us-east-1", timeout_seconds=29
    )
    server = Gateway(function=function, port=0)
    server.start()
    yield server
    server.stop()


def send(
    gateway: Gateway,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    host: str | None = None,
) -> tuple[int, dict[str, Any] | str]:
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", f"127.0.0.1:{gateway.port}" if host is None else host)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        raw = response.read().decode()
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        return response.status, json.loads(raw) if is_json else raw
    finally:
        connection.close()


def test_a_cross_site_text_plain_post_is_refused_before_the_api(
    gateway: Gateway, recorder: Recorder
) -> None:
    before = recorder.calls
    status, body = send(
        gateway,
        "POST",
        "/api/metadata/workflow",
        body=b'{"name": "planted", "tasks": []}',
        headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
    )
    assert status == 403
    assert isinstance(body, dict) and set(body) == {"status", "message", "instance", "retryable"}
    assert recorder.calls == before


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_other_origins_are_refused(gateway: Gateway, recorder: Recorder, origin: str) -> None:
    before = recorder.calls
    status, _ = send(
        gateway,
        "GET",
        "/api/metadata/workflow",
        headers={"Origin": origin.format(port=gateway.port)},
    )
    assert status == 403
    assert recorder.calls == before


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
def test_its_own_origin_and_hosts_are_served(gateway: Gateway, name: str) -> None:
    own = f"{name}:{gateway.port}"
    status, _ = send(
        gateway,
        "POST",
        "/api/metadata/workflow",
        body=b"{}",
        headers={"Origin": f"http://{own}", "Content-Type": "application/json"},
        host=own,
    )
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1:1", "", "localhost"])
def test_unexpected_host_headers_are_refused(
    gateway: Gateway, recorder: Recorder, host: str
) -> None:
    before = recorder.calls
    status, _ = send(gateway, "GET", "/api/metadata/workflow", host=host.format(port=gateway.port))
    assert status == 403
    assert recorder.calls == before


def test_a_cross_site_request_without_origin_is_refused(gateway: Gateway) -> None:
    status, _ = send(
        gateway, "GET", "/api/tasks/poll/work", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert status == 403
    status, _ = send(
        gateway, "GET", "/api/tasks/poll/work", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert status == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_bodies_must_be_json(
    gateway: Gateway, recorder: Recorder, content_type: str | None
) -> None:
    before = recorder.calls
    headers = {"Content-Type": content_type} if content_type else {}
    status, body = send(gateway, "POST", "/api/workflow/flow", body=b"{}", headers=headers)
    assert status == 415
    assert isinstance(body, dict) and body["status"] == 415
    assert recorder.calls == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json"],
)
def test_json_bodies_are_served(gateway: Gateway, content_type: str) -> None:
    status, _ = send(
        gateway, "POST", "/api/workflow/flow", body=b"{}", headers={"Content-Type": content_type}
    )
    assert status == 200


def test_a_task_log_line_may_be_text_as_in_conductor(gateway: Gateway) -> None:
    text = {"Content-Type": "text/plain"}
    assert send(gateway, "POST", "/api/tasks/t1/log", body=b"a line", headers=text)[0] == 200
    assert (
        send(
            gateway,
            "POST",
            "/api/tasks/t1/log",
            body=b'"a line"',
            headers={"Content-Type": "application/json"},
        )[0]
        == 200
    )
    assert send(gateway, "POST", "/api/tasks/t1", body=b"a line", headers=text)[0] == 415


def test_requests_without_a_body_need_no_content_type(gateway: Gateway) -> None:
    assert send(gateway, "DELETE", "/api/workflow/w1")[0] == 200


def test_the_hosts_include_a_non_loopback_bind_address() -> None:
    assert own_hosts("127.0.0.1", 8080) == {"127.0.0.1:8080", "localhost:8080", "[::1]:8080"}
    assert "192.168.1.5:80" in own_hosts("192.168.1.5", 80)
    assert "[fe80::1]:80" in own_hosts("fe80::1", 80)
    assert own_hosts("0.0.0.0", 80) == own_hosts("127.0.0.1", 80)
