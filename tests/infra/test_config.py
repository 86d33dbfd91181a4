"""Deployment settings read from CDK context."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from baton.topology import DEFAULT_EVENT_QUEUES
from infra.config import BatonConfig


def config_from(context: dict[str, object]) -> BatonConfig:
    return BatonConfig.from_context(cdk.App(context=context).node)


def test_defaults_deploy_the_tutorial_queue_with_iam():
    config = config_from({})
    assert config.prefix == "baton"
    assert config.event_queues == DEFAULT_EVENT_QUEUES == ("conductor_doug_testing",)
    assert config.authorized_accounts == ()
    assert config.auth_mode == "iam"
    assert config.retention_days == 30
    assert config.architecture == "arm64"


def test_lists_come_from_json_lists_or_comma_separated_command_line_values():
    config = config_from(
        {"eventQueues": "a,b", "authorizedAccounts": '["111111111111"]', "retentionDays": "0"}
    )
    assert config.event_queues == ("a", "b")
    assert config.authorized_accounts == ("111111111111",)
    assert config.retention_days == 0


def test_http_allowed_networks_and_system_task_concurrency():
    assert config_from({}).http_allowed_networks == ()
    assert config_from({}).system_task_concurrency == 10
    config = config_from(
        {"httpAllowedNetworks": "10.1.0.0/16,192.168.5.5", "systemTaskConcurrency": "50"}
    )
    assert config.http_allowed_networks == ("10.1.0.0/16", "192.168.5.5")
    assert config.system_task_concurrency == 50


def test_an_empty_event_queue_list_is_kept():
    assert config_from({"eventQueues": []}).event_queues == ()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"authorizedAccounts": ["12345"]}, "12-digit"),
        ({"eventQueues": ["bad name"]}, "invalid SQS queue names"),
        ({"eventQueues": ["a", "a"]}, "twice"),
        ({"authMode": "basic"}, "authMode"),
        ({"prefix": "Baton!"}, "prefix"),
        ({"retentionDays": "soon"}, "whole number"),
        ({"apiRateLimit": 0}, "at least 1"),
        ({"architecture": "amd64"}, "'architecture' 'amd64' is not one of arm64, x86_64"),
        ({"httpAllowedNetworks": ["10.0.0.0/33"]}, "httpAllowedNetworks.*not an IP network"),
        ({"systemTaskConcurrency": 1}, "systemTaskConcurrency"),
    ],
)
def test_invalid_settings_say_what_to_fix(context, message):
    with pytest.raises(ValueError, match=message):
        config_from(context)


def test_the_rest_apis_cloudwatch_role_setting_is_refused():
    with pytest.raises(ValueError, match=r"apiGatewayCloudWatchRole is no longer a setting"):
        config_from({"apiGatewayCloudWatchRole": "true"})


def test_architecture_is_arm64_or_x86_64():
    assert config_from({"architecture": "x86_64"}).target_architecture.name == "x86_64"
    assert config_from({"architecture": "arm64"}).target_architecture.name == "arm64"
