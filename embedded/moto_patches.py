"""What the runtime changes in moto 5.2.5, and how it reads and puts back moto's state.

- `TransactWriteItems` deep-copies every table a transaction touches, once per item, to roll
  back on failure; with Baton's tables that is the whole store per commit (a table of 2,000
  items grew from 88 MB to 631 MB over 200 two-item transactions, and each was slower than the
  last). Here a transaction keeps a copy of only the items it writes and puts those back.
- A query on a table's own key sorts every item of the table to pick those of one partition:
  each query slowed as the store grew. Here it looks at that partition only. A query on an
  index walked and sorted every item of the table too (the sweep's, every tick: most of moto's
  CPU in an idle runtime with 4,000 seed-like workflows stored). Here each index of a table
  keeps the keys of its items by their partition key value, built when the index is first
  queried and kept as moto writes (a table's put and delete, the backend's update, a
  transaction's rollback); a query hands moto the items of its partition only, in the order
  moto would have read them. The same upkeep keeps each TTL table's items by their expiry time,
  so that a round of `embedded/expiry.py` reads the expired items only, not every stored one.
- Every object of moto's models (each DynamoDB item, every copy of one that a write or a query
  makes, each SQS message) was appended to a list on its class, for moto's dashboard (the
  `/moto-api` this runtime does not serve), and kept there forever: about 36 items for each
  seed-like workflow, whose tables hold 7, which was all of moto's growth per stored workflow
  (94 KB). DynamoDB's and SQS's models no longer keep that list.
- An SQS queue kept the receipt handles of every message ever deleted from it (so that a second
  delete of one succeeds, as on SQS). It keeps the latest `DELETED_HANDLES_KEPT`.
- SQS's long poll waits for a message to arrive, but a delayed message (a timer) only becomes
  visible with time: moto notices it on its next one-second round, which costs its receive scan.
  Here a waiting receive sleeps until the earliest delayed or in-flight message is due, a
  message arrives, or its long poll ends, whichever is first, instead of waking every second.
  Which messages are visible is read with the clock read once per scan, not twice a message:
  with 15,000 timers queued, a 5 s long poll cost 3 s of CPU (a core, idle, for a few pollers).
- Every message a receive hands out is checked against its queue's retention period, which moto
  read through the queue's whole attributes, counting every message of the queue (twice) each
  time: a receive cost the square of the queue's length (with a thousand timers queued, a
  quarter of a core while nothing else ran). Here the check reads the retention period itself.
- A send read the queue's whole attributes too (for whether it dedupes by content), counting
  every message three times: with thousands of messages queued, moto spent most of its time
  there. A send reads that one attribute only.
- A DynamoDB request went through moto's Flask app (its host dispatch, routing, request and
  response objects: a quarter of moto's time per request). `serve_dynamodb` hands it to moto's
  DynamoDB handler directly, as the Flask view does.
- An update expression was parsed twice per request (once to check its names, once to apply
  it). Parsed trees are kept by expression, a few hundred of them: moto only reads them, and its
  validator works on a copy.
- moto 5.2 writes every DynamoDB answer through its generic serializer, which looks each field
  of the output shape up under half a dozen aliases (a tenth of the runtime's CPU per
  workflow). The item reads and writes' answers are plain dicts keyed by the wire's names, so
  they are written by walking the shape directly; anything else (timestamps, objects, keys
  the shape does not name, a transformer registered) goes through moto's serializer.
- That copy was a `copy.deepcopy` of the tree (a fifth of a transaction's time with Baton's
  commits). The tree holds only nodes and plain values, so it is copied node by node instead.
- The validator then walks that tree ten times, asking at every node, through Node's ABCMeta,
  whether it is a node and whether the walk handles it; the answers are kept per type (moto's
  CPU per one-WAIT workflow 19.9 -> 15.3 ms, with the next item).
- The first three of those walks (one clause of each kind, no overlapping paths, no key
  updated) compared every clause with every other; they read only the tree, its names and the
  table's keys, so once passed for a tree and those names they are not walked again.
- A condition expression was lexed from its text on every request; each text is lexed once.
- An item was built one attribute at a time, adding up the size of every attribute already
  in it at each one (the square of its attributes); the sum is kept as it grows instead.
- Every request listed its handler class's methods (`inspect.getmembers`) to check its action;
  each class is listed once.

The functions below read moto's tables and queues for a snapshot, and put them back on start.
"""

from __future__ import annotations

import base64
import collections
import copy
import heapq
import itertools
import json
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from embedded.dynamodb_wire import ITEM_OPERATIONS

_applied: list[bool] = []
_lock = threading.Lock()


def _account() -> str:
    from moto.core.models import DEFAULT_ACCOUNT_ID

    return str(DEFAULT_ACCOUNT_ID)


# -- TransactWriteItems: roll back the items written, not copies of whole tables -------------


