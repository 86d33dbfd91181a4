"""The runtime's moto server: only its own key, no reset API, transactions that copy items not
tables, long polls that wake for delayed messages, expired items deleted, state kept on disk."""

from __future__ import annotations

import os
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from embedded.moto_server import MotoProcess, new_access_key_id
from embedded.persistence import journal_generations

REGION = "us-east-1"
TABLE = "moto_server_test"


def client(url: str, service: str, key: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=key,
    )


INDEX = "by_due"


def create_table(dynamodb: Any, ttl: bool = False) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "due_pk", "AttributeType": "S"},
            {"AttributeName": "due_at", "AttributeType": "S"},
        ],
        # Sparse, as Baton's sweep index: only items with a due_pk are in it.
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "due_pk", "KeyType": "HASH"},
                    {"AttributeName": "due_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    if ttl:
        dynamodb.update_time_to_live(
            TableName=TABLE,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )


def keys(dynamodb: Any) -> list[tuple[str, str]]:
    items = dynamodb.scan(TableName=TABLE)["Items"]
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


class Moto:
    def __init__(self, data_dir: Path | None = None, **env: str) -> None:
        self.key = new_access_key_id()
        self.data_dir = data_dir
        self.env = env
        self.process: MotoProcess | None = None

    def start(self) -> Moto:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in self.env.items():
                patch.setenv(name, value)
            self.process = MotoProcess("127.0.0.1", access_key_id=self.key, data_dir=self.data_dir)
            self.process.start()
        return self

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.url

    def client(self, service: str) -> Any:
        return client(self.url, service, self.key)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = Moto(BATON_EXPIRY_SECONDS="0.2").start()
    create_table(server.client("dynamodb"), ttl=True)
    yield server
    server.stop()


def test_only_the_runs_own_key_is_answered(moto: Moto) -> None:
    with pytest.raises(ClientError) as refused:
        client(moto.url, "dynamodb", "testing").list_tables()
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    unsigned = urllib.request.Request(
        moto.url,
        data=b"{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(unsigned, timeout=10)
    assert error.value.code == 403
    assert TABLE in moto.client("dynamodb").list_tables()["TableNames"]


_KEY_ONLY_SCRIPT = """
import sys, boto3
from botocore.exceptions import ClientError
from embedded.environments import send_over_plain_connections, sign_with_key_only
url, key = sys.argv[1], sys.argv[2]
sign_with_key_only()
send_over_plain_connections(url)
def client(access_key):
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=access_key, aws_secret_access_key=access_key)
ours = client(key)
print(ours.list_tables()["TableNames"])
item = {"pk": {"S": "plain"}, "sk": {"S": "1"}, "text": {"S": "é" * 5000}}
ours.put_item(TableName=sys.argv[3], Item=item)
key = {"pk": item["pk"], "sk": item["sk"]}
print(ours.get_item(TableName=sys.argv[3], Key=key)["Item"] == item)
try:
    client("testing").list_tables()
except ClientError as error:
    print(error.response["Error"]["Code"])
"""


def test_an_environment_signing_with_the_key_only_over_plain_connections_is_answered(
    moto: Moto,
) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    answer = subprocess.run(
        [sys.executable, "-c", _KEY_ONLY_SCRIPT, moto.url, moto.key, TABLE],
        cwd=root,
        env=dict(os.environ) | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert answer == [str([TABLE]), "True", "AccessDeniedException"]


def test_the_reset_api_is_not_reachable(moto: Moto) -> None:
    for path in ("/moto-api/reset", "/moto-api/"):
        request = urllib.request.Request(moto.url + path, data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=10)
        assert error.value.code == 403
    assert TABLE in moto.client("dynamodb").list_tables()["TableNames"]


def test_a_failed_transaction_puts_back_exactly_the_items_it_wrote(moto: Moto) -> None:
    dynamodb = moto.client("dynamodb")

    def item(pk: str, sk: str, **more: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in more.items()}}

    for sk in ("kept", "updated", "deleted"):
        dynamodb.put_item(TableName=TABLE, Item=item("tx", sk, state="before"))
    before = dynamodb.scan(TableName=TABLE)["Items"]
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("tx", "new")}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "tx"}, "sk": {"S": "updated"}},
                        "UpdateExpression": "SET #s = :after",
                        "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":after": {"S": "after"}},
                    }
                },
                {
                    "Delete": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "tx"}, "sk": {"S": "deleted"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "tx"}, "sk": {"S": "kept"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert sorted(map(str, dynamodb.scan(TableName=TABLE)["Items"])) == sorted(map(str, before))

    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item("tx", "new")}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "tx"}, "sk": {"S": "deleted"}}}},
        ]
    )
    assert [k for k in keys(dynamodb) if k[0] == "tx"] == [
        ("tx", "kept"),
        ("tx", "new"),
        ("tx", "updated"),
    ]


