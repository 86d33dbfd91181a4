"""Fixtures of the reliability tests.

- `aws` (from tests/runtime): moto in this process; the handlers are called directly.
- `moto_endpoint`: a moto server with Baton's tables and queues, for spawned processes that
  each play one Lambda environment.
- `embedded_baton`: the embedded runtime (real handlers, pollers, gateway) in a spawned
  process, with one-second visibility timeouts and maxReceiveCount 2 set through the
  environment, as `python -m embedded` reads it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from baton import topology
from baton.store import payloads
from baton.store.schema import table_specs
from embedded import resources
from embedded.moto_server import MotoProcess
from embedded.runtime import (
    EVENT_QUEUES_VARIABLE,
    MAX_RECEIVE_COUNT_VARIABLE,
    PORT_VARIABLE,
    TICK_SECONDS_VARIABLE,
    VISIBILITY_TIMEOUT_VARIABLE,
)
from tests.reliability.lambda_process import (
    PROCESS_DEADLINE_SECONDS,
    Endpoint,
    run_embedded_runtime,
    spawn_context,
)
from tests.runtime.conftest import EVENT_QUEUES, aws  # noqa: F401 - the shared fixture

QUEUE_PREFIX = "baton"
REGION = "us-east-1"
# Queues of the embedded runtime: the tutorial's, with its handler, and one no handler reads.
EMBEDDED_HANDLED_QUEUE = "conductor_doug_testing"
EMBEDDED_UNHANDLED_QUEUE = "reliability_unhandled"
EMBEDDED_MAX_RECEIVE_COUNT = 2
# Only to keep a broken run from hanging; nothing is timed against it.
WAIT_DEADLINE_SECONDS = 90.0


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server in a process of its own (DynamoDB requests applied one at a time)."""
    server = MotoProcess("127.0.0.1").start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint() -> Iterator[Endpoint]:
    """A moto server on a free port with Baton's tables and queues, for spawned processes."""
    with moto_server() as url:
        options = {"endpoint_url": url, "region_name": REGION}
        dynamodb = boto3.client("dynamodb", **options)
        sqs = boto3.client("sqs", **options)
        resources.create_tables(dynamodb, table_specs())
        s3 = boto3.client("s3", **options)
        resources.create_bucket(s3, payloads.DEFAULT_BUCKET, REGION)
        s3.close()
        queues = resources.create_queues(sqs, topology.all_queues(QUEUE_PREFIX, EVENT_QUEUES))
        yield Endpoint(
            url=url,
            event_queue_urls={name: queues[name].url for name in EVENT_QUEUES},
            timer_queue_url=queues[topology.timer_queue(QUEUE_PREFIX).name].url,
            internal_event_queue_url=queues[topology.internal_event_queue(QUEUE_PREFIX).name].url,
            decision_queue_url=queues[topology.decision_queue(QUEUE_PREFIX).name].url,
        )
        dynamodb.close()
        sqs.close()


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` until it gives something truthy; fail after a generous deadline."""
    deadline = time.monotonic() + WAIT_DEADLINE_SECONDS
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Gave up waiting for {what}")
        time.sleep(0.2)


@dataclass
class EmbeddedBaton:
    """The embedded runtime's API and queues, and what its pollers delivered."""

    api_url: str
    sqs: Any
    _deliveries: Any
    _seen: list[dict[str, Any]] = field(default_factory=list)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.api_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def queue_url(self, name: str) -> str:
        return str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])

    def deliveries(self) -> list[dict[str, Any]]:
        while not self._deliveries.empty():
            self._seen.append(self._deliveries.get())
        return list(self._seen)

    def queue_is_empty(self, name: str) -> bool:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(name),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(value == "0" for value in attributes.values())


@pytest.fixture(scope="session")
def embedded_baton() -> Iterator[EmbeddedBaton]:
    with moto_server() as url:
        environment = {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            PORT_VARIABLE: "0",
            EVENT_QUEUES_VARIABLE: f"{EMBEDDED_HANDLED_QUEUE},{EMBEDDED_UNHANDLED_QUEUE}",
            VISIBILITY_TIMEOUT_VARIABLE: "1",
            MAX_RECEIVE_COUNT_VARIABLE: str(EMBEDDED_MAX_RECEIVE_COUNT),
            # No scheduled sweep during the tests: what they see comes from the pollers.
            TICK_SECONDS_VARIABLE: "3600",
        }
        context = spawn_context()
        ready, deliveries, stop = context.Queue(), context.Queue(), context.Event()
        process = context.Process(
            target=run_embedded_runtime, args=(environment, ready, deliveries, stop), daemon=True
        )
        process.start()
        sqs = boto3.client("sqs", endpoint_url=url, region_name=REGION)
        try:
            started = ready.get(timeout=PROCESS_DEADLINE_SECONDS)
            yield EmbeddedBaton(api_url=started["api_url"], sqs=sqs, _deliveries=deliveries)
        finally:
            stop.set()
            process.join(PROCESS_DEADLINE_SECONDS)
            if process.is_alive():
                process.kill()
            sqs.close()
