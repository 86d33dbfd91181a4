"""The policy evaluator the deployed-shape test enforces on every call, against IAM's rules."""

from __future__ import annotations

import pytest

from tests.deployed.sandbox.iam_policy import Principal, Request, arn_matches, decide, refusals

ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/workflows"
OTHER = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/metadata"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:timers"


def principal(*statements, resource_policies=None) -> Principal:
    return Principal(
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/timers",
        account=ACCOUNT,
        region="us-east-1",
        statements=list(statements),
        resource_policies=resource_policies or {},
    )


def allow(actions, resources):
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def test_wildcards_in_actions_and_arns():
    assert arn_matches(f"arn:aws:dynamodb:*:{ACCOUNT}:table/work*", TABLE)
    assert arn_matches(
        "arn:aws:logs:us-east-1:1:log-group:g:*",
        "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s",
    )
    assert not arn_matches(f"arn:aws:dynamodb:*:{ACCOUNT}:table/work?", TABLE)
    assert not arn_matches(f"arn:aws:sqs:*:{ACCOUNT}:*", TABLE)
    role = principal(allow("dynamodb:Get*", TABLE))
    assert decide(role, Request("dynamodb:GetItem", TABLE)) is None
    assert decide(role, Request("DynamoDB:getitem", TABLE)) is None  # actions ignore case
    assert decide(role, Request("dynamodb:GetItem", OTHER)) is not None
    assert decide(role, Request("dynamodb:PutItem", TABLE)) is not None


def test_an_index_needs_its_own_arn():
    role = principal(allow("dynamodb:Query", TABLE))
    assert refusals(role, "dynamodb", "Query", {"TableName": "workflows"}) == []
    (refused,) = refusals(
        role, "dynamodb", "Query", {"TableName": "workflows", "IndexName": "by_x"}
    )
    assert f"{TABLE}/index/by_x" in refused


def test_a_transaction_is_authorized_item_by_item():
    role = principal(allow(["dynamodb:PutItem", "dynamodb:ConditionCheckItem"], TABLE))
    items = {
        "TransactItems": [
            {"Put": {"TableName": "workflows", "Item": {}}},
            {"ConditionCheck": {"TableName": "workflows", "Key": {}}},
        ]
    }
    assert refusals(role, "dynamodb", "TransactWriteItems", items) == []
    items["TransactItems"].append({"Update": {"TableName": "metadata", "Key": {}}})
    (refused,) = refusals(role, "dynamodb", "TransactWriteItems", items)
    assert "dynamodb:UpdateItem" in refused and OTHER in refused


def test_an_explicit_deny_wins_and_says_so():
    role = principal(
        allow("dynamodb:*", "*"),
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    )
    assert decide(role, Request("dynamodb:PutItem", TABLE)) is None
    assert "explicit deny" in decide(role, Request("dynamodb:DeleteItem", TABLE))


def test_a_queue_policy_denies_plain_http_but_not_tls():
    deny_http = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "sqs:*",
        "Resource": QUEUE,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    role = principal(allow("sqs:SendMessage", QUEUE), resource_policies={QUEUE: [deny_http]})
    url = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/timers"
    assert refusals(role, "sqs", "SendMessageBatch", {"QueueUrl": url, "Entries": []}) == []
    (refused,) = refusals(role, "sqs", "DeleteMessage", {"QueueUrl": url})
    assert "sqs:DeleteMessage" in refused


def test_an_unknown_condition_operator_is_refused_loudly():
    role = principal({**allow("sqs:*", "*"), "Condition": {"DateGreaterThan": {"aws:x": "1"}}})
    with pytest.raises(ValueError, match="DateGreaterThan"):
        decide(role, Request("sqs:SendMessage", QUEUE))
