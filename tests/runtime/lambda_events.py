"""Events shaped as API Gateway, SQS and EventBridge deliver them, and a Lambda context."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from embedded.gateway import MalformedRequest, error_reply, http_api_path


@dataclass
class FakeContext:
    function_name: str = "baton-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:baton-test"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def api_event(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """The HTTP API's event (payload 1.0) for a request to `path` as a client encoded it."""
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    path = http_api_path(path)
    return {
        "version": "1.0",
        "resource": "/api/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.removeprefix("/")},
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "$default",
            "path": path,
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
            "resourcePath": "/api/{proxy+}",
        },
        "body": text,
        "isBase64Encoded": False,
    }


def sqs_record(queue: str, message: dict[str, Any]) -> dict[str, Any]:
    attributes = {
        name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message.get("ReceiptHandle", "handle"),
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        "messageAttributes": attributes,
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "awsRegion": "us-east-1",
    }


def sqs_event(queue: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": [sqs_record(queue, m) for m in messages]}


def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/baton-sweep"],
        "detail": {},
    }


@dataclass
class ApiResponse:
    status: int
    body: str
    headers: dict[str, Any]

    def json(self) -> Any:
        return json.loads(self.body)


def call_api(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None
) -> ApiResponse:
    from baton.handlers import api

    try:
        event = api_event(method, path, body, query)
    except MalformedRequest as error:
        # A path an HTTP API refuses never reaches the function: the gateway answers it.
        reply = error_reply(error.status, str(error))
        return ApiResponse(reply.status, reply.body.decode(), dict(reply.headers))
    result = api.handler(event, FakeContext())
    headers = {
        k: v[0] if isinstance(v, list) else v
        for k, v in (result.get("multiValueHeaders") or result.get("headers") or {}).items()
    }
    return ApiResponse(status=result["statusCode"], body=result.get("body") or "", headers=headers)
