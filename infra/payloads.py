"""The payload bucket: task and workflow payloads too large for a DynamoDB item.

What goes in it, under which keys and when, is `baton.store.payloads`; this is the bucket:
S3-managed encryption, no public access, TLS only, retained when the stack is deleted, and a
lifecycle rule that expires a finished workflow's objects a little after DynamoDB's TTL
removes its items.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Acknowledgment, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from baton.store.payloads import ENDED_TAG, OBJECT_PREFIX

# Objects outlive their workflow's items by this much: DynamoDB's TTL deletes expired items
# within days, not at the instant, and an object must never go before the item naming it.
EXPIRY_MARGIN_DAYS: Final = 7


def export_name(stateful_stack_name: str) -> str:
    """The stateful stack's export of the bucket's ARN, named so that the functions' grant
    (and its cdk-nag acknowledgement) can name it."""
    return f"{stateful_stack_name}:PayloadBucketArn"


def imported(scope: Construct, stateful_stack_name: str) -> s3.IBucket:
    """The bucket, in another stack, from the stateful stack's export."""
    arn = Fn.import_value(export_name(stateful_stack_name))
    return s3.Bucket.from_bucket_arn(scope, "PayloadBucket", arn)


class PayloadBucket(Construct):
    """One bucket; `retention_days` 0 keeps finished workflows' objects, as it keeps items."""

    def __init__(self, scope: Construct, id_: str, *, retention_days: int) -> None:
        super().__init__(scope, id_)
        rules = [
            # Baton writes each object with one PutObject; nothing else may linger.
            s3.LifecycleRule(
                id="AbortIncompleteUploads",
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ]
        if retention_days > 0:
            rules.append(
                s3.LifecycleRule(
                    id="ExpireEndedWorkflows",
                    prefix=OBJECT_PREFIX,
                    tag_filters={ENDED_TAG: "true"},
                    expiration=Duration.days(retention_days + EXPIRY_MARGIN_DAYS),
                )
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            # Objects are immutable (content-addressed) and only Baton's functions write
            # them; no role may delete one. Versions would add storage for nothing.
            versioned=False,
            lifecycle_rules=rules,
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(self.bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason=(
                    "Only Baton's functions read and write this bucket, under their own "
                    "roles; CloudTrail data events can audit it without a log bucket"
                ),
            )
        )
        stack = Stack.of(self)
        CfnOutput(
            stack,
            "PayloadBucketArn",
            value=self.bucket.bucket_arn,
            export_name=export_name(stack.stack_name),
        )


def grant_payload_access(
    grantee: iam.IGrantable,
    bucket: s3.IBucket,
    actions: tuple[str, ...],
    *,
    stateful_stack_name: str,
) -> None:
    """Exactly `actions`, on the payload objects alone (not the bucket, not other keys)."""
    if not actions:
        return
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=list(actions),
        resource_arns=[bucket.arn_for_objects(f"{OBJECT_PREFIX}*")],
    )
    objects = f"{export_name(stateful_stack_name)}/{OBJECT_PREFIX}*"
    Validations.of(Stack.of(grantee)).acknowledge(  # type: ignore[arg-type]
        Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::{objects}]",
            reason=(
                "Payload objects are keyed by workflow id and content hash, so the grant "
                "names their prefix; the bucket itself, other keys and DeleteObject are not "
                "granted"
            ),
        )
    )
