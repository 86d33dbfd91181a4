"""Alarms on what needs a person (dead letters, errors, throttles, stuck queues) and a dashboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from baton import telemetry
from infra.queues import BatonQueue

PERIOD = Duration.minutes(1)
ALARM_PERIOD = Duration.minutes(5)
# An event message this old means the events function is failing or cannot keep up.
QUEUE_AGE_ALARM_SECONDS: Final = 300


class Monitoring(Construct):
    """One alarm per DLQ, per function (errors, throttles), per event queue (age), and one on
    the API's 5xx answers."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        prefix: str,
        functions: Mapping[str, lambda_.IFunction],
        api: apigw.HttpApi,
        queues: Sequence[BatonQueue],
        event_queues: Sequence[BatonQueue],
    ) -> None:
        super().__init__(scope, id_)
        self.api = api
        self.prefix = prefix
        self.alarms: list[cloudwatch.Alarm] = []
        for queue in queues:
            self._alarm(
                f"{queue.spec.dlq_name}-messages",
                queue.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
                threshold=0,
                description=f"Messages that failed {queue.spec.max_receive_count} times wait in "
                f"{queue.spec.dlq_name}: inspect them, fix the cause, then redrive",
            )
        for name, function in functions.items():
            self._alarm(
                f"{name.lower()}-errors",
                function.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
                threshold=0,
                description=f"The {name} function failed; see its log group",
            )
            self._alarm(
                f"{name.lower()}-throttles",
                function.metric_throttles(period=ALARM_PERIOD, statistic="Sum"),
                threshold=0,
                description=f"The {name} function was throttled: raise the account's concurrency",
            )
        # A 5xx is Baton's fault or the gateway's (a failed or throttled function, a timeout):
        # bad requests are 4xx, answered in Conductor's error body.
        self._alarm(
            "api-5xx",
            api.metric_server_error(period=ALARM_PERIOD, statistic="Sum"),
            threshold=0,
            description="The API answered 5xx; see the API function's log group and the API's "
            "access log",
        )
        for queue in event_queues:
            self._alarm(
                f"{queue.spec.name}-age",
                queue.queue.metric_approximate_age_of_oldest_message(
                    period=ALARM_PERIOD, statistic="Maximum"
                ),
                threshold=QUEUE_AGE_ALARM_SECONDS,
                description=f"Messages on {queue.spec.name} wait over {QUEUE_AGE_ALARM_SECONDS} s "
                "to be handled",
            )
        self.dashboard = self._dashboard(functions, queues, event_queues)

    def _alarm(
        self, name: str, metric: cloudwatch.IMetric, *, threshold: float, description: str
    ) -> None:
        self.alarms.append(
            cloudwatch.Alarm(
                self,
                name,
                alarm_name=f"{self.prefix}-{name}",
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def _engine_metric(self, name: str, *, statistic: str = "Sum", label: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=telemetry.NAMESPACE,
            metric_name=name,
            dimensions_map={telemetry.SERVICE_DIMENSION: self.prefix},
            statistic=statistic,
            period=PERIOD,
            label=label,
        )

    def _dashboard(
        self,
        functions: Mapping[str, lambda_.IFunction],
        queues: Sequence[BatonQueue],
        event_queues: Sequence[BatonQueue],
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=self.prefix)
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Workflows per minute",
                left=[
                    self._engine_metric(telemetry.WORKFLOWS_STARTED, label="started"),
                    self._engine_metric(telemetry.WORKFLOWS_COMPLETED, label="completed"),
                    self._engine_metric(telemetry.WORKFLOWS_FAILED, label="failed"),
                ],
            ),
            cloudwatch.GraphWidget(
                title="Event messages per minute",
                left=[
                    self._engine_metric(telemetry.EVENT_MESSAGES_HANDLED, label="handled"),
                    self._engine_metric(telemetry.EVENT_MESSAGES_FAILED, label="failed"),
                ],
            ),
            cloudwatch.GraphWidget(
                title="Timer lateness (ms)",
                left=[
                    self._engine_metric(telemetry.TIMER_LATENESS_MS, statistic="p50", label="p50"),
                    self._engine_metric(telemetry.TIMER_LATENESS_MS, statistic="p99", label="p99"),
                ],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Age of oldest event message (s)",
                left=[
                    queue.queue.metric_approximate_age_of_oldest_message(
                        period=PERIOD, statistic="Maximum", label=queue.spec.name
                    )
                    for queue in event_queues
                ],
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    queue.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=queue.spec.dlq_name
                    )
                    for queue in queues
                ],
            ),
            cloudwatch.GraphWidget(
                title="Function errors and commit retries",
                left=[
                    function.metric_errors(period=PERIOD, statistic="Sum", label=f"{name} errors")
                    for name, function in functions.items()
                ],
                right=[self._engine_metric(telemetry.COMMIT_RETRIES, label="commit retries")],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests per minute",
                left=[
                    self.api.metric_count(period=PERIOD, statistic="Sum", label="requests"),
                    self.api.metric_client_error(period=PERIOD, statistic="Sum", label="4xx"),
                    self.api.metric_server_error(period=PERIOD, statistic="Sum", label="5xx"),
                ],
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[
                    self.api.metric_latency(period=PERIOD, statistic="p50", label="p50"),
                    self.api.metric_latency(period=PERIOD, statistic="p99", label="p99"),
                ],
            ),
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24)
        )
        return dashboard
