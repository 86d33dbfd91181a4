"""The stateful stack: Baton's tables and payload bucket, kept apart so compute can be
replaced freely."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from baton.store.schema import TableSpec, table_specs
from infra.payloads import PayloadBucket
from infra.tables import Tables


class StatefulStack(Stack):
    """Every table of `baton.store.schema`, retained and deletion-protected, and the payload
    bucket (retained)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        specs: Sequence[TableSpec] | None = None,
        retention_days: int = 30,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.tables = Tables(self, "Tables", specs=specs if specs is not None else table_specs())
        for name, table in self.tables.tables.items():
            # Operators need these: `python -m baton.auth --table <MetadataTableName> ...`.
            CfnOutput(self, f"{name}TableName", value=table.table_name)
        self.payloads = PayloadBucket(self, "Payloads", retention_days=retention_days)
        CfnOutput(self, "PayloadBucketName", value=self.payloads.bucket.bucket_name)

    def table(self, logical_name: str) -> dynamodb.TableV2:
        return self.tables.tables[logical_name]

    @property
    def payload_bucket(self) -> s3.Bucket:
        return self.payloads.bucket
