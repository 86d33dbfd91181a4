"""The CloudWatch metrics Baton emits, named once for the runtime and for the dashboard.

The functions emit them with Powertools Metrics (embedded metric format), whose namespace and
service dimension come from `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME`; the
CDK stacks set both and read the same names from here to draw the dashboard.

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    from baton import telemetry

    metrics = Metrics()
    metrics.add_metric(name=telemetry.WORKFLOWS_STARTED, unit=MetricUnit.Count, value=1)
"""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "Baton"
# Powertools adds this dimension to every metric, valued with POWERTOOLS_SERVICE_NAME.
SERVICE_DIMENSION: Final = "service"

WORKFLOWS_STARTED: Final = "WorkflowsStarted"
WORKFLOWS_COMPLETED: Final = "WorkflowsCompleted"
WORKFLOWS_FAILED: Final = "WorkflowsFailed"
EVENT_MESSAGES_HANDLED: Final = "EventMessagesHandled"
EVENT_MESSAGES_FAILED: Final = "EventMessagesFailed"
# How late a WAIT fired compared with its due time.
TIMER_LATENESS_MS: Final = "TimerLatenessMs"
# Commits retried after losing the optimistic-locking race on a workflow's revision.
COMMIT_RETRIES: Final = "CommitRetries"
# Effects (messages, timers) left to the sweep because carrying them out after the commit failed.
EFFECTS_DEFERRED: Final = "EffectsDeferred"
# Workflows with timeoutPolicy ALERT_ONLY that ran past their timeoutSeconds (they run on).
WORKFLOW_TIMEOUT_ALERTS: Final = "WorkflowTimeoutAlerts"
# System tasks (HTTP calls) the system-task function carried out, and those that raised.
SYSTEM_TASKS_RUN: Final = "SystemTasksRun"
SYSTEM_TASKS_FAILED: Final = "SystemTasksFailed"

# Each metric's unit, spelled as Powertools' `MetricUnit` values (`MetricUnit(UNITS[name])`).
UNITS: Final[dict[str, str]] = {
    WORKFLOWS_STARTED: "Count",
    WORKFLOWS_COMPLETED: "Count",
    WORKFLOWS_FAILED: "Count",
    EVENT_MESSAGES_HANDLED: "Count",
    EVENT_MESSAGES_FAILED: "Count",
    TIMER_LATENESS_MS: "Milliseconds",
    COMMIT_RETRIES: "Count",
    EFFECTS_DEFERRED: "Count",
    WORKFLOW_TIMEOUT_ALERTS: "Count",
    SYSTEM_TASKS_RUN: "Count",
    SYSTEM_TASKS_FAILED: "Count",
}
