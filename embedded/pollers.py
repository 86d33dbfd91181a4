"""Lambda's SQS event source mappings and the EventBridge schedule, played by threads.

A poller receives a batch, hands it to its function as an SQS event and deletes the records the
function did not report in `batchItemFailures`; when the function raises, it deletes nothing.
What is not deleted comes back after the visibility timeout and, after `maxReceiveCount`
receives, moto's redrive policy moves it to the dead-letter queue, as SQS does.
"""

from __future__ import annotations

import base64
import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from embedded.functions import ACCOUNT_ID, Function
from embedded.resources import ProvisionedQueue

logger = logging.getLogger(__name__)

# Long polls, as Lambda's own pollers make: an idle queue costs one request per 20 s, and a
# message is delivered as soon as it is sent or due (moto's wait is patched to wake when the
# earliest delayed message is due: see embedded.moto_patches). With 0 (short polls) a poller
# pauses between empty answers instead.
DEFAULT_WAIT_TIME_SECONDS = 20
IDLE_PAUSE_SECONDS = 0.05
# After an SQS error (moto restarting, a closed connection), wait before asking again.
ERROR_BACKOFF_SECONDS = 1.0
SWEEP_RULE_NAME = "baton-sweep"


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS's `{"StringValue", "DataType"}` as Lambda writes it in an event record."""
    attribute: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [
            base64.b64encode(v).decode("ascii") for v in value.get("BinaryListValues", [])
        ],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One ReceiveMessage message as a record of Lambda's SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(records: Sequence[dict[str, Any]], result: Any) -> set[str]:
    """The records to leave on the queue, read from a partial batch response as Lambda reads it.

    No response, or no `batchItemFailures`, means every record succeeded. An identifier that is
    missing, empty or not in the batch makes Lambda fail the whole batch, and so does this.
    """
    every_record = {record["messageId"] for record in records}
    if result is None:
        return set()
    if not isinstance(result, dict):
        logger.warning("A batch response must be a JSON object, got %r: the batch failed", result)
        return every_record
    failures = result.get("batchItemFailures") or []
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in every_record:
            logger.warning("batchItemFailures names %r, not a record of the batch", failure)
            return every_record
        failed.add(identifier)
    return failed


class _Worker:
    """A daemon thread with a stop flag it checks between units of work."""

    def __init__(self, name: str) -> None:
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def join(self, timeout: float, *, warn: bool = True) -> None:
        if self.thread.is_alive():
            self.thread.join(timeout)
            if warn and self.thread.is_alive():
                logger.warning("%s did not stop within %.0f s", self.thread.name, timeout)

    def _run(self) -> None:
        raise NotImplementedError


class QueuePoller(_Worker):
    """The event source mapping of one queue onto one function."""

    def __init__(
        self,
        *,
        sqs: Any,
        queue: ProvisionedQueue,
        function: Function,
        region: str,
        wait_time_seconds: int = DEFAULT_WAIT_TIME_SECONDS,
    ) -> None:
        super().__init__(f"baton-poller-{queue.spec.name}")
        self.sqs = sqs
        self.queue = queue
        self.function = function
        self.region = region
        self.wait_time_seconds = wait_time_seconds

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.poll_once() == 0 and self.wait_time_seconds == 0:
                    self._stopping.wait(IDLE_PAUSE_SECONDS)
            except Exception:
                if self._stopping.is_set():
                    break
                logger.exception("Polling %s failed; trying again", self.queue.spec.name)
                self._stopping.wait(ERROR_BACKOFF_SECONDS)

    def poll_once(self) -> int:
        """Receive one batch and run it through the function; the number of messages."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=min(self.queue.spec.batch_size, 10),
            WaitTimeSeconds=self.wait_time_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if self._stopping.is_set():
            # Stopped during the poll: the messages come back after their visibility timeout.
            return 0
        if messages:
            self._deliver(messages)
        return len(messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(m, queue_arn=self.queue.arn, region=self.region) for m in messages]
        try:
            result = self.function.invoke({"Records": records})
        except Exception:
            logger.exception(
                "%s raised on %d message(s) from %s; they return after %d s",
                self.function.name,
                len(records),
                self.queue.spec.name,
                self.queue.visibility_timeout_seconds,
            )
            return
        failed = failed_message_ids(records, result)
        if failed:
            logger.info(
                "%d of %d message(s) from %s failed; they return after %d s",
                len(failed),
                len(records),
                self.queue.spec.name,
                self.queue.visibility_timeout_seconds,
            )
        done = [r for r in records if r["messageId"] not in failed]
        if done:
            self._delete(done)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(records)
        ]
        response = self.sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)
        for failure in response.get("Failed", []):
            logger.warning("Could not delete a message from %s: %s", self.queue.spec.name, failure)


def scheduled_event(*, region: str, rule_name: str = SWEEP_RULE_NAME) -> dict[str, Any]:
    """The event EventBridge sends a function on a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


class Ticker(_Worker):
    """The EventBridge rule: a scheduled event every `interval_seconds`, the first one after one
    interval, as a new rule's first run comes."""

    def __init__(
        self,
        *,
        function: Function,
        interval_seconds: float,
        region: str,
        rule_name: str = SWEEP_RULE_NAME,
    ) -> None:
        super().__init__("baton-ticker")
        self.function = function
        self.interval_seconds = interval_seconds
        self.region = region
        self.rule_name = rule_name

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_seconds):
            self.tick()

    def tick(self) -> None:
        try:
            self.function.invoke(scheduled_event(region=self.region, rule_name=self.rule_name))
        except Exception:
            # EventBridge retries a failed asynchronous invocation; the next tick does as well.
            logger.exception("%s raised on the scheduled event", self.function.name)
