"""Baton's DynamoDB tables, declared from the pynamodb models via `baton.store.schema`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from baton.store.schema import IndexSpec, KeySpec, TableSpec

_ATTRIBUTE_TYPES: Final = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}

# What pynamodb and Powertools' idempotency do to a table: items, queries, transactions.
# Transactions need no actions of their own: DynamoDB checks each item's Put/Update/Delete/Check.
READ_WRITE_ACTIONS: Final = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DescribeTable",
)


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


def grant_read_write(
    grantee: iam.IGrantable, table: dynamodb.ITableV2, spec: TableSpec
) -> iam.Grant:
    """Item reads and writes on `table` and on exactly its indexes (no `index/*` wildcard)."""
    index_arns = [f"{table.table_arn}/index/{index.name}" for index in spec.indexes]
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=list(READ_WRITE_ACTIONS),
        resource_arns=[table.table_arn, *index_arns],
    )


def grant_get_item(grantee: iam.IGrantable, table: dynamodb.ITableV2) -> iam.Grant:
    """Single-item reads only: what the authorizer needs to see that a key still exists."""
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=["dynamodb:GetItem"], resource_arns=[table.table_arn]
    )
