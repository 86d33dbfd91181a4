"""The stateful stack: Baton's tables, kept apart so compute can be replaced freely."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from baton.store.schema import TableSpec, table_specs
from infra.tables import Tables


class StatefulStack(Stack):
    """Every table of `baton.store.schema`, retained and deletion-protected."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Sequence[TableSpec] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.tables = Tables(self, "Tables", specs=specs if specs is not None else table_specs())
        for name, table in self.tables.tables.items():
            # Operators need these: `python -m baton.auth --table <MetadataTableName> ...`.
            CfnOutput(self, f"{name}TableName", value=table.table_name)

    def table(self, logical_name: str) -> dynamodb.TableV2:
        return self.tables.tables[logical_name]
