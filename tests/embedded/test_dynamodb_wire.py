"""pynamodb's item requests sent over the wire to the runtime's moto answer as botocore's do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from embedded.dynamodb_wire import (
    ConnectionPool,
    WireClient,
    decoded_binaries,
    pool_for,
    route_item_requests,
)
from embedded.moto_server import MotoProcess, new_access_key_id

REGION = "us-east-1"
TABLE = "wire_test"


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[str, str]]:
    key = new_access_key_id()
    server = MotoProcess("127.0.0.1", access_key_id=key).start()
    try:
        botocore_client = boto3.client(
            "dynamodb",
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=key,
        )
        botocore_client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield server.url, key
    finally:
        server.stop()


@pytest.fixture
def clients(moto: tuple[str, str]) -> tuple[Any, WireClient]:
    url, key = moto
    botocore_client = boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=key,
    )
    parts = urlsplit(url)
    pool = ConnectionPool(parts.hostname or "", parts.port or 80)
    return botocore_client, WireClient(botocore_client, url, key, REGION, pool)


def _answer(response: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in response.items() if name != "ResponseMetadata"}


ITEM = {
    "pk": {"S": "p"},
    "sk": {"S": "1"},
    "body": {"B": b"\x00\x01 packed"},
    "bodies": {"BS": [b"one", b"\xfftwo"]},
    "count": {"N": "3"},
    "nested": {"M": {"B": {"S": "a map whose key is B"}, "list": {"L": [{"B": b"\x02"}]}}},
}


def test_item_reads_and_writes_answer_as_botocore_answers(clients: tuple[Any, WireClient]) -> None:
    botocore_client, wire = clients
    put = {"TableName": TABLE, "Item": ITEM, "ReturnConsumedCapacity": "TOTAL"}
    assert _answer(wire._make_api_call("PutItem", put)) == _answer(
        botocore_client._make_api_call("PutItem", put)
    )
    key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
    for operation, request in [
        ("GetItem", {"TableName": TABLE, "Key": key}),
        (
            "Query",
            {
                "TableName": TABLE,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
            },
        ),
        (
            "UpdateItem",
            {
                "TableName": TABLE,
                "Key": key,
                "UpdateExpression": "SET #c = #c + :one",
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":one": {"N": "0"}},
                "ReturnValues": "ALL_NEW",
            },
        ),
    ]:
        through_wire = _answer(wire._make_api_call(operation, request))
        assert through_wire == _answer(botocore_client._make_api_call(operation, request))
    assert through_wire["Attributes"]["body"] == {"B": b"\x00\x01 packed"}


def test_a_failed_condition_raises_what_botocore_raises(clients: tuple[Any, WireClient]) -> None:
    botocore_client, wire = clients
    request = {
        "TableName": TABLE,
        "Item": ITEM,
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    botocore_client._make_api_call("PutItem", {"TableName": TABLE, "Item": ITEM})
    by_botocore, by_wire = _refusals(botocore_client, wire, "PutItem", request)
    assert by_wire["Error"] == {
        "Code": by_botocore["Error"]["Code"],
        "Message": by_botocore["Error"]["Message"],
    }
    assert by_wire["Error"]["Code"] == "ConditionalCheckFailedException"
    assert by_wire.get("Item") == by_botocore.get("Item")
    assert by_wire["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_cancelled_transaction_carries_its_reasons(clients: tuple[Any, WireClient]) -> None:
    botocore_client, wire = clients
    botocore_client._make_api_call("PutItem", {"TableName": TABLE, "Item": ITEM})
    request = {
        "TransactItems": [
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "q"}, "sk": {"S": "1"}}}},
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
    }
    by_botocore, by_wire = _refusals(botocore_client, wire, "TransactWriteItems", request)
    assert by_wire["Error"]["Code"] == by_botocore["Error"]["Code"]
    assert by_wire["Error"]["Code"] == "TransactionCanceledException"
    assert by_wire["CancellationReasons"] == by_botocore["CancellationReasons"]
    assert by_wire["CancellationReasons"][1]["Item"]["body"] == {"B": b"\x00\x01 packed"}


def test_other_operations_go_through_botocore(clients: tuple[Any, WireClient]) -> None:
    _, wire = clients
    described = wire._make_api_call("DescribeTable", {"TableName": TABLE})
    assert described["Table"]["TableName"] == TABLE
    # botocore's own parsing: a timestamp, not the wire's number.
    assert not isinstance(described["Table"]["CreationDateTime"], (int, float))


def test_only_attribute_values_are_decoded() -> None:
    assert decoded_binaries({"B": {"S": "x"}, "C": {"B": "AAE="}}) == {
        "B": {"S": "x"},
        "C": {"B": b"\x00\x01"},
    }


def test_pynamodb_models_on_that_endpoint_use_the_wire(
    moto: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.attributes import BinaryAttribute, UnicodeAttribute
    from pynamodb.connection.base import Connection
    from pynamodb.exceptions import PutError
    from pynamodb.models import Model

    url, key = moto
    monkeypatch.setattr(Connection, "client", Connection.client)
    route_item_requests(url, key, REGION)

    class Item(Model):
        class Meta:
            table_name = TABLE
            host = url
            region = REGION
            aws_access_key_id = key
            aws_secret_access_key = key

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        body = BinaryAttribute(null=True, legacy_encoding=False)

    Item("model", "1", body=b"\x00packed").save()
    assert Item.get("model", "1").body == b"\x00packed"
    assert isinstance(Item._get_connection().connection.client, WireClient)
    with pytest.raises(PutError) as raised:
        Item("model", "1").save(condition=Item.pk.does_not_exist())
    assert raised.value.cause_response_code == "ConditionalCheckFailedException"


def test_a_kept_connection_found_closed_is_replaced(
    clients: tuple[Any, WireClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from embedded import dynamodb_wire

    _, wire = clients
    request = {"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}}}
    wire._make_api_call("GetItem", request)
    [kept] = wire.pool._idle
    # Closed under it after the idle check, as a server's idle timeout could.
    monkeypatch.setattr(dynamodb_wire._Connection, "idle_and_open", lambda self: True)
    kept.socket.shutdown(socket.SHUT_RDWR)
    assert "ResponseMetadata" in wire._make_api_call("GetItem", request)
    assert wire.pool._idle and wire.pool._idle[0] is not kept


def test_connections_are_kept_across_threads(clients: tuple[Any, WireClient]) -> None:
    import threading

    _, wire = clients
    request = {"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}}}
    for _ in range(3):
        thread = threading.Thread(target=wire._make_api_call, args=("GetItem", request))
        thread.start()
        thread.join()
    assert len(wire.pool._idle) == 1


def test_numbers_are_written_as_json_writes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from pynamodb.attributes import NumberAttribute, VersionAttribute

    from embedded.dynamodb_wire import write_integers_directly

    values = (0, -7, 10**30, 1.5, float("1e300"), True)
    attributes = (NumberAttribute(), VersionAttribute())
    as_shipped = [[attribute.serialize(value) for value in values] for attribute in attributes]
    assert as_shipped[0] == [json.dumps(value) for value in values]
    monkeypatch.setattr(NumberAttribute, "serialize", NumberAttribute.serialize)
    write_integers_directly()
    assert [[attribute.serialize(value) for value in values] for attribute in attributes] == (
        as_shipped
    )


def _refusals(
    botocore_client: Any, wire: WireClient, operation: str, request: dict[str, Any]
) -> tuple[Any, Any]:
    """The error answers botocore's client and the wire client each raise for `request`."""
    answers = []
    for client in (botocore_client, wire):
        with pytest.raises(ClientError) as raised:
            client._make_api_call(operation, request)
        answers.append(raised.value.response)
    return answers[0], answers[1]


