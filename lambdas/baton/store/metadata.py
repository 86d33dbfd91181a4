"""Workflow definitions, task definitions, event handlers and event executions."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from baton.engine.definitions import EventHandler, TaskDef, WorkflowDef
from baton.errors import AlreadyExists, ItemTooLarge, NotFound
from baton.store.clock import now_ms
from baton.store.models import MetadataItem

WORKFLOW_DEF = "WORKFLOW_DEF"
# The definition each workflow runs, as it was when the workflow started, by content hash.
DEFINITION_SNAPSHOT = "DEFINITION_SNAPSHOT"
TASK_DEF = "TASK_DEF"
EVENT_HANDLER = "EVENT_HANDLER"
# How long the record of an event handler's execution is kept.
EVENT_EXECUTION_RETENTION = timedelta(days=7)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# An item holds 400 KB; the body may take this much, the rest is keys and attributes.
_MAX_BODY_BYTES = 380 * 1024


def _definition_body(definition: WorkflowDef) -> str:
    """A definition's stored body, refused before any write if an item could not hold it."""
    body = _dumps(definition.to_json())
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > _MAX_BODY_BYTES:
        raise ItemTooLarge(
            f"The workflow definition {definition.name} is {size} bytes as stored, more than "
            f"the {_MAX_BODY_BYTES} bytes one DynamoDB item holds: split it into smaller workflows"
        )
    return body


def _version_key(name: str, version: int) -> str:
    return f"{name}#{version:010d}"


def _event_partition(event: str) -> str:
    return f"EVENT#{event}"


def _execution_partition(handler: str) -> str:
    return f"EVENT_EXECUTION#{handler}"


@cache
def _connection() -> Connection:
    return Connection(region=MetadataItem.Meta.region, host=MetadataItem.Meta.host)


def _is_condition_failure(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    )


@dataclass(frozen=True)
class DefinitionVersion:
    """One stored version of a workflow definition, read from its key alone."""

    name: str
    version: int
    # When this version was last registered or overwritten (Baton keeps one time per version).
    update_time: int | None


# `#` and ten digits end every definition's sort key (`_version_key`).
_VERSION_SUFFIX = 11


def snapshot_id(definition: WorkflowDef) -> str:
    """A content hash: the same definition always has the same snapshot id.

    Kept on the definition object: every commit names it, and a running workflow's
    definition never changes.
    """
    cached = definition.__dict__.get(_SNAPSHOT_ID)
    if isinstance(cached, str):
        return cached
    canonical = json.dumps(definition.to_json(), sort_keys=True, separators=(",", ":"))
    identifier = hashlib.sha256(canonical.encode()).hexdigest()
    definition.__dict__[_SNAPSHOT_ID] = identifier
    return identifier


_SNAPSHOT_ID = "_baton_snapshot_id"


