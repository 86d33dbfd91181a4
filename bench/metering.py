"""Counting what a run asks of AWS: DynamoDB capacity units, SQS requests, Lambda time.

Every botocore call in the process is counted (boto3 clients and pynamodb both go through
`BaseClient._make_api_call`). DynamoDB capacity is computed from item sizes as DynamoDB bills
it: a write costs one unit per KB of the item (two inside a transaction), a strongly
consistent read one unit per 4 KB (half that when eventually consistent). An update is costed
as DynamoDB bills it, on the larger of the item before and after, from the items the meter
saw written; an item it never saw written is costed by the attributes the update sets plus
the keys.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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


def _index_keys() -> dict[str, dict[str, tuple[str, ...]]]:
    """Per table name: each global secondary index's key attributes (from the models)."""
    from baton.store.schema import table_specs

    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for spec in table_specs():
        name = os.environ.get(spec.env_var, spec.default_name)
        found[name] = {
            index.name: tuple(
                k.name for k in (index.partition_key, index.sort_key) if k is not None
            )
            for index in spec.indexes
        }
    return found


_SET_CLAUSE = re.compile(r"(#\w+)\s*=\s*(:\w+)")


def _updated(params: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """What an UpdateItem sets to a plain value, and what it removes (pynamodb's syntax)."""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    expression = params.get("UpdateExpression") or ""
    parts = re.split(r"\b(SET|REMOVE|ADD|DELETE)\b", expression)
    sets: dict[str, Any] = {}
    removed: set[str] = set()
    for keyword, clause in zip(parts[1::2], parts[2::2], strict=True):
        if keyword == "SET":
            for name, value in _SET_CLAUSE.findall(clause):
                sets[names.get(name, name)] = values.get(value)
        elif keyword == "REMOVE":
            removed |= {names.get(n.strip(), n.strip()) for n in clause.split(",") if n.strip()}
    return sets, removed


@dataclass
class IndexWrites:
    """Write units the global secondary indexes cost, as DynamoDB bills them: an entry added
    or removed is one write, an entry whose key changed two (a delete and a put); a write
    that leaves an entry's keys as they were costs the index nothing. Every index is keys
    only, so each entry is far under 1 KB. Items first written before the meter ran are
    taken to have had no entries."""

    by_index: Counter[str] = field(default_factory=Counter)
    # The same units by (call site, index).
    by_site: Counter[tuple[str, str]] = field(default_factory=Counter)
    site: str = ""
    # Read from the models at the first write, not before (the embedded runtime must be
    # started before baton.store is imported).
    _keys: dict[str, dict[str, tuple[str, ...]]] | None = None
    _attributes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def put(self, table: str, item: dict[str, Any]) -> None:
        self._write(table, item, lambda _: item)

    def update(self, table: str, params: dict[str, Any]) -> None:
        sets, removed = _updated(params)

        def after(before: dict[str, Any]) -> dict[str, Any]:
            merged = {**before, **sets}
            return {k: v for k, v in merged.items() if k not in removed}

        self._write(table, params.get("Key") or {}, after)

    def delete(self, table: str, key: dict[str, Any]) -> None:
        self._write(table, key, lambda _: {})

    def _write(self, table: str, key_source: dict[str, Any], after: Any) -> None:
        if self._keys is None:
            self._keys = _index_keys()
        indexes = self._keys.get(table)
        if not indexes:
            return
        identity = (table, repr(sorted(_primary_key(table, key_source).items())))
        before = self._attributes.get(identity, {})
        new_item = after(dict(before))
        indexed = {name for keys in indexes.values() for name in keys}
        now = {name: new_item[name] for name in indexed if name in new_item}
        self._attributes[identity] = now
        for index, keys in indexes.items():
            old = repr([before[k] for k in keys]) if all(k in before for k in keys) else None
            new = repr([now[k] for k in keys]) if all(k in now for k in keys) else None
            if old != new:
                units = 2 if old is not None and new is not None else 1
                self.by_index[index] += units
                self.by_site[(self.site, index)] += units


_PRIMARY_KEYS: dict[str, tuple[str, ...]] = {}


def _primary_key(table: str, item: dict[str, Any]) -> dict[str, Any]:
    if not _PRIMARY_KEYS:
        from baton.store.schema import table_specs

        for spec in table_specs():
            name = os.environ.get(spec.env_var, spec.default_name)
            _PRIMARY_KEYS[name] = tuple(
                k.name for k in (spec.partition_key, spec.sort_key) if k is not None
            )
    return {k: item.get(k) for k in _PRIMARY_KEYS.get(table, ())}


@dataclass
class WriteLine:
    """What one kind of write (a call site, an operation, an item) cost in all."""

    writes: int = 0
    units: float = 0.0
    item_bytes: int = 0


_THIS_FILE = os.path.abspath(__file__)


def call_site() -> str:
    """The innermost frame of Baton's own code that led to this call (`store/workflows.py:
    _stage`), or the bench's or the runtime's when Baton's code is not on the stack."""
    frame = sys._getframe(1)
    fallback = ""
    while frame is not None:
        path = frame.f_code.co_filename.replace(os.sep, "/")
        if "/baton/" in path and "/site-packages/" not in path:
            relative = path.rsplit("/baton/", 1)[1]
            return f"{relative}:{frame.f_code.co_name}"
        if (
            not fallback
            and path != _THIS_FILE
            and ("/embedded/" in path or "/bench/" in path)
            and "/site-packages/" not in path
        ):
            fallback = f"{path.rsplit('/', 1)[1]}:{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return fallback or "elsewhere"


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, inner),) = value.items()
        if kind in ("S", "N"):
            return inner
    return None


