"""The stateful stack: one table per spec of `baton.store.schema`."""

from __future__ import annotations

from aws_cdk.assertions import Match

from baton.store.schema import table_specs

TABLE = "AWS::DynamoDB::GlobalTable"  # what TableV2 synthesizes, also for one region


def tables_by_key(template):
    """Each table's properties, found by its partition and sort key names."""
    found = {}
    for resource in template.find_resources(TABLE).values():
        keys = tuple(key["AttributeName"] for key in resource["Properties"]["KeySchema"])
        found[keys] = resource
    return found


def test_one_table_per_spec(iam_mode):
    iam_mode.stateful.resource_count_is(TABLE, len(table_specs()))
    tables = tables_by_key(iam_mode.stateful)
    for spec in table_specs():
        keys = (spec.partition_key.name, *([spec.sort_key.name] if spec.sort_key else []))
        assert keys in tables, f"no table keyed {keys} for {spec.logical_name}"


def test_tables_are_on_demand_encrypted_recoverable_and_retained(iam_mode):
    iam_mode.stateful.all_resources(
        TABLE,
        {
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
                    "Replicas": [
                        Match.object_like(
                            {
                                "DeletionProtectionEnabled": True,
                                "PointInTimeRecoverySpecification": {
                                    "PointInTimeRecoveryEnabled": True
                                },
                            }
                        )
                    ],
                }
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_ttl_and_indexes_follow_the_specs(iam_mode):
    tables = tables_by_key(iam_mode.stateful)
    for spec in table_specs():
        keys = (spec.partition_key.name, *([spec.sort_key.name] if spec.sort_key else []))
        properties = tables[keys]["Properties"]
        if spec.ttl_attribute:
            assert properties["TimeToLiveSpecification"] == {
                "AttributeName": spec.ttl_attribute,
                "Enabled": True,
            }
        else:
            assert "TimeToLiveSpecification" not in properties
        indexes = {
            index["IndexName"]: index for index in properties.get("GlobalSecondaryIndexes", [])
        }
        assert set(indexes) == {index.name for index in spec.indexes}
        attribute_types = {
            a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]
        }
        for index in spec.indexes:
            declared = indexes[index.name]
            expected_keys = [index.partition_key, *([index.sort_key] if index.sort_key else [])]
            assert [k["AttributeName"] for k in declared["KeySchema"]] == [
                k.name for k in expected_keys
            ]
            for key in expected_keys:
                assert attribute_types[key.name] == key.type
            projection = "KEYS_ONLY" if index.keys_only else "ALL"
            assert declared["Projection"]["ProjectionType"] == projection


def test_table_names_are_outputs_for_operators(iam_mode):
    outputs = iam_mode.stateful.find_outputs("*")
    assert {f"{spec.logical_name}TableName" for spec in table_specs()} <= set(outputs)
