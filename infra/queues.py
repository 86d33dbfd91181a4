"""Baton's SQS queues, each with a dead-letter queue, as `baton.topology` describes them."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.topology import (
    QueueSpec,
    decision_queue,
    event_queues,
    internal_event_queue,
    system_task_queue,
    timer_queue,
)

# A message that keeps failing waits in its DLQ for as long as SQS allows, to be inspected.
DLQ_RETENTION = Duration.days(14)


class BatonQueue(Construct):
    """A queue and its DLQ: SQS-managed encryption, TLS only, redrive after the spec's receives."""

    def __init__(self, scope: Construct, id_: str, *, spec: QueueSpec) -> None:
        super().__init__(scope, id_)
        self.spec = spec
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=spec.dlq_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
            # A FIFO queue's dead letters go to a FIFO queue, as SQS requires.
            fifo=spec.fifo or None,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=spec.name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            # Senders name each message's deduplication id (see baton.messaging). High
            # throughput: SQS's FIFO quota applies per message group (workflow), not per queue.
            fifo=spec.fifo or None,
            deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP if spec.fifo else None,
            fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID
            if spec.fifo
            else None,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=spec.max_receive_count
            ),
        )


class Queues(Construct):
    """The event queues named by the deployment, the timer and decision queues and the
    internal event queue."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        prefix: str,
        event_queue_names: Sequence[str],
        authorized_accounts: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        self.timers = BatonQueue(self, "Timers", spec=timer_queue(prefix))
        self.decisions = BatonQueue(self, "Decisions", spec=decision_queue(prefix))
        self.internal_events = BatonQueue(self, "InternalEvents", spec=internal_event_queue(prefix))
        self.system_tasks = BatonQueue(self, "SystemTasks", spec=system_task_queue(prefix))
        self.events: dict[str, BatonQueue] = {
            spec.name: BatonQueue(self, f"Event-{spec.name}", spec=spec)
            for spec in event_queues(list(event_queue_names))
        }
        # Conductor's authorized-accounts: who besides this account may publish to event queues.
        senders = [Stack.of(self).account, *authorized_accounts]
        for event_queue in self.events.values():
            event_queue.queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AuthorizedAccountsSend",
                    principals=[iam.AccountPrincipal(account) for account in senders],
                    actions=["sqs:SendMessage"],
                    resources=[event_queue.queue.queue_arn],
                )
            )

    @property
    def all(self) -> list[BatonQueue]:
        return [
            self.timers,
            self.decisions,
            self.internal_events,
            self.system_tasks,
            *self.events.values(),
        ]

    @property
    def publish_targets(self) -> list[sqs.Queue]:
        """Every queue the engine publishes to: sinks, timers, decision asks, `conductor:`
        events and system tasks (any decision may dispatch an HTTP call)."""
        return [queue.queue for queue in self.all]
