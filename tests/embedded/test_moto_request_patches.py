"""How the runtime's moto reads a request (its URL, its parameters), checked against moto's own."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from moto.core.parse import JSONParser
from moto.core.request import Request
from moto.core.serialize import XFormedAttributePicker
from moto.dynamodb.responses import DynamoHandler
from werkzeug.test import EnvironBuilder

from embedded import moto_patches


@pytest.fixture(autouse=True, scope="module")
def patched() -> None:
    moto_patches.apply()


def _environ(**given: Any) -> dict[str, Any]:
    builder = EnvironBuilder(**given)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _url_as_moto_builds_it(request: Request) -> str:
    # moto's `Request.raw_url`: werkzeug's URL root, the path as it arrived, the query string.
    url = f"{request.url_root.rstrip('/')}{request.raw_path}"
    if request.query_string:
        url += f"?{request.query_string.decode()}"
    return url


@pytest.mark.parametrize(
    "given",
    [
        {"base_url": "http://127.0.0.1:4566", "path": "/"},
        {"base_url": "http://127.0.0.1:80", "path": "/"},
        {"base_url": "http://localhost:4566", "path": "/a%2Fb/c d", "query_string": "x=1&y"},
        {"base_url": "http://[::1]:4566", "path": "/bücher"},
        {"base_url": "http://127.0.0.1:4566", "path": "//double", "headers": {"Host": ""}},
    ],
)
def test_a_request_url_is_the_one_moto_builds(given: dict[str, Any]) -> None:
    environ = _environ(**given)
    for _ in range(2):  # built, then found
        assert Request(dict(environ)).raw_url == _url_as_moto_builds_it(Request(dict(environ)))
    other = _environ(base_url="http://127.0.0.1:9", path="/other")
    assert Request(other).raw_url == _url_as_moto_builds_it(Request(other))


BINARY = base64.b64encode(b"\x00\xffpacked").decode()
ITEM = {
    "pk": {"S": "p"},
    "sk": {"S": "1"},
    "body": {"B": BINARY},
    "bodies": {"BS": [BINARY, base64.b64encode(b"two").decode()]},
    "count": {"N": "3"},
    "numbers": {"NS": ["1", "2.5"]},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "nested": {"M": {"B": {"S": "a map whose key is B"}, "list": {"L": [{"B": BINARY}]}}},
}
KEY = {"pk": {"S": "p"}, "sk": {"S": "1"}}
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    (
        "PutItem",
        {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)"},
    ),
    ("GetItem", {"TableName": "t", "Key": KEY, "ConsistentRead": True, "Unknown": 1}),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": KEY,
            "UpdateExpression": "SET #b = :b ADD #c :one",
            "ExpressionAttributeNames": {"#b": "body", "#c": "count"},
            "ExpressionAttributeValues": {":b": {"B": BINARY}, ":one": {"N": "1"}},
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": None,
        },
    ),
    ("DeleteItem", {"TableName": "t", "Key": KEY}),
    (
        "Query",
        {
            "TableName": "t",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}},
            "Limit": 10,
            "ExclusiveStartKey": KEY,
        },
    ),
    ("Scan", {"TableName": "t", "Segment": 0, "TotalSegments": 2}),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [KEY], "ConsistentRead": False}}}),
    (
        "BatchWriteItem",
        {"RequestItems": {"t": [{"PutRequest": {"Item": ITEM}}, {"DeleteRequest": {"Key": KEY}}]}},
    ),
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": ITEM}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": KEY,
                        "UpdateExpression": "SET #b = :b",
                        "ExpressionAttributeNames": {"#b": "body"},
                        "ExpressionAttributeValues": {":b": {"B": BINARY}},
                    }
                },
                {"ConditionCheck": {"TableName": "t", "Key": KEY, "ConditionExpression": "a"}},
            ],
            "ClientRequestToken": "token",
        },
    ),
    ("ListTables", {"Limit": 3}),
    ("DescribeTable", {"TableName": "t"}),
]


def _parsed_as_moto_parses(operation: str, body: bytes) -> Any:
    from moto.core import responses

    service_model = responses.get_service_model("dynamodb")  # type: ignore[attr-defined]
    parser = JSONParser(service_model.operation_model(operation), map_type=dict)
    return parser.parse(
        {"method": "POST", "values": {}, "headers": {}, "body": body, "url_path": "/"}
    )


def _parsed_as_patched(operation: str, body: bytes) -> Any:
    environ = _environ(
        base_url="http://127.0.0.1:4566",
        path="/",
        method="POST",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        },
    )
    handler = DynamoHandler()
    handler.setup_class(Request(environ))
    return handler.params


@pytest.mark.parametrize(("operation", "request_body"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_a_request_is_parsed_as_moto_parses_it(
    operation: str, request_body: dict[str, Any]
) -> None:
    body = json.dumps(request_body).encode()
    for _ in range(2):  # the readers made, then reused
        assert _parsed_as_patched(operation, body) == _parsed_as_moto_parses(operation, body)


@pytest.mark.parametrize("body", [b"", b"not json", b"{}", '{"TableName": "é"}'.encode()])
def test_a_body_that_is_empty_or_not_json_is_read_as_moto_reads_it(body: bytes) -> None:
    assert _parsed_as_patched("GetItem", body) == _parsed_as_moto_parses("GetItem", body)


def test_a_value_of_the_wrong_kind_fails_as_it_does_in_moto() -> None:
    body = json.dumps({"TableName": "t", "Key": ["not", "a", "map"]}).encode()
    with pytest.raises(AttributeError):
        _parsed_as_moto_parses("GetItem", body)
    with pytest.raises(AttributeError):
        _parsed_as_patched("GetItem", body)


def _written_by_moto(operation: str, result: Any) -> Any:
    from moto.core import responses
    from moto.core.serialize import get_serializer_class

    service_model = responses.get_service_model("dynamodb")  # type: ignore[attr-defined]
    operation_model = service_model.operation_model(operation)
    serializer = get_serializer_class("dynamodb", "json")(
        operation_model=operation_model,
        pretty_print=False,
        value_picker=XFormedAttributePicker(response_transformers=None),
    )
    serialized = serializer.serialize(result)
    return serialized["status_code"], serialized["headers"], serialized["body"]


@pytest.mark.parametrize(
    ("operation", "result"),
    [
        ("TransactWriteItems", {}),
        ("BatchWriteItem", {"UnprocessedItems": {}}),
        (
            "BatchWriteItem",
            {
                "ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 2.0}],
                "UnprocessedItems": {"t": [{"PutRequest": {"Item": ITEM}}]},
            },
        ),
        (
            "TransactWriteItems",
            {"ItemCollectionMetrics": {"t": [{"ItemCollectionKey": KEY}]}},
        ),
    ],
)
def test_a_write_answer_is_written_as_moto_writes_it(operation: str, result: Any) -> None:
    from moto.core import responses
    from moto.core.responses import ActionContext, ActionResult
    from moto.core.serialize import get_serializer_class

    service_model = responses.get_service_model("dynamodb")  # type: ignore[attr-defined]
    context = ActionContext(
        service_model,
        service_model.operation_model(operation),
        get_serializer_class("dynamodb", "json"),
        DynamoHandler(),
    )
    status, headers, body = ActionResult(result).execute_result(context)
    expected_status, expected_headers, expected_body = _written_by_moto(operation, result)
    assert (status, body) == (expected_status, expected_body)
    assert headers["Content-Type"] == expected_headers["Content-Type"]
