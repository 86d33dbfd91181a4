"""The policy check on every AWS call of a botocore client, answered as AWS would refuse it.

A refused call never leaves the process: `before-call` answers it with AWS's AccessDenied
error, which botocore raises as the ClientError the code would get from AWS. Each refusal is
appended to `refused`.
"""

from __future__ import annotations

from typing import Any

try:  # beside the bootstrap, in a function's process
    from iam_policy import Principal, refusals  # type: ignore[import-not-found]
except ImportError:  # in the test's own process
    from tests.deployed.sandbox.iam_policy import Principal, refusals

_CONTEXT_KEY = "deployed_shape_refusals"
# AWS's error code and HTTP status for AccessDenied, per protocol family.
_QUERY_STYLE_SERVICES = {"sqs", "s3", "sts", "iam", "sns"}


def _error(service: str) -> tuple[str, int]:
    if service in _QUERY_STYLE_SERVICES:
        return "AccessDenied", 403
    return "AccessDeniedException", 400


def register(events: Any, principal: Principal, refused: list[dict[str, Any]]) -> None:
    """Check every call that goes through the event emitter `events` (a client's)."""
    from botocore.awsrequest import AWSResponse

    def check(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        found = refusals(principal, service, model.name, params)
        if found:
            context[_CONTEXT_KEY] = (service, model.name, found)

    def refuse(model: Any, context: dict[str, Any], **_: Any) -> Any:
        if _CONTEXT_KEY not in context:
            return None
        service, operation, messages = context.pop(_CONTEXT_KEY)
        code, status = _error(service)
        refused.extend({"service": service, "operation": operation, "message": m} for m in messages)
        parsed = {
            "Error": {"Code": code, "Message": messages[0]},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        }
        return AWSResponse(url="", status_code=status, headers={}, raw=None), parsed

    events.register("before-parameter-build", check)
    events.register_first("before-call", refuse)


def install(principal: Principal, refused: list[dict[str, Any]]) -> None:
    """Every client any botocore session creates from now on (pynamodb's, boto3's, ...)."""
    import botocore.session

    create_client = botocore.session.Session.create_client

    def guarded_create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        register(client.meta.events, principal, refused)
        return client

    botocore.session.Session.create_client = guarded_create_client  # type: ignore[method-assign]
