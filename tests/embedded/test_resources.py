"""Every table and queue the specs describe exists once the runtime has started."""

from __future__ import annotations

import json
import os

import pytest

from baton import settings, topology
from baton.store.schema import KeySpec, TableSpec, table_specs
from embedded import Runtime
from tests.embedded.conftest import MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_SECONDS

pytestmark = pytest.mark.slow


def key_schema(partition_key: KeySpec, sort_key: KeySpec | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition_key.name, "KeyType": "HASH"}]
    if sort_key:
        keys.append({"AttributeName": sort_key.name, "KeyType": "RANGE"})
    return keys


@pytest.mark.parametrize("spec", table_specs(), ids=lambda spec: spec.logical_name)
def test_every_table_has_the_keys_indexes_and_ttl_of_its_spec(
    runtime: Runtime, spec: TableSpec
) -> None:
    table = runtime.dynamodb.describe_table(TableName=spec.default_name)["Table"]

    assert table["KeySchema"] == key_schema(spec.partition_key, spec.sort_key)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types[spec.partition_key.name] == spec.partition_key.type
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        created = indexes[index.name]
        assert created["KeySchema"] == key_schema(index.partition_key, index.sort_key)
        projection = "KEYS_ONLY" if index.keys_only else "ALL"
        assert created["Projection"]["ProjectionType"] == projection
        assert types[index.partition_key.name] == index.partition_key.type
    ttl = runtime.dynamodb.describe_time_to_live(TableName=spec.default_name)
    if spec.ttl_attribute:
        assert ttl["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": spec.ttl_attribute,
        }
    assert os.environ[spec.env_var] == spec.default_name


def test_every_queue_has_a_dlq_and_the_redrive_policy_of_its_spec(runtime: Runtime) -> None:
    specs = topology.all_queues("baton", runtime.event_queue_names)

    assert set(runtime.queues) == {spec.name for spec in specs}
    for spec in specs:
        url = runtime.sqs.get_queue_url(QueueName=spec.name)["QueueUrl"]
        dlq_url = runtime.sqs.get_queue_url(QueueName=spec.dlq_name)["QueueUrl"]
        assert runtime.queue_urls[spec.name] == url
        assert runtime.queue_urls[spec.dlq_name] == dlq_url
        dlq_arn = runtime.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes = runtime.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq_arn
        # The test runtime overrides the count and the timeout to keep redelivery fast.
        assert int(redrive["maxReceiveCount"]) == MAX_RECEIVE_COUNT
        assert attributes["VisibilityTimeout"] == str(VISIBILITY_TIMEOUT_SECONDS)
        assert runtime.queues[spec.name].spec.consumer == spec.consumer


def test_the_tutorial_queue_is_provisioned_beside_the_requested_ones(runtime: Runtime) -> None:
    assert "conductor_doug_testing" in topology.DEFAULT_EVENT_QUEUES
    assert "conductor_doug_testing" in runtime.event_queue_names


def test_the_handlers_environment_names_every_queue(runtime: Runtime) -> None:
    event_queues = json.loads(os.environ[settings.EVENT_QUEUE_URLS])

    assert event_queues == {name: runtime.queue_urls[name] for name in runtime.event_queue_names}
    timer_queue = topology.timer_queue("baton").name
    internal_queue = topology.internal_event_queue("baton").name
    assert os.environ[settings.TIMER_QUEUE_URL] == runtime.queue_urls[timer_queue]
    assert os.environ[settings.INTERNAL_EVENT_QUEUE_URL] == runtime.queue_urls[internal_queue]
    assert os.environ[settings.ENDPOINT_URL] == runtime.endpoint_url
    assert os.environ[settings.AUTH_MODE] == "iam"


def test_the_spec_values_apply_without_overrides() -> None:
    """Without overrides each queue gets its spec's visibility timeout and receive count."""
    with Runtime(
        port=0,
        seed=False,
        event_queue_names=["embedded_plain"],
        api_handler=lambda event, context: None,
        events_handler=lambda event, context: None,
        timers_handler=lambda event, context: None,
        system_tasks_handler=lambda event, context: None,
    ) as runtime:
        for spec in topology.all_queues("baton", ["embedded_plain"]):
            attributes = runtime.sqs.get_queue_attributes(
                QueueUrl=runtime.queue_urls[spec.name], AttributeNames=["All"]
            )["Attributes"]
            assert attributes["VisibilityTimeout"] == str(spec.visibility_timeout_seconds)
            redrive = json.loads(attributes["RedrivePolicy"])
            assert int(redrive["maxReceiveCount"]) == spec.max_receive_count


def test_a_table_kept_from_an_older_run_gets_the_indexes_it_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3
    from moto import mock_aws

    from baton.store.schema import create_table_request
    from embedded.resources import create_table

    (spec,) = [s for s in table_specs() if s.logical_name == "Workflows"]
    # moto in this process, not a runtime another test started.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", settings.ENDPOINT_URL):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        older = create_table_request(spec)
        indexes, attributes = older["GlobalSecondaryIndexes"], older["AttributeDefinitions"]
        assert isinstance(indexes, list) and isinstance(attributes, list)
        # As the table was before `by_task_prefix`.
        older["GlobalSecondaryIndexes"] = [i for i in indexes if i["IndexName"] != "by_task_prefix"]
        older["AttributeDefinitions"] = [
            a for a in attributes if a["AttributeName"] != "task_prefix"
        ]
        dynamodb.create_table(**older)
        create_table(dynamodb, spec)
        table = dynamodb.describe_table(TableName=spec.default_name)["Table"]
        assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
            index.name for index in spec.indexes
        }
