"""DYNAMIC: runs the worker task named by an input (`dynamicTaskNameParam`) at schedule time.

As Conductor's DynamicTaskMapper: the input named by `dynamicTaskNameParam` gives the task's
name; that name's TaskDef applies (its retries, timeouts and inputTemplate), and a name with
no TaskDef, or no name at all, fails the workflow. The instance is a worker task of that name.
"""

from __future__ import annotations

from dataclasses import replace

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run, WorkflowFails
from baton.engine.state import Task
from baton.engine.tasks.checking import TaskCheck
from baton.engine.tasks.simple import Simple


class Dynamic(Simple):
    name = "DYNAMIC"
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
