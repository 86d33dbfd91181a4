"""Log groups: every one Baton's stacks create expires and goes with the stack."""

from __future__ import annotations

import pytest

from tests.infra.synth import CUSTOM_CONTEXT, synthesize

# infra.functions.LOG_RETENTION, as CloudFormation spells it.
RETENTION_DAYS = 30


def _modes(iam_mode, keys_mode):
    return {"iam": iam_mode, "keys": keys_mode, "custom": synthesize(CUSTOM_CONTEXT)}


@pytest.mark.parametrize("mode", ["iam", "keys", "custom"])
def test_every_log_group_expires_and_goes_with_the_stack(mode, iam_mode, keys_mode):
    synthesized = _modes(iam_mode, keys_mode)[mode]
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    assert log_groups
    for logical_id, log_group in log_groups.items():
        assert log_group["Properties"]["RetentionInDays"] == RETENTION_DAYS, logical_id
        assert log_group["DeletionPolicy"] == "Delete", logical_id
        assert log_group["UpdateReplacePolicy"] == "Delete", logical_id
    # Nothing else makes log groups or sets retention behind the stack's back.
    for resource in synthesized.stateless.to_json()["Resources"].values():
        assert not resource["Type"].startswith("Custom::"), resource["Type"]
    assert not synthesized.stateful.find_resources("AWS::Logs::LogGroup")


@pytest.mark.parametrize("mode", ["iam", "keys", "custom"])
def test_every_function_logs_to_its_own_group_in_the_stack(mode, iam_mode, keys_mode):
    """Otherwise Lambda creates `/aws/lambda/<name>` itself, kept forever and left behind."""
    synthesized = _modes(iam_mode, keys_mode)[mode]
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    used = []
    for logical_id, function in synthesized.resources("AWS::Lambda::Function").items():
        target = function["Properties"]["LoggingConfig"]["LogGroup"]
        assert target["Ref"] in log_groups, logical_id
        used.append(target["Ref"])
    assert len(set(used)) == len(used)


@pytest.mark.parametrize("mode", ["iam", "keys"])
def test_api_gateway_logs_go_to_groups_of_the_stack(mode, iam_mode, keys_mode):
    synthesized = _modes(iam_mode, keys_mode)[mode]
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    (stage,) = synthesized.resources("AWS::ApiGatewayV2::Stage").values()
    access_logs, _ = stage["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"]
    assert access_logs in log_groups
    # An HTTP API writes no execution logs: no group is named for API Gateway to write to.
    assert not [group for group in log_groups.values() if "LogGroupName" in group["Properties"]]
