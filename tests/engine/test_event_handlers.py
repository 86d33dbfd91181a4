"""Event handlers: whether a message matches, and each action resolved against its payload."""

from __future__ import annotations

from typing import Any

import pytest

from baton.engine import decider, events, js
from baton.engine.decider import TaskUpdate
from baton.engine.definitions import EventHandler, WorkflowDef
from baton.engine.effects import PublishMessage
from baton.engine.events import EVENT_NAME_KEY, MESSAGE_ID_KEY
from baton.engine.state import TaskStatus, WorkflowStatus
from tests import seed
from tests.engine.support import SECOND, T0, by_ref, start

EVENT = "sqs:orders"
MESSAGE_ID = "msg-1"


def _handler(*actions: dict[str, Any], condition: str | None = None) -> EventHandler:
    data: dict[str, Any] = {"name": "h", "event": EVENT, "actions": list(actions), "active": True}
    if condition is not None:
        data["condition"] = condition
    return EventHandler.from_json(data)


def _plan(handler: EventHandler, payload: Any) -> list[events.PlannedAction]:
    return events.plan(handler, payload, message_id=MESSAGE_ID, event=EVENT)


# -- conditions --------------------------------------------------------------------------------


@pytest.mark.parametrize("condition", [None, "", "   "])
def test_a_handler_without_a_condition_matches_every_message(condition):
    assert events.matches(_handler(condition=condition), {"anything": 1})


@pytest.mark.parametrize(
    ("payload", "expected"),
    [({"status": "READY"}, True), ({"status": "WAITING"}, False), ({}, False)],
)
def test_the_condition_decides_whether_the_message_matches(payload, expected):
    assert events.matches(_handler(condition="$.status == 'READY'"), payload) is expected


@pytest.mark.parametrize(
    ("count", "expected"), [(2, True), (0.5, True), (0, False), (-1, False), ("yes", False)]
)
def test_a_condition_holds_for_true_or_a_number_above_zero(count, expected):
    assert events.matches(_handler(condition="$.count"), {"count": count}) is expected


def test_the_condition_sees_json_held_in_strings_as_objects():
    payload = {"data": '{"status": "READY", "items": [1, 2]}'}
    handler = _handler(condition="$.data.status == 'READY' && $.data.items.length == 2")
    assert events.matches(handler, payload)


def test_a_condition_that_throws_is_reported():
    with pytest.raises(js.ScriptError):
        events.matches(_handler(condition="$.missing.field"), {})


# -- complete_task and fail_task ---------------------------------------------------------------


def _seed_run_and_its_message():
    definition = WorkflowDef.from_json(seed.event_testing())
    queues = frozenset({"conductor_doug_testing"})
    wf = start(definition, event_queues=queues).workflow
    decision = decider.decide(wf, T0 + 10 * SECOND, event_queues=queues)
    (message,) = [e for e in decision.effects if isinstance(e, PublishMessage)]
    return decision.workflow, message


def test_the_tutorial_handler_resolves_the_workflow_id_from_the_message():
    wf, message = _seed_run_and_its_message()
    handler = EventHandler.from_json(seed.complete_task_event())
    assert message.event_name == handler.event
    (action,) = events.plan(
        handler, message.payload, message_id=message.message_id, event=message.event_name
    )
    assert (action.handler, action.index, action.action) == (
        "complete_task_event",
        0,
        "complete_task",
    )
    assert action.body == {
        "workflowId": wf.workflow_id,
        "taskId": None,
        "taskRefName": "task_1_ref",
        "output": {
            "workflowId": wf.workflow_id,
            "taskRefName": "task_1_ref",
            MESSAGE_ID_KEY: message.message_id,
            EVENT_NAME_KEY: "sqs:conductor_doug_testing",
        },
        "reasonForIncompletion": None,
    }


def test_the_tutorial_round_trip_completes_the_waiting_task_and_the_workflow():
    wf, message = _seed_run_and_its_message()
    handler = EventHandler.from_json(seed.complete_task_event())
    (action,) = events.plan(
        handler, message.payload, message_id=message.message_id, event=message.event_name
    )
    target = decider.find_task(wf, reference=action.body["taskRefName"])
    assert target is not None
    assert target.workflow_task.type == "WAIT"
    wf = decider.update_task(
        wf,
        target.task_id,
        TaskUpdate(status=TaskStatus.COMPLETED, output=action.body["output"]),
        T0 + 11 * SECOND,
    ).workflow
    assert by_ref(wf, "task_1_ref").output_data[MESSAGE_ID_KEY] == message.message_id
    assert by_ref(wf, "join_ref").status == TaskStatus.COMPLETED
    assert wf.status == WorkflowStatus.COMPLETED


