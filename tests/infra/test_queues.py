"""Queues: the event queues from context, the timer and decision queues and the internal event
queue."""

from __future__ import annotations

from baton.topology import all_queues
from tests.infra.synth import (
    AUTHORIZED_ACCOUNTS,
    CUSTOM_CONTEXT,
    EVENT_QUEUES,
    as_list,
    synthesize,
)

QUEUE = "AWS::SQS::Queue"


def queues_by_name(synthesized):
    return {
        resource["Properties"]["QueueName"]: (logical_id, resource["Properties"])
        for logical_id, resource in synthesized.resources(QUEUE).items()
    }


def test_every_spec_has_a_queue_and_a_dlq(iam_mode):
    specs = all_queues("baton", list(EVENT_QUEUES))
    queues = queues_by_name(iam_mode)
    assert set(queues) == {spec.name for spec in specs} | {spec.dlq_name for spec in specs}
    for spec in specs:
        _, properties = queues[spec.name]
        dlq_logical_id, _ = queues[spec.dlq_name]
        assert properties["VisibilityTimeout"] == spec.visibility_timeout_seconds
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_logical_id, "Arn"]},
            "maxReceiveCount": spec.max_receive_count,
        }


def test_internal_queue_names_carry_the_prefix():
    queues = queues_by_name(synthesize(CUSTOM_CONTEXT))
    assert {
        "staging-timers",
        "staging-decisions.fifo",
        "staging-internal-events",
        "staging-system-tasks",
    } <= set(queues)


def test_the_decision_queue_and_its_dlq_are_fifo_and_deduplicate_by_the_senders_ids(iam_mode):
    queues = queues_by_name(iam_mode)
    for name in ("baton-decisions.fifo", "baton-decisions_dlq.fifo"):
        _, properties = queues[name]
        assert properties["FifoQueue"] is True
        # Each ask names its own deduplication id (a task's write): no content-based one.
        assert "ContentBasedDeduplication" not in properties
    _, decisions = queues["baton-decisions.fifo"]
    # High-throughput mode: the FIFO quota is per workflow, not per queue.
    assert decisions["DeduplicationScope"] == "messageGroup"
    assert decisions["FifoThroughputLimit"] == "perMessageGroupId"
    others = [p for name, (_, p) in queues.items() if not name.endswith(".fifo")]
    assert all("FifoQueue" not in p for p in others)


def test_every_queue_is_encrypted_and_refuses_plain_http(iam_mode):
    queues = queues_by_name(iam_mode)
    for _, properties in queues.values():
        assert properties["SqsManagedSseEnabled"] is True
    policies = iam_mode.resources("AWS::SQS::QueuePolicy")
    covered: set[str] = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny":
                assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                covered.update(ref["Ref"] for ref in policy["Properties"]["Queues"])
    assert covered == {logical_id for logical_id, _ in queues.values()}


def _senders(policy):
    statements = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    return statements


def test_only_authorized_accounts_and_this_one_may_send_to_event_queues(iam_mode):
    queues = queues_by_name(iam_mode)
    event_queue_ids = {queues[name][0] for name in EVENT_QUEUES}
    allowing = {}
    for policy in iam_mode.resources("AWS::SQS::QueuePolicy").values():
        (queue_ref,) = policy["Properties"]["Queues"]
        allows = _senders(policy)
        if allows:
            allowing[queue_ref["Ref"]] = allows
    # Internal queues and DLQs admit nobody beyond this account's IAM policies.
    assert set(allowing) == event_queue_ids
    for allows in allowing.values():
        (statement,) = allows
        assert statement["Action"] == "sqs:SendMessage"
        principals = [str(p) for p in as_list(statement["Principal"]["AWS"])]
        assert len(principals) == 1 + len(AUTHORIZED_ACCOUNTS)
        assert any("AWS::AccountId" in p for p in principals)
        for account in AUTHORIZED_ACCOUNTS:
            assert sum(f":iam::{account}:root" in p for p in principals) == 1


def test_without_authorized_accounts_only_this_account_may_send(keys_mode):
    for policy in keys_mode.resources("AWS::SQS::QueuePolicy").values():
        for statement in _senders(policy):
            (principal,) = as_list(statement["Principal"]["AWS"])
            assert "AWS::AccountId" in str(principal)
