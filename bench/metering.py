"""Counting what a run asks of AWS: DynamoDB capacity units, SQS requests, Lambda time.

Every botocore call in the process is counted (boto3 clients and pynamodb both go through
`BaseClient._make_api_call`). DynamoDB capacity is computed from item sizes as DynamoDB bills
it: a write costs one unit per KB of the item (two inside a transaction), a strongly
consistent read one unit per 4 KB (half that when eventually consistent). An update is costed
by the attributes it writes plus the keys, which is close for Baton, whose updates rewrite
the item's body; the real charge is on the larger of the item before and after.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

KB = 1024
# The bench's own reads carry this header; their cost is not the workflow's.
OBSERVER_HEADER = "X-Bench-Observer"
# Keys and bookkeeping attributes an update does not send but the item holds.
UPDATE_OVERHEAD_BYTES = 120


def attribute_size(value: Any) -> int:
    """Size of a DynamoDB-JSON attribute value, as DynamoDB counts it (approximately)."""
    if not isinstance(value, dict) or len(value) != 1:
        return len(str(value))
    ((kind, inner),) = value.items()
    if kind in ("S", "B"):
        return len(inner.encode() if isinstance(inner, str) else inner)
    if kind == "N":
        return len(str(inner)) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k) + attribute_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(len(str(v)) for v in inner)
    return len(str(inner))


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name) + attribute_size(value) for name, value in item.items())


def _write_units(size: int, transactional: bool) -> float:
    return math.ceil(max(size, 1) / KB) * (2 if transactional else 1)


def _read_units(size: int, consistent: bool) -> float:
    units = math.ceil(max(size, 1) / (4 * KB))
    return float(units) if consistent else units / 2


def _update_size(params: dict[str, Any]) -> int:
    values = params.get("ExpressionAttributeValues") or {}
    return UPDATE_OVERHEAD_BYTES + sum(attribute_size(v) for v in values.values())


@dataclass
class Meter:
    """What the process asked of AWS while the meter ran."""

    calls: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0
    sqs_requests: int = 0
    sqs_empty_receives: int = 0
    invocations: Counter[str] = field(default_factory=Counter)
    invocation_seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls this thread makes inside the block are not counted (the bench's own reads)."""
        self._local.paused = True
        try:
            yield
        finally:
            self._local.paused = False

    def record(self, service: str, operation: str, params: dict[str, Any], response: Any) -> None:
        if getattr(self._local, "paused", False):
            return
        with self._lock:
            received = (response or {}).get("Messages")
            if service == "sqs" and operation == "ReceiveMessage" and not received:
                # Lambda's pollers make these whatever the load: a fixed monthly cost.
                self.sqs_empty_receives += 1
                return
            self.calls[f"{service}.{operation}"] += 1
            if service == "dynamodb":
                self._dynamodb(operation, params, response if isinstance(response, dict) else {})
            elif service == "sqs":
                self.sqs_requests += 1

    def _dynamodb(self, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        if operation == "PutItem":
            self.write_units += _write_units(item_size(params.get("Item", {})), False)
        elif operation in ("UpdateItem", "DeleteItem"):
            self.write_units += _write_units(_update_size(params), False)
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                if "Put" in entry:
                    self.write_units += _write_units(item_size(entry["Put"]["Item"]), True)
                elif "Update" in entry:
                    self.write_units += _write_units(_update_size(entry["Update"]), True)
                elif "Delete" in entry:
                    self.write_units += _write_units(UPDATE_OVERHEAD_BYTES, True)
                elif "ConditionCheck" in entry:
                    self.read_units += 2
        elif operation == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    item = request.get("PutRequest", {}).get("Item", {})
                    self.write_units += _write_units(item_size(item), False)
        elif operation == "GetItem":
            item = response.get("Item") or {}
            self.read_units += _read_units(item_size(item), bool(params.get("ConsistentRead")))
        elif operation == "Query":
            size = sum(item_size(i) for i in response.get("Items", []))
            self.read_units += _read_units(size, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for items in (response.get("Responses") or {}).values():
                for item in items:
                    self.read_units += _read_units(item_size(item), True)

    def invocation(self, function: str, seconds: float) -> None:
        with self._lock:
            self.invocations[function] += 1
            self.invocation_seconds[function] = self.invocation_seconds.get(function, 0.0) + seconds


@contextmanager
def metering() -> Iterator[Meter]:
    """Count every AWS call this process makes inside the block."""
    from botocore.client import BaseClient

    meter = Meter()
    original = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(client, operation, params)
        service = client.meta.service_model.service_name
        meter.record(service, operation, params, response)
        return response

    BaseClient._make_api_call = counted
    try:
        yield meter
    finally:
        BaseClient._make_api_call = original


def timed_handler(
    meter: Meter, function: str, handler: Callable[[dict[str, Any], Any], Any]
) -> Callable[[dict[str, Any], Any], Any]:
    """Wrap a Lambda handler so each invocation is counted and timed."""

    def invoke(event: dict[str, Any], context: Any) -> Any:
        headers = event.get("headers") or {}
        if any(name.lower() == OBSERVER_HEADER.lower() for name in headers):
            with meter.paused():
                return handler(event, context)
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            meter.invocation(function, time.perf_counter() - started)

    return invoke
