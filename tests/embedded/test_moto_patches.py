"""What the runtime changes in moto, checked in this process against moto's own behaviour."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from embedded import moto_patches

EXPRESSION = (
    "SET #a = :a, #m.#n = list_append(#m.#n, :l), #c = if_not_exists(#c, :zero) + :one, "
    "#l[0] = :a REMOVE #gone, #l[1] ADD #s :s DELETE #d :d"
)


def _shape(node: Any, parent: Any = None) -> Any:
    """A node's type and children, checking that each child points at its parent."""
    if not isinstance(node, Node):
        return node
    assert node.parent is parent
    children = node.children
    return (type(node), node.type, [_shape(c, node) for c in children or []])


def _nodes(node: Any) -> list[Any]:
    if not isinstance(node, Node):
        return []
    return [node, *(n for c in node.children or [] for n in _nodes(c))]


def test_a_parsed_tree_is_copied_whole_and_apart_from_the_original() -> None:
    tree = UpdateExpressionParser.make(EXPRESSION)
    copied = moto_patches.copied_tree(tree)

    assert _shape(copied) == _shape(copy.deepcopy(tree)) == _shape(tree)
    assert not {id(n) for n in _nodes(copied)} & {id(n) for n in _nodes(tree)}


@pytest.fixture
def table() -> Iterator[Any]:
    moto_patches.apply()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def test_updates_through_the_copied_trees_apply_as_moto_applies_them(table: Any) -> None:
    from moto.dynamodb.parsing import validators

    assert validators.deepcopy is not copy.deepcopy  # type: ignore[attr-defined]
    table.put_item(
        TableName="t",
        Item={
            "pk": {"S": "k"},
            "m": {"M": {"n": {"L": [{"N": "1"}]}}},
            "l": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]},
            "gone": {"S": "soon"},
            "d": {"SS": ["p", "q"]},
        },
    )
    names = {f"#{n}": n for n in ("a", "m", "n", "c", "l", "gone", "s", "d")}
    values = {
        ":a": {"S": "A"},
        ":l": {"L": [{"N": "2"}]},
        ":zero": {"N": "0"},
        ":one": {"N": "1"},
        ":s": {"SS": ["u"]},
        ":d": {"SS": ["p"]},
    }
    for _ in range(2):  # the second update reads the same parsed tree again
        table.update_item(
            TableName="t",
            Key={"pk": {"S": "k"}},
            UpdateExpression=EXPRESSION,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    item = table.get_item(TableName="t", Key={"pk": {"S": "k"}})["Item"]
    assert item["a"] == {"S": "A"}
    assert item["m"] == {"M": {"n": {"L": [{"N": "1"}, {"N": "2"}, {"N": "2"}]}}}
    assert item["c"] == {"N": "2"}
    # The first update set l[0] and removed l[1] ("y"); the second removed "z".
    assert item["l"] == {"L": [{"S": "A"}]}
    assert "gone" not in item
    assert item["s"] == {"SS": ["u"]}
    assert item["d"] == {"SS": ["q"]}


@pytest.mark.parametrize(
    ("expression", "names", "message"),
    [
        ("SET #k = :a", {"#k": "pk"}, "Cannot update attribute pk"),
        ("SET #a = #missing + :one", {"#a": "a", "#missing": "missing"}, "does not exist"),
        ("SET #a = :a SET #b = :a", {"#a": "a", "#b": "b"}, "SET"),
        ("SET #a = :a, #a = :one", {"#a": "a"}, "overlap"),
    ],
)
def test_updates_moto_refuses_are_refused_through_the_patched_walks(
    table: Any, expression: str, names: dict[str, str], message: str
) -> None:
    from botocore.exceptions import ClientError
    from moto.dynamodb.parsing import ast_nodes

    assert "moto_patches" in ast_nodes.DepthFirstTraverser.traverse_node_recursively.__module__
    table.put_item(TableName="t", Item={"pk": {"S": "k"}})
    values = {":a": {"S": "A"}, ":one": {"N": "1"}}
    used = {name: value for name, value in values.items() if name in expression}
    with pytest.raises(ClientError, match=message):
        table.update_item(
            TableName="t",
            Key={"pk": {"S": "k"}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=used,
        )


def test_checks_passed_by_an_expression_are_walked_again_for_other_names_or_failures(
    table: Any,
) -> None:
    from moto.dynamodb.parsing import validators

    assert "moto_patches" in validators.UpdateExpressionValidator.validate.__module__
    table.put_item(TableName="t", Item={"pk": {"S": "k"}})

    def update(expression: str, names: dict[str, str]) -> None:
        table.update_item(
            TableName="t",
            Key={"pk": {"S": "k"}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":a": {"S": "A"}},
        )

    for _ in range(2):
        update("SET #x = :a, #y = :a", {"#x": "a", "#y": "b"})
    # The same text with other names: the checks read the names, and refuse these.
    with pytest.raises(ClientError, match="Cannot update attribute pk"):
        update("SET #x = :a, #y = :a", {"#x": "a", "#y": "pk"})
    with pytest.raises(ClientError, match="overlap"):
        update("SET #x = :a, #y = :a", {"#x": "a", "#y": "a"})
    for _ in range(2):  # a failed check is not kept as passed
        with pytest.raises(ClientError, match="SET"):
            update("SET #x = :a SET #y = :a", {"#x": "a", "#y": "b"})
    update("SET #x = :a, #y = :a", {"#x": "c", "#y": "d"})
    item = table.get_item(TableName="t", Key={"pk": {"S": "k"}})["Item"]
    assert {name: item[name] for name in "abcd"} == {name: {"S": "A"} for name in "abcd"}


def test_conditions_lexed_once_decide_as_moto_decides(table: Any) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    assert "moto_patches" in ConditionExpressionParser._lex_condition_expression.__module__
    condition = "attribute_not_exists(#p) OR (#n < :limit AND begins_with(#s, :prefix))"
    names = {"#p": "pk", "#n": "n", "#s": "s"}

    def put(n: str, s: str, limit: str) -> None:
        table.put_item(
            TableName="t",
            Item={"pk": {"S": "k"}, "n": {"N": n}, "s": {"S": s}},
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":limit": {"N": limit}, ":prefix": {"S": "ab"}},
        )

    put("1", "abc", "0")  # no item yet
    put("2", "abd", "5")  # 1 < 5 and "abc" begins with "ab"
    for _ in range(2):
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            put("3", "xyz", "1")  # 2 < 1 fails
    put("3", "xyz", "3")
    item = table.get_item(TableName="t", Key={"pk": {"S": "k"}})["Item"]
    assert item["n"] == {"N": "3"} and item["s"] == {"S": "xyz"}
    for _ in range(2):  # moto's refusal of a text it cannot lex (in process: its own error)
        with pytest.raises(ValueError, match="Cannot parse condition"):
            table.put_item(
                TableName="t",
                Item={"pk": {"S": "k"}},
                ConditionExpression="#p ~ :v",
                ExpressionAttributeNames={"#p": "pk"},
                ExpressionAttributeValues={":v": {"S": "v"}},
            )


def test_items_are_sized_as_moto_sizes_them(table: Any) -> None:
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    assert "moto_patches" in Item.__init__.__module__
    # moto's size: each attribute's name and value in UTF-8 bytes, at most 405,000 in all.
    room = 405_000 - len("pk") - len("k") - len("d") - len("é".encode())
    table.put_item(TableName="t", Item={"pk": {"S": "k"}, "d": {"S": "é" + "x" * room}})
    with pytest.raises(ClientError, match="Item size has exceeded"):
        table.put_item(TableName="t", Item={"pk": {"S": "k"}, "d": {"S": "é" + "x" * (room + 1)}})
    item = Item(None, None, {"a": {"N": "1"}, "b": {"M": {"c": {"L": [{"S": "x"}]}}}})
    assert type(item.attrs) is LimitedSizeDict
    assert item.to_json() == {
        "Attributes": {"a": {"N": "1"}, "b": {"M": {"c": {"L": [{"S": "x"}]}}}}
    }
    item.attrs["e"] = item.attrs["a"]  # later writes still go through moto's own check
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    for text in ("", "plain", "é ü \u2603", "x" * 1000):
        assert dynamo_type.bytesize(text) == bytesize(text) == len(text.encode())
    assert dynamo_type.bytesize(b"\xff\x00") == 2
    assert item.size() == sum(len(k) for k in "abe") + 1 + (1 + 1) + 1


ITEM = {
    "pk": {"S": "p"},
    "sk": {"S": "1"},
    "text": {"S": 'é ü \u2603 "quoted"'},
    "number": {"N": "12.50"},
    "binary": {"B": b"\x00\xffpacked"},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "binaries": {"BS": [b"\x01", b"\x02"]},
    "map": {"M": {"nested": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}]}}},
    "empty_list": {"L": []},
    "empty_map": {"M": {}},
    "flag": {"BOOL": True},
    "gsi_pk": {"S": "g"},
}


