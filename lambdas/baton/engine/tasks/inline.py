"""INLINE: evaluates `inputParameters.expression` in the decision, its value under `result`.

As Conductor's Inline task: `evaluatorType` is `javascript` (the default) or `graaljs`, with
`$` bound to the task's resolved input, or `value-param`, which reads the input named by the
expression. A script that fails (it does not parse, or throws) and a missing or unknown
evaluator end the task FAILED_WITH_TERMINAL_ERROR, never retried; a script stopped by the time
or memory limit ends it FAILED, retried per its TaskDef (Conductor's timeout is not terminal
either). Scripts run under the same limits as SWITCH and DO_WHILE conditions
(`baton.engine.js`) and count against the decision's budget.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from baton.engine import js
from baton.engine.definitions import JsonObject, WorkflowTask
from baton.engine.limits import MAX_JSON_DEPTH, json_depth_exceeds
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck, is_expression

JAVASCRIPT_EVALUATORS: Final = ("javascript", "graaljs")
INLINE_EVALUATORS: Final = ("value-param", *JAVASCRIPT_EVALUATORS)
# What Baton keeps of one task's output (the same bound as a worker's reported output).
MAX_OUTPUT_BYTES: Final = 256 * 1024


class Inline(TaskType):
    name = "INLINE"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """A literal evaluatorType must be one Baton runs (an expression is resolved when the
        task runs)."""
        evaluator = check.inputs.get("evaluatorType")
        if (
            isinstance(evaluator, str)
            and evaluator.strip()
            and not is_expression(evaluator)
            and evaluator not in INLINE_EVALUATORS
        ):
            check.error(
                f"evaluatorType {evaluator} is not supported by Baton; use javascript, graaljs or "
                "value-param",
                evaluator,
                "inputParameters",
                "evaluatorType",
            )

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        return [run.new_task(definition, iteration=iteration, status=TaskStatus.SCHEDULED)]

    def execute(self, run: Run, task: Task) -> bool:
        inputs = task.input_data
        evaluator = inputs.get("evaluatorType", "javascript")
        expression = inputs.get("expression")
        if not isinstance(evaluator, str) or not evaluator.strip():
            return _fail_terminal(
                run,
                task,
                "Empty 'evaluatorType' in INLINE task's input parameters. A non-empty String "
                "value must be provided.",
            )
        if evaluator not in INLINE_EVALUATORS:
            return _fail_terminal(run, task, f"Unknown evaluator '{evaluator}' in INLINE task.")
        if not isinstance(expression, str) or not expression.strip():
            return _fail_terminal(
                run,
                task,
                "Empty 'expression' in Inline task's input parameters. A non-empty String "
                "value must be provided.",
            )
        if evaluator == "value-param":
            return finish_with_result(run, task, inputs.get(expression))
        try:
            value = run.evaluate(expression, inputs)
        except js.ScriptLimitError as error:
            return _fail(run, task, TaskStatus.FAILED, script_error_message(error))
        except js.ScriptError as error:
            return _fail_terminal(run, task, script_error_message(error))
        return finish_with_result(run, task, value)


def script_error_message(error: js.ScriptError) -> str:
    """Conductor's words for a script that failed."""
    if isinstance(error, js.ScriptLimitError):
        return str(error)
    where = f" at line {error.line}" if error.line is not None else ""
    return f"Error evaluating the script `{error}`{where}"


def script_value(value: Any) -> Any:
    """A script's value as Conductor keeps it: NaN and infinities as text (Jackson's way)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def output_problem(output: JsonObject) -> str | None:
    """Why Baton cannot keep `output` as a task's output, or None when it can."""
    if json_depth_exceeds(output):
        return f"The task's output nests more than {MAX_JSON_DEPTH} levels deep"
    size = len(json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_OUTPUT_BYTES:
        return f"The task's output is {size} bytes, more than the limit of {MAX_OUTPUT_BYTES} bytes"
    return None


def finish_with_result(run: Run, task: Task, value: Any) -> bool:
    """Complete `task` with `value` under `result`, or fail it if Baton can't keep that."""
    output = {**task.output_data, "result": script_value(value)}
    problem = output_problem(output)
    if problem is not None:
        return _fail(run, task, TaskStatus.FAILED, problem)
    edited = run.complete(task)
    edited.output_data = output
    return True


def _fail_terminal(run: Run, task: Task, message: str) -> bool:
    return _fail(run, task, TaskStatus.FAILED_WITH_TERMINAL_ERROR, message)


def _fail(run: Run, task: Task, status: TaskStatus, message: str) -> bool:
    edited = run.complete(task, status, message)
    edited.output_data = {**task.output_data, "error": message}
    return True
