"""FORK_JOIN_DYNAMIC: a fork whose branches are known only when it is scheduled.

As Conductor's ForkJoinDynamicTaskMapper, the branches come from the task's resolved input in
one of two forms:

- `forkTaskInputs` (a list) with `forkTaskName` (and optionally `forkTaskType`): one branch
  per item, each a task of that name whose input is the item (an object), or `{"input":
  item}` otherwise, plus `__index`; branch references are `_<forkTaskName>_<i>` (with the
  fork's own reference in front, `_<fork>_<name>_<i>`, once another dynamic fork has run in
  the workflow). `forkTaskWorkflow` (a SUB_WORKFLOW per item) needs SUB_WORKFLOW.
- `dynamicForkTasksParam` names an input holding a list of WorkflowTasks, and
  `dynamicForkTasksInputParamName` an input holding a map from each one's reference to its
  input.

The fork instance is a FORK (completed at once) whose input lists the branch references as
`forkedTasks`; each branch's first task is scheduled with it, then the JOIN that must follow,
whose `joinOn` is the branch references. A branch task takes its name's registered TaskDef.
Branches of an optional dynamic fork are optional.
"""

from __future__ import annotations

from typing import Any

from baton.engine.definitions import JsonObject, TaskDef, WorkflowTask
from baton.engine.run import Run, WorkflowFails
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import EXPRESSION_START, TaskCheck
from baton.engine.tasks.fork_join import ForkNotFollowedByJoin
from baton.engine.tasks.join import Join

NOT_FOLLOWED_BY_JOIN = (
    "Dynamic join definition is not followed by a join task.  Check the workflow definition."
)
# One fork schedules every branch in one decision and one commit: past this many, the
# workflow fails rather than writing an unbounded number of items at once.
MAX_DYNAMIC_BRANCHES = 5_000
SUB_WORKFLOW = "SUB_WORKFLOW"