def _table_key(table: Any, attributes: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_attr = table.range_key_attr
    range_key = DynamoType(attributes[range_attr]) if range_attr else None
    return hash_key, range_key


def _stored_item(table: Any, hash_key: Any, range_key: Any) -> Any:
    if range_key is None:
        return table.items.get(hash_key)
    return table.items.get(hash_key, {}).get(range_key)


def _put_back(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
        if hash_key in table.items and not table.items[hash_key]:
            del table.items[hash_key]
    else:
        table.items[hash_key][range_key] = item
    _item_written(table, hash_key, range_key)


def _items_backup(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(table, hash key, range key, a copy of the item or None) for every item written."""
    backup: list[tuple[Any, ...]] = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            attributes = op.get("Item") if op_type == "Put" else op.get("Key")
            if table is None or not isinstance(attributes, dict):
                continue
            try:
                hash_key, range_key = _table_key(table, attributes)
            except (KeyError, TypeError, ValueError):
                continue  # moto refuses the request itself
            item = _stored_item(table, hash_key, range_key)
            backup.append((table, hash_key, range_key, copy.deepcopy(item)))
    return backup


class _TablesAsThey:
    """Stands for `copy` in moto's DynamoDB models: a Table "copied" for a rollback is the table
    itself (the rollback then writes back the same object), anything else is deep-copied."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _patch_transactions() -> None:
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backup = _items_backup(self, transact_items)
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in reversed(backup):
                _put_back(table, hash_key, range_key, item)
            raise

    setattr(models, "copy", _TablesAsThey())  # noqa: B010 - moto's module global
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# -- moto's list of every model object it ever made -----------------------------------------


# The services whose models are not tracked: moto's own code never reads their lists (S3's
# reset reads its keys', which stay tracked).
UNTRACKED_SERVICES = frozenset({"dynamodb", "sqs"})


def _patch_instance_tracking() -> None:
    import contextlib

    from moto.core.common_models import BaseModel

    original = BaseModel.__new__
    untracked: dict[type, bool] = {}

    def new_untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
        instance = original(cls, *args, **kwargs)
        skip = untracked.get(cls)
        if skip is None:
            skip = untracked[cls] = cls.__module__.split(".")[1] in UNTRACKED_SERVICES
        if skip:
            tracked: list[Any] = cls.instances_tracked  # type: ignore[attr-defined]
            # By identity (an Item's == compares attributes), from the end: the list holds at
            # most the objects other threads are making at this moment.
            with contextlib.suppress(IndexError):
                for index in range(len(tracked) - 1, -1, -1):
                    if tracked[index] is instance:
                        del tracked[index]
                        break
        return instance

    BaseModel.__new__ = new_untracked  # type: ignore[method-assign]


# -- Query: one partition, not the whole table --------------------------------------------------


class _IndexPartitions:
    """One index of one table: the keys of the items it holds, by their partition key value."""

    def __init__(self, hash_attributes: tuple[str, ...]) -> None:
        self.hash_attributes = hash_attributes
        self.keys_by_value: dict[Any, dict[tuple[Any, Any], None]] = {}
        self.value_by_key: dict[tuple[Any, Any], Any] = {}

    def place(self, key: tuple[Any, Any], item: Any) -> None:
        """Put `key` where `item` (its current item, or None) belongs, out of where it was."""
        old = self.value_by_key.pop(key, _ABSENT)
        if old is not _ABSENT:
            keys = self.keys_by_value[old]
            del keys[key]
            if not keys:
                del self.keys_by_value[old]
        if item is None:
            return
        values = tuple(item.attrs.get(name) for name in self.hash_attributes)
        if any(value is None for value in values):
            return  # not in the index: it lacks a partition key attribute
        try:
            hash(values)
        except TypeError:  # a value no key could hold: kept apart, handed to every query
            values = _UNHASHABLE
        self.keys_by_value.setdefault(values, {})[key] = None
        self.value_by_key[key] = values


_ABSENT = object()
# Stands for partition values that cannot be looked up (a list or map where a key belongs).
_UNHASHABLE = (object(),)

# Each table's indexes, built when first queried and kept as moto writes items. Keyed by the
# table object: a table restored from the data directory or copied for a backup is another
# object, whose indexes are built anew.
_index_partitions: weakref.WeakKeyDictionary[Any, dict[str, _IndexPartitions]] = (
    weakref.WeakKeyDictionary()
)
_index_lock = threading.Lock()


def _stored_items(table: Any) -> list[Any]:
    from moto.dynamodb.models.dynamo_type import Item

    # list() of a dict copies it without running Python code: another thread's write does not
    # break the walk (and calls `_item_written` after, which waits for this one to end).
    stored = list(table.items.values())
    if table.range_key_attr:
        stored = [item for by_range in stored for item in list(by_range.values())]
    return [item for item in stored if isinstance(item, Item)]


class _ExpiryTimes:
    """One table's items by the time their TTL attribute says they expire (epoch seconds)."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        self.time_by_key: dict[tuple[Any, Any], float] = {}
        # (time, tie-breaker, key), earliest first; an entry whose time is no longer its key's
        # is dropped when it comes up.
        self.heap: list[tuple[float, int, tuple[Any, Any]]] = []
        self._entries = itertools.count()

    def place(self, key: tuple[Any, Any], item: Any) -> None:
        value = item.attrs.get(self.attribute) if item is not None else None
        expires = _seconds(value)
        old = self.time_by_key.pop(key, None)
        if expires is None:
            return
        self.time_by_key[key] = expires
        if old != expires:
            heapq.heappush(self.heap, (expires, next(self._entries), key))
            if len(self.heap) > 2 * len(self.time_by_key) + 1_000:
                # Mostly entries whose time changed since: rebuilt from the times that hold.
                self.heap = [(at, next(self._entries), k) for k, at in self.time_by_key.items()]
                heapq.heapify(self.heap)

    def expired(self, now: float) -> list[tuple[Any, Any]]:
        """The keys whose time is at or before `now`; they stay until their item is deleted."""
        due: dict[tuple[Any, Any], float] = {}
        while self.heap and self.heap[0][0] <= now:
            expires, _, key = heapq.heappop(self.heap)
            if self.time_by_key.get(key) == expires:
                due[key] = expires
        for key, expires in due.items():
            heapq.heappush(self.heap, (expires, next(self._entries), key))
        return list(due)


def _seconds(value: Any) -> float | None:
    """A TTL attribute's time, as DynamoDB reads it: a number, else the item never expires."""
    if value is None or value.type != "N":
        return None
    try:
        return float(value.value)
    except (TypeError, ValueError):
        return None


# Each TTL table's expiry times, built on the first round of expiry and kept as moto writes.
_expiry_times: weakref.WeakKeyDictionary[Any, _ExpiryTimes] = weakref.WeakKeyDictionary()


def expired_keys(table: Any, attribute: str, now: float) -> list[tuple[Any, Any]]:
    """The (hash, range) keys of a table's items whose `attribute` is a number of seconds at or
    before `now`, without reading the items that expire later."""
    with _index_lock:
        times = _expiry_times.get(table)
        if times is None or times.attribute != attribute:
            times = _expiry_times[table] = _ExpiryTimes(attribute)
            for item in _stored_items(table):
                times.place((item.hash_key, item.range_key), item)
        return times.expired(now)


def _item_written(table: Any, hash_key: Any, range_key: Any) -> None:
    """Move the item at that key (or its absence) to where it belongs in the table's indexes
    and expiry times."""
    if range_key is None and table.range_key_attr:
        return  # no item has that key (moto refuses it)
    with _index_lock:
        partitions = _index_partitions.get(table)
        times = _expiry_times.get(table)
        if not partitions and times is None:
            return
        item = _stored_item(table, hash_key, range_key)
        for index in (partitions or {}).values():
            index.place((hash_key, range_key), item)
        if times is not None:
            times.place((hash_key, range_key), item)


def _index_hash_attributes(table: Any, index_name: str) -> tuple[str, ...]:
    index = {i.name: i for i in table.all_indexes()}.get(index_name)
    schema = getattr(index, "schema", None) or []
    return tuple(k["AttributeName"] for k in schema if k.get("KeyType") == "HASH")


def _indexed_items(
    table: Any, index_name: str, hash_conditions: list[tuple[str, Any]] | None
) -> list[Any] | None:
    """The items of the index that the query's partition key conditions can match (all the
    index's items if they do not name its partition key), in the order moto's `all_items`
    gives them; None for an index this does not know."""
    hash_attributes = _index_hash_attributes(table, index_name)
    if not hash_attributes:
        return None
    with _index_lock:
        partitions = _index_partitions.setdefault(table, {})
        index = partitions.get(index_name)
        if index is None or index.hash_attributes != hash_attributes:
            index = partitions[index_name] = _IndexPartitions(hash_attributes)
            for item in _stored_items(table):
                index.place((item.hash_key, item.range_key), item)
        conditions = dict(hash_conditions or [])
        if len(conditions) == len(hash_conditions or []) and set(conditions) == set(
            hash_attributes
        ):
            values = tuple(conditions[name] for name in hash_attributes)
            keys = [*index.keys_by_value.get(values, ()), *index.keys_by_value.get(_UNHASHABLE, ())]
        else:
            keys = list(index.value_by_key)
        items = [_stored_item(table, hash_key, range_key) for hash_key, range_key in keys]
    found = [item for item in items if item is not None]
    return sorted(found, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _written_key(table: Any, key: Any) -> tuple[Any, Any]:
    """The (hash, range) key an update names, read as moto's `update_item` reads it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if isinstance(key, dict) and table.hash_key_attr in key:
        range_attr = table.range_key_attr
        range_key = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
        return DynamoType(key[table.hash_key_attr]), range_key
    return DynamoType(key), None


def _patch_index_upkeep() -> None:
    """Every way moto writes an item reaches one of these: a table's put and delete (requests,
    batches, transactions, PartiQL, imports) and the backend's update, which changes the stored
    item in place."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    put_item = Table.put_item
    delete_item = Table.delete_item
    update_item = models.DynamoDBBackend.update_item

    def put(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = put_item(self, *args, **kwargs)
        _item_written(self, item.hash_key, item.range_key)
        return item

    def delete(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            _item_written(self, hash_key, range_key)

    def update(self: Any, table_name: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return update_item(self, table_name, key, *args, **kwargs)
        finally:
            # Also when it fails: an update refused late may have changed the item already.
            table = self.tables.get(table_name)
            if table is not None:
                try:
                    hash_key, range_key = _written_key(table, key)
                except (KeyError, TypeError, IndexError, AttributeError):
                    pass  # moto refused the key itself
                else:
                    _item_written(table, hash_key, range_key)

    Table.put_item = put  # type: ignore[method-assign]
    Table.delete_item = delete  # type: ignore[method-assign]
    models.DynamoDBBackend.update_item = update  # type: ignore[method-assign]


_query_lock = threading.Lock()


def _patch_query() -> None:
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's signature: (hash_key, range_comparison, range_objs, limit, exclusive_start_key,
        # scan_index_forward, projection_expressions, index_name, ...)
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name:
            partition = _indexed_items(self, index_name, kwargs.get("hash_key_conditions"))
            if partition is None:
                return original(self, hash_key, *args, **kwargs)
        elif hash_key is None:
            return original(self, hash_key, *args, **kwargs)
        else:
            stored = self.items.get(hash_key)
            if stored is None:
                partition = []
            elif self.range_key_attr:
                partition = sorted(stored.values(), key=lambda item: item.range_key)
            else:
                partition = [stored]
        # moto's query filters all_items() by the hash key: the table's own method stands aside
        # meanwhile. The server applies requests one at a time, but moto in a test's process
        # may be queried from several threads at once (a search's partitions in parallel).
        with _query_lock:
            self.all_items = lambda: partition
            try:
                return original(self, hash_key, *args, **kwargs)
            finally:
                del self.all_items

    Table.query = query  # type: ignore[method-assign]


# -- SQS: the handles of deleted messages, the latest only ------------------------------------

# A second delete of a message comes within moments of the first (a poller's retry).
DELETED_HANDLES_KEPT = 10_000


class RecentHandles(set[str]):
    """A queue's `deleted_messages`: the receipt handles of the latest deleted messages."""

    def __init__(self) -> None:
        super().__init__()
        self._order: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()

    def add(self, handle: str) -> None:
        with self._lock:
            if handle in self:
                return
            super().add(handle)
            self._order.append(handle)
            while len(self._order) > DELETED_HANDLES_KEPT:
                super().discard(self._order.popleft())

    def update(self, *handles: Iterable[str]) -> None:
        for each in handles:
            for handle in each:
                self.add(handle)


def _patch_deleted_handles() -> None:
    from moto.sqs.models import Queue

    original = Queue.__init__

    def initialised(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.deleted_messages = RecentHandles()

    Queue.__init__ = initialised  # type: ignore[method-assign]


# -- SQS: the retention check reads the retention period, not every attribute -----------------


def _patch_retention_check() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(
        self: Any, queue_name: str, message: Any
    ) -> bool:
        retention_seconds = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_seconds + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )


# -- SQS: a send that does not count the queue ----------------------------------------------

_sending = threading.local()


def _patch_send_attributes() -> None:
    """A send read its queue's whole attributes for one of them (whether the queue dedupes by
    content), and those count every message of the queue three times over, each asking the
    clock: a send cost the queue's length. While a send runs, the attributes it reads are that
    one only, written as moto writes it."""
    from moto.sqs.models import Queue, SQSBackend

    all_attributes = Queue.__dict__["attributes"].fget  # the property, not its value
    send_message = SQSBackend.send_message

    def attributes(self: Any) -> dict[str, Any]:
        if not getattr(_sending, "active", False):
            return all_attributes(self)  # type: ignore[no-any-return]
        if not self.fifo_queue:
            return {}
        deduplication = self.content_based_deduplication
        if isinstance(deduplication, bool):
            deduplication = str(deduplication).lower()
        return {"ContentBasedDeduplication": deduplication}

    def sending(self: Any, *args: Any, **kwargs: Any) -> Any:
        outer = getattr(_sending, "active", False)
        _sending.active = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            _sending.active = outer

    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]
    SQSBackend.send_message = sending  # type: ignore[method-assign]


# -- SQS: a long poll that sleeps until the next message is due -------------------------------


def _patch_long_poll() -> None:
    from moto.core.utils import unix_time_millis
    from moto.sqs.models import Queue, SQSBackend

    # When the long poll of this thread's receive ends, in moto's milliseconds.
    polls = threading.local()

    def visible_messages(self: Any) -> list[Any]:
        # moto's `visible and not delayed`, with the clock read once.
        now = unix_time_millis()
        return [m for m in self._messages if m.visible_at < now and m.delayed_until <= now]

    def wait_for_messages(self: Any, timeout: int) -> None:
        now = unix_time_millis()
        poll_ends_ms: float | None = getattr(polls, "ends_ms", None)
        # Past the poll's end by a millisecond, so that moto's loop ends then, not a round on.
        wait_ms = float(timeout) * 1000 if poll_ends_ms is None else poll_ends_ms - now + 1
        due = [
            m.delayed_until if m.delayed_until > now else m.visible_at
            for m in self._messages
            if m.delayed_until > now or m.visible_at >= now
        ]
        if due:
            wait_ms = min(wait_ms, max(0.0, min(due) - now) + 1)
        with self._messages_lock:
            self._messages_lock.wait_for(lambda: self.messages, timeout=max(0.0, wait_ms) / 1000)

    receive_message = SQSBackend.receive_message

    def receiving(
        self: Any, queue_name: str, count: int, wait_seconds_timeout: int, *args: Any, **kwargs: Any
    ) -> Any:
        polls.ends_ms = unix_time_millis() + wait_seconds_timeout * 1000
        try:
            return receive_message(self, queue_name, count, wait_seconds_timeout, *args, **kwargs)
        finally:
            polls.ends_ms = None

    Queue.messages = property(visible_messages)  # type: ignore[assignment,method-assign]
    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
    SQSBackend.receive_message = receiving  # type: ignore[method-assign]


# -- DynamoDB without Flask ---------------------------------------------------------------------


def serve_dynamodb(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A WSGI app for DynamoDB's JSON requests: what moto's Flask view does, without Flask."""
    from botocore.exceptions import ClientError
    from moto.core.request import Request
    from moto.dynamodb.responses import DynamoHandler
    from werkzeug.http import HTTP_STATUS_CODES

    request = Request(environ)
    request.from_wsgi_server = True  # as moto's Flask app marks its requests
    try:
        result = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
    except ClientError as error:
        result = 400, {}, error.response["Error"]["Message"]
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    body = content.encode("utf-8") if isinstance(content, str) else bytes(content or b"")
    start_response(
        f"{int(status)} {HTTP_STATUS_CODES.get(int(status), '')}",
        [(str(name), str(value)) for name, value in dict(headers).items()],
    )
    return [body]


# -- update expressions, parsed once ----------------------------------------------------------

PARSED_EXPRESSIONS = 512


def _patch_expression_parsing() -> None:
    import functools

    from moto.dynamodb import models, responses
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    class _ParsedOnce:
        make = staticmethod(
            functools.lru_cache(maxsize=PARSED_EXPRESSIONS)(UpdateExpressionParser.make)
        )

    setattr(models, "UpdateExpressionParser", _ParsedOnce)  # noqa: B010 - moto's module global
    setattr(responses, "UpdateExpressionParser", _ParsedOnce)  # noqa: B010


# -- the validator's copy of a parsed tree -----------------------------------------------------

_PLAIN = frozenset({str, int, float, bool, type(None)})


def copied_tree(node: Any) -> Any:
    """A copy of a parsed expression's tree, as `copy.deepcopy` makes it: every node new, its
    parent the copy of its parent; plain values shared (they are immutable)."""
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

    # Node's isinstance goes through its ABCMeta: asked once per type.
    node_types: dict[type, bool] = {}

    def copied(original: Any, parent: Any) -> Any:
        new = object.__new__(type(original))
        attributes = dict(original.__dict__)
        attributes["parent"] = parent
        new.__dict__ = attributes
        children = attributes.get("children")
        if type(children) is list:
            new_children = []
            for child in children:
                kind = type(child)
                if kind in _PLAIN:
                    new_children.append(child)
                    continue
                is_node = node_types.get(kind)
                if is_node is None:
                    is_node = node_types[kind] = isinstance(child, Node)
                new_children.append(copied(child, new) if is_node else copy.deepcopy(child))
            attributes["children"] = new_children
        return new

    return copied(node, None)


def _patch_validator_copy() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Node) and memo is None:
            return copied_tree(value)
        return copy.deepcopy(value, memo)

    setattr(validators, "deepcopy", deepcopy)  # noqa: B010 - moto's module global


# -- the validator's walks over a tree ----------------------------------------------------------


def _patch_traversal() -> None:
    """moto validates an update by walking its tree ten times (one walk per check), asking at
    every node whether it is a Node and whether this walk handles it: `isinstance` through
    Node's ABCMeta each time. The answers depend only on the node's type and the walk's class,
    so each is asked once; the walk itself, its order and its hooks are moto's."""
    from moto.dynamodb.parsing import ast_nodes

    node_class = ast_nodes.Node  # type: ignore[attr-defined]
    traverser_class = ast_nodes.DepthFirstTraverser  # type: ignore[attr-defined]
    expression_classes = (
        ast_nodes.Expression,  # type: ignore[attr-defined]
        ast_nodes.UpdateExpressionFunction,  # type: ignore[attr-defined]
    )
    base_hook = traverser_class.pre_processing_of_child
    is_node: dict[type, bool] = {}
    handled: dict[tuple[type, type], bool] = {}
    hooked: dict[type, bool] = {}
    searched: dict[type, bool] = {}

    def node_type(kind: type) -> bool:
        answer = is_node.get(kind)
        if answer is None:
            answer = is_node[kind] = issubclass(kind, node_class)
        return answer

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        kind = type(node)
        if not node_type(kind):
            return node
        walk = type(self)
        hook = hooked.get(walk)
        if hook is None:
            hook = hooked[walk] = walk.pre_processing_of_child is not base_hook
        parent = node.parent
        children = node.children
        if children is not None:
            for index, child in enumerate(children):
                if hook:
                    self.pre_processing_of_child(node, index)
                self.traverse_node_recursively(child, index)
        key = (walk, kind)
        wanted = handled.get(key)
        if wanted is None:
            wanted = handled[key] = issubclass(kind, self.nodes_to_be_processed())
        if wanted:
            node = self.process(node)
            node.parent = parent
            if parent:
                parent.children[child_id] = node
        return node

    def find_clauses(self: Any, clause_types: Any) -> list[Any]:
        clauses: list[Any] = []
        for child in self.children or []:
            kind = type(child)
            if kind in clause_types:
                clauses.append(child)
                continue
            nested = searched.get(kind)
            if nested is None:
                nested = searched[kind] = issubclass(kind, expression_classes)
            if nested:
                clauses.extend(child.find_clauses(clause_types))
        return clauses

    traverser_class.traverse_node_recursively = traverse_node_recursively
    node_class.find_clauses = find_clauses


# -- an update's checks that read only its expression, its names and the table's keys ---------

CHECKED_EXPRESSIONS = 4096


def _patch_expression_checks() -> None:
    """The first three walks of an update's validation (at most one clause of each kind, no
    overlapping paths, no key attribute updated) read only the parsed expression, its
    attribute names and the table's key attributes, and change nothing: the first two compared
    every clause with every other, a tenth of moto's CPU with Baton's commits. A parsed tree is
    kept per expression text (see `_patch_expression_parsing`), so a check that passed for that
    tree with the same names and keys passes again and is not walked again; a check that fails
    is walked every time, and raises as moto does."""
    from moto.dynamodb.parsing import validators

    text_only = (
        validators.ActionCountValidator,
        validators.OverlappingPathsValidator,
        validators.UpdateHashRangeKeyValidator,
    )
    through_init = validators.UpdateExpressionValidator.__init__
    # (id of the parsed tree, names, keys) -> the tree (held, so its id is not reused).
    passed: dict[tuple[Any, ...], Any] = {}
    passed_lock = threading.Lock()

    def init(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        through_init(self, expression, *args, **kwargs)
        names = self.expression_attribute_names or {}
        self._checked_as = (
            id(expression),
            tuple(sorted(names.items())),
            tuple(self.table.table_key_attrs),
        )
        self._parsed_tree = expression

    def validate(self: Any) -> Any:
        key = self._checked_as
        with passed_lock:
            already = passed.get(key) is self._parsed_tree
        node = self.node_to_validate
        for processor in self.processors:
            if already and isinstance(processor, text_only):
                continue
            node = processor.traverse(node)
        if not already:
            with passed_lock:
                if len(passed) >= CHECKED_EXPRESSIONS:
                    passed.clear()
                passed[key] = self._parsed_tree
        return node

    validators.UpdateExpressionValidator.__init__ = init  # type: ignore[method-assign]
    validators.UpdateExpressionValidator.validate = validate  # type: ignore[method-assign]


# -- condition expressions, lexed once per text ------------------------------------------------

LEXED_CONDITIONS = 1024


def _patch_condition_lexing() -> None:
    """moto lexes a condition expression from its text on every request, compiling (through
    `re`'s cache) eight patterns per token. The tokens depend on the text only and are tuples
    that nothing changes afterwards, so each text is lexed once; the parse that follows
    (names, values, operators) is moto's, on a fresh queue of those tokens. A text moto cannot
    lex raises as before, every time."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    through_lexer = ConditionExpressionParser._lex_condition_expression
    lexed: dict[str, tuple[Any, ...]] = {}

    def lex(self: Any) -> collections.deque[Any]:
        text = self.condition_expression
        tokens = lexed.get(text)
        if tokens is None:
            tokens = tuple(through_lexer(self))
            if len(lexed) >= LEXED_CONDITIONS:
                lexed.clear()
            lexed[text] = tokens
        return collections.deque(tokens)

    ConditionExpressionParser._lex_condition_expression = lex  # type: ignore[method-assign]


# -- an item's size, added up once --------------------------------------------------------------

ITEM_SIZE_LIMIT = 405_000  # moto's own limit (between the 400 KB documented and what AWS takes)


def _patch_item_size_check() -> None:
    """moto builds an item one attribute at a time into a dict that, at every insert, adds up
    the size of every attribute already in it (encoding each string again): building an item
    cost the square of its attributes. Here the same sums are kept as a running total: the
    item is refused (`ItemSizeTooLarge`) at the same attribute, after the same conversions."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    dynamodb_type = dynamo_type.DynamoType
    limited = dynamo_type.LimitedSizeDict

    def init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        built = limited.__new__(limited)
        dict.__init__(built)
        size = 0
        for key, value in attrs.items():
            typed = dynamodb_type(value)
            size += bytesize(key) + typed.size()
            if size > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
            dict.__setitem__(built, key, typed)
        self.attrs = built

    dynamo_type.Item.__init__ = init  # type: ignore[method-assign]

    # Sizes are UTF-8 bytes, which moto counts by encoding the text (a workflow's whole body, at
    # every attribute written to its item): text that is all ASCII is as long in bytes.
    def ascii_or_encoded_size(value: Any) -> int:
        if type(value) is str and value.isascii():
            return len(value)
        return bytesize(value)

    setattr(dynamo_type, "bytesize", ascii_or_encoded_size)  # noqa: B010 - moto's module global


# -- moto's per-request look-up of its handler's methods ----------------------------------------


def _patch_method_names() -> None:
    """moto lists a response class's methods (`inspect.getmembers`) on every request to check
    the action is one of them: a twentieth of moto's time per request. The classes do not change
    once imported, so each is listed once."""
    import functools

    from moto.core import responses, utils

    listed = functools.lru_cache(maxsize=None)(utils.method_names_from_class)
    setattr(responses, "method_names_from_class", listed)  # noqa: B010 - moto's module global


# -- DynamoDB's answers, written without the aliasing serializer ---------------------------------

# The item operations whose answers moto writes itself rather than as a DynamoDB result
# (`_patch_write_answers`).
WRITE_ANSWERS = frozenset({"BatchWriteItem", "TransactWriteItems"})
# The operations whose answers are plain dicts of items, keys and capacity.
PLAIN_ANSWERS = ITEM_OPERATIONS - WRITE_ANSWERS


class NotPlain(Exception):
    """A value that moto's own serializer must write."""


def plain_json(value: Any, shape: Any) -> Any:
    """`value` as moto's JSON serializer writes it for `shape`, for a value made of dicts keyed by
    the shape's member names, lists, strings, numbers, booleans and bytes; NotPlain otherwise."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        if type(value) is not dict or not members.keys() >= value.keys():
            raise NotPlain(shape.name)
        written = {}
        for name, member in members.items():
            member_value = value.get(name)
            if member_value is not None:
                written[member.serialization.get("name", name)] = plain_json(member_value, member)
        return written
    if kind == "map":
        if type(value) is not dict:
            raise NotPlain(shape.name)
        return {key: plain_json(each, shape.value) for key, each in value.items()}
    if kind == "list":
        if type(value) is not list or None in value:
            raise NotPlain(shape.name)
        return [plain_json(each, shape.member) for each in value]
    if kind == "string" and type(value) is str:
        return value
    if kind == "blob" and type(value) in (bytes, str):
        data = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(data).strip().decode("utf-8")
    if kind in ("integer", "long") and type(value) is int:
        return value
    if kind in ("float", "double") and type(value) in (int, float):
        return float(value)
    if kind == "boolean" and type(value) is bool:
        return value
    raise NotPlain(shape.name)


def _plain_answer(result: Any, context: Any) -> tuple[int, dict[str, str], str] | None:
    """A JSON protocol answer of plain values, as moto's serializer would write it; None if
    `result` holds anything else (moto's serializer then writes it)."""
    operation = context.operation_model
    try:
        body = json.dumps(plain_json(result, operation.output_shape))
    except NotPlain:
        return None
    version = context.service_model.metadata.get("jsonVersion", "1.0")
    status = operation.http.get("responseCode", 200)
    return status, {"Content-Type": f"application/x-amz-json-{version}"}, body


def _patch_dynamodb_answers() -> None:
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        output = operation.output_shape
        if (
            operation.name in PLAIN_ANSWERS
            and output is not None
            and not getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)
            and context.service_model.protocol == "json"
        ):
            answer = _plain_answer(self.result, context)
            if answer is not None:
                return answer
        return original(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


# -- a request's URL, built once per host and path ----------------------------------------------

# The environ keys werkzeug builds `Request.raw_url` from (scheme, host, server, script, path,
# query string): with the same values it builds the same URL.
_URL_KEYS = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "RAW_URI",
    "PATH_INFO",
    "QUERY_STRING",
)
BUILT_URLS = 256


def _patch_raw_url() -> None:
    """moto builds every request's URL from its environ through werkzeug's host and IRI
    handling (a twentieth of moto's CPU per DynamoDB request), and every DynamoDB request has
    the same host and path. The URL depends only on `_URL_KEYS`, so it is built once per
    distinct set of their values, by moto's own property."""
    from moto.core.request import Request

    through_werkzeug = Request.raw_url.fget  # type: ignore[attr-defined]
    built: dict[tuple[Any, ...], str] = {}

    def raw_url(self: Any) -> str:
        environ = self.environ
        key = tuple(environ.get(name) for name in _URL_KEYS)
        url = built.get(key)
        if url is None:
            url = through_werkzeug(self)
            if len(built) >= BUILT_URLS:
                built.clear()
            built[key] = url
        return url

    Request.raw_url = property(raw_url)  # type: ignore[method-assign,assignment]


# -- DynamoDB's requests, parsed by readers made once per shape ---------------------------------


def json_reader(shape: Any, readers: dict[str, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """A function that turns `shape`'s JSON value into what moto's JSON parser makes of it
    (`moto.core.parse.BaseJSONParser`): a structure's members that are set, under their
    member names; blobs decoded; timestamps, floats and integers converted; anything else as
    it is. `readers` holds the readers made so far by shape name (shapes refer to themselves:
    an attribute value holds maps of attribute values)."""
    from moto.core.parse import UNDEFINED, default_blob_parser, default_timestamp_parser

    name = shape.name
    if name in readers:
        return readers[name]
    kind = shape.type_name

    def deferred(value_shape: Any) -> Callable[[Any], Any]:
        # Made on first use: a reader made now could be the one being made.
        made: list[Callable[[Any], Any]] = []

        def read(value: Any) -> Any:
            if not made:
                made.append(json_reader(value_shape, readers))
            return made[0](value)

        return read

    reader: Callable[[Any], Any]
    if kind == "structure":
        if shape.is_document_type:

            def reader(value: Any) -> Any:
                return value
        else:
            members = [
                (member, member_shape.serialization.get("name", member), deferred(member_shape))
                for member, member_shape in shape.members.items()
            ]

            def reader(value: Any) -> Any:
                if value is None:
                    return None
                parsed = {}
                for member, json_name, read in members:
                    raw = value.get(json_name)
                    if raw is not None:
                        parsed[member] = read(raw)
                return parsed
    elif kind == "list":
        read_member = deferred(shape.member)

        def reader(value: Any) -> Any:
            return [read_member(each) for each in value]
    elif kind == "map":
        read_key, read_value = deferred(shape.key), deferred(shape.value)

        def reader(value: Any) -> Any:
            return {read_key(key): read_value(each) for key, each in value.items()}
    elif kind == "blob":
        reader = default_blob_parser
    elif kind == "timestamp":
        reader = default_timestamp_parser
    elif kind in ("float", "double"):

        def reader(value: Any) -> Any:
            return value if value is UNDEFINED else float(value)
    elif kind in ("integer", "long", "short", "byte"):

        def reader(value: Any) -> Any:
            return value if value is UNDEFINED else int(value)
    else:

        def reader(value: Any) -> Any:
            return value

    readers[name] = reader
    return reader


def _json_body(data: bytes) -> Any:
    """A request's body as moto's JSON parser reads it: nothing is `{}`, text that is not JSON
    is `{"message": text}`."""
    if not data:
        return {}
    try:
        text: Any = data.decode("utf-8")
    except (UnicodeDecodeError, AttributeError):
        text = data
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text}


def _patch_request_parsing() -> None:
    """moto parses each DynamoDB request against the service's model with a generic parser
    that looks up a handler by name for every value it walks (an attribute value is several):
    a twentieth of moto's CPU. For JSON requests the same walk is made by readers built once
    per shape (`json_reader`); any other request is parsed by moto."""
    from moto.core import responses
    from moto.core.parse import PROTOCOL_PARSERS, JSONParser
    from moto.dynamodb.responses import DynamoHandler

    through_moto = DynamoHandler.parse_parameters
    readers: dict[str, Callable[[Any], Any]] = {}
    by_operation: dict[str, Callable[[Any], Any] | None] = {}

    def parse_parameters(self: Any, request: Any) -> None:
        service_model = responses.get_service_model(  # type: ignore[attr-defined]
            self.boto3_service_name
        )
        protocol = responses.determine_request_protocol(  # type: ignore[attr-defined]
            service_model, request.content_type
        )
        if PROTOCOL_PARSERS.get(protocol) is not JSONParser:
            through_moto(self, request)
            return
        action = self._get_action()
        if action not in by_operation:
            shape = service_model.operation_model(action).input_shape
            by_operation[action] = None if shape is None else json_reader(shape, readers)
        read = by_operation[action]
        if read is None:
            self.params = {}
            return
        self.params = read(_json_body(request.data))

    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]


# -- the answers of DynamoDB's batch and transactional writes, written plainly ------------------


def _patch_write_answers() -> None:
    """moto answers BatchWriteItem and TransactWriteItems with a plain `ActionResult` (not
    the DynamoDB result `_patch_dynamodb_answers` writes), through its aliasing serializer: a
    thirtieth of moto's CPU for answers that are `{}` or `{"UnprocessedItems": {}}`. Those
    made of plain dicts and lists are written by `plain_json`, as that serializer writes
    them; any other goes through moto."""
    from moto.core.responses import ActionResult

    original = ActionResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        output = operation.output_shape
        if (
            type(self) is ActionResult
            and operation.name in WRITE_ANSWERS
            and output is not None
            and context.service_model.service_name == "dynamodb"
            and context.service_model.protocol == "json"
            and not getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)
        ):
            answer = _plain_answer(self.result, context)
            if answer is not None:
                return answer
        return original(self, context)

    ActionResult.execute_result = execute_result  # type: ignore[method-assign]


def apply() -> None:
    """Patch moto once per process."""
    with _lock:
        if _applied:
            return
        _patch_instance_tracking()
        _patch_transactions()
        _patch_index_upkeep()
        _patch_query()
        _patch_long_poll()
        _patch_retention_check()
        _patch_send_attributes()
        _patch_deleted_handles()
        _patch_expression_parsing()
        _patch_validator_copy()
        _patch_traversal()
        _patch_expression_checks()
        _patch_condition_lexing()
        _patch_item_size_check()
        _patch_method_names()
        _patch_dynamodb_answers()
        _patch_raw_url()
        _patch_request_parsing()
        _patch_write_answers()
        _applied.append(True)


# -- reading and restoring state ----------------------------------------------------------------


def _dynamodb_regions() -> Iterable[tuple[str, Any]]:
    from moto.dynamodb.models import dynamodb_backends

    return list(dynamodb_backends[_account()].items())


def _sqs_regions() -> Iterable[tuple[str, Any]]:
    from moto.sqs.models import sqs_backends

    return list(sqs_backends[_account()].items())


def all_tables() -> dict[str, Any]:
    """Every table by "region/name"."""
    return {
        f"{region}/{name}": table
        for region, backend in _dynamodb_regions()
        for name, table in backend.tables.items()
    }


def restore_tables(tables: dict[str, Any]) -> None:
    from moto.dynamodb.models import dynamodb_backends

    for key, table in tables.items():
        region, _, name = key.partition("/")
        dynamodb_backends[_account()][region].tables[name] = table


def all_messages() -> dict[str, list[Any]]:
    """Every queue's messages by "region/queue", as fresh copies visible at once (a message in
    flight comes back, as after its visibility timeout)."""
    messages: dict[str, list[Any]] = {}
    for region, backend in _sqs_regions():
        for name, queue in backend.queues.items():
            stored = list(queue._messages)
            if stored:
                messages[f"{region}/{name}"] = [_as_sent(m) for m in stored]
    return messages


def _as_sent(message: Any) -> Any:
    copied = copy.copy(message)
    copied.visible_at = 0.0
    copied.receipt_handle = None
    copied._old_receipt_handles = []
    return copied


def _queue(region: str, name: str) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[_account()][region].queues.get(name)


def stored_messages(region: str, queue_name: str, message_ids: list[str]) -> list[Any]:
    """The messages just sent, as moto stored them."""
    queue = _queue(region, queue_name)
    if queue is None or not message_ids:
        return []
    wanted = set(message_ids)
    found = []
    for message in reversed(list(queue._messages)):
        if message.id in wanted:
            found.append(_as_sent(message))
            if len(found) == len(wanted):
                break
    return found


def message_ids_for(region: str, queue_name: str, receipt_handles: list[str]) -> set[str]:
    queue = _queue(region, queue_name)
    if queue is None:
        return set()
    handles = set(receipt_handles)
    return {
        m.id
        for m in list(queue._messages)
        if m.receipt_handle in handles or handles.intersection(m._old_receipt_handles)
    }


def absent_message_ids(region: str, queue_name: str, message_ids: set[str]) -> set[str]:
    queue = _queue(region, queue_name)
    if queue is None:
        return set(message_ids)
    present = {m.id for m in list(queue._messages)}
    return message_ids - present


def add_messages(region: str, queue_name: str, messages: list[Any]) -> None:
    queue = _queue(region, queue_name)
    if queue is None:
        return
    with queue._messages_lock:
        known = {m.id for m in queue._messages}
        queue._messages.extend(m for m in messages if m.id not in known)
        queue._messages_lock.notify_all()


def remove_messages(region: str, queue_name: str, message_ids: set[str]) -> None:
    queue = _queue(region, queue_name)
    if queue is None:
        return
    with queue._messages_lock:
        queue._messages = [m for m in queue._messages if m.id not in message_ids]
