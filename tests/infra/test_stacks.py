"""The two stacks together: outputs, the stateful/stateless split and cdk-nag."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sqs as sqs

from infra.application import build
from tests.infra.synth import CUSTOM_CONTEXT, new_app, synthesize


def test_stateful_stack_holds_only_tables_and_the_payload_bucket(iam_mode):
    types = {r["Type"] for r in iam_mode.stateful.to_json()["Resources"].values()}
    assert types == {"AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket", "AWS::S3::BucketPolicy"}


def test_stateless_stack_holds_no_table(iam_mode):
    assert not iam_mode.resources("AWS::DynamoDB::GlobalTable")
    assert not iam_mode.resources("AWS::DynamoDB::Table")


def test_stack_names_follow_the_prefix():
    stacks = synthesize(CUSTOM_CONTEXT).stacks
    assert (stacks.stateful.stack_name, stacks.stateless.stack_name) == (
        "staging-stateful",
        "staging-stateless",
    )


def test_outputs_give_the_api_and_queue_urls(iam_mode, keys_mode):
    outputs = set(iam_mode.stateless.find_outputs("*"))
    assert outputs == {
        "ApiUrl",
        "ConductorServerUrl",
        "EventQueueUrls",
        "TimerQueueUrl",
        "DecisionQueueUrl",
        "InternalEventQueueUrl",
        "SystemTaskQueueUrl",
    }
    assert set(keys_mode.stateless.find_outputs("*")) == outputs | {"TokenSecretArn", "UiUrl"}
    server_url = iam_mode.stateless.find_outputs("ConductorServerUrl")["ConductorServerUrl"]
    assert server_url["Value"]["Fn::Join"][1][-1] == "/api"


def test_cdk_nag_fails_synthesis_on_an_unacknowledged_finding():
    app = new_app({})
    stacks = build(app)
    sqs.Queue(stacks.stateless, "QueueWithoutDeadLetters", enforce_ssl=True)
    with pytest.raises(RuntimeError, match=r"AwsSolutions-SQS3"):
        app.synth()
