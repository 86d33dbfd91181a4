"""The task types Baton runs, one module each, and the registry everything else asks."""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.do_while import DoWhile
from baton.engine.tasks.dynamic import Dynamic
from baton.engine.tasks.event import Event
from baton.engine.tasks.exclusive_join import ExclusiveJoin
from baton.engine.tasks.fork_join import ForkJoin
from baton.engine.tasks.fork_join_dynamic import ForkJoinDynamic
from baton.engine.tasks.http import Http
from baton.engine.tasks.human import Human
from baton.engine.tasks.inline import Inline
from baton.engine.tasks.join import Join
from baton.engine.tasks.json_jq_transform import JsonJqTransform
from baton.engine.tasks.lambda_task import Lambda
from baton.engine.tasks.noop import Noop
from baton.engine.tasks.set_variable import SetVariable
from baton.engine.tasks.simple import Simple
from baton.engine.tasks.start_workflow import StartWorkflow
from baton.engine.tasks.sub_workflow import SubWorkflow
from baton.engine.tasks.switch import Decision, Switch
from baton.engine.tasks.terminate import Terminate
from baton.engine.tasks.wait import Wait

TASK_TYPES: dict[str, TaskType] = {
    t.name: t
    for t in (
        Simple(),
        Wait(),
        Event(),
        ForkJoin(),
        Join(),
        Switch(),
        Decision(),
        SetVariable(),
        Terminate(),
        DoWhile(),
        Inline(),
        Lambda(),
        JsonJqTransform(),
        Noop(),
        Human(),
        Dynamic(),
        ForkJoinDynamic(),
        ExclusiveJoin(),
        SubWorkflow(),
        StartWorkflow(),
        Http(),
    )
}
SUPPORTED_TYPES = frozenset(TASK_TYPES)
# Types whose registered TaskDef (by the task's name) is snapshotted at start, so its retries
# apply as in Conductor; the other types read only their definition's own `taskDefinition`.
TASK_DEF_TYPES = frozenset(t.name for t in TASK_TYPES.values() if t.uses_registered_task_def)


class UnknownTaskType(Exception):
    """A definition names a type the registry does not hold (the workflow fails, never waits)."""


def task_type_of(definition: WorkflowTask) -> TaskType:
    """The task type that runs `definition`."""
    found = TASK_TYPES.get(definition.type)
    if found is None:
        raise UnknownTaskType(
            f"Task type {definition.type} of task {definition.task_reference_name} is not "
            "supported by Baton"
        )
    return found


def uses_registered_task_def(definition: WorkflowTask) -> bool:
    """Whether `definition`'s type takes the TaskDef registered under its name."""
    found = TASK_TYPES.get(definition.type)
    return found is not None and found.uses_registered_task_def


def task_type_for(task: Task) -> TaskType:
    return task_type_of(task.workflow_task)


def schedule(run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
    """Create and add the instances that start `definition` in this decision."""
    created = task_type_of(definition).schedule(run, definition, iteration)
    for task in created:
        if task.task_id not in run.changed:
            run.add(task)
    return created
