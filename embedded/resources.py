"""Tables and queues created from the same specs the CDK stacks declare them from, and the
payload bucket."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from baton.store.schema import TableSpec
    from baton.topology import QueueSpec

# As long as SQS keeps a message: a dead letter waits for someone to look at it.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600


def _add_missing_indexes(dynamodb: Any, request: dict[str, Any]) -> None:
    """Indexes a newer Baton declares that a table kept from an older run lacks (kept state
    in `.baton/`): added one at a time, as DynamoDB takes them."""
    table = dynamodb.describe_table(TableName=request["TableName"])["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in request.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] not in present:
            dynamodb.update_table(
                TableName=request["TableName"],
                AttributeDefinitions=request["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )


def create_table(dynamodb: Any, spec: TableSpec) -> None:
    """Create one table (on demand, its GSIs, TTL on); a table that exists is left as it is."""
    from baton.store.schema import create_table_request

    request = create_table_request(spec)
    try:
        dynamodb.create_table(**request)
    except ClientError as error:
        # A runtime pointed at a long-lived endpoint finds its tables from the last run.
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        _add_missing_indexes(dynamodb, request)
    dynamodb.get_waiter("table_exists").wait(
        TableName=spec.default_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    if spec.ttl_attribute is not None:
        ttl = dynamodb.describe_time_to_live(TableName=spec.default_name)
        if ttl["TimeToLiveDescription"].get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=spec.default_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )


def create_tables(dynamodb: Any, specs: Iterable[TableSpec]) -> None:
    for spec in specs:
        create_table(dynamodb, spec)


@dataclass(frozen=True)
class ProvisionedQueue:
    """A queue as created: its spec (with any override applied), URLs and ARNs."""

    spec: QueueSpec
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str
    visibility_timeout_seconds: int


def _ensure_queue(sqs: Any, name: str, attributes: dict[str, str]) -> str:
    try:
        url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError as error:
        # The queue exists with other attributes (an earlier run with other overrides).
        if error.response["Error"]["Code"] not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        changeable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
        sqs.set_queue_attributes(QueueUrl=url, Attributes=changeable)
    return url


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn


def create_queue(
    sqs: Any,
    spec: QueueSpec,
    *,
    visibility_timeout_seconds: int | None = None,
    max_receive_count: int | None = None,
) -> ProvisionedQueue:
    """Create a queue and its DLQ, with the spec's redrive policy and visibility timeout.

    The overrides exist for tests, which cannot wait minutes for a redelivery.
    """
    if max_receive_count is not None:
        spec = dataclasses.replace(spec, max_receive_count=max_receive_count)
    visibility = (
        visibility_timeout_seconds
        if visibility_timeout_seconds is not None
        else spec.visibility_timeout_seconds
    )
    # SQS takes FifoQueue at creation only (a queue of that name is FIFO for good).
    fifo = {"FifoQueue": "true"} if spec.fifo else {}
    dlq_url = _ensure_queue(
        sqs, spec.dlq_name, {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS), **fifo}
    )
    dlq_arn = _queue_arn(sqs, dlq_url)
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}
    url = _ensure_queue(
        sqs,
        spec.name,
        {"VisibilityTimeout": str(visibility), "RedrivePolicy": json.dumps(redrive), **fifo},
    )
    return ProvisionedQueue(
        spec=spec,
        url=url,
        arn=_queue_arn(sqs, url),
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        visibility_timeout_seconds=visibility,
    )


def create_queues(
    sqs: Any,
    specs: Sequence[QueueSpec],
    *,
    visibility_timeout_seconds: int | None = None,
    max_receive_count: int | None = None,
) -> dict[str, ProvisionedQueue]:
    """Every queue with its DLQ, by queue name."""
    return {
        spec.name: create_queue(
            sqs,
            spec,
            visibility_timeout_seconds=visibility_timeout_seconds,
            max_receive_count=max_receive_count,
        )
        for spec in specs
    }


def create_bucket(s3: Any, name: str, region: str) -> None:
    """Create the payload bucket (see baton.store.payloads); one that exists is left as it is."""
    request: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":  # S3 refuses a location constraint naming its default region
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise
