"""Baton's tables and queues under moto's `mock_aws`, for handler and service tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from baton import idempotency, settings, topology
from baton.store import payloads
from baton.store.schema import table_specs
from embedded import resources

EVENT_QUEUES = ("conductor_doug_testing", "orders")


@dataclass
class Aws:
    sqs: Any
    queue_urls: dict[str, str]

    def receive(self, queue: str, wait: int = 0) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_urls[queue],
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        return list(response.get("Messages", []))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    from baton import runtime

    with mock_aws():
        resources.create_tables(boto3.client("dynamodb"), table_specs())
        resources.create_bucket(boto3.client("s3"), payloads.DEFAULT_BUCKET, "us-east-1")
        sqs = boto3.client("sqs")
        provisioned = resources.create_queues(
            sqs, topology.all_queues("baton", list(EVENT_QUEUES)), visibility_timeout_seconds=1
        )
        urls = {name: queue.url for name, queue in provisioned.items()}
        urls |= {queue.spec.dlq_name: queue.dlq_url for queue in provisioned.values()}
        monkeypatch.setenv(
            settings.EVENT_QUEUE_URLS, json.dumps({name: urls[name] for name in EVENT_QUEUES})
        )
        monkeypatch.setenv(settings.TIMER_QUEUE_URL, urls[topology.timer_queue("baton").name])
        monkeypatch.setenv(settings.DECISION_QUEUE_URL, urls[topology.decision_queue("baton").name])
        monkeypatch.setenv(
            settings.INTERNAL_EVENT_QUEUE_URL, urls[topology.internal_event_queue("baton").name]
        )
        monkeypatch.setenv(
            settings.SYSTEM_TASK_QUEUE_URL, urls[topology.system_task_queue("baton").name]
        )
        monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        runtime.baton.cache_clear()
        idempotency._utility.cache_clear()
        yield Aws(sqs=sqs, queue_urls=urls)
        runtime.baton.cache_clear()
    os.environ.pop(settings.EVENT_QUEUE_URLS, None)