_ONE_POOL_SCRIPT = """
import sys, boto3
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model
from embedded import dynamodb_wire
from embedded.environments import send_over_plain_connections, sign_with_key_only
url, key, table = sys.argv[1], sys.argv[2], sys.argv[3]
sign_with_key_only()
send_over_plain_connections(url)
dynamodb_wire.route_item_requests(url, key, "us-east-1")
class Item(Model):
    class Meta:
        table_name = table
        host = url
        region = "us-east-1"
        aws_access_key_id = key
        aws_secret_access_key = key
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
Item("pooled", "1").save()
botocore_client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
    aws_access_key_id=key, aws_secret_access_key=key)
print(table in botocore_client.list_tables()["TableNames"])
print(Item.get("pooled", "1").pk)
[pool] = dynamodb_wire._pools.values()
print(len(pool._idle))
"""


def test_item_requests_and_botocore_requests_share_one_pool(moto: tuple[str, str]) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    url, key = moto
    root = Path(__file__).resolve().parents[2]
    answer = subprocess.run(
        [sys.executable, "-c", _ONE_POOL_SCRIPT, url, key, TABLE],
        cwd=root,
        env=dict(os.environ) | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    # One connection served the item write, botocore's ListTables and the item read.
    assert answer == ["True", "pooled", "1"]


def test_one_pool_per_server() -> None:
    assert pool_for("127.0.0.1", 1) is pool_for("127.0.0.1", 1)
    assert pool_for("127.0.0.1", 1) is not pool_for("127.0.0.1", 2)