class MetadataStore:
    """Workflow and task definitions, event handlers and their executions, in the metadata
    table. The service holds one (`Baton.metadata`), as it holds its WorkflowStore; the
    snapshot caches are this object's, so a new store starts with none."""

    def __init__(self, *, snapshot_cache_size: int = 256) -> None:
        self._snapshot_cache_size = snapshot_cache_size
        # Snapshots this store wrote or read: they never change, so neither is repeated.
        self._saved_snapshots: set[str] = set()
        self._loaded_snapshots: OrderedDict[str, WorkflowDef] = OrderedDict()

    # -- workflow definitions ----------------------------------------------------------------

    def put_workflow_def(self, definition: WorkflowDef, *, overwrite: bool) -> None:
        item = MetadataItem(
            WORKFLOW_DEF,
            _version_key(definition.name, definition.version),
            body=_definition_body(definition),
            update_time=now_ms(),
        )
        try:
            item.save(condition=None if overwrite else MetadataItem.sk.does_not_exist())
        except PutError as error:
            if _is_condition_failure(error):
                raise AlreadyExists(
                    f"Workflow with {definition.name}.{definition.version} already exists!"
                ) from error
            raise

    def _versions(self, name: str) -> list[WorkflowDef]:
        found = []
        for item in MetadataItem.query(
            WORKFLOW_DEF, MetadataItem.sk.startswith(f"{name}#"), consistent_read=True
        ):
            definition = WorkflowDef.from_json(json.loads(item.body or "{}"))
            if definition.name == name:
                found.append(definition)
        return sorted(found, key=lambda d: d.version)

    def get_workflow_def(self, name: str, version: int | None = None) -> WorkflowDef:
        if version is not None:
            try:
                item = MetadataItem.get(
                    WORKFLOW_DEF, _version_key(name, version), consistent_read=True
                )
            except DoesNotExist as error:
                raise NotFound(
                    f"No such workflow found by name: {name}, version: {version}"
                ) from error
            return WorkflowDef.from_json(json.loads(item.body or "{}"))
        versions = self._versions(name)
        if not versions:
            raise NotFound(f"No such workflow found by name: {name}, version: null")
        return versions[-1]

    def list_workflow_defs(self) -> list[WorkflowDef]:
        return [
            WorkflowDef.from_json(json.loads(item.body or "{}"))
            for item in MetadataItem.query(WORKFLOW_DEF, consistent_read=True)
        ]

    def definition_versions(self, name: str | None = None) -> list[DefinitionVersion]:
        """Every stored version (of `name`, or of every definition), by name then version.

        One Query on the definitions' partition, reading only each item's key and update time:
        no definition body crosses the wire, and no table is scanned.
        """
        condition = MetadataItem.sk.startswith(f"{name}#") if name is not None else None
        found = []
        for item in MetadataItem.query(
            WORKFLOW_DEF,
            condition,
            consistent_read=True,
            attributes_to_get=["sk", "update_time"],
        ):
            key = str(item.sk)
            version = DefinitionVersion(
                name=key[:-_VERSION_SUFFIX],
                version=int(key[-_VERSION_SUFFIX + 1 :]),
                update_time=int(item.update_time) if item.update_time is not None else None,
            )
            # A name holding `#` shares the prefix of another: `a#b` begins with `a#`.
            if name is None or version.name == name:
                found.append(version)
        return sorted(found, key=lambda v: (v.name, v.version))

    def latest_workflow_defs(self) -> list[WorkflowDef]:
        """The latest version of each definition, by name: a keys-only Query, then one
        BatchGetItem (per 100 names) of the latest versions' bodies."""
        latest: dict[str, int] = {}
        for stored in self.definition_versions():
            latest[stored.name] = max(stored.version, latest.get(stored.name, stored.version))
        keys = [(WORKFLOW_DEF, _version_key(name, version)) for name, version in latest.items()]
        definitions = [
            WorkflowDef.from_json(json.loads(item.body or "{}"))
            for item in MetadataItem.batch_get(keys, consistent_read=True)
        ]
        return sorted(definitions, key=lambda d: d.name)

    def delete_workflow_def(self, name: str, version: int) -> None:
        item = MetadataItem(WORKFLOW_DEF, _version_key(name, version))
        try:
            item.delete(condition=MetadataItem.sk.exists())
        except Exception as error:
            if _is_condition_failure(error):
                raise NotFound(f"No such workflow definition: {name} version: {version}") from error
            raise

    # -- definition snapshots ----------------------------------------------------------------

    def save_snapshot(self, definition: WorkflowDef) -> str:
        """Keep the definition a workflow starts with (written once per distinct definition)."""
        identifier = snapshot_id(definition)
        if identifier in self._saved_snapshots:
            return identifier
        item = MetadataItem(
            DEFINITION_SNAPSHOT, identifier, body=_definition_body(definition), update_time=now_ms()
        )
        try:
            item.save(condition=MetadataItem.sk.does_not_exist())
        except PutError as error:
            if not _is_condition_failure(error):
                raise
        self._saved_snapshots.add(identifier)
        return identifier

    def load_snapshot(self, identifier: str) -> WorkflowDef:
        """A definition snapshot. Cached, and shared: snapshots never change, callers never
        change them, and the decider's index of the definition is built once per store."""
        cached = self._loaded_snapshots.get(identifier)
        if cached is not None:
            self._loaded_snapshots.move_to_end(identifier)
            return cached
        try:
            item = MetadataItem.get(DEFINITION_SNAPSHOT, identifier, consistent_read=True)
        except DoesNotExist as error:
            raise NotFound(f"No definition snapshot {identifier}") from error
        definition = WorkflowDef.from_json(json.loads(item.body or "{}"))
        definition.__dict__[_SNAPSHOT_ID] = identifier
        self._loaded_snapshots[identifier] = definition
        if len(self._loaded_snapshots) > self._snapshot_cache_size:
            self._loaded_snapshots.popitem(last=False)
        return definition

    # -- task definitions --------------------------------------------------------------------

    def put_task_defs(self, definitions: list[TaskDef]) -> None:
        now = now_ms()
        # Conductor saves a list one by one, so of two with one name the later stands; one
        # BatchWriteItem may not hold the same key twice.
        by_name = {definition.name: definition for definition in definitions}
        with MetadataItem.batch_write() as batch:
            for definition in by_name.values():
                batch.save(
                    MetadataItem(
                        TASK_DEF,
                        definition.name,
                        body=_dumps(definition.to_json()),
                        update_time=now,
                    )
                )

    def get_task_def(self, name: str) -> TaskDef:
        try:
            item = MetadataItem.get(TASK_DEF, name, consistent_read=True)
        except DoesNotExist as error:
            raise NotFound(f"No such taskType found by name: {name}") from error
        return TaskDef.from_json(json.loads(item.body or "{}"))

    def find_task_defs(self, names: set[str]) -> dict[str, TaskDef]:
        """The registered task definitions among `names` (missing names are left out)."""
        if not names:
            return {}
        keys = [(TASK_DEF, name) for name in sorted(names)]
        return {
            str(item.sk): TaskDef.from_json(json.loads(item.body or "{}"))
            for item in MetadataItem.batch_get(keys, consistent_read=True)
        }

    def list_task_defs(self) -> list[TaskDef]:
        return [
            TaskDef.from_json(json.loads(item.body or "{}"))
            for item in MetadataItem.query(TASK_DEF, consistent_read=True)
        ]

    def delete_task_def(self, name: str) -> None:
        try:
            MetadataItem(TASK_DEF, name).delete(condition=MetadataItem.sk.exists())
        except Exception as error:
            if _is_condition_failure(error):
                raise NotFound(f"No such taskType found by name: {name}") from error
            raise

    # -- event handlers ----------------------------------------------------------------------

    def _get_handler_item(self, name: str) -> MetadataItem | None:
        try:
            return MetadataItem.get(EVENT_HANDLER, name, consistent_read=True)
        except DoesNotExist:
            return None

    def put_event_handler(self, handler: EventHandler, *, create: bool) -> None:
        """Add (`create`: 409 if the name is taken) or update (404 if it is not) a handler.

        The handler is written twice in one transaction: by name, and under its event so that
        the events function finds it with a strongly consistent query, the moment it is saved.
        """
        existing = self._get_handler_item(handler.name)
        if create and existing is not None:
            raise AlreadyExists(f"EventHandler with name {handler.name} already exists!")
        if not create and existing is None:
            raise NotFound(f"EventHandler with name {handler.name} not found!")
        body = _dumps(handler.to_json())
        now = now_ms()
        try:
            with TransactWrite(connection=_connection()) as transaction:
                by_name = MetadataItem(EVENT_HANDLER, handler.name, body=body, update_time=now)
                if existing is None:
                    transaction.save(by_name, condition=MetadataItem.sk.does_not_exist())
                else:
                    # Conditioned on what was read: two updates at once cannot both land.
                    unchanged = MetadataItem.update_time == existing.update_time
                    transaction.save(by_name, condition=unchanged)
                transaction.save(
                    MetadataItem(
                        _event_partition(handler.event), handler.name, body=body, update_time=now
                    )
                )
                if existing is not None:
                    old_event = EventHandler.from_json(json.loads(existing.body or "{}")).event
                    if old_event != handler.event:
                        transaction.delete(MetadataItem(_event_partition(old_event), handler.name))
        except TransactWriteError as error:
            raise AlreadyExists(
                f"EventHandler {handler.name} was changed at the same time; try again"
            ) from error

    def list_event_handlers(self) -> list[EventHandler]:
        return [
            EventHandler.from_json(json.loads(item.body or "{}"))
            for item in MetadataItem.query(EVENT_HANDLER, consistent_read=True)
        ]

    def event_handlers_for(self, event: str, *, active_only: bool) -> list[EventHandler]:
        handlers = [
            EventHandler.from_json(json.loads(item.body or "{}"))
            for item in MetadataItem.query(_event_partition(event), consistent_read=True)
        ]
        return [h for h in handlers if h.active or not active_only]

    def delete_event_handler(self, name: str) -> None:
        existing = self._get_handler_item(name)
        if existing is None:
            raise NotFound(f"EventHandler with name {name} not found!")
        event = EventHandler.from_json(json.loads(existing.body or "{}")).event
        with TransactWrite(connection=_connection()) as transaction:
            transaction.delete(MetadataItem(EVENT_HANDLER, name))
            transaction.delete(MetadataItem(_event_partition(event), name))

    # -- event executions --------------------------------------------------------------------

    def record_event_execution(self, execution: dict[str, Any]) -> None:
        """Keep what one action did with one message, for operators (Conductor's EventExecution)."""
        MetadataItem(
            _execution_partition(str(execution["name"])),
            str(execution["id"]),
            body=_dumps(execution),
            update_time=now_ms(),
            expires_at=EVENT_EXECUTION_RETENTION,
        ).save()

    def event_executions(self, handler: str, limit: int = 100) -> list[dict[str, Any]]:
        return [
            json.loads(item.body or "{}")
            for item in MetadataItem.query(
                _execution_partition(handler),
                consistent_read=True,
                scan_index_forward=False,
                limit=limit,
            )
        ]