def test_dynamodb_answers_are_written_as_moto_writes_them(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    answers: list[tuple[str, Any, Any]] = []
    patched = DynamoResult.execute_result

    def both(self: Any, context: Any) -> Any:
        ours = patched(self, context)
        status, headers, body = ActionResult.execute_result(self, context)
        # (moto adds its own headers to the dict afterwards)
        answers.append(
            (
                context.operation_model.name,
                (ours[0], dict(ours[1]), ours[2]),
                (status, headers, body),
            )
        )
        return ours

    monkeypatch.setattr(DynamoResult, "execute_result", both)
    written_plainly: list[str] = []
    plain_json = moto_patches.plain_json

    def recorded(value: Any, shape: Any) -> Any:
        written_plainly.append(shape.name)
        return plain_json(value, shape)

    monkeypatch.setattr(moto_patches, "plain_json", recorded)
    table.create_table(
        TableName="r",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gsi_pk", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_gsi",
                "KeySchema": [{"AttributeName": "gsi_pk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    key = {"pk": {"S": "p"}, "sk": {"S": "1"}}
    capacity = {"ReturnConsumedCapacity": "INDEXES"}
    table.put_item(TableName="r", Item=ITEM, **capacity)
    table.put_item(TableName="r", Item=ITEM, ReturnValues="ALL_OLD")
    table.put_item(TableName="r", Item={**ITEM, "sk": {"S": "2"}})
    table.get_item(TableName="r", Key=key, **capacity)
    table.get_item(TableName="r", Key={"pk": {"S": "none"}, "sk": {"S": "1"}})
    table.get_item(
        TableName="r",
        Key=key,
        ProjectionExpression="#b, #m.nested[0]",
        ExpressionAttributeNames={"#m": "map", "#b": "binary"},
    )
    table.query(
        TableName="r",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Limit=1,
        ReturnConsumedCapacity="TOTAL",
    )
    table.query(
        TableName="r",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Select="COUNT",
    )
    table.query(
        TableName="r",
        IndexName="by_gsi",
        KeyConditionExpression="gsi_pk = :g",
        ExpressionAttributeValues={":g": {"S": "g"}},
    )
    table.query(
        TableName="r",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "nothing"}},
    )
    table.scan(TableName="r", Limit=1)
    table.update_item(
        TableName="r",
        Key=key,
        UpdateExpression="SET #n = #n + :one",
        ExpressionAttributeNames={"#n": "number"},
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    table.update_item(
        TableName="r", Key=key, UpdateExpression="REMOVE flag", ReturnValues="UPDATED_OLD"
    )
    table.batch_write_item(
        RequestItems={"r": [{"PutRequest": {"Item": {**ITEM, "sk": {"S": "3"}}}}]},
        ReturnConsumedCapacity="TOTAL",
    )
    table.batch_get_item(RequestItems={"r": {"Keys": [key, {"pk": {"S": "p"}, "sk": {"S": "3"}}]}})
    table.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "r", "Item": {**ITEM, "sk": {"S": "4"}}}},
            {
                "Update": {
                    "TableName": "r",
                    "Key": key,
                    "UpdateExpression": "SET flag = :t",
                    "ExpressionAttributeValues": {":t": {"BOOL": True}},
                }
            },
        ]
    )
    table.transact_get_items(TransactItems=[{"Get": {"TableName": "r", "Key": key}}])
    table.delete_item(TableName="r", Key=key, ReturnValues="ALL_OLD")
    table.describe_table(TableName="r")

    assert {name for name, _, _ in answers} >= moto_patches.PLAIN_ANSWERS
    assert {f"{name}Output" for name in moto_patches.PLAIN_ANSWERS} <= set(written_plainly)
    for name, ours, moto_s in answers:
        assert ours == moto_s, name


