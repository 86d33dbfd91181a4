"""The key-mode parts: the token-signing secret and the HTTP API's Lambda authorizer."""

from __future__ import annotations

from baton import settings
from infra.auth import AUTHORIZER_CACHE, TOKEN_HEADER


def test_iam_mode_has_no_authorizer_nor_secret(iam_mode):
    assert not iam_mode.resources("AWS::ApiGatewayV2::Authorizer")
    assert not iam_mode.resources("AWS::SecretsManager::Secret")


def test_authorizer_checks_the_x_authorization_header(keys_mode):
    (authorizer,) = keys_mode.resources("AWS::ApiGatewayV2::Authorizer").values()
    properties = authorizer["Properties"]
    assert properties["AuthorizerType"] == "REQUEST"
    # IAM-policy answers, which cover every route (baton.handlers.authorizer).
    assert properties["AuthorizerPayloadFormatVersion"] == "1.0"
    assert "EnableSimpleResponses" not in properties
    assert properties["IdentitySource"] == [f"$request.header.{TOKEN_HEADER}"]
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
