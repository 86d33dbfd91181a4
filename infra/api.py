"""The HTTP API: every Conductor path under /api, proxied to the API function, none of it open.

In the "conductor-keys" mode it also serves the web UI's files (`GET /`, `GET /{proxy+}`).
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.functions import LOG_RETENTION

API_RESOURCE: Final = "/api/{proxy+}"
TOKEN_PATH: Final = "/api/token"
# One JSON line per request; `$context.authorizer.error` says why an authorizer refused.
ACCESS_LOG_FORMAT: Final = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "user": "$context.identity.user",
        "principal": "$context.authorizer.principalId",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    },
    separators=(",", ":"),
)


class Api(Construct):
    """`ANY /api/{proxy+}` in front of the API function, on the `$default` stage.

    With no authorizer every route requires IAM (SigV4). With one (the "conductor-keys" mode)
    every route uses it, except `POST /api/token`, which is how callers get a token. Payload
    format 1.0: the function reads the REST-shaped proxy event (multi-value query strings and
    headers kept apart, which 2.0 joins with commas).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        handler: lambda_.IFunction,
        authorizer: authorizers.HttpLambdaAuthorizer | None,
        rate_limit: int,
        burst_limit: int,
    ) -> None:
        super().__init__(scope, id_)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            api_name=name,
            description="Baton: Conductor's REST API",
            create_default_stage=False,
        )
        # `$default`: the URL has no stage segment, so the path the function sees is the
        # request's (a named stage would prefix it).
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
        )
        stage = self.stage.node.default_child
        assert isinstance(stage, apigw.CfnStage)
        stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
        integration = integrations.HttpLambdaIntegration(
            "ApiFunction", handler, payload_format_version=apigw.PayloadFormatVersion.VERSION_1_0
        )
        protected: apigw.IHttpRouteAuthorizer = (
            authorizer if authorizer is not None else authorizers.HttpIamAuthorizer()
        )
        (self.proxy_route,) = self.http_api.add_routes(
            path=API_RESOURCE,
            methods=[apigw.HttpMethod.ANY],
            integration=integration,
            authorizer=protected,
        )
        self.open_routes: list[apigw.HttpRoute] = []
        if authorizer is not None:
            (token_route,) = self.http_api.add_routes(
                path=TOKEN_PATH,
                methods=[apigw.HttpMethod.POST],
                integration=integration,
                authorizer=apigw.HttpNoneAuthorizer(),
            )
            Validations.of(token_route).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-APIG4",
                    reason="POST /api/token authenticates by its body (a key id and secret "
                    "checked against a salted scrypt hash) and is the only way to obtain the "
                    "token every other route requires, so it cannot require one itself",
                ),
            )
            self.open_routes = [token_route, *self._serve_the_ui(integration)]

    def _serve_the_ui(self, integration: apigw.HttpRouteIntegration) -> list[apigw.HttpRoute]:
        """`GET /` and `GET /{proxy+}`: the web UI's files, from the API function.

        Only in the "conductor-keys" mode, where a browser signs in with a key and sends its
        token to /api; a browser cannot sign IAM requests, so in the IAM mode the UI runs on the
        user's machine and signs for it (docs/DEPLOY.md).
        """
        routes = [
            route
            for path in ("/", "/{proxy+}")
            for route in self.http_api.add_routes(
                path=path,
                methods=[apigw.HttpMethod.GET],
                integration=integration,
                authorizer=apigw.HttpNoneAuthorizer(),
            )
        ]
        for route in routes:
            Validations.of(route).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-APIG4",
                    reason="The web UI's files are the same for everyone and hold no data: the "
                    "API function answers these routes with the UI's build only, never with "
                    "the API (baton.web_ui), and every call the UI makes goes to /api with the "
                    "signed-in caller's token",
                ),
            )
        return routes

    @property
    def url(self) -> str:
        """The stage's base URL, ending in `/`."""
        return f"{self.http_api.api_endpoint}/"

    @property
    def conductor_server_url(self) -> str:
        """What Conductor's SDKs take as CONDUCTOR_SERVER_URL: the base URL plus `api`."""
        return f"{self.http_api.api_endpoint}/api"