@dataclass
class Meter:
    """What the process asked of AWS while the meter ran."""

    calls: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0
    sqs_requests: int = 0
    sqs_empty_receives: int = 0
    index_writes: IndexWrites = field(default_factory=IndexWrites)
    invocations: Counter[str] = field(default_factory=Counter)
    invocation_seconds: dict[str, float] = field(default_factory=dict)
    # Table writes by (call site, operation, item): see `write_breakdown`.
    write_lines: dict[tuple[str, str, str], WriteLine] = field(default_factory=dict)
    _task_types: dict[str, str] = field(default_factory=dict)
    # Every item written while the meter ran, as last written (for the size of an update).
    _items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
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
                site = call_site()
                self.index_writes.site = site
                self._dynamodb(
                    operation, params, response if isinstance(response, dict) else {}, site
                )
            elif service == "sqs":
                self.sqs_requests += 1

    def _item_kind(self, table: str, key: dict[str, Any], item: dict[str, Any]) -> str:
        """Which item a write is to: the table, and the task type or the metadata kind."""
        short = table.removeprefix("baton-")
        if "taskKey" in key:
            identity = f"{_plain(key.get('workflowId'))}/{_plain(key.get('taskKey'))}"
            body = _plain(item.get("body") or {})
            packed = (item.get("packed_body") or {}).get("B")
            if isinstance(packed, bytes):
                body = zlib.decompress(packed).decode()
            if isinstance(body, str) and body.startswith("{"):
                with suppress(ValueError):
                    self._task_types[identity] = str(json.loads(body).get("taskType", "?"))
            return f"task ({self._task_types.get(identity, '?')})"
        if "pk" in key:
            return f"{short} {str(_plain(key['pk']) or '').split('#', 1)[0]}"
        workflow_id = str(_plain(key.get("workflowId")) or "")
        if workflow_id.startswith("idempotency#"):
            return "idempotency record"
        return "workflow" if "workflowId" in key else short

    def _write(
        self,
        site: str,
        operation: str,
        table: str,
        key: dict[str, Any],
        item: dict[str, Any],
        size: int,
        transactional: bool,
    ) -> None:
        units = _write_units(size, transactional)
        self.write_units += units
        kind = self._item_kind(table, key, item)
        line = self.write_lines.setdefault((site, operation, kind), WriteLine())
        line.writes += 1
        line.units += units
        line.item_bytes += size

    def write_breakdown(self) -> dict[tuple[str, str, str], WriteLine]:
        """Table writes by (call site, operation, item), with index units folded in under
        the same site as (site, "index", index name)."""
        found = {
            key: WriteLine(line.writes, line.units, line.item_bytes)
            for key, line in self.write_lines.items()
        }
        for (site, index), units in self.index_writes.by_site.items():
            line = found.setdefault((site, "index", index), WriteLine())
            line.units += units
        return found

    def _put_size(self, table: str, item: dict[str, Any]) -> int:
        identity = (table, repr(sorted(_primary_key(table, item).items())))
        before = self._items.get(identity)
        self._items[identity] = item
        # Overwriting an item is billed on the larger of the two.
        return max(item_size(item), item_size(before) if before else 0)

    def _update_size(self, table: str, params: dict[str, Any]) -> int:
        key = params.get("Key") or {}
        identity = (table, repr(sorted(_primary_key(table, key).items())))
        before = self._items.get(identity)
        if before is None:
            return _update_size(params)
        sets, removed = _updated(params)
        after = {k: v for k, v in {**before, **sets}.items() if k not in removed}
        self._items[identity] = after
        return max(item_size(before), item_size(after))

    def _delete_size(self, table: str, key: dict[str, Any]) -> int:
        identity = (table, repr(sorted(_primary_key(table, key).items())))
        before = self._items.pop(identity, None)
        return item_size(before) if before else UPDATE_OVERHEAD_BYTES

    def _dynamodb(
        self, operation: str, params: dict[str, Any], response: dict[str, Any], site: str
    ) -> None:
        self._index_writes(operation, params)
        table = str(params.get("TableName", ""))
        if operation == "PutItem":
            item = params.get("Item", {})
            self._write(site, operation, table, item, item, self._put_size(table, item), False)
        elif operation in ("UpdateItem", "DeleteItem"):
            values = {
                k.lstrip(":"): v for k, v in (params.get("ExpressionAttributeValues") or {}).items()
            }
            key = params.get("Key", {})
            size = (
                self._update_size(table, params)
                if operation == "UpdateItem"
                else self._delete_size(table, key)
            )
            self._write(site, operation, table, key, values, size, False)
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                if "Put" in entry:
                    put = entry["Put"]
                    item = put["Item"]
                    size = self._put_size(put["TableName"], item)
                    self._write(site, "Transact.Put", put["TableName"], item, item, size, True)
                elif "Update" in entry:
                    update = entry["Update"]
                    values = {
                        k.lstrip(":"): v
                        for k, v in (update.get("ExpressionAttributeValues") or {}).items()
                    }
                    self._write(
                        site,
                        "Transact.Update",
                        update["TableName"],
                        update["Key"],
                        values,
                        self._update_size(update["TableName"], update),
                        True,
                    )
                elif "Delete" in entry:
                    delete = entry["Delete"]
                    self._write(
                        site,
                        "Transact.Delete",
                        delete["TableName"],
                        delete["Key"],
                        {},
                        self._delete_size(delete["TableName"], delete["Key"]),
                        True,
                    )
                elif "ConditionCheck" in entry:
                    self.read_units += 2
        elif operation == "BatchWriteItem":
            for name, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        size = self._put_size(name, item)
                        self._write(site, operation, name, item, item, size, False)
                    elif "DeleteRequest" in request:
                        key = request["DeleteRequest"]["Key"]
                        size = self._delete_size(name, key)
                        self._write(site, "BatchWrite.Delete", name, key, {}, size, False)
        elif operation == "GetItem":
            item = response.get("Item") or {}
            self.read_units += _read_units(item_size(item), bool(params.get("ConsistentRead")))
        elif operation == "Query":
            size = sum(item_size(i) for i in response.get("Items", []))
            self.read_units += _read_units(size, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            requested = params.get("RequestItems") or {}
            for table, items in (response.get("Responses") or {}).items():
                consistent = bool((requested.get(table) or {}).get("ConsistentRead"))
                for item in items:
                    self.read_units += _read_units(item_size(item), consistent)

    def _index_writes(self, operation: str, params: dict[str, Any]) -> None:
        writes = self.index_writes
        table = str(params.get("TableName", ""))
        if operation == "PutItem":
            writes.put(table, params.get("Item", {}))
        elif operation == "UpdateItem":
            writes.update(table, params)
        elif operation == "DeleteItem":
            writes.delete(table, params.get("Key", {}))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                if "Put" in entry:
                    writes.put(entry["Put"]["TableName"], entry["Put"]["Item"])
                elif "Update" in entry:
                    writes.update(entry["Update"]["TableName"], entry["Update"])
                elif "Delete" in entry:
                    writes.delete(entry["Delete"]["TableName"], entry["Delete"]["Key"])
        elif operation == "BatchWriteItem":
            for name, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        writes.put(name, request["PutRequest"]["Item"])
                    elif "DeleteRequest" in request:
                        writes.delete(name, request["DeleteRequest"]["Key"])

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
