"""The task-type contract: every type in the registry states its rules in its own module.

Adding a type is one module (registered in `engine/tasks/__init__.py`) and one test file;
these tests fail when a registered type has no validation or no tests, and check that the
validator, decider and store take what they need from the type rather than lists of names.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.engine import validation
from baton.engine.definitions import WorkflowTask
from baton.engine.state import WorkflowStatus
from baton.engine.tasks import TASK_DEF_TYPES, TASK_TYPES, task_type_of
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck
from tests.engine.support import simple, start, workflow_def

TESTS = Path(__file__).resolve().parent


def _module_of(task_type: TaskType) -> str:
    return type(task_type).__module__.rsplit(".", 1)[-1]


@pytest.mark.parametrize("name", sorted(TASK_TYPES))
def test_every_registered_type_states_its_validation_rules(name: str) -> None:
    task_type = TASK_TYPES[name]
    errors: list[tuple[str, str, object]] = []
    check = TaskCheck(
        task={"name": "t", "taskReferenceName": "t", "type": name},
        path="tasks[0]",
        name="t",
        kind=name,
        workflow_name="wf",
        references={"t"},
        report=lambda path, message, value: errors.append((path, message, value)),
    )
    assert type(task_type).validate is not TaskType.validate, f"{name} has no validate"
    task_type.validate(check)  # must not raise
    assert all(path.startswith("tasks[0]") for path, _, _ in errors)


@pytest.mark.parametrize("name", sorted(TASK_TYPES))
def test_every_registered_type_has_its_own_test_file(name: str) -> None:
    module = _module_of(TASK_TYPES[name])
    assert list(TESTS.glob(f"test_{module}*.py")), f"no tests/engine/test_{module}*.py for {name}"


def test_the_validator_keeps_no_rules_of_its_own_per_type() -> None:
    # Every type's rules live in its module's `validate`: the registry is the one place.
    assert not hasattr(validation, "_TYPE_CHECKS")
    source = Path(validation.__file__).read_text()
    for name in TASK_TYPES:
        assert f'"{name}": _check' not in source


def test_the_validator_lists_exactly_the_registered_types() -> None:
    assert set(validation.SUPPORTED_TASK_TYPES) == set(TASK_TYPES)
    assert not validation.UNSUPPORTED_TASK_TYPES & set(TASK_TYPES)


def test_a_type_not_in_the_registry_fails_the_workflow_instead_of_waiting_for_a_worker() -> None:
    definition = workflow_def(simple("a"))
    definition.tasks[0].type = "NOT_A_TYPE"  # stored before its type was taken out, say
    decision = start(definition)
    assert decision.workflow.status == WorkflowStatus.FAILED
    assert "NOT_A_TYPE" in (decision.workflow.reason_for_incompletion or "")
    assert decision.workflow.tasks == []


def test_retry_policy_and_polling_come_from_the_type() -> None:
    never_retried = {n for n, t in TASK_TYPES.items() if not t.retriable}
    assert {"SWITCH", "DECISION", "FORK_JOIN", "JOIN", "DO_WHILE"} <= never_retried
    assert "SIMPLE" not in never_retried
    polled = {n for n, t in TASK_TYPES.items() if t.polled_by_workers}
    assert "SIMPLE" in polled and "WAIT" not in polled and "INLINE" not in polled
    assert "SIMPLE" in TASK_DEF_TYPES and "SWITCH" not in TASK_DEF_TYPES


def test_task_type_of_names_the_unknown_type() -> None:
    with pytest.raises(Exception, match="BOGUS"):
        task_type_of(WorkflowTask(name="x", task_reference_name="x", type="BOGUS"))
