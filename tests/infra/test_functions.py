"""Functions: runtime, layer, environment, event sources, schedule and least-privilege grants."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest

from baton import settings, telemetry
from baton.topology import BATCH_SIZE, FUNCTION_TIMEOUT_SECONDS
from infra.bundling import ARCHITECTURES
from infra.functions import POWERTOOLS_VERSION, pinned_version, powertools_layer_parameter
from tests.infra.synth import EVENT_QUEUES, as_list, iter_identity_statements, synthesize

FUNCTION = "AWS::Lambda::Function"
HANDLERS = {
    "baton.handlers.api.handler": "api",
    "baton.handlers.events.handler": "events",
    "baton.handlers.timers.handler": "timers",
    "baton.handlers.system_tasks.handler": "system_tasks",
}


def functions_by_handler(synthesized):
    return {
        resource["Properties"]["Handler"]: (logical_id, resource["Properties"])
        for logical_id, resource in synthesized.resources(FUNCTION).items()
    }


def test_four_functions_in_iam_mode(iam_mode):
    assert set(functions_by_handler(iam_mode)) == set(HANDLERS)


def _assert_runtime_layer_and_tracing(synthesized, architecture):
    for handler, (_, properties) in functions_by_handler(synthesized).items():
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == [architecture]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        if handler in HANDLERS:
            assert properties["Timeout"] == FUNCTION_TIMEOUT_SECONDS[HANDLERS[handler]]
    _assert_powertools_layer(synthesized, architecture)


def _assert_powertools_layer(synthesized, architecture):
    parameters = synthesized.stateless.to_json()["Parameters"]
    layer_parameters = {
        name: parameter
        for name, parameter in parameters.items()
        if parameter["Default"].startswith("/aws/service/powertools/")
    }
    # Resolved by CloudFormation at deploy time from AWS's public parameter in the region.
    ((name, parameter),) = layer_parameters.items()
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/aws/service/powertools/python/{architecture}/python3.13/{POWERTOOLS_VERSION}",
    }
    for resource in synthesized.resources(FUNCTION).values():
        assert resource["Properties"]["Layers"] == [{"Ref": name}]


def test_powertools_layer_is_aws_published_arn_for_the_pinned_release(keys_mode):
    _assert_powertools_layer(keys_mode, "arm64")


def test_powertools_version_is_the_one_requirements_txt_pins_and_tests_run():
    assert version("aws-lambda-powertools") == POWERTOOLS_VERSION
    assert powertools_layer_parameter(ARCHITECTURES["x86_64"], version="3.1.0") == (
        "/aws/service/powertools/python/x86_64/python3.13/3.1.0"
    )


def test_an_unpinned_powertools_is_refused(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# aws-lambda-powertools==1.0.0\naws-lambda-powertools>=3\n")
    with pytest.raises(ValueError, match="must pin aws-lambda-powertools"):
        pinned_version("aws-lambda-powertools", requirements)
    requirements.write_text("boto3==1\nAWS_Lambda_Powertools == 3.2.1  # layer\n")
    assert pinned_version("aws-lambda-powertools", requirements) == "3.2.1"


def test_functions_run_python_313_on_arm_with_powertools_and_tracing(iam_mode):
    _assert_runtime_layer_and_tracing(iam_mode, "arm64")


def test_the_architecture_setting_moves_every_function_and_the_layer(keys_mode):
    _assert_runtime_layer_and_tracing(keys_mode, "arm64")
    x86 = synthesize({"authMode": "conductor-keys", "architecture": "x86_64"})
    assert len(functions_by_handler(x86)) == 5  # the authorizer too
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
            settings.DECISION_QUEUE_URL,
            settings.INTERNAL_EVENT_QUEUE_URL,
            settings.PAYLOAD_BUCKET,
            settings.SYSTEM_TASK_QUEUE_URL,
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
    # events: every event queue and the internal event queue; timers: the timer queue and
    # the decision queue; system tasks: the system-task queue.
    assert sorted(consumers) == sorted(
        ["events"] * (len(EVENT_QUEUES) + 1) + ["timers", "timers", "system_tasks"]
    )
    for logical_id, mapping in mappings.items():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        consumer = functions[mapping["Properties"]["FunctionName"]["Ref"]]
        if consumer == "system_tasks":
            # One call per invocation, and a bound on the calls running at once.
            assert mapping["Properties"]["BatchSize"] == 1, logical_id
            assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 10}
        else:
            assert mapping["Properties"]["BatchSize"] == BATCH_SIZE
            assert "ScalingConfig" not in mapping["Properties"]


def test_only_the_system_task_function_reads_the_http_allow_list(iam_mode):
    allowed = synthesize({"httpAllowedNetworks": ["10.20.0.0/16"]})
    for synthesized, expected in ((iam_mode, []), (allowed, ["10.20.0.0/16"])):
        for handler, (_, properties) in functions_by_handler(synthesized).items():
            value = properties["Environment"]["Variables"].get(settings.HTTP_ALLOWED_NETWORKS)
            if handler == "baton.handlers.system_tasks.handler":
                assert json.loads(value) == expected
            else:
                assert value is None, handler


def test_the_system_task_function_outlives_a_call_and_its_lease_outlives_the_function():
    from baton.engine.tasks.http import CALL_LEASE_SECONDS, MAX_CALL_SECONDS

    assert MAX_CALL_SECONDS < FUNCTION_TIMEOUT_SECONDS["system_tasks"] < CALL_LEASE_SECONDS


def test_timers_also_run_every_minute_and_a_failed_sweep_is_not_retried(iam_mode):
    (rule,) = iam_mode.resources("AWS::Events::Rule").values()
    timers_id, _ = functions_by_handler(iam_mode)["baton.handlers.timers.handler"]
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [timers_id, "Arn"]}
    # Neither EventBridge's delivery nor Lambda's asynchronous invocation retries a sweep:
    # the next minute's sweep does the work of a missed one.
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    (config,) = iam_mode.resources("AWS::Lambda::EventInvokeConfig").values()
    assert config["Properties"] == {
        "FunctionName": {"Ref": timers_id},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 0,
        "MaximumEventAgeInSeconds": 60,
    }


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


TABLES = ("Workflows", "Tasks", "Metadata", "Idempotency")
OWN_LOGS = "own log group"
TOKEN_SECRET = "token-signing secret"
PAYLOAD_BUCKET = "payload bucket"


def _pairs(actions, resource):
    return {(action, resource) for action in actions}


def _dynamodb(**tables):
    """`Workflows=[...]` or `Tasks__by_due_time=[...]` (an index) -> (action, resource) pairs."""
    found = set()
    for key, actions in tables.items():
        table, _, index = key.partition("__")
        resource = f"table {table}" + (f"/index/{index}" if index else "")
        found |= _pairs((f"dynamodb:{action}" for action in actions), resource)
    return found


# Every function: its own log group and X-Ray, which take '*' only.
RUNTIME = _pairs(("logs:CreateLogStream", "logs:PutLogEvents"), OWN_LOGS) | _pairs(
    ("xray:PutTraceSegments", "xray:PutTelemetryRecords"), "*"
)
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")

# Read off the code paths of each handler (infra/access.py says which call needs what).
EXPECTED_TABLE_GRANTS = {
    "api": _dynamodb(
        Workflows=["GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem"],
        Workflows__by_correlation=["Query"],
        Workflows__by_type_status=["Query"],
        Workflows__by_status=["Query"],
        Workflows__by_correlation_id=["Query"],
        Workflows__by_task_prefix=["Query"],
        Tasks=["GetItem", "Query", "BatchGetItem", "BatchWriteItem", "UpdateItem"],
        Tasks__by_task_id=["Query"],
        Tasks__by_poll_key=["Query"],
        Metadata=["GetItem", "BatchGetItem", "Query", "PutItem", "DeleteItem", "BatchWriteItem"],
    ),
    "events": _dynamodb(
        Workflows=["GetItem", "PutItem", "UpdateItem"],
        Tasks=["Query", "BatchGetItem", "BatchWriteItem", "UpdateItem"],
        Metadata=["GetItem", "BatchGetItem", "Query", "PutItem"],
        Idempotency=["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
    ),
    "timers": _dynamodb(
        # A decision here may start a child, a START_WORKFLOW's workflow or a failure workflow.
        Workflows=["GetItem", "PutItem", "UpdateItem"],
        Workflows__by_status=["Query"],
        Tasks=["Query", "BatchGetItem", "BatchWriteItem", "UpdateItem"],
        Tasks__by_due_time=["Query"],
        # Each timer load reads the workflow's definition snapshot; a start reads the
        # definition and its task definitions and writes its snapshot.
        Metadata=["GetItem", "BatchGetItem", "Query", "PutItem"],
    ),
    "system_tasks": _dynamodb(
        Workflows=["GetItem", "UpdateItem"],
        Tasks=["Query", "BatchGetItem", "BatchWriteItem", "UpdateItem"],
        Metadata=["GetItem"],
    ),
    "authorizer": _dynamodb(Metadata=["GetItem"]),
}
# baton.store.payloads: its objects only (the `workflows/` prefix), never the bucket itself
# (no ListBucket) and never DeleteObject; the authorizer commits nothing.
PAYLOAD_OBJECTS = _pairs(
    ("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"), f"{PAYLOAD_BUCKET}/workflows/*"
)
EXPECTED_PAYLOAD_GRANTS = {
    "api": PAYLOAD_OBJECTS,
    "events": PAYLOAD_OBJECTS,
    "timers": PAYLOAD_OBJECTS,
    "system_tasks": PAYLOAD_OBJECTS,
    "authorizer": set(),
}


def _role_of(synthesized, function_id):
    function = synthesized.resources(FUNCTION)[function_id]
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


def _statements_of(synthesized, role_id):
    role = synthesized.resources("AWS::IAM::Role")[role_id]["Properties"]
    # No managed policy (AWSLambdaBasicExecutionRole would allow every log group).
    assert "ManagedPolicyArns" not in role
    statements = [
        s for inline in role.get("Policies", []) for s in inline["PolicyDocument"]["Statement"]
    ]
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _label(synthesized, function_id, resource):
    """A readable name for a statement's resource, or an AssertionError for an unknown one."""
    if resource == "*":
        return "*"
    # An index: the table's ARN (imported) + "/index/<name>"; payload objects: the bucket's
    # ARN (imported) + "/workflows/*".
    if "Fn::Join" in resource:
        table_arn, suffix = resource["Fn::Join"][1]
        return _label(synthesized, function_id, table_arn) + suffix
    if resource == {"Fn::ImportValue": "baton-stateful:PayloadBucketArn"}:
        return PAYLOAD_BUCKET
    if "Fn::ImportValue" in resource:  # a table of the stateful stack
        (table,) = [t for t in TABLES if f"Tables{t}" in resource["Fn::ImportValue"]]
        return f"table {table}"
    logical_id = resource.get("Ref") or resource["Fn::GetAtt"][0]
    found = synthesized.stateless.to_json()["Resources"][logical_id]
    if found["Type"] == "AWS::SQS::Queue":
        return f"queue {found['Properties']['QueueName']}"
    if found["Type"] == "AWS::SecretsManager::Secret":
        return TOKEN_SECRET
    function = synthesized.resources(FUNCTION)[function_id]["Properties"]
    if found["Type"] == "AWS::Logs::LogGroup" and function["LoggingConfig"]["LogGroup"] == {
        "Ref": logical_id
    }:
        return OWN_LOGS
    raise AssertionError(f"{function_id} is granted {logical_id} ({found['Type']})")


