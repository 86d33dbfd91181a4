"""API Gateway Lambda authorizer (HTTP API, payload 1.0) for the "conductor-keys" mode.

It names the key behind the `X-Authorization` token of a request. An HTTP API answers a denial
with a bare 403 that Conductor's SDKs do not act on, and cannot reshape it; so a token that is
not valid (forged, expired, of a revoked key) is let through with no key id, and the API
function answers it with the 401 whose body (`"error": "INVALID_TOKEN"`) makes the SDKs fetch a
new token (baton.handlers.api). A request without the header never gets here: the gateway
answers it 401 itself. The policy covers every route of the stage, because API Gateway caches
the answer per token and reuses it for the token's other requests.
"""

from __future__ import annotations

import time
from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from baton.auth import KEY_ID_CONTEXT, TOKEN_HEADER, verify_token

INVALID_TOKEN_PRINCIPAL: Final = "invalid-token"

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    token = request.headers.get(TOKEN_HEADER)  # Powertools matches header names case-insensitively
    key_id = verify_token(token, time.time_ns() // 1_000_000) if token else None
    if key_id is None:
        logger.info("A request without a valid token", path=request.path)
    arn = request.parsed_arn
    response = APIGatewayAuthorizerResponse(
        principal_id=key_id or INVALID_TOKEN_PRINCIPAL,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={KEY_ID_CONTEXT: key_id} if key_id else {},
        partition=arn.partition,
    )
    response.allow_all_routes()
    return response.asdict()
