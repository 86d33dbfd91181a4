"""NOOP: completes at once and the workflow goes on."""

from __future__ import annotations

from baton.engine.state import WorkflowStatus
from baton.engine.validation import validate_workflow_def
from tests.engine.support import COMPLETED, SCHEDULED, fork, join, shape, simple, start, task
from tests.engine.support import workflow_def as make_def


def test_a_noop_completes_in_the_decision_that_schedules_it():
    wf = start(make_def(task("NOOP", "nothing"), simple("after"))).workflow
    assert shape(wf) == [("NOOP", COMPLETED), ("after", SCHEDULED)]


def test_noops_in_fork_branches_let_the_join_complete():
    definition = make_def(
        fork("f", [task("NOOP", "a")], [task("NOOP", "b")]),
        join("j", "a", "b"),
    )
    assert validate_workflow_def({"name": "wf", "tasks": [task("NOOP", "x")]}) == []
    wf = start(definition).workflow
    assert wf.status == WorkflowStatus.COMPLETED
    assert all(t.status == COMPLETED for t in wf.tasks)
