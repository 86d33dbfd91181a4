"""What a definition, a handler or a message can reach: not the environment, not unbounded
time or memory, and not the logs.

Authentication at the API (IAM or Conductor's keys) and the queue policies that admit only the
authorized accounts are deployment concerns, tested on the synthesized stacks in tests/infra.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests import seed
from tests.reliability.support import (
    complete_task_handler,
    deliver,
    executions,
    left_on_queue,
    receive_all,
    register_handler,
    register_workflow,
    send,
    start,
    statuses,
    sweep,
    take,
    task,
    wait_workflow,
    workflow,
)
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api

QUEUE = "orders"
SECRET_VARIABLE = "RELIABILITY_SECRET_VARIABLE"
SECRET_VALUE = "env-s3cr3t-value-42"
MARKER = "s3cr3t-marker-123"


def test_parameters_cannot_read_environment_variables(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, SECRET_VALUE)
    register_workflow(
        {
            "name": "reliability_environment_probe",
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "probe",
                    "taskReferenceName": "probe_ref",
                    "type": "WAIT",
                    "inputParameters": {
                        "lone": "${" + SECRET_VARIABLE + "}",
                        "inText": "value: ${" + SECRET_VARIABLE + "}",
                        "home": "${HOME}",
                        "path": "${PATH}",
                    },
                }
            ],
            "outputParameters": {"leak": "${" + SECRET_VARIABLE + "}"},
        }
    )
    register_handler(
        complete_task_handler(
            "reliability_environment_probe",
            f"sqs:{QUEUE}",
            "probe_ref",
            output={"leak": "${" + SECRET_VARIABLE + "}", "home": "${HOME}"},
        )
    )
    workflow_id = start("reliability_environment_probe")

    probe = task(workflow_id, "probe_ref")
    assert probe["inputData"]["lone"] is None
    assert probe["inputData"]["home"] is None
    assert probe["inputData"]["path"] is None
    assert SECRET_VALUE not in probe["inputData"]["inText"]

    send(aws, QUEUE, {"workflowInstanceId": workflow_id})
    assert deliver(QUEUE, receive_all(aws, QUEUE, 1)) == {"batchItemFailures": []}
    completed = workflow(workflow_id)
    assert completed["status"] == "COMPLETED"
    assert task(workflow_id, "probe_ref")["outputData"].get("leak") is None
    assert task(workflow_id, "probe_ref")["outputData"].get("home") is None
    assert completed["output"]["leak"] is None
    assert SECRET_VALUE not in json.dumps(completed)


# One handler whose condition spins, or allocates without end, or holds, as the message says.
HOSTILE_CONDITION = """
if ($.mode == 'spin') { while (true) {} }
if ($.mode == 'hog') { var hoard = []; while (true) { hoard.push(new Array(1e6).fill(7)); } }
$.mode == 'go'
"""


def test_a_runaway_condition_fails_only_its_own_evaluation(aws: Aws) -> None:
    register_workflow(wait_workflow("reliability_runaway", "task_1_ref"))
    register_handler(
        complete_task_handler(
            "reliability_runaway", f"sqs:{QUEUE}", "task_1_ref", condition=HOSTILE_CONDITION
        )
    )
    workflow_id = start("reliability_runaway")
    outcomes = {}
    for mode in ("spin", "hog", "go", "spin", "go"):
        message = take(aws, QUEUE, {"workflowInstanceId": workflow_id, "mode": mode})
        outcomes[message["MessageId"]] = (mode, left_on_queue(QUEUE, [message]))

    # Each runaway message failed (SQS retries it, then moves it to the DLQ) ...
    for message_id, (mode, left) in outcomes.items():
        assert left == ({message_id} if mode in ("spin", "hog") else set()), mode
    errors = {
        outcomes[e["messageId"]][0]: e["output"].get("error", "")
        for e in executions("reliability_runaway")
        if e["status"] == "FAILED"
    }
    assert errors == {
        "spin": "condition: Script timed out",
        "hog": "condition: Script ran out of memory",
    }
    # ... and the next message on the same handler, in the same process, worked.
    assert statuses(workflow_id) == {"task_1_ref": "COMPLETED", "workflow": "COMPLETED"}


@contextmanager
def everything_logged() -> Iterator[io.StringIO]:
    """Every line the functions log at their default levels: Powertools' JSON lines (stdout
    in Lambda) and whatever reaches Python's root logger."""
    from baton.runtime import logger

    captured = io.StringIO()
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "Powertools' logger writes through a stream handler"
    streams = [h.setStream(captured) for h in handlers]
    root_handler = logging.StreamHandler(captured)
    logging.getLogger().addHandler(root_handler)
    try:
        yield captured
    finally:
        logging.getLogger().removeHandler(root_handler)
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)


def test_no_input_or_message_body_reaches_the_logs(
    aws: Aws, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    register_workflow(seed.event_testing())
    register_handler(seed.complete_task_event())
    register_handler(
        complete_task_handler("reliability_no_such_task", f"sqs:{QUEUE}", "no_such_task_ref")
    )
    with everything_logged() as logged:
        started = call_api("POST", "/api/workflow/event_testing", {"secret": MARKER})
        assert started.status == 200
        workflow_id = started.body
        # A bad request whose body holds the marker.
        assert call_api("POST", "/api/metadata/workflow", {"name": MARKER}).status == 400
        # The round trip, its message carrying the marker in its payload.
        register_workflow(
            {
                "name": "reliability_marked_round_trip",
                "version": 1,
                "schemaVersion": 2,
                "tasks": [
                    {
                        "name": "send",
                        "taskReferenceName": "send_ref",
                        "type": "EVENT",
                        "sink": "sqs:conductor_doug_testing",
                        "inputParameters": {"secret": "${workflow.input.secret}"},
                    },
                    {"name": "task_1", "taskReferenceName": "task_1_ref", "type": "WAIT"},
                ],
            }
        )
        marked = start("reliability_marked_round_trip", {"secret": MARKER})
        (message,) = receive_all(aws, "conductor_doug_testing", 1)
        assert MARKER in message["Body"]
        assert deliver("conductor_doug_testing", [message]) == {"batchItemFailures": []}
        assert statuses(marked)["workflow"] == "COMPLETED"
        # A message that fails, with the marker in its body.
        send(aws, QUEUE, {"workflowInstanceId": workflow_id, "note": MARKER})
        assert len(left_on_queue(QUEUE, receive_all(aws, QUEUE, 1))) == 1
        sweep()
        call_api("GET", f"/api/workflow/{workflow_id}")

    assert "Event message failed" in logged.getvalue(), "the capture saw the functions' logs"
    assert MARKER not in logged.getvalue()
    out, err = capfd.readouterr()
    assert MARKER not in out
    assert MARKER not in err
    assert MARKER not in caplog.text
