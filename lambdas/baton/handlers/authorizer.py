"""API Gateway REQUEST authorizer for the "conductor-keys" mode.

It admits a request whose `X-Authorization` header holds a valid token from `POST /api/token`.
The policy it returns covers every method of the stage, because API Gateway caches it per token
and reuses it for the token's other requests.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton.auth import verify_token

TOKEN_HEADER = "X-Authorization"

logger = Logger()


class Unauthorized(Exception):
    def __init__(self) -> None:
        super().__init__("Unauthorized")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    token = request.headers.get(TOKEN_HEADER)  # Powertools matches header names case-insensitively
    key_id = verify_token(token, time.time_ns() // 1_000_000) if token else None
    if key_id is None:
        logger.info("Rejected a request without a valid token", path=request.path)
        raise Unauthorized()
    arn = request.parsed_arn
    response = APIGatewayAuthorizerResponse(
        principal_id=key_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"keyId": key_id},
        partition=arn.partition,
    )
    response.allow_all_routes()
    return response.asdict()
