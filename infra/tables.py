"""Baton's DynamoDB tables, declared from the pynamodb models via `baton.store.schema`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from baton.store.schema import IndexSpec, KeySpec, TableSpec
from infra.access import TableAccess

_ATTRIBUTE_TYPES: Final = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def _index(index: IndexSpec) -> dynamodb.GlobalSecondaryIndexPropsV2:
    return dynamodb.GlobalSecondaryIndexPropsV2(
        index_name=index.name,
        partition_key=_attribute(index.partition_key),
        sort_key=_attribute(index.sort_key) if index.sort_key else None,
        projection_type=(
            dynamodb.ProjectionType.KEYS_ONLY if index.keys_only else dynamodb.ProjectionType.ALL
        ),
    )


class Tables(Construct):
    """One table per spec: on-demand, point-in-time recovery, encrypted, never deleted by CDK."""

    def __init__(self, scope: Construct, id_: str, *, specs: Sequence[TableSpec]) -> None:
        super().__init__(scope, id_)
        self.specs: dict[str, TableSpec] = {spec.logical_name: spec for spec in specs}
        self.tables: dict[str, dynamodb.TableV2] = {
            spec.logical_name: dynamodb.TableV2(
                self,
                spec.logical_name,
                partition_key=_attribute(spec.partition_key),
                sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
                global_secondary_indexes=[_index(index) for index in spec.indexes],
                time_to_live_attribute=spec.ttl_attribute,
                billing=dynamodb.Billing.on_demand(),
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
                deletion_protection=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for spec in specs
        }


def grant_table_access(
    grantee: iam.IGrantable, table: dynamodb.ITableV2, spec: TableSpec, access: TableAccess
) -> None:
    """Exactly `access`: its actions on the table, and each index's on that index alone."""
    unknown = sorted(set(access.indexes) - {index.name for index in spec.indexes})
    if unknown:
        raise ValueError(f"Table {spec.logical_name} has no index {', '.join(unknown)}")
    if access.table:
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(access.table), resource_arns=[table.table_arn]
        )
    for index, actions in access.indexes.items():
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[f"{table.table_arn}/index/{index}"],
        )
