"""The REST API: every path under /api reaches the API function, and no method is open."""

from __future__ import annotations

from tests.infra.synth import CUSTOM_CONTEXT, synthesize

METHOD = "AWS::ApiGateway::Method"


def resource_paths(synthesized):
    """Logical id of each API resource -> its path, e.g. '/api/{proxy+}'."""
    resources = synthesized.resources("AWS::ApiGateway::Resource")
    paths = {}

    def path_of(logical_id):
        if logical_id not in paths:
            properties = resources[logical_id]["Properties"]
            parent = properties["ParentId"]
            prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{properties['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def methods(synthesized):
    """(HTTP method, path) -> method properties."""
    paths = resource_paths(synthesized)

    def path_of(resource_id):
        # The root resource is the RestApi's RootResourceId attribute, not a resource of its own.
        return paths[resource_id["Ref"]] if "Ref" in resource_id else "/"

    return {
        (m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"])): m["Properties"]
        for m in synthesized.resources(METHOD).values()
    }


def test_iam_mode_signs_every_method(iam_mode):
    found = methods(iam_mode)
    assert set(found) == {("ANY", "/api/{proxy+}")}
    for properties in found.values():
        assert properties["AuthorizationType"] == "AWS_IAM"
        assert properties["Integration"]["Type"] == "AWS_PROXY"


def test_key_mode_uses_the_authorizer_except_to_get_a_token_and_the_ui_files(keys_mode):
    found = methods(keys_mode)
    assert set(found) == {
        ("ANY", "/api/{proxy+}"),
        ("POST", "/api/token"),
        ("GET", "/"),
        ("GET", "/{proxy+}"),
    }
    (authorizer_id,) = keys_mode.resources("AWS::ApiGateway::Authorizer")
    assert found["ANY", "/api/{proxy+}"]["AuthorizationType"] == "CUSTOM"
    assert found["ANY", "/api/{proxy+}"]["AuthorizerId"] == {"Ref": authorizer_id}
    # Authenticated by its body: the key id and secret it exchanges for a token.
    assert found["POST", "/api/token"]["AuthorizationType"] == "NONE"
    # The UI's files, which the API function serves on these resources only (baton.web_ui).
    assert found["GET", "/"]["AuthorizationType"] == "NONE"
    assert found["GET", "/{proxy+}"]["AuthorizationType"] == "NONE"


def test_every_method_reaches_the_api_function(keys_mode):
    api_function = next(
        logical_id
        for logical_id, resource in keys_mode.resources("AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == "baton.handlers.api.handler"
    )
    for properties in methods(keys_mode).values():
        assert api_function in str(properties["Integration"]["Uri"])


def test_invalid_tokens_get_a_body_conductor_sdks_renew_on(keys_mode):
    (response,) = keys_mode.resources("AWS::ApiGateway::GatewayResponse").values()
    assert response["Properties"]["ResponseType"] == "UNAUTHORIZED"
    assert response["Properties"]["StatusCode"] == "401"
    assert (
        '"error": "INVALID_TOKEN"'
        in response["Properties"]["ResponseTemplates"]["application/json"]
    )


def test_stage_is_throttled_logged_and_traced(iam_mode):
    (stage,) = iam_mode.resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    assert properties["TracingEnabled"] is True
    log_group_id, attribute = properties["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"]
    assert attribute == "Arn"
    assert iam_mode.resources("AWS::Logs::LogGroup")[log_group_id]
    assert '"status":"$context.status"' in properties["AccessLogSetting"]["Format"]
    (settings,) = properties["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["ThrottlingRateLimit"] == 200
    assert settings["ThrottlingBurstLimit"] == 400


def test_throttling_comes_from_context():
    (stage,) = synthesize(CUSTOM_CONTEXT).resources("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == CUSTOM_CONTEXT["apiRateLimit"]
    assert settings["ThrottlingBurstLimit"] == CUSTOM_CONTEXT["apiBurstLimit"]


def _apigateway_roles(synthesized):
    return {
        logical_id: role
        for logical_id, role in synthesized.resources("AWS::IAM::Role").items()
        if {"Service": "apigateway.amazonaws.com"}
        in [s["Principal"] for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]]
    }


def test_the_account_wide_cloudwatch_role_is_left_alone_by_default(iam_mode, keys_mode):
    # AWS::ApiGateway::Account would replace the role every API of the account and region logs
    # with; the stage's logs use whichever role is set there.
    for synthesized in (iam_mode, keys_mode):
        assert not synthesized.resources("AWS::ApiGateway::Account")
        assert not _apigateway_roles(synthesized)


def test_the_cloudwatch_role_is_set_only_when_asked_and_outlives_the_stack():
    synthesized = synthesize({"apiGatewayCloudWatchRole": "true"})
    (account,) = synthesized.resources("AWS::ApiGateway::Account").values()
    ((role_id, role),) = _apigateway_roles(synthesized).items()
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    (policy,) = role["Properties"]["ManagedPolicyArns"]
    assert policy["Fn::Join"][1][-1].endswith("/AmazonAPIGatewayPushToCloudWatchLogs")
    # Other APIs of the account may log with it by then: destroying Baton leaves it in place.
    assert account["DeletionPolicy"] == role["DeletionPolicy"] == "Retain"