def test_a_long_poll_receives_a_delayed_message_when_it_is_due(moto: Moto) -> None:
    sqs = moto.client("sqs")
    url = sqs.create_queue(QueueName="moto_server_delayed")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
    assert [m["Body"] for m in received] == ["later"]


def test_expired_items_are_deleted_and_the_others_kept(moto: Moto) -> None:
    dynamodb = moto.client("dynamodb")
    past, future = str(int(time.time()) - 10), str(int(time.time()) + 3600)
    for sk, expires_at in (("expired", past), ("current", future)):
        dynamodb.put_item(
            TableName=TABLE,
            Item={"pk": {"S": "ttl"}, "sk": {"S": sk}, "expires_at": {"N": expires_at}},
        )
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "ttl"}, "sk": {"S": "forever"}})
    wait_until(lambda: ("ttl", "expired") not in keys(dynamodb))
    assert [k for k in keys(dynamodb) if k[0] == "ttl"] == [("ttl", "current"), ("ttl", "forever")]


def test_state_survives_a_kill_and_a_torn_journal_tail(tmp_path: Path) -> None:
    first = Moto(tmp_path).start()
    try:
        dynamodb, sqs = first.client("dynamodb"), first.client("sqs")
        create_table(dynamodb)
        for i in range(20):
            dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": f"{i:02}"}})
        dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "00"}})
        url = sqs.create_queue(QueueName="kept")["QueueUrl"]
        for body in ("in flight", "deleted", "delayed"):
            sqs.send_message(
                QueueUrl=url, MessageBody=body, DelaySeconds=2 if body == "delayed" else 0
            )
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
            if message["Body"] == "deleted":
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert first.process is not None and first.process._process is not None
        first.process._process.kill()  # as kill -9: nothing is flushed or saved on the way out
        first.process._process.wait(10)
    finally:
        first.stop()
    # A record cut short by the crash: it is ignored, the rest replayed.
    journal = tmp_path / f"journal-{journal_generations(tmp_path)[-1]:08d}.log"
    with journal.open("ab") as file:
        file.write(struct.pack(">II", 4096, 1234) + b"cut short")

    second = Moto(tmp_path).start()
    try:
        dynamodb, sqs = second.client("dynamodb"), second.client("sqs")
        assert keys(dynamodb) == [("p", f"{i:02}") for i in range(1, 20)]
        url = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
        bodies: list[str] = []

        def both() -> bool:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            bodies.extend(m["Body"] for m in messages.get("Messages", []))
            return len(bodies) >= 2

        wait_until(both)
        assert sorted(bodies) == ["delayed", "in flight"]
        # The journal was compacted into a snapshot on start.
        assert (tmp_path / "snapshot.pickle").exists()
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "after"}})
    finally:
        second.stop()
    third = Moto(tmp_path).start()
    try:
        assert ("p", "after") in keys(third.client("dynamodb"))
    finally:
        third.stop()


def test_a_query_on_the_key_sees_its_partition_in_order(moto: Moto) -> None:
    dynamodb = moto.client("dynamodb")
    for pk in ("qa", "qb"):
        for sk in ("3", "1", "2"):
            dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    answer = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND sk > :after",
        ExpressionAttributeValues={":pk": {"S": "qa"}, ":after": {"S": "1"}},
        ScanIndexForward=False,
    )
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in answer["Items"]] == [("qa", "3"), ("qa", "2")]
    page = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "qb"}},
        Limit=2,
    )
    assert [i["sk"]["S"] for i in page["Items"]] == ["1", "2"]
    rest = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "qb"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert [i["sk"]["S"] for i in rest["Items"]] == ["3"]
    missing = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "nothing"}},
    )
    assert missing["Items"] == []


