"""JSON_JQ_TRANSFORM: runs the jq program `inputParameters.queryExpression` over the input.

As Conductor's JsonJqTransform task: the program reads the task's whole resolved input; the
output holds `result` (the first value, or null) and `resultList` (every value); an error ends
the task FAILED (retried per its TaskDef) with the message as `reasonForIncompletion` and under
`error`. Programs are compiled once and kept in a bounded cache.

jq runs through the `jq` package (the C jq library). What differs from Conductor, on purpose:
jq's `$ENV` and `env` are empty (they would hand the function's environment, credentials
included, to whoever writes a definition), modules can't be imported, `modulemeta` fails, and
`debug` and `stderr` write nothing. Programs run in a supervised child process
(`baton.engine.jq_process`): one that runs past its time limit (1 s, as INLINE's) or its
memory limit fails the task, and the child is replaced. A program that produces values
without end is stopped once they could not fit in an output anyway.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

from baton.engine import jq_process
from baton.engine.definitions import WorkflowTask
from baton.engine.jq_program import JqError
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck
from baton.engine.tasks.inline import MAX_OUTPUT_BYTES, output_problem

__all__ = ["JqError", "JsonJqTransform", "transform"]

# Each value takes at least two bytes of the output's `resultList`.
_MAX_RESULTS: Final = MAX_OUTPUT_BYTES // 2


class JsonJqTransform(TaskType):
    name = "JSON_JQ_TRANSFORM"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """A `queryExpression`, in the inputs or the inline TaskDef's inputTemplate."""
        if "queryExpression" in check.inputs or "queryExpression" in check.template:
            return
        check.missing("inputParameters.queryExpression", None, "inputParameters", "queryExpression")

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def execute(self, run: Run, task: Task) -> bool:
        query = task.input_data.get("queryExpression")
        if query is None:
            run.complete(task, TaskStatus.FAILED, "Missing 'queryExpression' in input parameters")
            return True
        run.budget.evaluations += 1  # a jq program costs a decision as a script does
        try:
            if not isinstance(query, str):
                raise JqError("queryExpression must be a string")
            results = transform(query, task.input_data)
        except JqError as error:
            return _fail(run, task, str(error))
        output = {
            **task.output_data,
            "result": results[0] if results else None,
            "resultList": results,
        }
        problem = output_problem(output)
        if problem is not None:
            return _fail(run, task, problem)
        edited = run.complete(task)
        edited.output_data = output
        return True


def transform(query: str, value: Any) -> list[Any]:
    """Every value the jq program `query` produces from `value`; JqError if it fails, runs
    past its time limit or out of memory (it runs in a supervised child: jq_process)."""
    try:
        text = json.dumps(value, default=_json_default, allow_nan=False)
    except (ValueError, TypeError, RecursionError) as error:
        raise JqError(str(error) or type(error).__name__) from error
    try:
        return jq_process.evaluate(query, text, _MAX_RESULTS)
    except jq_process.JqProcessError as error:
        raise JqError(str(error)) from error


def _json_default(value: Any) -> Any:
    # DynamoDB hands numbers back as Decimal.
    if isinstance(value, Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} {value} is not JSON")


def _fail(run: Run, task: Task, message: str) -> bool:
    edited = run.complete(task, TaskStatus.FAILED, message)
    edited.output_data = {**task.output_data, "error": message}
    return True
