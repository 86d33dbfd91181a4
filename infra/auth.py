"""Conductor's key-and-secret scheme: the token-signing secret and the API's authorizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from baton import settings
from baton.auth import TOKEN_HEADER
from infra.access import SECRET_ACTIONS
from infra.bundling import TargetArchitecture
from infra.functions import BatonFunction

# How long API Gateway reuses an authorizer answer for the same token: the longest a revoked
# key keeps working. Shorter costs an authorizer call (and a GetItem) more often.
AUTHORIZER_CACHE = Duration.minutes(5)
AUTHORIZER_TIMEOUT_SECONDS: Final = 10
AUTHORIZER_MEMORY_MB: Final = 256


class Auth(Construct):
    """The secret that signs tokens and a Lambda authorizer that checks `X-Authorization`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        architecture: TargetArchitecture,
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id_)
        self.token_secret = secretsmanager.Secret(
            self,
            "TokenSigningSecret",
            description="HMAC key that signs the tokens POST /api/token issues",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            # Tokens live an hour: a new secret after a redeploy only makes SDKs fetch new ones.
            removal_policy=RemovalPolicy.DESTROY,
        )
        Validations.of(self.token_secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="A random HMAC key that signs tokens living one hour. Replacing it (see "
                "docs/DEPLOY.md: put-secret-value) only makes SDKs fetch new tokens, which they "
                "do on their own after a 401; a rotation function would add code for no gain",
            ),
        )
        self.function = BatonFunction(
            self,
            "Authorizer",
            handler="baton.handlers.authorizer.handler",
            description="Checks the X-Authorization token of every API request",
            code=code,
            layer=layer,
            architecture=architecture,
            timeout_seconds=AUTHORIZER_TIMEOUT_SECONDS,
            memory_mb=AUTHORIZER_MEMORY_MB,
            environment={**environment, settings.TOKEN_SECRET_ARN: self.token_secret.secret_arn},
        ).function
        self.grant_read_signing_key(self.function)
        # IAM-policy answers (authorizer payload 1.0): the policy covers every route, so one
        # cached answer serves all of a token's requests (baton.handlers.authorizer).
        self.authorizer = authorizers.HttpLambdaAuthorizer(
            "RequestAuthorizer",
            self.function,
            identity_source=[f"$request.header.{TOKEN_HEADER}"],
            response_types=[authorizers.HttpLambdaResponseType.IAM],
            results_cache_ttl=AUTHORIZER_CACHE,
        )

    def grant_read_signing_key(self, grantee: iam.IGrantable) -> None:
        """GetSecretValue only (Secret.grant_read would add DescribeSecret, never called). The
        secret is encrypted with the AWS-managed key, which needs no grant of its own."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(SECRET_ACTIONS),
            resource_arns=[self.token_secret.secret_arn],
        )
