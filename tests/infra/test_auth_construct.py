"""The key-mode parts: the token-signing secret and the REQUEST authorizer."""

from __future__ import annotations

from baton import settings
from infra.auth import AUTHORIZER_CACHE, TOKEN_HEADER
from tests.infra.synth import as_list


def test_iam_mode_has_no_authorizer_nor_secret(iam_mode):
    assert not iam_mode.resources("AWS::ApiGateway::Authorizer")
    assert not iam_mode.resources("AWS::SecretsManager::Secret")


def test_authorizer_checks_the_x_authorization_header(keys_mode):
    (authorizer,) = keys_mode.resources("AWS::ApiGateway::Authorizer").values()
    properties = authorizer["Properties"]
    assert properties["Type"] == "REQUEST"
    assert properties["IdentitySource"] == f"method.request.header.{TOKEN_HEADER}"
    assert properties["AuthorizerResultTtlInSeconds"] == AUTHORIZER_CACHE.to_seconds()


def _function(synthesized, handler):
    return next(
        (logical_id, resource["Properties"])
        for logical_id, resource in synthesized.resources("AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == handler
    )


def test_authorizer_function_and_api_share_the_signing_secret(keys_mode):
    (secret_id,) = keys_mode.resources("AWS::SecretsManager::Secret")
    for handler in ("baton.handlers.authorizer.handler", "baton.handlers.api.handler"):
        _, properties = _function(keys_mode, handler)
        variables = properties["Environment"]["Variables"]
        assert variables[settings.TOKEN_SECRET_ARN] == {"Ref": secret_id}
    _, api = _function(keys_mode, "baton.handlers.api.handler")
    assert api["Environment"]["Variables"][settings.AUTH_MODE] == "conductor-keys"


def test_authorizer_reads_only_the_secret_and_single_metadata_items(keys_mode):
    authorizer_id, properties = _function(keys_mode, "baton.handlers.authorizer.handler")
    role_id = properties["Role"]["Fn::GetAtt"][0]
    (secret_id,) = keys_mode.resources("AWS::SecretsManager::Secret")
    actions = set()
    for policy in keys_mode.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions |= set(as_list(statement["Action"]))
            if "dynamodb:GetItem" in as_list(statement["Action"]):
                assert "TablesMetadata" in str(statement["Resource"])
                assert as_list(statement["Action"]) == ["dynamodb:GetItem"]
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
                assert statement["Resource"] == {"Ref": secret_id}
    assert actions == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "dynamodb:GetItem",
    }
    assert authorizer_id
