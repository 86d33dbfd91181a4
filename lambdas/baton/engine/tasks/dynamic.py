"""DYNAMIC: runs the task named by an input (`dynamicTaskNameParam`) at schedule time.

As Conductor's DynamicTaskMapper: the input named by `dynamicTaskNameParam` gives the task's
name, and the instance's type is that name. A worker task's name needs its TaskDef (which
applies: retries, timeouts, inputTemplate); a name with no TaskDef, or no name at all, fails
the workflow. A name that is a system type Baton runs (HTTP, INLINE, JSON_JQ_TRANSFORM,
WAIT, HUMAN, SUB_WORKFLOW with the DYNAMIC's `subWorkflowParam`, ...) runs as that type, from
the DYNAMIC task's inputs and fields, with the inline `taskDefinition` or the TaskDef
registered under that name if there is one; a type that runs other tasks of the definition
(FORK_JOIN, SWITCH, DO_WHILE, JOIN, ...) fails the workflow.
"""

from __future__ import annotations

from dataclasses import replace

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run, WorkflowFails
from baton.engine.state import Task
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck
from baton.engine.tasks.simple import Simple


class Dynamic(Simple):
    name = "DYNAMIC"
    dynamic_may_name = False
    # Its TaskDef is the named task's, found when it is scheduled.
    uses_registered_task_def = False

    def validate(self, check: TaskCheck) -> None:
        check.required_text("dynamicTaskNameParam")

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        param = definition.dynamic_task_name_param or ""
        inputs = run.resolve(definition.input_parameters)
        named = inputs.get(param)
        if named is None:
            raise WorkflowFails(
                "Cannot map a dynamic task based on the parameter and input. "
                f"Parameter= {param}, input= {inputs}"
            )
        task_name = str(named)
        system_type = _system_type(task_name)
        if system_type is not None:
            return self._schedule_as(system_type, run, definition, iteration)
        task_def = definition.task_definition or run.task_defs(task_name)
        if task_def is None:
            raise WorkflowFails(
                "Invalid task specified.  Cannot find task by name "
                f"{task_name} in the task definitions"
            )
        named_task = replace(
            definition,
            name=task_name,
            task_definition=task_def,
            raw={**definition.raw, "name": task_name, "taskDefinition": task_def.to_json()},
            generated=True,
        )
        return super().schedule(run, named_task, iteration)

    def _schedule_as(
        self, named: TaskType, run: Run, definition: WorkflowTask, iteration: int
    ) -> list[Task]:
        if not named.dynamic_may_name:
            raise WorkflowFails(
                f"Dynamic task {definition.task_reference_name} names {named.name}, a task "
                "type that runs other tasks of the definition: Baton runs only tasks that do "
                "not hold others as dynamic tasks"
            )
        task_def = definition.task_definition
        if task_def is None and named.uses_registered_task_def:
            task_def = run.task_defs(named.name)
        raw = {**definition.raw, "name": named.name, "type": named.name}
        raw.pop("dynamicTaskNameParam", None)
        if task_def is not None:
            raw["taskDefinition"] = task_def.to_json()
        as_type = replace(
            definition,
            name=named.name,
            type=named.name,
            task_definition=task_def,
            raw=raw,
            generated=True,
        )
        return named.schedule(run, as_type, iteration)


def _system_type(name: str) -> TaskType | None:
    """The system type a dynamic task's name is, if any (a worker task's name is none)."""
    from baton.engine.tasks import TASK_TYPES

    found = TASK_TYPES.get(name)
    return None if found is None or found.polled_by_workers else found
