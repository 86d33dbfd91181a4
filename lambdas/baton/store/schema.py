"""Plain descriptions of the tables, read off the pynamodb models, for CDK and the local runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.indexes import Index, KeysOnlyProjection
from pynamodb.models import Model

from baton import settings
from baton.store import models


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str  # "S", "N" or "B"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: KeySpec
    sort_key: KeySpec | None
    keys_only: bool


@dataclass(frozen=True)
class TableSpec:
    """What CDK needs to declare a table and the local runtime needs to create it."""

    logical_name: str
    env_var: str
    default_name: str
    partition_key: KeySpec
    sort_key: KeySpec | None
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None


def _key(attribute: Attribute[object]) -> KeySpec:
    return KeySpec(name=attribute.attr_name, type=attribute.attr_type)


def _keys(attributes: dict[str, Attribute[object]]) -> tuple[KeySpec, KeySpec | None]:
    hash_key = next(a for a in attributes.values() if a.is_hash_key)
    range_key = next((a for a in attributes.values() if a.is_range_key), None)
    return _key(hash_key), (_key(range_key) if range_key else None)


def _index(index: Index[Any]) -> IndexSpec:
    partition_key, sort_key = _keys(dict(index.Meta.attributes))
    return IndexSpec(
        name=index.Meta.index_name,
        partition_key=partition_key,
        sort_key=sort_key,
        keys_only=isinstance(index.Meta.projection, KeysOnlyProjection),
    )


def table_spec(model: type[Model], *, logical_name: str, env_var: str) -> TableSpec:
    attributes = model.get_attributes()
    partition_key, sort_key = _keys(attributes)
    ttl = next(
        (a.attr_name for a in attributes.values() if type(a).__name__ == "TTLAttribute"), None
    )
    return TableSpec(
        logical_name=logical_name,
        env_var=env_var,
        default_name=model.Meta.table_name,
        partition_key=partition_key,
        sort_key=sort_key,
        indexes=tuple(_index(i) for i in model._indexes.values()),
        ttl_attribute=ttl,
    )


def table_specs() -> list[TableSpec]:
    """Every table Baton uses, in a stable order."""
    return [
        table_spec(models.WorkflowItem, logical_name="Workflows", env_var=settings.WORKFLOWS_TABLE),
        table_spec(models.TaskItem, logical_name="Tasks", env_var=settings.TASKS_TABLE),
        table_spec(models.MetadataItem, logical_name="Metadata", env_var=settings.METADATA_TABLE),
        table_spec(
            models.IdempotencyRecord,
            logical_name="Idempotency",
            env_var=settings.IDEMPOTENCY_TABLE,
        ),
    ]


def create_table_request(spec: TableSpec, table_name: str | None = None) -> dict[str, object]:
    """The arguments of DynamoDB's CreateTable for `spec` (on-demand billing)."""
    keys = [spec.partition_key, *([spec.sort_key] if spec.sort_key else [])]
    attributes = {k.name: k.type for k in keys}
    indexes = []
    for index in spec.indexes:
        index_keys = [index.partition_key, *([index.sort_key] if index.sort_key else [])]
        attributes.update({k.name: k.type for k in index_keys})
        indexes.append(
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": k.name, "KeyType": "HASH" if i == 0 else "RANGE"}
                    for i, k in enumerate(index_keys)
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY" if index.keys_only else "ALL"},
            }
        )
    request: dict[str, object] = {
        "TableName": table_name or spec.default_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": k.name, "KeyType": "HASH" if i == 0 else "RANGE"}
            for i, k in enumerate(keys)
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()
        ],
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    return request