def granted(synthesized, function_id):
    """Every (action, resource) pair the function's role allows."""
    pairs = set()
    for statement in _statements_of(synthesized, _role_of(synthesized, function_id)):
        assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
        for resource in as_list(statement["Resource"]):
            label = _label(synthesized, function_id, resource)
            pairs |= {(action, label) for action in as_list(statement["Action"])}
    return pairs


def _queue_names(synthesized):
    names = [
        r["Properties"]["QueueName"] for r in synthesized.resources("AWS::SQS::Queue").values()
    ]
    return [name for name in names if not name.endswith(("_dlq", "_dlq.fifo"))]


def expected_grants(synthesized, *, key_mode):
    queues = _queue_names(synthesized)
    send = {("sqs:SendMessage", f"queue {name}") for name in queues}
    timer_queues = ("baton-timers", "baton-decisions.fifo")
    event_queues = [name for name in queues if name not in (*timer_queues, "baton-system-tasks")]
    consumed = {
        "events": {p for name in event_queues for p in _pairs(CONSUME, f"queue {name}")},
        "timers": {p for name in timer_queues for p in _pairs(CONSUME, f"queue {name}")},
        "system_tasks": _pairs(CONSUME, "queue baton-system-tasks"),
    }
    secret = {("secretsmanager:GetSecretValue", TOKEN_SECRET)} if key_mode else set()
    expected = {
        "api": RUNTIME | EXPECTED_TABLE_GRANTS["api"] | send | secret,
        "events": RUNTIME | EXPECTED_TABLE_GRANTS["events"] | send | consumed["events"],
        "timers": RUNTIME | EXPECTED_TABLE_GRANTS["timers"] | send | consumed["timers"],
        "system_tasks": RUNTIME
        | EXPECTED_TABLE_GRANTS["system_tasks"]
        | send
        | consumed["system_tasks"],
    }
    for name, pairs in EXPECTED_PAYLOAD_GRANTS.items():
        if name in expected:
            expected[name] |= pairs
    if key_mode:
        expected["authorizer"] = RUNTIME | EXPECTED_TABLE_GRANTS["authorizer"] | secret
    return expected


