"""The HTTP API: every path under /api reaches the API function, and no route is open."""

from __future__ import annotations

import json

from tests.infra.synth import CUSTOM_CONTEXT, synthesize

ROUTE = "AWS::ApiGatewayV2::Route"


def routes(synthesized):
    """Route key ('ANY /api/{proxy+}') -> route properties."""
    return {
        r["Properties"]["RouteKey"]: r["Properties"] for r in synthesized.resources(ROUTE).values()
    }


def test_iam_mode_signs_every_route(iam_mode):
    found = routes(iam_mode)
    assert set(found) == {"ANY /api/{proxy+}"}
    assert found["ANY /api/{proxy+}"]["AuthorizationType"] == "AWS_IAM"
    assert not iam_mode.resources("AWS::ApiGateway::RestApi")


def test_key_mode_uses_the_authorizer_except_to_get_a_token_and_the_ui_files(keys_mode):
    found = routes(keys_mode)
    assert set(found) == {"ANY /api/{proxy+}", "POST /api/token", "GET /", "GET /{proxy+}"}
    (authorizer_id,) = keys_mode.resources("AWS::ApiGatewayV2::Authorizer")
    assert found["ANY /api/{proxy+}"]["AuthorizationType"] == "CUSTOM"
    assert found["ANY /api/{proxy+}"]["AuthorizerId"] == {"Ref": authorizer_id}
    # Authenticated by its body: the key id and secret it exchanges for a token.
    assert found["POST /api/token"]["AuthorizationType"] == "NONE"
    # The UI's files, which the API function serves on these routes only (baton.web_ui).
    assert found["GET /"]["AuthorizationType"] == "NONE"
    assert found["GET /{proxy+}"]["AuthorizationType"] == "NONE"


def test_every_route_reaches_the_api_function_in_payload_format_1(keys_mode):
    api_function = next(
        logical_id
        for logical_id, resource in keys_mode.resources("AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == "baton.handlers.api.handler"
    )
    integrations = keys_mode.resources("AWS::ApiGatewayV2::Integration")
    for properties in routes(keys_mode).values():
        integration_id = properties["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "1.0"
        assert integration["IntegrationUri"] == {"Fn::GetAtt": [api_function, "Arn"]}


def test_the_default_stage_is_throttled_and_logged(iam_mode):
    (stage,) = iam_mode.resources("AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "$default"
    assert properties["AutoDeploy"] is True
    log_group_id, attribute = properties["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"]
    assert attribute == "Arn"
    assert iam_mode.resources("AWS::Logs::LogGroup")[log_group_id]
    log_format = json.loads(properties["AccessLogSettings"]["Format"])
    assert log_format["status"] == "$context.status"
    assert log_format["routeKey"] == "$context.routeKey"
    assert properties["DefaultRouteSettings"]["ThrottlingRateLimit"] == 200
    assert properties["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 400


def test_throttling_comes_from_context():
    (stage,) = synthesize(CUSTOM_CONTEXT).resources("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == CUSTOM_CONTEXT["apiRateLimit"]
    assert settings["ThrottlingBurstLimit"] == CUSTOM_CONTEXT["apiBurstLimit"]


def test_no_account_wide_api_gateway_setting_is_touched(iam_mode, keys_mode):
    # An HTTP API logs without API Gateway's account CloudWatch role: none is created or set.
    for synthesized in (iam_mode, keys_mode):
        assert not synthesized.resources("AWS::ApiGateway::Account")
        for role in synthesized.resources("AWS::IAM::Role").values():
            principals = [
                s["Principal"] for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            ]
            assert {"Service": "apigateway.amazonaws.com"} not in principals
