"""IAM policy evaluation for the AWS calls a function makes, as AWS authorizes them.

Standard library only: it runs inside each function's process beside nothing but the asset,
the layer and the runtime's boto3. A call becomes one or more authorization requests (an action
on a resource ARN): a DynamoDB transaction is authorized item by item as PutItem, UpdateItem,
DeleteItem or ConditionCheckItem on each item's table, a batch per table, a query on an index
by the index's ARN, an SQS batch as its single-message action. Each request is then evaluated
as AWS does within one account: an explicit Deny in the identity or the resource policy
refuses; otherwise an Allow in the identity policy (or a resource policy naming the role)
admits; anything else is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

# IAM's service prefixes where botocore's endpoint prefix differs.
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "states": "states"}
# SQS batches are authorized as the action on one message.
_SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_TRANSACT_WRITE_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Request:
    """One authorization request: what AWS checks for (part of) a call."""

    action: str
    resource: str


@dataclass
class Principal:
    """A role with its identity policy, and the resource policies of what it may touch."""

    role_arn: str
    account: str
    region: str
    statements: list[dict[str, Any]]
    # Resource ARN -> statements of its resource policy (queue policies, ...).
    resource_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Secret name -> ARN: Secrets Manager calls may name a secret either way.
    secret_arns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> Principal:
        return cls(**json.loads(text))

    def to_json(self) -> str:
        return json.dumps(self.__dict__)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@cache
def _glob(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case=ignore_case).fullmatch(value) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's ARN matching: wildcards within each of the first five segments, and anywhere in
    the resource part (which may hold colons and slashes)."""
    if pattern == "*":
        return True
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return _matches(pattern, arn)
    return all(_matches(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))


_OPERATORS = {
    "Bool",
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
}


