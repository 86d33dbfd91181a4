"""The payload bucket of the stateful stack (infra/payloads.py, baton.store.payloads)."""

from __future__ import annotations

from aws_cdk.assertions import Match

from baton.store.payloads import ENDED_TAG, OBJECT_PREFIX
from infra.payloads import EXPIRY_MARGIN_DAYS
from tests.infra.synth import synthesize

BUCKET = "AWS::S3::Bucket"


def the_bucket(synthesized):
    (bucket,) = synthesized.stateful.find_resources(BUCKET).values()
    return bucket


def test_one_encrypted_private_retained_unversioned_bucket(iam_mode):
    bucket = the_bucket(iam_mode)
    properties = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    # Objects are immutable (content-addressed): no versions (RELIABILITY.md says why).
    assert "VersioningConfiguration" not in properties


def test_requests_without_tls_are_denied(iam_mode):
    (policy,) = iam_mode.stateful.find_resources("AWS::S3::BucketPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "s3:*"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statement["Resource"]) == 2  # the bucket and every object


def test_ended_workflows_objects_expire_after_the_tables_retention_and_a_margin(iam_mode):
    rules = {
        rule["Id"]: rule
        for rule in the_bucket(iam_mode)["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    # The IAM-mode context keeps finished workflows 7 days (retentionDays).
    assert rules["ExpireEndedWorkflows"] == {
        "Id": "ExpireEndedWorkflows",
        "Status": "Enabled",
        "Prefix": OBJECT_PREFIX,
        "TagFilters": [{"Key": ENDED_TAG, "Value": "true"}],
        "ExpirationInDays": 7 + EXPIRY_MARGIN_DAYS,
    }
    assert rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }


def test_retention_zero_keeps_objects_as_it_keeps_items():
    bucket = the_bucket(synthesize({"retentionDays": 0}))
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [rule["Id"] for rule in rules] == ["AbortIncompleteUploads"]


def test_the_bucket_arn_is_exported_under_a_fixed_name_for_the_functions(iam_mode):
    outputs = iam_mode.stateful.find_outputs(
        "PayloadBucketArn", {"Export": {"Name": "baton-stateful:PayloadBucketArn"}}
    )
    assert len(outputs) == 1
    iam_mode.stateful.has_output("PayloadBucketName", Match.any_value())