def test_moto_keeps_no_item_or_message_the_tables_and_queues_do_not_hold(table: Any) -> None:
    import gc

    from moto.dynamodb.models.dynamo_type import Item
    from moto.sqs.models import Message

    for i in range(30):
        key = {"pk": {"S": str(i)}}
        table.put_item(TableName="t", Item={**key, "v": {"N": "1"}})
        table.update_item(
            TableName="t",
            Key=key,
            UpdateExpression="SET v = v + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        table.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key,
                        "UpdateExpression": "SET v = v + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
        )
        table.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": key["pk"]},
        )
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for i in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
        for message in sqs.receive_message(QueueUrl=url).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    gc.collect()

    assert sum(1 for o in gc.get_objects() if type(o) is Item) == 30
    assert sum(1 for o in gc.get_objects() if type(o) is Message) == 0


def test_a_queue_keeps_only_the_latest_deleted_handles(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moto_patches, "DELETED_HANDLES_KEPT", 5)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    handles = []
    for i in range(20):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
        (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handles.append(message["ReceiptHandle"])
    # Deleting a message again succeeds, as on SQS.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handles[-1])

    from moto.sqs.models import sqs_backends

    queue = sqs_backends["123456789012"]["us-east-1"].queues["kept"]
    assert isinstance(queue.deleted_messages, moto_patches.RecentHandles)
    kept = set(queue.deleted_messages)
    assert len(kept) <= 5 and handles[-1] in kept
    assert kept - {None} <= set(handles[-5:])


def test_a_send_does_not_count_the_queue_and_fifo_queues_still_dedupe(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sqs.models import Queue

    sqs = boto3.client("sqs", region_name="us-east-1")
    standard = sqs.create_queue(QueueName="counted")["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName="deduped.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    strict = sqs.create_queue(QueueName="strict.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=standard, MessageBody=str(i), DelaySeconds=i)

    def counted(self: Any) -> int:
        raise AssertionError("a send counted the queue")

    with monkeypatch.context() as patch:
        patch.setattr(Queue, "approximate_number_of_messages", property(counted))
        sqs.send_message(QueueUrl=standard, MessageBody="3")
        for _ in range(2):
            sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
    with pytest.raises(ClientError, match="ContentBasedDeduplication"):
        sqs.send_message(QueueUrl=strict, MessageBody="x", MessageGroupId="g")

    def count(url: str, name: str) -> int:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        return int(answer["Attributes"][name])

    assert count(standard, "ApproximateNumberOfMessages") == 2  # "0" and "3"; two delayed
    assert count(standard, "ApproximateNumberOfMessagesDelayed") == 2
    assert count(fifo, "ApproximateNumberOfMessages") == 1


def test_queries_from_several_threads_at_once_each_read_their_own_partition(table: Any) -> None:
    # A search queries its index partitions in parallel; moto in a test's process serves them
    # from several threads at once.
    from concurrent.futures import ThreadPoolExecutor

    table.create_table(
        TableName="ranged",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    keys = ("a", "b", "c", "d")
    for key in keys:
        for number in range(100):
            table.put_item(TableName="ranged", Item={"pk": {"S": key}, "sk": {"N": str(number)}})

    def read(key: str) -> set[str]:
        found = table.query(
            TableName="ranged",
            KeyConditionExpression="pk = :k",
            ExpressionAttributeValues={":k": {"S": key}},
        )["Items"]
        return {item["pk"]["S"] for item in found} if len(found) == 100 else set()

    asked = list(keys) * 25
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(read, asked))
    assert answers == [{key} for key in asked]


def test_visible_messages_are_those_moto_counts_visible(table: Any) -> None:
    from moto.sqs.models import Message, Queue, sqs_backends

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="visible")["QueueUrl"]
    for delay in (0, 0, 0, 60, 60):
        sqs.send_message(QueueUrl=url, MessageBody=str(delay), DelaySeconds=delay)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    queue = sqs_backends["123456789012"]["us-east-1"].queues["visible"]
    assert isinstance(queue, Queue)

    def as_moto_says(message: Message) -> bool:
        return bool(message.visible and not message.delayed)

    assert queue.messages == [m for m in queue._messages if as_moto_says(m)]
    assert len(queue.messages) == 2  # one in flight, two delayed


def test_a_long_poll_on_delayed_messages_waits_once_not_every_second(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sqs.models import Queue

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="timers")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "MessageBody": "timer", "DelaySeconds": 900} for i in range(10)],
    )
    rounds: list[int] = []
    wait_for_messages = Queue.wait_for_messages

    def counted(self: Any, timeout: int) -> None:
        rounds.append(timeout)
        wait_for_messages(self, timeout)

    monkeypatch.setattr(Queue, "wait_for_messages", counted)
    answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)

    assert "Messages" not in answer
    # moto's loop asks for a wait each second of the poll; the patched wait lasts the poll.
    assert len(rounds) == 1