class ForkJoinDynamic(TaskType):
    name = "FORK_JOIN_DYNAMIC"
    dynamic_may_name = False
    retriable = False

    def validate(self, check: TaskCheck) -> None:
        from baton.engine.tasks import TASK_TYPES

        inputs = check.inputs
        if "forkTaskWorkflow" in inputs and SUB_WORKFLOW not in TASK_TYPES:
            check.error(
                "forkTaskWorkflow runs a SUB_WORKFLOW per item, and SUB_WORKFLOW tasks are not "
                "supported by Baton yet; use forkTaskName (a task per item) or "
                "dynamicForkTasksParam",
                inputs["forkTaskWorkflow"],
                "inputParameters",
                "forkTaskWorkflow",
            )
        if "forkTaskInputs" in inputs:
            items = inputs["forkTaskInputs"]
            if not isinstance(items, list) and not _is_expression(items):
                check.error(
                    "forkTaskInputs must be a list (or an expression giving one)",
                    items,
                    "inputParameters",
                    "forkTaskInputs",
                )
            return
        if check.task.get("dynamicForkJoinTasksParam") is not None:
            check.error(
                "dynamicForkJoinTasksParam is not supported by Baton; use dynamicForkTasksParam "
                "with dynamicForkTasksInputParamName, or forkTaskName with forkTaskInputs",
                check.task.get("dynamicForkJoinTasksParam"),
                "dynamicForkJoinTasksParam",
            )
            return
        check.required_text("dynamicForkTasksParam")
        check.required_text("dynamicForkTasksInputParamName")

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        from baton.engine.tasks import TASK_TYPES
        from baton.engine.tasks import schedule as schedule_definition

        join = run.index.next_after(definition.task_reference_name)
        if join is None or join.type != "JOIN":
            raise ForkNotFollowedByJoin(NOT_FOLLOWED_BY_JOIN)
        inputs = run.resolve(definition.input_parameters)
        branches = self._branches(run, definition, inputs)
        if len(branches) > MAX_DYNAMIC_BRANCHES:
            raise WorkflowFails(
                f"Dynamic fork {definition.task_reference_name} has {len(branches)} branches; "
                f"Baton forks at most {MAX_DYNAMIC_BRANCHES} at once"
            )
        seen: set[str] = set()
        for branch in branches:
            reference = branch.task_reference_name
            # A reference of the definition's would be taken for that task (what follows it).
            taken = reference in run.index.positions or run.task_for_ref(reference) is not None
            if reference in seen or taken:
                raise WorkflowFails(
                    "No dynamic tasks could be created for the Workflow: "
                    f"{run.workflow.workflow_id}, Dynamic Fork Task: {reference} attempted to "
                    f"create a duplicate task reference name: {reference}"
                )
            seen.add(reference)
            if branch.children():
                raise WorkflowFails(
                    f"Dynamic fork branch {reference} is a {branch.type}: Baton forks tasks "
                    "that hold no other tasks"
                )
            if branch.type not in TASK_TYPES:
                raise WorkflowFails(
                    f"Dynamic fork branch {reference} has type {branch.type}, which Baton "
                    "does not run"
                )
        fork = run.new_task(
            definition, iteration=iteration, status=TaskStatus.COMPLETED, task_type="FORK"
        )
        fork.task_def_name = "FORK"
        fork.start_time = fork.end_time = run.now
        # Conductor also lists the branch definitions (`forkedTaskDefs`, which it marks for
        # removal); Baton leaves them out, as they would double a wide fork's item.
        fork.input_data = {**inputs, "forkedTasks": [b.task_reference_name for b in branches]}
        run.add(fork)
        created = [fork]
        for branch in branches:
            created.extend(schedule_definition(run, branch, iteration))
        joined = Join().schedule_on(run, join, iteration, [b.task_reference_name for b in branches])
        for task in joined:
            run.add(task)
        created.extend(joined)
        return created

    def _branches(
        self, run: Run, definition: WorkflowTask, inputs: JsonObject
    ) -> list[WorkflowTask]:
        if isinstance(inputs.get("forkTaskInputs"), list):
            return self._branches_per_item(run, definition, inputs)
        param = definition.dynamic_fork_tasks_param or ""
        listed = inputs.get(param)
        if not isinstance(listed, list) or not all(
            isinstance(t, dict) and isinstance(t.get("taskReferenceName"), str) for t in listed
        ):
            raise WorkflowFails(
                f"Input '{param}' is invalid. Cannot deserialize a list of Workflow Tasks "
                f"from '{listed}'"
            )
        branch_inputs = inputs.get(definition.dynamic_fork_tasks_input_param_name or "")
        if not isinstance(branch_inputs, dict):
            raise WorkflowFails(
                "Input to the dynamically forked tasks is not a map -> expecting a map of K,V  "
                f"but found {branch_inputs}"
            )
        branches: list[WorkflowTask] = []
        for data in listed:
            branch = WorkflowTask.from_json(data)
            given = branch_inputs.get(branch.task_reference_name)
            if given is not None and not isinstance(given, dict):
                raise WorkflowFails(
                    "Tasks could not be dynamically forked due to invalid input: the input of "
                    f"{branch.task_reference_name} is not a map"
                )
            branch.input_parameters = {**branch.input_parameters, **(given or {})}
            branches.append(_generated(run, branch))
        return branches

    def _branches_per_item(
        self, run: Run, definition: WorkflowTask, inputs: JsonObject
    ) -> list[WorkflowTask]:
        from baton.engine.tasks import TASK_TYPES

        sub_workflow = inputs.get("forkTaskWorkflow")
        if sub_workflow is not None and SUB_WORKFLOW not in TASK_TYPES:
            raise WorkflowFails(
                "forkTaskWorkflow needs SUB_WORKFLOW tasks, which Baton does not run yet"
            )
        task_type = _text(inputs.get("forkTaskType"))
        task_name = _text(inputs.get("forkTaskName"))
        if task_type is not None and task_type in TASK_TYPES and task_name is None:
            task_name = task_type
        if sub_workflow is not None:
            task_name = str(sub_workflow)
        if task_name is None:
            task_name = definition.task_reference_name
        if task_type is None:
            task_type = "SIMPLE"
        # Conductor names branches after the fork too once a dynamic fork has run before.
        after_another = any(t.workflow_task.type == self.name for t in run.workflow.tasks)
        prefix = f"_{definition.task_reference_name}_" if after_another else "_"
        branches: list[WorkflowTask] = []
        for index, item in enumerate(inputs["forkTaskInputs"]):
            branch_input: JsonObject = dict(item) if isinstance(item, dict) else {"input": item}
            branch_input["__index"] = index
            data: JsonObject = {
                "name": task_name,
                "taskReferenceName": f"{prefix}{task_name}_{index}",
                "type": task_type,
                "inputParameters": branch_input,
                "optional": definition.optional,
            }
            if sub_workflow is not None:
                data["type"] = SUB_WORKFLOW
                data["subWorkflowParam"] = {
                    "name": str(sub_workflow),
                    "version": _version(inputs.get("forkTaskWorkflowVersion")),
                }
            branches.append(_generated(run, WorkflowTask.from_json(data)))
        return branches


def _generated(run: Run, branch: WorkflowTask) -> WorkflowTask:
    """A branch as the fork runs it: its own definition, with its name's TaskDef."""
    branch.generated = True
    if branch.task_definition is None and branch.name:
        task_def: TaskDef | None = run.task_defs(branch.name)
        if task_def is not None:
            branch.task_definition = task_def
            branch.raw["taskDefinition"] = task_def.to_json()
    branch.raw["inputParameters"] = branch.input_parameters
    return branch


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _version(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(EXPRESSION_START)