def test_a_query_on_an_index_sees_the_items_it_holds_in_order(moto: Moto) -> None:
    dynamodb = moto.client("dynamodb")
    for pk, sk, due_pk, due_at in [
        ("ia", "1", "due", "30"),
        ("ia", "2", None, None),
        ("ib", "1", "due", "10"),
        ("ib", "2", "other", "05"),
        ("ic", "1", "due", "20"),
    ]:
        item = {"pk": {"S": pk}, "sk": {"S": sk}}
        if due_pk:
            item |= {"due_pk": {"S": due_pk}, "due_at": {"S": str(due_at)}}
        dynamodb.put_item(TableName=TABLE, Item=item)

    def query(**more: Any) -> dict[str, Any]:
        answer: dict[str, Any] = dynamodb.query(
            TableName=TABLE,
            IndexName=INDEX,
            KeyConditionExpression="due_pk = :due AND due_at < :before",
            ExpressionAttributeValues={":due": {"S": "due"}, ":before": {"S": "25"}},
            **more,
        )
        return answer

    def found(answer: dict[str, Any]) -> list[tuple[str, str]]:
        return [(i["pk"]["S"], i["due_at"]["S"]) for i in answer["Items"]]

    assert found(query()) == [("ib", "10"), ("ic", "20")]
    assert found(query(ScanIndexForward=False)) == [("ic", "20"), ("ib", "10")]
    page = query(Limit=1)
    assert found(page) == [("ib", "10")]
    assert found(query(ExclusiveStartKey=page["LastEvaluatedKey"])) == [("ic", "20")]


def test_compactions_while_clients_write_lose_nothing(tmp_path: Path) -> None:
    import threading

    first = Moto(tmp_path, BATON_JOURNAL_COMPACT_BYTES="20000").start()
    try:
        create_table(first.client("dynamodb"))
        sqs = first.client("sqs")
        url = sqs.create_queue(QueueName="compacted")["QueueUrl"]

        def writer(number: int) -> None:
            dynamodb = first.client("dynamodb")
            for i in range(60):
                item = {"pk": {"S": f"w{number}"}, "sk": {"S": f"{i:03}"}, "pad": {"S": "x" * 200}}
                dynamodb.put_item(TableName=TABLE, Item=item)
            sqs.send_message(QueueUrl=url, MessageBody=f"w{number}")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        # Compactions ran meanwhile: the journal was started again at least once.
        wait_until(lambda: journal_generations(tmp_path)[-1] > 0)
    finally:
        first.stop()
    second = Moto(tmp_path).start()
    try:
        expected = [(f"w{n}", f"{i:03}") for n in range(4) for i in range(60)]
        assert keys(second.client("dynamodb")) == expected
        sqs = second.client("sqs")
        url = sqs.get_queue_url(QueueName="compacted")["QueueUrl"]
        bodies: list[str] = []

        def all_four() -> bool:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            bodies.extend(m["Body"] for m in answer.get("Messages", []))
            return len(bodies) >= 4

        wait_until(all_four)
        assert sorted(bodies) == ["w0", "w1", "w2", "w3"]
    finally:
        second.stop()


# In a process of its own: the patches apply to every later moto of the process that applies them.
_RETENTION_SCRIPT = """
import json, boto3
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sqs.models import sqs_backends
from embedded import moto_patches

with mock_aws():
    moto_patches.apply()
    sqs = boto3.client("sqs", region_name="us-east-1")
    backend = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    bodies = {}
    for name in ("expired", "kept"):
        url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "60"})[
            "QueueUrl"
        ]
        sqs.send_message(QueueUrl=url, MessageBody=name)
        if name == "expired":
            # Sent 61 s earlier than it was: past the queue's retention.
            backend.queues[name]._messages[0].sent_timestamp -= 61_000
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        bodies[name] = [m["Body"] for m in received.get("Messages", [])]
    print(json.dumps(bodies))
"""


def test_a_message_past_its_queues_retention_is_not_handed_out() -> None:
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent.parent
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    done = subprocess.run(
        [sys.executable, "-c", _RETENTION_SCRIPT],
        cwd=root,
        env=env | {"PYTHONPATH": str(root / "lambdas")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"expired": [], "kept": ["kept"]}
