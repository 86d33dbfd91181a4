"""JSON_JQ_TRANSFORM: runs the jq program `inputParameters.queryExpression` over the input.

As Conductor's JsonJqTransform task: the program reads the task's whole resolved input; the
output holds `result` (the first value, or null) and `resultList` (every value); an error ends
the task FAILED (retried per its TaskDef) with the message as `reasonForIncompletion` and under
`error`. Programs are compiled once and kept in a bounded cache.

jq runs through the `jq` package (the C jq library). What differs from Conductor, on purpose:
jq's `$ENV` and `env` are empty (they would hand the function's environment, credentials
included, to whoever writes a definition), modules can't be imported, `modulemeta` fails, and
`debug` and `stderr` write nothing. The library has no way to stop a program that runs: a
program that never ends holds the decision until the function's own timeout. A program that
produces values without end is stopped once they could not fit in an output anyway.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.inline import MAX_OUTPUT_BYTES, output_problem

# Put before every program, on a line of its own. Definitions shadow jq's builtins of the same
# name; a program that starts with `import` or `include` no longer parses.
_SANDBOX: Final = (
    "def env: {}; def get_search_list: []; def input_filename: null; "
    'def modulemeta: error("jq modules are not available in Baton"); '
    "def debug: .; def debug(message): .; def stderr: .; "
    "{} as $ENV |\n"
)
_SANDBOX_LINES: Final = _SANDBOX.count("\n")
_LINE: Final = re.compile(r"\bline (\d+)\b")
_MODULE_DIRECTIVE: Final = re.compile(r"^\s*(?:import|include)\b")
_NO_MODULES: Final = "jq modules are not available in Baton"
# Compiled programs kept per process: a workflow's expressions are a small, stable set.
_CACHE_SIZE: Final = 512
# Each value takes at least two bytes of the output's `resultList`.
_MAX_RESULTS: Final = MAX_OUTPUT_BYTES // 2


class JqError(Exception):
    """A jq program did not compile or failed on its input."""


class JsonJqTransform(TaskType):
    name = "JSON_JQ_TRANSFORM"
    uses_registered_task_def = True

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
    """Every value the jq program `query` produces from `value`; JqError if it fails."""
    program = _compiled(query)
    try:
        text = json.dumps(value, default=_json_default, allow_nan=False)
        results: list[Any] = []
        for result in program.input_text(text):
            if len(results) >= _MAX_RESULTS:
                raise JqError(
                    f"The jq program produced more than {_MAX_RESULTS} values; it may not end"
                )
            results.append(result)
    except (ValueError, TypeError, RecursionError) as error:
        raise JqError(_message(error)) from error
    return results


@lru_cache(maxsize=_CACHE_SIZE)
def _compile(query: str) -> Any:  # the library's compiled program
    import jq  # Imported here: only workflows that use jq pay for loading it.

    return jq.compile(_SANDBOX + query)


def _compiled(query: str) -> Any:
    try:
        return _compile(query)
    except ValueError as error:
        if _MODULE_DIRECTIVE.match(query):
            raise JqError(_NO_MODULES) from error
        raise JqError(_message(error)) from error


def _message(error: Exception) -> str:
    """The library's message, its line numbers counted from the start of the user's program."""
    message = str(error).strip() or type(error).__name__
    return _LINE.sub(lambda m: f"line {max(1, int(m.group(1)) - _SANDBOX_LINES)}", message)


def _json_default(value: Any) -> Any:
    # DynamoDB hands numbers back as Decimal.
    if isinstance(value, Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} {value} is not JSON")


def _fail(run: Run, task: Task, message: str) -> bool:
    edited = run.complete(task, TaskStatus.FAILED, message)
    edited.output_data = {**task.output_data, "error": message}
    return True