def test_complete_task_output_is_the_resolved_output_plus_the_message_identity():
    handler = _handler(
        {
            "action": "complete_task",
            "complete_task": {
                "workflowId": "${workflowInstanceId}",
                "taskRefName": "approve",
                "output": {"decision": "${result.decision}", "fixed": 1},
            },
        }
    )
    payload = {"workflowInstanceId": "wf-9", "result": {"decision": "yes"}}
    (action,) = _plan(handler, payload)
    assert action.body["workflowId"] == "wf-9"
    assert action.body["output"] == {
        "workflowId": "wf-9",
        "taskRefName": "approve",
        "decision": "yes",
        "fixed": 1,
        MESSAGE_ID_KEY: MESSAGE_ID,
        EVENT_NAME_KEY: EVENT,
    }


def test_a_task_id_in_the_message_names_the_task_directly():
    handler = _handler({"action": "complete_task", "complete_task": {"taskId": "${taskId}"}})
    (action,) = _plan(handler, {"taskId": "task-42"})
    assert action.body["taskId"] == "task-42"
    assert action.body["output"]["taskId"] == "task-42"


def test_fail_task_resolves_the_reason_and_keeps_it_in_the_output():
    handler = _handler(
        {
            "action": "fail_task",
            "fail_task": {
                "workflowId": "${workflowInstanceId}",
                "taskRefName": "approve",
                "reasonForIncompletion": "rejected: ${why}",
            },
        }
    )
    (action,) = _plan(handler, {"workflowInstanceId": "wf-9", "why": "too late"})
    assert action.action == "fail_task"
    assert action.body["reasonForIncompletion"] == "rejected: too late"
    assert action.body["output"]["reasonForIncompletion"] == "rejected: too late"


def test_expand_inline_json_lets_expressions_reach_into_json_held_in_strings():
    body = {"workflowId": "${message.workflowId}", "taskRefName": "t"}
    payload = {"message": '{"workflowId": "wf-3"}'}
    expanded = _handler(
        {"action": "complete_task", "complete_task": body, "expandInlineJSON": True}
    )
    literal = _handler({"action": "complete_task", "complete_task": body})
    assert _plan(expanded, payload)[0].body["workflowId"] == "wf-3"
    assert _plan(literal, payload)[0].body["workflowId"] is None


# -- start_workflow ----------------------------------------------------------------------------


def test_start_workflow_resolves_input_and_correlation_id_but_not_name_or_version():
    handler = _handler(
        {
            "action": "start_workflow",
            "start_workflow": {
                "name": "fulfil_${kind}",
                "version": 2,
                "correlationId": "${orderId}",
                "input": {"order": "${orderId}", "lines": "${lines}", "fixed": "x"},
            },
        }
    )
    payload = {"orderId": "o-7", "lines": [1, 2], "kind": "fast"}
    (action,) = _plan(handler, payload)
    assert action.action == "start_workflow"
    assert action.body == {
        "name": "fulfil_${kind}",
        "version": 2,
        "correlationId": "o-7",
        "input": {
            "order": "o-7",
            "lines": [1, 2],
            "fixed": "x",
            MESSAGE_ID_KEY: MESSAGE_ID,
            EVENT_NAME_KEY: EVENT,
        },
        "taskToDomain": {},
    }


def test_start_workflow_takes_the_task_domains_from_the_message_when_the_handler_has_none():
    handler = _handler({"action": "start_workflow", "start_workflow": {"name": "wf"}})
    (action,) = _plan(handler, {"taskToDomain": {"*": "blue"}})
    assert action.body["taskToDomain"] == {"*": "blue"}
    assert action.body["correlationId"] is None


def test_each_action_of_a_handler_is_planned_in_order():
    handler = _handler(
        {"action": "start_workflow", "start_workflow": {"name": "a"}},
        {"action": "complete_task", "complete_task": {"taskId": "t"}},
    )
    planned = _plan(handler, {})
    assert [(p.index, p.action, p.execution_id) for p in planned] == [
        (0, "start_workflow", "0"),
        (1, "complete_task", "1"),
    ]
