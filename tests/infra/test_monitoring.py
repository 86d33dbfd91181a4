"""Alarms and the dashboard."""

from __future__ import annotations

import json

from baton import telemetry
from baton.topology import all_queues
from tests.infra.synth import EVENT_QUEUES

ALARM = "AWS::CloudWatch::Alarm"


def alarms(synthesized):
    return [resource["Properties"] for resource in synthesized.resources(ALARM).values()]


def queue_of(synthesized, dimension):
    """The queue name behind an alarm's QueueName dimension (a GetAtt on the queue)."""
    logical_id = dimension["Value"]["Fn::GetAtt"][0]
    return synthesized.resources("AWS::SQS::Queue")[logical_id]["Properties"]["QueueName"]


def test_every_dlq_alarms_on_its_first_message(iam_mode):
    specs = all_queues("baton", list(EVENT_QUEUES))
    alarmed = {
        queue_of(iam_mode, alarm["Dimensions"][0])
        for alarm in alarms(iam_mode)
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert alarmed == {spec.dlq_name for spec in specs}
    for alarm in alarms(iam_mode):
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible":
            assert alarm["Threshold"] == 0
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_every_function_alarms_on_errors_and_throttles(iam_mode, keys_mode):
    for synthesized in (iam_mode, keys_mode):
        functions = set(synthesized.resources("AWS::Lambda::Function"))
        for metric in ("Errors", "Throttles"):
            alarmed = {
                alarm["Dimensions"][0]["Value"]["Ref"]
                for alarm in alarms(synthesized)
                if alarm["MetricName"] == metric
            }
            assert alarmed == functions, metric


def test_every_event_queue_and_the_system_task_queue_alarm_on_message_age(iam_mode):
    alarmed = {
        queue_of(iam_mode, alarm["Dimensions"][0])
        for alarm in alarms(iam_mode)
        if alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    }
    assert alarmed == {*EVENT_QUEUES, "baton-internal-events", "baton-system-tasks"}


def test_dashboard_draws_the_engine_metrics(iam_mode):
    (dashboard,) = iam_mode.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in (
        telemetry.WORKFLOWS_STARTED,
        telemetry.WORKFLOWS_COMPLETED,
        telemetry.WORKFLOWS_FAILED,
        telemetry.EVENT_MESSAGES_HANDLED,
        telemetry.EVENT_MESSAGES_FAILED,
        telemetry.TIMER_LATENESS_MS,
        "ApproximateAgeOfOldestMessage",
    ):
        assert name in body, name
    assert '\\"stat\\":\\"p99\\"' in body and '\\"stat\\":\\"p50\\"' in body
    assert telemetry.NAMESPACE in body


def _http_api_id(synthesized):
    (api_id,) = synthesized.resources("AWS::ApiGatewayV2::Api")
    return api_id


def test_the_api_alarms_on_5xx_answers(iam_mode):
    (alarm,) = [a for a in alarms(iam_mode) if a["MetricName"] == "5xx"]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert alarm["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": _http_api_id(iam_mode)}}]
    assert alarm["Threshold"] == 0


def test_dashboard_draws_the_apis_requests_errors_and_latency(iam_mode):
    (dashboard,) = iam_mode.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("Count", "4xx", "5xx", "Latency"):
        assert f'\\"AWS/ApiGateway\\",\\"{metric}\\",\\"ApiId\\"' in body, metric