ALL_HANDLERS = {**HANDLERS, "baton.handlers.authorizer.handler": "authorizer"}


@pytest.mark.parametrize("mode", ["iam", "keys"])
def test_each_function_is_granted_exactly_what_its_code_calls(mode, iam_mode, keys_mode):
    synthesized = iam_mode if mode == "iam" else keys_mode
    actual = {
        ALL_HANDLERS[handler]: granted(synthesized, logical_id)
        for handler, (logical_id, _) in functions_by_handler(synthesized).items()
    }
    expected = expected_grants(synthesized, key_mode=mode == "keys")
    assert set(actual) == set(expected)
    for name in expected:
        assert actual[name] == expected[name], (
            f"{name}: granted but not expected {sorted(actual[name] - expected[name])}; "
            f"expected but not granted {sorted(expected[name] - actual[name])}"
        )


def test_iam_mode_sends_to_both_event_queues(iam_mode):
    assert sorted(_queue_names(iam_mode)) == sorted(
        [
            "baton-timers",
            "baton-decisions.fifo",
            "baton-internal-events",
            "baton-system-tasks",
            *EVENT_QUEUES,
        ]
    )


def test_powertools_tracer_is_off_unless_asked_for():
    from infra.functions import observability_environment

    assert observability_environment("baton")["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert observability_environment("baton", tracer=True)["POWERTOOLS_TRACE_DISABLED"] == "false"
