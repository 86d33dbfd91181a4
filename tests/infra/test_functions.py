"""Functions: runtime, layer, environment, event sources, schedule and least-privilege grants."""

from __future__ import annotations

import json

from baton import settings, telemetry
from baton.topology import BATCH_SIZE, FUNCTION_TIMEOUT_SECONDS
from infra.functions import POWERTOOLS_LAYER_VERSION
from tests.infra.synth import EVENT_QUEUES, as_list, iter_identity_statements, synthesize

FUNCTION = "AWS::Lambda::Function"
HANDLERS = {
    "baton.handlers.api.handler": "api",
    "baton.handlers.events.handler": "events",
    "baton.handlers.timers.handler": "timers",
}


def functions_by_handler(synthesized):
    return {
        resource["Properties"]["Handler"]: (logical_id, resource["Properties"])
        for logical_id, resource in synthesized.resources(FUNCTION).items()
    }


def test_three_functions_in_iam_mode(iam_mode):
    assert set(functions_by_handler(iam_mode)) == set(HANDLERS)


def _assert_runtime_layer_and_tracing(synthesized, architecture):
    for handler, (_, properties) in functions_by_handler(synthesized).items():
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == [architecture]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        if handler in HANDLERS:
            assert properties["Timeout"] == FUNCTION_TIMEOUT_SECONDS[HANDLERS[handler]]
        (layer,) = properties["Layers"]
        arn = "".join(p if isinstance(p, str) else "{region}" for p in layer["Fn::Join"][1])
        assert arn == (
            "arn:aws:lambda:{region}:017000801446:layer:"
            f"AWSLambdaPowertoolsPythonV3-python313-{architecture}:{POWERTOOLS_LAYER_VERSION}"
        )


def test_functions_run_python_313_on_arm_with_powertools_and_tracing(iam_mode):
    _assert_runtime_layer_and_tracing(iam_mode, "arm64")


def test_the_architecture_setting_moves_every_function_and_the_layer(keys_mode):
    _assert_runtime_layer_and_tracing(keys_mode, "arm64")
    x86 = synthesize({"authMode": "conductor-keys", "architecture": "x86_64"})
    assert len(functions_by_handler(x86)) == 4  # the authorizer too
    _assert_runtime_layer_and_tracing(x86, "x86_64")


def test_every_function_gets_tables_queues_and_observability_settings(iam_mode):
    for handler, (_, properties) in functions_by_handler(iam_mode).items():
        variables = properties["Environment"]["Variables"]
        for name in (
            settings.WORKFLOWS_TABLE,
            settings.TASKS_TABLE,
            settings.METADATA_TABLE,
            settings.IDEMPOTENCY_TABLE,
            settings.TIMER_QUEUE_URL,
            settings.INTERNAL_EVENT_QUEUE_URL,
        ):
            assert name in variables, f"{handler} lacks {name}"
        assert variables[settings.RETENTION_DAYS] == "7"
        assert variables["POWERTOOLS_SERVICE_NAME"] == "baton"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == telemetry.NAMESPACE
        assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO"
        # A JSON object name -> URL, assembled from the queues' URLs at deploy time.
        parts = variables[settings.EVENT_QUEUE_URLS]["Fn::Join"][1]
        skeleton = "".join(p if isinstance(p, str) else "url" for p in parts)
        assert json.loads(skeleton) == dict.fromkeys(EVENT_QUEUES, "url")


def test_only_the_api_knows_the_auth_mode(iam_mode):
    for handler, (_, properties) in functions_by_handler(iam_mode).items():
        mode = properties["Environment"]["Variables"].get(settings.AUTH_MODE)
        assert mode == ("iam" if handler == "baton.handlers.api.handler" else None)


def test_consumers_report_partial_batch_failures(iam_mode):
    functions = {
        logical_id: HANDLERS[h] for h, (logical_id, _) in functions_by_handler(iam_mode).items()
    }
    mappings = iam_mode.resources("AWS::Lambda::EventSourceMapping")
    consumers = [functions[m["Properties"]["FunctionName"]["Ref"]] for m in mappings.values()]
    # events: every event queue and the internal event queue; timers: the timer queue.
    assert sorted(consumers) == sorted(["events"] * (len(EVENT_QUEUES) + 1) + ["timers"])
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["Properties"]["BatchSize"] == BATCH_SIZE


def test_timers_also_run_every_minute(iam_mode):
    (rule,) = iam_mode.resources("AWS::Events::Rule").values()
    timers_id, _ = functions_by_handler(iam_mode)["baton.handlers.timers.handler"]
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [timers_id, "Arn"]}


def test_no_wildcard_actions_and_no_wildcard_resources_but_xray(iam_mode, keys_mode):
    for synthesized in (iam_mode, keys_mode):
        for statement in iter_identity_statements(synthesized.stateless):
            actions = as_list(statement["Action"])
            for action in actions:
                assert action != "*" and not action.endswith(":*"), statement
            if "*" in as_list(statement["Resource"]):
                assert set(actions) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
            for resource in as_list(statement["Resource"]):
                assert "/index/*" not in json.dumps(resource), statement


def _policy_of(synthesized, function_logical_id):
    """The statements of the role attached to a function."""
    function = synthesized.resources(FUNCTION)[function_logical_id]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _table_grants(statements):
    """Which stateful-stack exports (tables) each statement's DynamoDB actions reach."""
    reached = set()
    for statement in statements:
        if any(a.startswith("dynamodb:") for a in as_list(statement["Action"])):
            text = json.dumps(statement["Resource"])
            for table in ("Workflows", "Tasks", "Metadata", "Idempotency"):
                if f"Tables{table}" in text:
                    reached.add(table)
    return reached


def test_table_grants_follow_what_each_function_does(iam_mode):
    by_handler = functions_by_handler(iam_mode)
    grants = {
        HANDLERS[handler]: _table_grants(_policy_of(iam_mode, logical_id))
        for handler, (logical_id, _) in by_handler.items()
    }
    everything = {"Workflows", "Tasks", "Metadata", "Idempotency"}
    assert grants == {
        "api": everything,
        "events": everything,
        "timers": {"Workflows", "Tasks", "Metadata"},
    }


def test_timers_may_only_read_single_metadata_items(iam_mode):
    """Waking a workflow loads its definition snapshot; the timers write no metadata."""
    timers_id, _ = functions_by_handler(iam_mode)["baton.handlers.timers.handler"]
    metadata_actions = [
        action
        for statement in _policy_of(iam_mode, timers_id)
        if "TablesMetadata" in json.dumps(statement["Resource"])
        for action in as_list(statement["Action"])
    ]
    assert metadata_actions == ["dynamodb:GetItem"]


def test_every_function_may_publish_to_every_queue(iam_mode):
    queues = {
        logical_id
        for logical_id, resource in iam_mode.resources("AWS::SQS::Queue").items()
        if not resource["Properties"]["QueueName"].endswith("_dlq")
    }
    for logical_id, _ in functions_by_handler(iam_mode).values():
        sendable = set()
        for statement in _policy_of(iam_mode, logical_id):
            if "sqs:SendMessage" in as_list(statement["Action"]):
                sendable |= {r["Fn::GetAtt"][0] for r in as_list(statement["Resource"])}
        assert sendable == queues


def test_powertools_tracer_is_off_unless_asked_for():
    from infra.functions import observability_environment

    assert observability_environment("baton")["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert observability_environment("baton", tracer=True)["POWERTOOLS_TRACE_DISABLED"] == "false"
