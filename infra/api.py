"""The REST API: every Conductor path under /api, proxied to the API function, none of it open.

In the "conductor-keys" mode it also serves the web UI's files (`GET /`, `GET /{proxy+}`).
"""

from __future__ import annotations

import json
from typing import Final

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.auth import TOKEN_HEADER
from infra.functions import LOG_RETENTION

STAGE_NAME: Final = "prod"

# Conductor's SDKs renew their token when a 401 body carries this error code.
_INVALID_TOKEN_BODY: Final = json.dumps(
    {
        "status": 401,
        "error": "INVALID_TOKEN",
        "message": f"Send a valid token from POST /api/token in the {TOKEN_HEADER} header",
        "retryable": False,
    }
)


class Api(Construct):
    """`/api/{proxy+}` (any method) in front of the API function.

    With no authorizer every method requires IAM (SigV4). With one (the "conductor-keys" mode)
    every method uses it, except `POST /api/token`, which is how callers get a token.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        handler: lambda_.IFunction,
        authorizer: apigw.IAuthorizer | None,
        rate_limit: int,
        burst_limit: int,
        cloudwatch_role: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=name,
            description="Baton: Conductor's REST API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Access and execution logs need API Gateway's CloudWatch role, one setting per
            # account and region shared by every API there: Baton sets it only when asked
            # (context apiGatewayCloudWatchRole; docs/DEPLOY.md), never over one in place.
            cloud_watch_role=cloudwatch_role,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                tracing_enabled=True,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
            ),
        )
        # The stack outputs the URL under a stable name; drop RestApi's own generated output.
        self.rest_api.node.try_remove_child("Endpoint")
        Validations.of(self.rest_api).acknowledge(
            Acknowledgment(
                id="AwsSolutions-APIG2",
                reason="Every request goes whole to the API function, which validates Conductor's "
                "bodies and parameters and answers with Conductor's error body; gateway models "
                "would duplicate Conductor's schemas and answer in another shape",
            ),
            Acknowledgment(
                id="AwsSolutions-APIG3",
                reason="A WAF web ACL costs a monthly fee at rest, against Baton's pay-per-use "
                "design; every method is authenticated (IAM or tokens) and the stage is "
                "throttled. Associate a web ACL with the stage where policy requires one",
            ),
            Acknowledgment(
                id="AwsSolutions-COG4",
                reason="Callers are services and Conductor SDKs, authenticated by IAM (SigV4) or "
                "by Conductor's key-and-secret tokens; Conductor's SDKs do not speak Cognito",
            ),
        )
        if cloudwatch_role:
            Validations.of(self.rest_api).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                    reason="API Gateway's account-wide logging role, which the access and "
                    "execution logs need, is AWS's managed policy for exactly that purpose",
                ),
            )
        # API Gateway writes execution logs to this group, creating it with no expiry if it
        # does not exist: created here first, it has the same retention as every other log
        # group and goes with the stack.
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{STAGE_NAME}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rest_api.deployment_stage.node.add_dependency(self.execution_logs)
        integration = apigw.LambdaIntegration(handler, allow_test_invoke=False)
        if authorizer is None:
            protected = apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM)
        else:
            protected = apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.CUSTOM, authorizer=authorizer
            )
        # Options per resource, not API-wide: an API-wide authorizer would forbid the open token
        # method below.
        api_resource = self.rest_api.root.add_resource("api")
        self.proxy = api_resource.add_proxy(
            default_integration=integration, any_method=True, default_method_options=protected
        )
        self.token_method: apigw.Method | None = None
        self.ui_methods: list[apigw.Method] = []
        if authorizer is not None:
            self.token_method = api_resource.add_resource("token").add_method(
                "POST", integration, authorization_type=apigw.AuthorizationType.NONE
            )
            Validations.of(self.token_method).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-APIG4",
                    reason="POST /api/token authenticates by its body (a key id and secret "
                    "checked against a salted scrypt hash) and is the only way to obtain the "
                    "token every other method requires, so it cannot require one itself",
                ),
            )
            self._serve_the_ui(integration)
            # The authorizer's 401 (no token, bad or expired token), in a body the SDKs act on.
            self.rest_api.add_gateway_response(
                "UnauthorizedResponse",
                type=apigw.ResponseType.UNAUTHORIZED,
                status_code="401",
                templates={"application/json": _INVALID_TOKEN_BODY},
            )

    def _serve_the_ui(self, integration: apigw.LambdaIntegration) -> None:
        """`GET /` and `GET /{proxy+}`: the web UI's files, from the API function.

        Only in the "conductor-keys" mode, where a browser signs in with a key and sends its
        token to /api; a browser cannot sign IAM requests, so in the IAM mode the UI runs on the
        user's machine and signs for it (docs/DEPLOY.md).
        """
        self.ui_methods = [
            self.rest_api.root.add_method(
                "GET", integration, authorization_type=apigw.AuthorizationType.NONE
            ),
            self.rest_api.root.add_resource("{proxy+}").add_method(
                "GET", integration, authorization_type=apigw.AuthorizationType.NONE
            ),
        ]
        for method in self.ui_methods:
            Validations.of(method).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-APIG4",
                    reason="The web UI's files are the same for everyone and hold no data: the "
                    "API function answers these resources with the UI's build only, never with "
                    "the API (baton.web_ui), and every call the UI makes goes to /api with the "
                    "signed-in caller's token",
                ),
            )

    @property
    def url(self) -> str:
        return self.rest_api.url

    @property
    def conductor_server_url(self) -> str:
        """What Conductor's SDKs take as CONDUCTOR_SERVER_URL: the stage URL plus `api`."""
        return self.rest_api.url_for_path("/api")
