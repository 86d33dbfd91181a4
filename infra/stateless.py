"""The stateless stack: queues, functions, API, schedule and monitoring around the tables."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, Names, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from baton import settings
from baton.auth.modes import CONDUCTOR_KEYS
from baton.store.schema import table_specs
from infra.access import CONSUME_ACTIONS, PAYLOAD_ACTIONS, SEND_ACTIONS, TABLE_ACCESS
from infra.api import Api
from infra.auth import Auth
from infra.bundling import lambda_code
from infra.config import BatonConfig
from infra.functions import Functions, observability_environment, powertools_layer
from infra.monitoring import Monitoring
from infra.payloads import grant_payload_access, imported
from infra.queues import BatonQueue, Queues
from infra.tables import grant_table_access

# The sweep arms timers due within SQS's 15-minute delay limit and fires overdue ones; a missed
# or late run is caught up by the next one, so it is neither retried nor kept.
SWEEP_INTERVAL = Duration.minutes(1)


class StatelessStack(Stack):
    """Everything that can be deleted and redeployed without losing a workflow."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: BatonConfig,
        workflows: dynamodb.ITableV2,
        tasks: dynamodb.ITableV2,
        metadata: dynamodb.ITableV2,
        idempotency: dynamodb.ITableV2,
        stateful_stack_name: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        specs = {spec.logical_name: spec for spec in table_specs()}
        tables = {
            "Workflows": workflows,
            "Tasks": tasks,
            "Metadata": metadata,
            "Idempotency": idempotency,
        }
        if set(tables) != set(specs):
            raise ValueError(
                f"baton.store.schema describes tables {sorted(specs)} but this stack wires "
                f"{sorted(tables)}: pass the new table in and decide which functions may use it"
            )

        # By its export's name, which the grants' cdk-nag acknowledgement names too.
        payload_bucket = imported(self, stateful_stack_name)
        queues = Queues(
            self,
            "Queues",
            prefix=config.prefix,
            event_queue_names=config.event_queues,
            authorized_accounts=config.authorized_accounts,
        )
        observability = observability_environment(config.prefix, tracer=config.tracer)
        environment = {
            **{specs[name].env_var: table.table_name for name, table in tables.items()},
            settings.EVENT_QUEUE_URLS: self.to_json_string(
                {name: queue.queue.queue_url for name, queue in queues.events.items()}
            ),
            settings.TIMER_QUEUE_URL: queues.timers.queue.queue_url,
            settings.DECISION_QUEUE_URL: queues.decisions.queue.queue_url,
            settings.INTERNAL_EVENT_QUEUE_URL: queues.internal_events.queue.queue_url,
            settings.SYSTEM_TASK_QUEUE_URL: queues.system_tasks.queue.queue_url,
            settings.RETENTION_DAYS: str(config.retention_days),
            settings.PAYLOAD_BUCKET: payload_bucket.bucket_name,
            **observability,
        }
        architecture = config.target_architecture
        code = lambda_code(architecture)
        layer = powertools_layer(self, architecture)
        functions = Functions(
            self,
            "Functions",
            code=code,
            layer=layer,
            architecture=architecture,
            environment=environment,
            api_environment={settings.AUTH_MODE: config.auth_mode},
            system_task_environment={
                settings.HTTP_ALLOWED_NETWORKS: json.dumps(list(config.http_allowed_networks))
            },
        )
        monitored: dict[str, lambda_.IFunction] = dict(functions.all)

        # Tables, queues and the token secret: exactly what each function's code calls
        # (infra/access.py), so a grant never outgrows its use.
        for function_name, function in functions.by_code_name.items():
            for name, access in TABLE_ACCESS[function_name].items():
                grant_table_access(function, tables[name], specs[name], access)
            grant_payload_access(
                function,
                payload_bucket,
                PAYLOAD_ACTIONS[function_name],
                stateful_stack_name=stateful_stack_name,
            )
            # Every function carries out effects: EVENT messages, timers, conductor: events.
            iam.Grant.add_to_principal(
                grantee=function,
                actions=list(SEND_ACTIONS),
                resource_arns=[queue.queue_arn for queue in queues.publish_targets],
            )

        # Consumers: partial batch failures, so one bad message never holds back its batch.
        event_sources: list[BatonQueue] = [queues.internal_events, *queues.events.values()]
        for queue in event_sources:
            self._consume(functions.events, queue)
        self._consume(functions.timers, queues.timers)
        # One batch per message group (workflow) at a time: one decider per workflow.
        self._consume(functions.timers, queues.decisions)
        # One call per invocation, and at most `systemTaskConcurrency` at once: a bound on
        # the HTTP calls Baton makes in parallel, without reserving account concurrency.
        self._consume(
            functions.system_tasks,
            queues.system_tasks,
            max_concurrency=config.system_task_concurrency,
        )

        # A scheduled rule rather than EventBridge Scheduler: it needs no IAM role, costs
        # nothing, and Scheduler's extras (one-off schedules, time zones) are not needed here.
        events.Rule(
            self,
            "TimerSweep",
            description="Arms WAIT timers due within 15 minutes and fires overdue ones",
            schedule=events.Schedule.rate(SWEEP_INTERVAL),
            targets=[
                targets.LambdaFunction(
                    functions.timers, retry_attempts=0, max_event_age=SWEEP_INTERVAL
                )
            ],
        )
        # EventBridge invokes asynchronously, and Lambda retries a failed asynchronous call
        # twice over up to six hours unless told otherwise: a failed sweep is dropped instead.
        # Nothing else invokes the timers function asynchronously (its queue is synchronous).
        functions.timers.configure_async_invoke(retry_attempts=0, max_event_age=SWEEP_INTERVAL)

        auth: Auth | None = None
        if config.auth_mode == CONDUCTOR_KEYS:
            auth = Auth(
                self,
                "Auth",
                code=code,
                layer=layer,
                architecture=architecture,
                environment={settings.METADATA_TABLE: metadata.table_name, **observability},
            )
            for name, access in TABLE_ACCESS["authorizer"].items():
                grant_table_access(auth.function, tables[name], specs[name], access)
            auth.grant_read_signing_key(functions.api)
            functions.api.add_environment(settings.TOKEN_SECRET_ARN, auth.token_secret.secret_arn)
            monitored["Authorizer"] = auth.function

        api = Api(
            self,
            "Api",
            name=config.prefix,
            handler=functions.api,
            authorizer=auth.authorizer if auth else None,
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
        )

        Monitoring(
            self,
            "Monitoring",
            prefix=config.prefix,
            functions=monitored,
            api=api.http_api,
            queues=queues.all,
            event_queues=[*event_sources, queues.system_tasks],
        )

        CfnOutput(self, "ApiUrl", value=api.url, description="The HTTP API's base URL")
        CfnOutput(
            self,
            "ConductorServerUrl",
            value=api.conductor_server_url,
            description="CONDUCTOR_SERVER_URL for Conductor's SDKs",
        )
        CfnOutput(
            self,
            "EventQueueUrls",
            value=self.to_json_string(
                {name: queue.queue.queue_url for name, queue in queues.events.items()}
            ),
            description="Event queue name -> URL (JSON)",
        )
        CfnOutput(self, "TimerQueueUrl", value=queues.timers.queue.queue_url)
        CfnOutput(self, "DecisionQueueUrl", value=queues.decisions.queue.queue_url)
        CfnOutput(self, "InternalEventQueueUrl", value=queues.internal_events.queue.queue_url)
        CfnOutput(self, "SystemTaskQueueUrl", value=queues.system_tasks.queue.queue_url)
        if auth is not None:
            CfnOutput(self, "TokenSecretArn", value=auth.token_secret.secret_arn)
            CfnOutput(
                self,
                "UiUrl",
                value=api.url,
                description="The web UI (sign in with an API key)",
            )

        self.queues = queues
        self.functions = functions
        self.api = api
        self.auth = auth

    @staticmethod
    def _consume(
        function: lambda_.Function, queue: BatonQueue, *, max_concurrency: int | None = None
    ) -> None:
        """An event source mapping, and only the three actions the mapping calls on the queue
        (SqsEventSource would also grant ChangeMessageVisibility and GetQueueUrl)."""
        function.add_event_source_mapping(
            f"SqsEventSource:{Names.node_unique_id(queue.queue.node)}",
            event_source_arn=queue.queue.queue_arn,
            batch_size=queue.spec.batch_size,
            report_batch_item_failures=True,
            max_concurrency=max_concurrency,
        )
        iam.Grant.add_to_principal(
            grantee=function, actions=list(CONSUME_ACTIONS), resource_arns=[queue.queue.queue_arn]
        )
