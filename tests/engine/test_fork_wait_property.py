"""A property of the decider over random fork / wait / set-variable workflows.

Whatever the shape of the forks and whatever order the WAITs are completed in from outside, the
workflow completes exactly when the last WAIT does, every JOIN completes once, every set
variable is kept, and no task id is ever handed out twice.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from baton.engine import decider
from baton.engine.decider import TaskUpdate
from baton.engine.definitions import WorkflowDef
from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import T0

# A shape is "wait", "set", or ("fork", [branch, ...]) where a branch is a non-empty list of shapes.
_LEAF = st.sampled_from(["wait", "set"])
_SHAPE = st.recursive(
    _LEAF,
    lambda inner: st.lists(st.lists(inner, min_size=1, max_size=3), min_size=1, max_size=3).map(
        lambda branches: ("fork", branches)
    ),
    max_leaves=12,
)
_WORKFLOW_SHAPE = st.lists(_SHAPE, min_size=1, max_size=4)


class _Builder:
    """Turns a shape into Conductor task JSON with unique references."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)
        self.waits: list[str] = []
        self.joins: list[str] = []
        self.variables: dict[str, int] = {}

    def tasks(self, shapes: list[Any]) -> list[dict[str, Any]]:
        built: list[dict[str, Any]] = []
        for shape in shapes:
            built.extend(self._task(shape))
        return built

    def _task(self, shape: Any) -> list[dict[str, Any]]:
        number = next(self._numbers)
        if shape == "wait":
            ref = f"wait_{number}"
            self.waits.append(ref)
            return [{"name": ref, "taskReferenceName": ref, "type": "WAIT"}]
        if shape == "set":
            ref = f"set_{number}"
            self.variables[ref] = number
            return [
                {
                    "name": ref,
                    "taskReferenceName": ref,
                    "type": "SET_VARIABLE",
                    "inputParameters": {ref: number},
                }
            ]
        _, branches = shape
        fork_ref, join_ref = f"fork_{number}", f"join_{number}"
        fork_tasks = [self.tasks(branch) for branch in branches]
        self.joins.append(join_ref)
        return [
            {
                "name": fork_ref,
                "taskReferenceName": fork_ref,
                "type": "FORK_JOIN",
                "forkTasks": fork_tasks,
            },
            {
                "name": join_ref,
                "taskReferenceName": join_ref,
                "type": "JOIN",
                "joinOn": [branch[-1]["taskReferenceName"] for branch in fork_tasks],
            },
        ]


def _pending_waits(workflow):
    return sorted(
        (t for t in workflow.tasks if t.task_type == "WAIT" and not t.status.is_terminal),
        key=lambda t: t.reference_task_name,
    )


@settings(max_examples=150, deadline=None)
@given(shape=_WORKFLOW_SHAPE, data=st.data())
def test_completing_the_waits_in_any_order_completes_the_workflow_once(shape, data):
    builder = _Builder()
    definition = WorkflowDef.from_json({"name": "random", "tasks": builder.tasks(shape)})

    decision = decider.start(definition, workflow_id="wf-p", workflow_input={}, now=T0)
    decisions = [decision]
    wf = decision.workflow
    completed_waits: list[str] = []
    now = T0
    while pending := _pending_waits(wf):
        assert wf.status == WorkflowStatus.RUNNING
        target = pending[data.draw(st.integers(0, len(pending) - 1), label="wait to complete")]
        now += 1
        decision = decider.update_task(wf, target.task_id, TaskUpdate(TaskStatus.COMPLETED), now)
        decisions.append(decision)
        completed_waits.append(target.reference_task_name)
        wf = decision.workflow

    assert wf.status == WorkflowStatus.COMPLETED
    assert sorted(completed_waits) == sorted(builder.waits)
    assert wf.variables == builder.variables

    # Every JOIN exists once and was completed in exactly one decision.
    joins = [t for t in wf.tasks if t.task_type == "JOIN"]
    assert sorted(t.reference_task_name for t in joins) == sorted(builder.joins)
    assert all(t.status == TaskStatus.COMPLETED for t in joins)
    for join_ref in builder.joins:
        completions = [
            d
            for d in decisions
            for t in d.changed_tasks
            if t.reference_task_name == join_ref and t.status == TaskStatus.COMPLETED
        ]
        assert len(completions) == 1, join_ref

    # No task id repeats, within the workflow or across the decisions that created them.
    task_ids = [t.task_id for t in wf.tasks]
    assert len(task_ids) == len(set(task_ids))
    created = [task_id for d in decisions for task_id in d.new_task_ids]
    assert sorted(created) == sorted(task_ids)