def _indexed_table(client: Any) -> None:
    client.create_table(
        TableName="indexed",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "bucket", "AttributeType": "S"},
            {"AttributeName": "due", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_bucket",
                "KeySchema": [{"AttributeName": "bucket", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by_bucket_due",
                "KeySchema": [
                    {"AttributeName": "bucket", "KeyType": "HASH"},
                    {"AttributeName": "due", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_due",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "due", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


# Queries on every index: each partition, pages of a few, backwards, with key and filter
# conditions and projections.
_INDEX_QUERIES: list[dict[str, Any]] = [
    *(
        {
            "IndexName": index,
            "KeyConditionExpression": "#b = :b",
            "ExpressionAttributeNames": {"#b": "bucket"},
            "ExpressionAttributeValues": {":b": {"S": bucket}},
            **extra,
        }
        for index in ("by_bucket", "by_bucket_due")
        for bucket in ("a", "b", "c", "none")
        for extra in ({}, {"Limit": 3}, {"ScanIndexForward": False, "Limit": 4})
    ),
    {
        "IndexName": "by_bucket_due",
        "KeyConditionExpression": "#b = :b AND due <= :d",
        "ExpressionAttributeNames": {"#b": "bucket"},
        "ExpressionAttributeValues": {":b": {"S": "a"}, ":d": {"N": "20"}},
        "Limit": 2,
    },
    {
        "IndexName": "by_bucket",
        "KeyConditionExpression": "#b = :b",
        "FilterExpression": "attribute_exists(note)",
        "ProjectionExpression": "pk, sk, note",
        "ExpressionAttributeNames": {"#b": "bucket"},
        "ExpressionAttributeValues": {":b": {"S": "b"}},
    },
    {
        "IndexName": "by_bucket",
        "KeyConditions": {
            "bucket": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "c"}]}
        },
    },
    *(
        {
            "IndexName": "by_due",
            "KeyConditionExpression": "pk = :p AND due > :d",
            "ExpressionAttributeValues": {":p": {"S": pk}, ":d": {"N": "5"}},
            "Limit": 3,
        }
        for pk in ("p0", "p1", "p2")
    ),
]


def _all_pages(client: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    pages = []
    start: dict[str, Any] | None = None
    while True:
        page = client.query(
            TableName="indexed", **query, **({"ExclusiveStartKey": start} if start else {})
        )
        page.pop("ResponseMetadata", None)
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start or len(pages) > 50:
            return pages


def _answers_as_moto_gives_them(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Any], list[Any]]:
    """Every index query's pages, through the kept partitions and as unpatched moto answers
    them (its query over every item of the table)."""
    from moto.dynamodb.models.table import Table

    ours = [_all_pages(client, query) for query in _INDEX_QUERIES]
    with monkeypatch.context() as patched:
        patched.setattr(
            moto_patches,
            "_indexed_items",
            lambda table, index_name, conditions: Table.all_items(table),
        )
        moto_s = [_all_pages(client, query) for query in _INDEX_QUERIES]
    return ours, moto_s


def _random_write(client: Any, rng: Any) -> None:
    pk = {"S": f"p{rng.randrange(3)}"}
    sk = {"N": str(rng.randrange(12))}
    key = {"pk": pk, "sk": sk}
    bucket = {"S": rng.choice("abc")}
    due = {"N": str(rng.randrange(40))}
    kind = rng.randrange(9)
    if kind == 0:
        item = {**key, "bucket": bucket, "due": due, "note": {"S": "n"}}
        if rng.random() < 0.3:
            del item["bucket"]  # not in the global indexes
        client.put_item(TableName="indexed", Item=item)
    elif kind == 1:  # moves the item to another partition
        client.update_item(
            TableName="indexed",
            Key=key,
            UpdateExpression="SET #b = :b, due = :d",
            ExpressionAttributeNames={"#b": "bucket"},
            ExpressionAttributeValues={":b": bucket, ":d": due},
        )
    elif kind == 2:  # takes it out of the global indexes
        client.update_item(
            TableName="indexed",
            Key=key,
            UpdateExpression="REMOVE #b",
            ExpressionAttributeNames={"#b": "bucket"},
        )
    elif kind == 3:
        client.delete_item(TableName="indexed", Key=key)
    elif kind == 4:
        other = {"pk": pk, "sk": {"N": str(rng.randrange(12, 15))}}
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "indexed", "Item": {**other, "bucket": bucket, "due": due}}},
                {
                    "Update": {
                        "TableName": "indexed",
                        "Key": key,
                        "UpdateExpression": "SET #b = :b",
                        "ExpressionAttributeNames": {"#b": "bucket"},
                        "ExpressionAttributeValues": {":b": bucket},
                    }
                },
            ]
        )
    elif kind == 5:  # a transaction that fails after moving one item: rolled back
        with pytest.raises(ClientError):
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "indexed",
                            "Key": key,
                            "UpdateExpression": "SET #b = :b",
                            "ExpressionAttributeNames": {"#b": "bucket"},
                            "ExpressionAttributeValues": {":b": bucket},
                        }
                    },
                    {
                        "Put": {
                            "TableName": "indexed",
                            "Item": {"pk": pk, "sk": {"N": "99"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            )
    elif kind == 6:
        client.batch_write_item(
            RequestItems={
                "indexed": [
                    {"PutRequest": {"Item": {**key, "bucket": bucket, "due": due}}},
                    {"DeleteRequest": {"Key": {"pk": pk, "sk": {"N": "12"}}}},
                ]
            }
        )
    elif kind == 7:
        client.execute_statement(
            Statement='UPDATE "indexed" SET bucket=? WHERE pk=? AND sk=?',
            Parameters=[bucket, pk, sk],
        )
    else:  # a refused update leaves the item where it was
        with pytest.raises(ClientError):
            client.update_item(
                TableName="indexed",
                Key=key,
                UpdateExpression="SET #b = :b",
                ConditionExpression="attribute_not_exists(pk) AND attribute_exists(pk)",
                ExpressionAttributeNames={"#b": "bucket"},
                ExpressionAttributeValues={":b": bucket},
            )


def test_index_queries_answer_as_moto_does_as_items_move_between_partitions(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    _indexed_table(table)
    rng = random.Random(14)
    # Items stored before the first query: the partitions are built from the table then.
    for _ in range(60):
        _random_write(table, rng)
    for _ in range(8):
        ours, moto_s = _answers_as_moto_gives_them(table, monkeypatch)
        assert ours == moto_s
        for _ in range(40):
            _random_write(table, rng)
    assert any(page["Items"] for pages in ours for page in pages)
    assert any(len(pages) > 1 for pages in ours)


def test_a_table_put_back_whole_is_indexed_anew(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle
    import random

    _indexed_table(table)
    rng = random.Random(5)
    for _ in range(80):
        _random_write(table, rng)
    before, _ = _answers_as_moto_gives_them(table, monkeypatch)
    restored = pickle.loads(pickle.dumps(moto_patches.all_tables()))
    for _ in range(40):
        _random_write(table, rng)
    moto_patches.restore_tables(restored)  # as on start, from the data directory

    ours, moto_s = _answers_as_moto_gives_them(table, monkeypatch)
    assert ours == moto_s == before


def test_index_queries_while_other_threads_write_end_as_moto_answers(
    table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _indexed_table(table)
    for number in range(40):
        item = {"pk": {"S": "p0"}, "sk": {"N": str(number)}, "bucket": {"S": "a"}}
        table.put_item(TableName="indexed", Item={**item, "due": {"N": "1"}})

    def move(number: int) -> None:
        key = {"pk": {"S": "p0"}, "sk": {"N": str(number)}}
        for bucket in "bcab":
            table.update_item(
                TableName="indexed",
                Key=key,
                UpdateExpression="SET #b = :b",
                ExpressionAttributeNames={"#b": "bucket"},
                ExpressionAttributeValues={":b": {"S": bucket}},
            )
        added = {"pk": {"S": "p1"}, "sk": {"N": str(number)}}
        table.put_item(TableName="indexed", Item={**added, "bucket": {"S": "c"}})
        if number % 2:
            table.delete_item(TableName="indexed", Key=added)

    def read(bucket: str) -> int:
        return len(
            table.query(
                TableName="indexed",
                IndexName="by_bucket",
                KeyConditionExpression="#b = :b",
                ExpressionAttributeNames={"#b": "bucket"},
                ExpressionAttributeValues={":b": {"S": bucket}},
            )["Items"]
        )

    # The first reads build the partitions while the writes go on. (What a read returns
    # meanwhile is moto's to answer: it reads items that other threads change in place.)
    with ThreadPoolExecutor(max_workers=8) as pool:
        reads = [pool.submit(read, bucket) for bucket in "abc" * 30]
        moves = [pool.submit(move, number) for number in range(40)]
        for future in [*moves, *reads]:
            future.result()
    ours, moto_s = _answers_as_moto_gives_them(table, monkeypatch)
    assert ours == moto_s
    assert len(ours[3][0]["Items"]) == 40  # by_bucket, "b": where every moved item ended
    assert len(ours[6][0]["Items"]) == 20  # by_bucket, "c": the added items not deleted


def _expired_by_walking(table: Any, attribute: str, now: float) -> set[tuple[Any, Any]]:
    """What a walk over every item finds expired, as the expiry read it before."""
    found = set()
    for item in table.all_items():
        value = item.attrs.get(attribute)
        if value is not None and value.type == "N" and float(value.value) <= now:
            found.add((item.hash_key, item.range_key))
    return found


def test_expired_keys_are_those_a_walk_over_every_item_finds(table: Any) -> None:
    import random

    from moto.dynamodb.models import dynamodb_backends

    _indexed_table(table)
    stored = dynamodb_backends[moto_patches._account()]["us-east-1"].tables["indexed"]
    rng = random.Random(3)

    def write() -> None:
        key = {"pk": {"S": f"p{rng.randrange(3)}"}, "sk": {"N": str(rng.randrange(30))}}
        kind = rng.randrange(5)
        if kind == 0:
            expires = {"N": str(rng.randrange(100))} if rng.random() < 0.8 else {"S": "later"}
            table.put_item(TableName="indexed", Item={**key, "expires": expires})
        elif kind == 1:  # its TTL pushed back or brought forward
            table.update_item(
                TableName="indexed",
                Key=key,
                UpdateExpression="SET expires = :e",
                ExpressionAttributeValues={":e": {"N": str(rng.randrange(100))}},
            )
        elif kind == 2:
            table.update_item(TableName="indexed", Key=key, UpdateExpression="REMOVE expires")
        elif kind == 3:
            table.delete_item(TableName="indexed", Key=key)
        else:  # a write that leaves its TTL as it was
            table.update_item(
                TableName="indexed",
                Key=key,
                UpdateExpression="SET note = :n",
                ExpressionAttributeValues={":n": {"S": "n"}},
            )

    for _ in range(50):
        write()
    for now in range(0, 100, 4):
        found = moto_patches.expired_keys(stored, "expires", now)
        assert len(found) == len(set(found))
        assert set(found) == _expired_by_walking(stored, "expires", now)
        for _ in range(30):
            write()
    assert found
