"""Names of the environment variables that wire the Lambdas to their tables and queues.

The CDK stacks set these on each function and the embedded runtime sets them in its own
process, so both read the same names from here.
"""

from __future__ import annotations

WORKFLOWS_TABLE = "BATON_WORKFLOWS_TABLE"
TASKS_TABLE = "BATON_TASKS_TABLE"
METADATA_TABLE = "BATON_METADATA_TABLE"
IDEMPOTENCY_TABLE = "BATON_IDEMPOTENCY_TABLE"
# JSON object: queue name -> queue URL, for every provisioned event queue (`sqs:<name>` sinks).
EVENT_QUEUE_URLS = "BATON_EVENT_QUEUE_URLS"
TIMER_QUEUE_URL = "BATON_TIMER_QUEUE_URL"
# FIFO queue of "decide now" asks, one message group per workflow (see baton.topology).
DECISION_QUEUE_URL = "BATON_DECISION_QUEUE_URL"
# Queue that carries messages published to `conductor:` sinks back to the events function.
INTERNAL_EVENT_QUEUE_URL = "BATON_INTERNAL_EVENT_QUEUE_URL"
# Days a finished workflow (and its tasks) is kept before DynamoDB's TTL removes it; 0 keeps it.
RETENTION_DAYS = "BATON_RETENTION_DAYS"
# Endpoint override for DynamoDB and SQS (the embedded runtime points it at moto's server).
ENDPOINT_URL = "AWS_ENDPOINT_URL"
# How API callers authenticate: "iam" (SigV4 at the gateway) or "conductor-keys" (key id and
# secret exchanged at `POST /api/token` for a short-lived token); see `baton.auth`.
AUTH_MODE = "BATON_AUTH_MODE"
# Secrets Manager secret whose value signs and verifies the tokens of the "conductor-keys" mode.
TOKEN_SECRET_ARN = "BATON_TOKEN_SECRET_ARN"
# S3 bucket holding task and workflow payloads too large for their DynamoDB items.
PAYLOAD_BUCKET = "BATON_PAYLOAD_BUCKET"
# Queue that carries system-task calls (HTTP) from a decision to the system-task function.
SYSTEM_TASK_QUEUE_URL = "BATON_SYSTEM_TASK_QUEUE_URL"
# Outbound calls: "true" admits loopback (the embedded runtime); a JSON list of CIDR blocks
# admits networks otherwise refused (the `httpAllowedNetworks` context). See baton.outbound.
HTTP_ALLOW_LOOPBACK = "BATON_HTTP_ALLOW_LOOPBACK"
HTTP_ALLOWED_NETWORKS = "BATON_HTTP_ALLOWED_NETWORKS"
