"""HTTP requests become HTTP API proxy events (payload 1.0), and proxy results become responses."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from embedded.functions import LocalFunction
from embedded.gateway import Gateway, http_api_path, http_reply


class Echo:
    """Answers with the event it was given, or with `result` when a test sets one."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.result: Any = None
        self.error: Exception | None = None
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.contexts.append(context)
        if self.error is not None:
            raise self.error
        if self.result is not None:
            return self.result
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event),
        }


ECHO = Echo()


@pytest.fixture(autouse=True)
def echo() -> Echo:
    ECHO.reset()
    return ECHO


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    function = LocalFunction(name="baton-api", handler=ECHO, region="us-east-1", timeout_seconds=29)
    server = Gateway(function=function, port=0)
    server.start()
    yield server
    server.stop()


def request(
    gateway: Gateway,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    headers = list(headers or [])
    if body and not any(name.lower() == "content-type" for name, _ in headers):
        # The gateway takes JSON bodies (see test_browser_guard for the others).
        headers.append(("Content-Type", "application/json"))
    try:
        connection.putrequest(method, target)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def echoed(gateway: Gateway, method: str, target: str, **kwargs: Any) -> dict[str, Any]:
    status, _, body = request(gateway, method, target, **kwargs)
    assert status == 200
    event: dict[str, Any] = json.loads(body)
    return event


def test_a_get_becomes_an_http_api_proxy_event(gateway: Gateway, echo: Echo) -> None:
    event = echoed(gateway, "GET", "/api/workflow/running/event_testing?version=1")

    assert event["version"] == "1.0"
    assert event["resource"] == "/api/{proxy+}"
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/api/workflow/running/event_testing"
    assert event["pathParameters"] == {"proxy": "workflow/running/event_testing"}
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "$default"
    assert context["requestId"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    # The `$default` stage adds no segment to the path.
    assert context["path"] == "/api/workflow/running/event_testing"
    assert echo.contexts[0].function_name == "baton-api"
    assert echo.contexts[0].aws_request_id
    assert 0 < echo.contexts[0].get_remaining_time_in_millis() <= 29_000


def test_query_strings_keep_repeated_keys_and_are_decoded(gateway: Gateway) -> None:
    event = echoed(gateway, "GET", "/api/tasks/queue/sizes?taskType=a&taskType=b&q=x+y&u=%2Fz&e=")

    assert event["multiValueQueryStringParameters"] == {
        "taskType": ["a", "b"],
        "q": ["x y"],
        "u": ["/z"],
        "e": [""],
    }
    # The single-value view holds the last value, as API Gateway's does.
    assert event["queryStringParameters"] == {"taskType": "b", "q": "x y", "u": "/z", "e": ""}


def test_no_query_string_gives_nulls(gateway: Gateway) -> None:
    event = echoed(gateway, "GET", "/api/event")

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_percent_encoded_segments_arrive_decoded(gateway: Gateway) -> None:
    # As on AWS (an HTTP API decodes the path): the handler encodes it again for routing.
    event = echoed(gateway, "GET", "/api/event/sqs%3Aconductor_doug_testing?activeOnly=false")

    assert event["path"] == "/api/event/sqs:conductor_doug_testing"
    assert event["pathParameters"] == {"proxy": "event/sqs:conductor_doug_testing"}


@pytest.mark.parametrize(
    ("sent", "delivered"),
    [
        # An HTTP API's paths as captured on AWS for these requests.
        ("/api/x/space%20value", "/api/x/space value"),
        ("/api/x/question%3Fvalue", "/api/x/question"),
        ("/api/x/hash%23value", "/api/x/hash#value"),
        ("/api/x/slash%2Fvalue", "/api/x/slash/value"),
        ("/api/x/unicode-%CE%BB-%E4%B8%96%E7%95%8C", "/api/x/unicode-λ-世界"),
        ("/api/x/literal%252Fvalue", "/api/x/literal/value"),
        ("/api/x/literal%253Fvalue", "/api/x/literal?value"),
        ("/api/x/literal%2525value", "/api/x/literal%value"),
    ],
)
def test_the_path_is_decoded_as_an_http_api_decodes_it(sent: str, delivered: str) -> None:
    assert http_api_path(sent) == delivered


@pytest.mark.parametrize("sent", ["/api/x/percent%25done", "/api/x/%ZZ", "/api/x/%E2%82"])
def test_paths_an_http_api_refuses_are_a_400_in_conductors_body(
    gateway: Gateway, echo: Echo, sent: str
) -> None:
    status, _, body = request(gateway, "GET", sent)
    assert status == 400
    assert set(json.loads(body)) == {"status", "message", "instance", "retryable"}
    assert echo.contexts == []


def test_json_and_text_bodies_and_headers_are_passed_on(gateway: Gateway) -> None:
    document = {"name": "event_testing", "input": {"ü": 1}}
    event = echoed(
        gateway,
        "POST",
        "/api/workflow",
        body=json.dumps(document, ensure_ascii=False).encode(),
        headers=[
            ("Content-Type", "application/json"),
            ("X-Probe", "first"),
            ("X-Probe", "second"),
        ],
    )
    assert json.loads(event["body"]) == document
    assert event["isBase64Encoded"] is False
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["headers"]["X-Probe"] == "second"
    assert event["multiValueHeaders"]["X-Probe"] == ["first", "second"]

    text = echoed(
        gateway,
        "POST",
        "/api/tasks/t1/log",
        body=b"a line of text",
        headers=[("Content-Type", "text/plain; charset=utf-8")],
    )
    assert text["httpMethod"] == "POST"
    assert text["body"] == "a line of text"


def test_a_body_that_is_not_utf8_is_base64(gateway: Gateway) -> None:
    event = echoed(
        gateway,
        "POST",
        "/api/blob",
        body=b"\xff\x00\xfe",
        headers=[("Content-Type", "application/json")],
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00\xfe"


def test_status_headers_and_body_come_back(gateway: Gateway, echo: Echo) -> None:
    echo.result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Single": "one", "X-Both": "from headers"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Both": ["from multi"]},
        "body": "created",
        "isBase64Encoded": False,
    }
    status, headers, body = request(gateway, "POST", "/api/workflow/event_testing", body=b"{}")

    assert status == 201
    assert body == b"created"
    assert headers["Content-Type"] == "text/plain"
    assert headers["X-Single"] == "one"
    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert headers.get_all("X-Both") == ["from multi"]
    assert headers["x-amzn-RequestId"]


def test_empty_and_base64_results(gateway: Gateway, echo: Echo) -> None:
    echo.result = {"statusCode": 204, "headers": {}, "body": ""}
    status, _, body = request(gateway, "GET", "/api/tasks/poll/worker")
    assert (status, body) == (204, b"")

    echo.result = {"statusCode": 404, "body": json.dumps({"status": 404})}
    status, _, body = request(gateway, "GET", "/api/workflow/nope")
    assert status == 404
    assert json.loads(body) == {"status": 404}

    echo.result = {
        "statusCode": 200,
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }
    assert request(gateway, "GET", "/api/blob")[2] == b"\x00\x01"


def test_a_handler_that_fails_gives_502(gateway: Gateway, echo: Echo) -> None:
    echo.error = RuntimeError("boom")
    status, _, body = request(gateway, "GET", "/api/workflow/x")

    assert status == 502
    assert json.loads(body)["message"] == "Internal server error"
    assert json.loads(body)["status"] == 502


def test_a_malformed_result_gives_502(gateway: Gateway, echo: Echo) -> None:
    echo.result = {"body": "no status"}
    assert request(gateway, "GET", "/api/workflow/x")[0] == 502


def test_pages_outside_the_api_go_to_the_api_function_as_the_ui_resources(
    gateway: Gateway,
) -> None:
    root = echoed(gateway, "GET", "/")
    assert root["resource"] == "/" and root["pathParameters"] is None
    page = echoed(gateway, "GET", "/execution/abc")
    assert page["resource"] == "/{proxy+}"
    assert page["pathParameters"] == {"proxy": "execution/abc"}


def test_http_reply_prefers_multi_value_headers() -> None:
    reply = http_reply(
        {
            "statusCode": 200,
            "headers": {"content-type": "a", "Content-Length": "999"},
            "multiValueHeaders": {"Content-Type": ["b"]},
            "body": None,
        }
    )
    assert reply.headers == [("Content-Type", "b")]
    assert reply.body == b""


def raw_exchange(gateway: Gateway, data: bytes) -> bytes:
    """Sends `data` as it is, then reads until the server closes the connection."""
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def conductor_error(answer: bytes) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of one HTTP answer; fails unless it is Conductor's error body."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    assert headers["content-type"] == "application/json", answer
    assert int(headers["content-length"]) == len(body), answer
    error = json.loads(body)
    assert set(error) == {"status", "message", "instance", "retryable"}
    assert error["status"] == status
    return status, error


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_a_method_api_gateway_does_not_take_is_a_501_in_conductors_body(
    gateway: Gateway, echo: Echo, method: str
) -> None:
    answer = raw_exchange(gateway, f"{method} /api/workflow HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    status, error = conductor_error(answer)
    assert status == 501
    assert method in error["message"]
    assert echo.contexts == []


MALFORMED_FRAMING = {
    "a Content-Length that is not a number": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n{}",
        400,
    ),
    "a negative Content-Length": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
        400,
    ),
    "a body shorter than its Content-Length": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}",
        400,
    ),
    "a Content-Length past API Gateway's limit": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}",
        413,
    ),
    "a chunk size that is not hexadecimal": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n",
        400,
    ),
    "a chunk shorter than its size": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{}",
        400,
    ),
    "a chunked body with no last chunk": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n",
        400,
    ),
    "a chunk not ended by CRLF": (
        b"POST /api/workflow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}XX0\r\n\r\n",
        400,
    ),
    "a malformed request line": (b"POST\r\n\r\n", 400),
    "a target that is not a URL": (b"GET http://[::1/api HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "an HTTP version that is not one": (b"GET /api HTTP/x.y\r\n\r\n", 400),
}


@pytest.mark.parametrize(
    ("data", "expected"), MALFORMED_FRAMING.values(), ids=list(MALFORMED_FRAMING)
)
def test_a_malformed_request_is_answered_in_conductors_body_then_closed(
    gateway: Gateway, echo: Echo, data: bytes, expected: int
) -> None:
    answer = raw_exchange(gateway, data)

    # One answer, then the connection closed (raw_exchange read to the end).
    assert answer.count(b"HTTP/1.") == 1, answer
    status, _ = conductor_error(answer)
    assert status == expected
    assert echo.contexts == []


def test_a_post_outside_the_api_is_a_404_in_conductors_body(gateway: Gateway, echo: Echo) -> None:
    status, headers, body = request(gateway, "POST", "/favicon.ico")

    assert status == 404
    assert headers["Content-Type"] == "application/json"
    error = json.loads(body)
    assert error["status"] == 404 and "/api/" in error["message"]
    assert echo.contexts == []