def _condition_holds(operator: str, key: str, expected: list[Any], context: dict[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    negated = "Not" in base
    if base not in _OPERATORS:
        # Refuse to guess: a policy this evaluator cannot read must fail loudly.
        raise ValueError(f"Condition operator {operator} is not supported by this evaluator")
    if key not in context:
        return if_exists or negated
    value = context[key]
    expected_text = [str(item).lower() if base == "Bool" else str(item) for item in expected]
    if base == "Bool":
        found = value.lower() in expected_text
    elif base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        found = value in expected_text
    elif base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        found = value.lower() in [item.lower() for item in expected_text]
    elif base in ("StringLike", "StringNotLike"):
        found = any(_matches(item, value) for item in expected_text)
    else:  # ArnLike, ArnNotLike
        found = any(arn_matches(item, value) for item in expected_text)
    return not found if negated else found


def conditions_hold(conditions: dict[str, Any] | None, context: dict[str, str]) -> bool:
    for operator, keys in (conditions or {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, _as_list(expected), context):
                return False
    return True


def _statement_applies(
    statement: dict[str, Any], request: Request, context: dict[str, str]
) -> bool:
    if "Action" in statement:
        actions = _as_list(statement["Action"])
        if not any(_matches(a, request.action, ignore_case=True) for a in actions):
            return False
    else:
        not_actions = _as_list(statement["NotAction"])
        if any(_matches(a, request.action, ignore_case=True) for a in not_actions):
            return False
    if "Resource" in statement:
        if not any(arn_matches(r, request.resource) for r in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        arn_matches(r, request.resource) for r in _as_list(statement["NotResource"])
    ):
        return False
    return conditions_hold(statement.get("Condition"), context)


def _names_principal(statement: dict[str, Any], principal: Principal, *, for_deny: bool) -> bool:
    named = statement.get("Principal")
    if named == "*":
        return True
    aws = _as_list(named.get("AWS", [])) if isinstance(named, dict) else []
    account_root = f"arn:aws:iam::{principal.account}:root"
    if "*" in aws or principal.role_arn in aws:
        return True
    # The account as principal denies its every role, but grants them nothing by itself.
    return for_deny and (account_root in aws or principal.account in aws)


def decide(principal: Principal, request: Request) -> str | None:
    """None when allowed; else why AWS would refuse, in the words of its AccessDenied."""
    context = {
        # Lambda reaches AWS over TLS.
        "aws:SecureTransport": "true",
        "aws:PrincipalArn": principal.role_arn,
        "aws:PrincipalAccount": principal.account,
        "aws:RequestedRegion": principal.region,
    }
    resource_statements = [
        statement
        for arn, statements in principal.resource_policies.items()
        if arn_matches(arn, request.resource)
        for statement in statements
    ]
    for statement in principal.statements:
        if statement.get("Effect") == "Deny" and _statement_applies(statement, request, context):
            return "with an explicit deny in an identity-based policy"
    for statement in resource_statements:
        if (
            statement.get("Effect") == "Deny"
            and _names_principal(statement, principal, for_deny=True)
            and _statement_applies(statement, request, context)
        ):
            return "with an explicit deny in a resource-based policy"
    for statement in principal.statements:
        if statement.get("Effect") == "Allow" and _statement_applies(statement, request, context):
            return None
    for statement in resource_statements:
        if (
            statement.get("Effect") == "Allow"
            and _names_principal(statement, principal, for_deny=False)
            and _statement_applies(statement, request, context)
        ):
            return None
    return f"because no identity-based policy allows the {request.action} action"


# --- From a call to its authorization requests -------------------------------------------


def _table_arn(principal: Principal, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:aws:dynamodb:{principal.region}:{principal.account}:table/{table}"


def _dynamodb_requests(
    principal: Principal, operation: str, params: dict[str, Any]
) -> list[Request]:
    if operation == "TransactWriteItems":
        requests = []
        for item in params.get("TransactItems", []):
            ((kind, body),) = item.items()
            action = f"dynamodb:{_TRANSACT_WRITE_ACTIONS[kind]}"
            requests.append(Request(action, _table_arn(principal, body["TableName"])))
        return requests
    if operation == "TransactGetItems":
        return [
            Request("dynamodb:GetItem", _table_arn(principal, item["Get"]["TableName"]))
            for item in params.get("TransactItems", [])
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [
            Request(f"dynamodb:{operation}", _table_arn(principal, table))
            for table in params.get("RequestItems", {})
        ]
    if operation in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        raise ValueError(f"PartiQL ({operation}) is not supported by this evaluator")
    table = params.get("TableName") or params.get("ResourceArn")
    if not table:
        return [Request(f"dynamodb:{operation}", "*")]
    arn = _table_arn(principal, table)
    if params.get("IndexName"):
        arn = f"{arn}/index/{params['IndexName']}"
    return [Request(f"dynamodb:{operation}", arn)]


def _queue_arn(principal: Principal, params: dict[str, Any]) -> str:
    if "QueueUrl" in params:
        *_, account, name = params["QueueUrl"].rstrip("/").split("/")
    elif "QueueName" in params:
        account, name = (
            params.get("QueueOwnerAWSAccountId") or principal.account,
            params["QueueName"],
        )
    else:
        return "*"
    return f"arn:aws:sqs:{principal.region}:{account}:{name}"


def _secret_arn(principal: Principal, params: dict[str, Any]) -> str:
    secret = params.get("SecretId") or params.get("Name") or "*"
    return (
        secret
        if secret.startswith("arn:") or secret == "*"
        else principal.secret_arns.get(
            secret, f"arn:aws:secretsmanager:{principal.region}:{principal.account}:secret:{secret}"
        )
    )


# S3 operations Baton calls -> what IAM authorizes (a copy reads its source as GetObject).
_S3_OBJECT_ACTIONS = {
    "GetObject": ("s3:GetObject",),
    "HeadObject": ("s3:GetObject",),
    "PutObject": ("s3:PutObject",),
    "PutObjectTagging": ("s3:PutObjectTagging",),
    "GetObjectTagging": ("s3:GetObjectTagging",),
    "DeleteObject": ("s3:DeleteObject",),
}


def _s3_requests(operation: str, params: dict[str, Any]) -> list[Request]:
    bucket = params.get("Bucket", "")
    target = f"arn:aws:s3:::{bucket}/{params.get('Key', '')}"
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, dict):
            source_arn = f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"
        else:
            source_arn = f"arn:aws:s3:::{str(source).lstrip('/')}"
        requests = [Request("s3:GetObject", source_arn), Request("s3:PutObject", target)]
        if params.get("Tagging") or params.get("TaggingDirective") == "REPLACE":
            requests.append(Request("s3:PutObjectTagging", target))
        return requests
    if operation in _S3_OBJECT_ACTIONS:
        return [Request(action, target) for action in _S3_OBJECT_ACTIONS[operation]]
    if operation in ("ListObjectsV2", "ListObjects"):
        return [Request("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
    # Any other bucket operation: on the bucket, under its own name.
    return [Request(f"s3:{operation}", f"arn:aws:s3:::{bucket}")]


def requests_for(
    principal: Principal, service: str, operation: str, params: dict[str, Any]
) -> list[Request]:
    """What AWS authorizes for `operation` of `service` (botocore's endpoint prefix)."""
    prefix = _IAM_PREFIX.get(service, service)
    if prefix == "dynamodb":
        return _dynamodb_requests(principal, operation, params)
    if prefix == "sqs":
        action = _SQS_BATCH_ACTIONS.get(operation, operation)
        return [Request(f"sqs:{action}", _queue_arn(principal, params))]
    if prefix == "secretsmanager":
        return [Request(f"secretsmanager:{operation}", _secret_arn(principal, params))]
    if prefix == "s3":
        return _s3_requests(operation, params)
    # Services this evaluator has no resource mapping for: authorized on "*", which only a
    # statement with Resource "*" (or a matching wildcard) admits.
    return [Request(f"{prefix}:{operation}", "*")]


def refusals(
    principal: Principal, service: str, operation: str, params: dict[str, Any]
) -> list[str]:
    """AWS's AccessDenied message for every request of the call that would be refused."""
    found = []
    for request in requests_for(principal, service, operation, params):
        reason = decide(principal, request)
        if reason is not None:
            found.append(
                f"User: {principal.role_arn} is not authorized to perform: {request.action} "
                f"on resource: {request.resource} {reason}"
            )
    return found
