"""Checks Conductor definitions before they are stored, reporting every problem at once.

Each check takes the raw JSON (whatever `json.loads` returned), never raises, and returns a
list of `FieldError`, the entries of Conductor's `ErrorResponse.validationErrors`. Rules follow
Conductor's constraints (WorkflowDef, WorkflowTask, TaskDef, EventHandler and the task type
constraint), plus what Baton cannot run yet. Unknown fields are ignored, as Conductor ignores them.

Paths name the offending value from the top of the submitted document:

- `""` is the document itself; `name`, `tasks`, `schemaVersion` are its fields.
- A field is appended with a dot (`tasks[0].inputParameters.duration`), unless its key is not a
  plain identifier (letters, digits and `_`, not starting with a digit); then it is quoted in
  brackets: `tasks[1].decisionCases["not found"][0]`.
- A list element is `[index]`; fork branches nest two levels: `tasks[0].forkTasks[1][0].sink`.
- Event handler actions: `actions[0].action`, `actions[0].complete_task.workflowId`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from baton.engine.definitions import WorkflowDef
from baton.engine.durations import parse_duration, parse_until
from baton.engine.limits import MAX_JSON_DEPTH, json_depth_exceeds
from baton.engine.params import names_whole_document
from baton.engine.tasks import TASK_TYPES
from baton.engine.tasks.checking import TaskCheck
from baton.engine.tasks.http import METHODS as HTTP_METHODS
from baton.engine.tasks.inline import INLINE_EVALUATORS

JsonObject = dict[str, Any]

VALIDATION_FAILED_MESSAGE = "Validation failed, check below errors for detail."

# The types Baton runs: those the engine's task registry holds.
SUPPORTED_TASK_TYPES = tuple(TASK_TYPES)
# Conductor task types Baton does not run yet: listed so the error says so, not "unknown type".
UNSUPPORTED_TASK_TYPES = frozenset(
    {
        "FORK_JOIN_DYNAMIC",
        "DYNAMIC",
        "HUMAN",
        "KAFKA_PUBLISH",
        "EXCLUSIVE_JOIN",
        "USER_DEFINED",
    }
) - frozenset(TASK_TYPES)
WORKFLOW_TIMEOUT_POLICIES = ("TIME_OUT_WF", "ALERT_ONLY")
TASK_TIMEOUT_POLICIES = ("RETRY", "TIME_OUT_WF", "ALERT_ONLY")
RETRY_LOGICS = ("FIXED", "EXPONENTIAL_BACKOFF", "LINEAR_BACKOFF")
TERMINATION_STATUSES = ("COMPLETED", "FAILED", "TERMINATED")
# graaljs is Conductor's newer name for the same JavaScript evaluator.
SWITCH_EVALUATORS = ("value-param", "javascript", "graaljs")
CONDITION_EVALUATORS = ("javascript", "graaljs")
EVENT_ACTIONS = (
    "complete_task",
    "fail_task",
    "start_workflow",
    "terminate_workflow",
    "update_workflow_variables",
)
# TaskDef's default; it still counts against timeoutSeconds when the field is left out.
DEFAULT_RESPONSE_TIMEOUT_SECONDS = 3600
# Conductor has no limit, but the checks recurse per level: a bound keeps a hostile document
# from exhausting the stack, far above what any real workflow nests.
MAX_TASK_NESTING = 32
# Names and events are stored as DynamoDB keys (a sort key holds at most 1,024 bytes, a
# partition key 2,048) and definitions as items (at most 400 KB): these limits leave room.
MAX_NAME_BYTES = 512
MAX_EVENT_BYTES = 1024
# A definition is kept as Conductor's JSON with every default filled in, which can be twice
# the size of what was sent: the limit applies to both.
MAX_DEFINITION_BYTES = 256 * 1024
# Conductor's versions are Java ints; Baton's keys also order them as ten digits, so none is
# negative.
MAX_VERSION = 2**31 - 1
# Conductor's rule for workflow names (`@ValidNameConstraint` on WorkflowDef.name), less its
# whitespace, which Baton has always refused in workflow names: they are parts of URL paths and
# of event names (`conductor:<workflow>:<queue>`).
_WORKFLOW_NAME = re.compile(r"[A-Za-z0-9_<>{}#-]+")
WORKFLOW_NAME_RULE = (
    "Allowed characters are alphanumeric, underscores, hyphens, and special characters like "
    "<, >, {, }, #"
)


FORK_WITHOUT_JOIN = "Fork task definition is not followed by a join task.  Check the blueprint"
WAIT_BOTH_GIVEN = "Both 'duration' and 'until' specified. Please provide only one input"
WAIT_DURATION_HINT = "Give days, hours, minutes and seconds in that order, e.g. '10s', '1m 30s'"
WAIT_UNTIL_HINT = "Use 'yyyy-MM-dd HH:mm', 'yyyy-MM-dd HH:mm z' or 'yyyy-MM-dd'"

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER_TEXT = re.compile(r"\s*-?[0-9]+\s*")
_SQS_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_EXPRESSION_START = "${"


@dataclass(frozen=True)
class FieldError:
    """One problem: where it is, what is wrong, and the value found there."""

    path: str
    message: str
    invalid_value: Any

    def to_json(self) -> JsonObject:
        """The entry of Conductor's `validationErrors`."""
        return {"path": self.path, "message": self.message, "invalidValue": self.invalid_value}


class ValidationFailed(Exception):
    """A definition broke at least one rule; `errors` lists every one."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(VALIDATION_FAILED_MESSAGE)
        self.errors = list(errors)


# --- paths and values ---------------------------------------------------------------------


def _child(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(value: Any) -> int | None:
    """The integer Conductor's JSON mapper reads from `value`, or None when it reads none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    return None


def _boolean(value: Any) -> bool | None:
    """The boolean Conductor's JSON mapper reads from `value`, or None when it reads none."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


class _Report:
    """The errors found so far, plus the small checks every definition kind shares."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str, invalid_value: Any) -> None:
        self.errors.append(FieldError(path, message, invalid_value))

    def required_text(self, data: JsonObject, base: str, key: str, missing: str) -> str | None:
        """`data[key]` if it is a non-blank string; otherwise reports `missing` or a type error."""
        value = data.get(key)
        if _is_blank(value):
            self.add(_child(base, key), missing, value)
            return None
        if not isinstance(value, str):
            self.add(_child(base, key), f"{key} must be a string", value)
            return None
        return value

    def optional_text(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            self.add(_child(base, key), f"{key} must be a string", value)

    def integer(
        self,
        data: JsonObject,
        base: str,
        key: str,
        *,
        minimum: int | None = None,
        too_small: str | None = None,
    ) -> int | None:
        """`data[key]` read as an integer (None when absent or unreadable), reporting problems.

        `too_small` may use `{value}`; the value is returned even when it is below `minimum`,
        so that checks relating two fields can still run.
        """
        value = data.get(key)
        if value is None:
            return None
        number = _integer(value)
        if number is None:
            self.add(_child(base, key), f"{key} must be an integer", value)
            return None
        if minimum is not None and number < minimum:
            message = too_small or f"{key}: {{value}} must be >= {minimum}"
            self.add(_child(base, key), message.format(value=number), value)
        return number

    def boolean(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is not None and _boolean(value) is None:
            self.add(_child(base, key), f"{key} must be true or false", value)

    def object(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            self.add(_child(base, key), f"{key} must be a JSON object", value)

    def string_list(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(_child(base, key), f"{key} must be a list of strings", value)

    def choice(self, data: JsonObject, base: str, key: str, choices: tuple[str, ...]) -> None:
        value = data.get(key)
        if value is not None and value not in choices:
            self.add(_child(base, key), f"{key} must be one of {', '.join(choices)}", value)


# --- workflow definitions -----------------------------------------------------------------


@dataclass
class _WorkflowContext:
    """What the checks of one task need to know about the whole definition."""

    workflow_name: str
    report: _Report
    # Every taskReferenceName in the definition, for JOIN's joinOn.
    references: set[str]
    # References met so far, to report the second use of one.
    seen: set[str] = field(default_factory=set)


def _too_long(text: str, limit: int) -> bool:
    return len(text.encode("utf-8", "surrogatepass")) > limit


def _json_size(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def _check_size(report: _Report, data: Any, what: str) -> None:
    size = _json_size(data)
    if size > MAX_DEFINITION_BYTES:
        report.add("", f"{what} is {size} bytes; Baton keeps at most {MAX_DEFINITION_BYTES}", None)


def _too_deep(report: _Report, data: Any, what: str) -> bool:
    if json_depth_exceeds(data):
        report.add("", f"{what} nests more than {MAX_JSON_DEPTH} levels deep", None)
        return True
    return False


def _check_stored_size(report: _Report, data: JsonObject) -> None:
    """The definition as it is stored (every default written out) must fit as well."""
    size = _json_size(WorkflowDef.from_json(data).to_json())
    if size > MAX_DEFINITION_BYTES:
        report.add(
            "",
            f"The workflow definition is {size} bytes as stored (with Conductor's defaults "
            f"written out); Baton keeps at most {MAX_DEFINITION_BYTES}: split it into smaller "
            "workflows",
            None,
        )


_SECRET_REFERENCE = "${workflow.secrets."


def _check_whole_document_expressions(report: _Report, data: JsonObject) -> None:
    """`${$}` would hand a task the whole workflow and every task in it."""
    pending: list[tuple[Any, str]] = [(data, "")]
    while pending:
        node, path = pending.pop()
        if isinstance(node, dict):
            pending.extend((value, _child(path, str(key))) for key, value in node.items())
        elif isinstance(node, list):
            pending.extend((value, _item(path, index)) for index, value in enumerate(node))
        elif isinstance(node, str) and names_whole_document(node):
            report.add(
                path,
                "${$} names the whole workflow and every task in it, which Baton does not "
                "hand to a task; name the part you need, such as ${workflow.input} or "
                "${some_task.output}",
                node,
            )
        elif isinstance(node, str) and _SECRET_REFERENCE in node:
            # Conductor resolves these from its secrets store at call time; Baton has none
            # yet, and resolving them as plain parameters would send null in their place.
            report.add(
                path,
                "${workflow.secrets.<name>} is not supported by Baton yet: pass the value in "
                "the workflow input, or keep it in the called service",
                node,
            )


def _check_name_length(report: _Report, path: str, name: str | None) -> None:
    if name is not None and _too_long(name, MAX_NAME_BYTES):
        report.add(path, f"name must be at most {MAX_NAME_BYTES} bytes", name[:64] + "...")
    elif name is not None:
        problem = path_name_problem(name)
        if problem is not None:
            report.add(path, problem, name)


def path_name_problem(name: str) -> str | None:
    """Why `name` could not be a segment of a URL path, which every name Baton keeps becomes.

    Conductor sets no rule for task definition, event handler and task reference names; these
    are the ones without which a name would register and then never be reached: a `/` splits
    the segment, `.` and `..` are folded away by clients, and characters that are not printable
    (NUL and other controls, zero-width and other format characters, unassigned code points)
    are invisible or refused on the way; and API Gateway's HTTP API ends a path at an encoded
    `?` and decodes it twice, so no encoding of a `?` or a `%` reaches the API.
    """
    if "/" in name:
        return "A name cannot contain '/': it would not be one segment of a URL path"
    for character in "?%":
        if character in name:
            return (
                f"A name cannot contain {character!r}: API Gateway's HTTP API cuts or decodes "
                "it out of URL paths"
            )
    if name in (".", ".."):
        return f"A name cannot be {name!r}: clients fold it out of URL paths"
    if not name.isprintable():
        bad = next(character for character in name if not character.isprintable())
        return (
            f"A name cannot contain U+{ord(bad):04X}: names are printable text (no control, "
            "format or unassigned characters)"
        )
    return None


def _check_version(report: _Report, data: JsonObject, base: str, key: str) -> None:
    version = report.integer(data, base, key, minimum=0, too_small=f"{key}: {{value}} must be >= 0")
    if version is not None and version > MAX_VERSION:
        report.add(_child(base, key), f"{key}: {version} must be at most {MAX_VERSION}", version)


def validate_workflow_def(data: Any) -> list[FieldError]:
    """Every problem with a workflow definition (`POST /api/metadata/workflow`)."""
    if not isinstance(data, dict):
        return [FieldError("", "WorkflowDef must be a JSON object", data)]
    report = _Report()
    name = report.required_text(data, "", "name", "WorkflowDef name cannot be null or empty")
    _check_name_length(report, "name", name)
    if _too_deep(report, data, "The workflow definition"):
        return report.errors  # nothing else walks it: each walk would go as deep
    _check_size(report, data, "The workflow definition")
    _check_whole_document_expressions(report, data)
    if name is not None and path_name_problem(name) is None:
        # Names appear in event names (`conductor:<workflow>:<queue>`) and in URL paths.
        if ":" in name:
            report.add(
                "name", "Workflow name cannot contain the following set of characters: ':'", name
            )
        elif any(character.isspace() for character in name):
            report.add("name", "Workflow name cannot contain whitespace", name)
        elif not _too_long(name, MAX_NAME_BYTES) and not _WORKFLOW_NAME.fullmatch(name):
            report.add("name", f"Invalid name '{name}'. {WORKFLOW_NAME_RULE}", name)
    report.optional_text(data, "", "description")
    _check_version(report, data, "", "version")
    schema_version = report.integer(data, "", "schemaVersion")
    if schema_version is not None and schema_version != 2:
        report.add(
            "schemaVersion", "workflowDef schemaVersion: 2 is only supported", schema_version
        )
    report.integer(
        data, "", "timeoutSeconds", minimum=0, too_small="timeoutSeconds: {value} must be >= 0"
    )
    report.choice(data, "", "timeoutPolicy", WORKFLOW_TIMEOUT_POLICIES)
    # A WorkflowDef's inputParameters only document the input: a list of names.
    report.string_list(data, "", "inputParameters")
    report.object(data, "", "outputParameters")
    report.object(data, "", "variables")
    report.object(data, "", "inputTemplate")
    report.optional_text(data, "", "failureWorkflow")
    _check_version(report, data, "", "failureWorkflowVersion")
    report.optional_text(data, "", "ownerEmail")
    report.boolean(data, "", "restartable")
    report.boolean(data, "", "workflowStatusListenerEnabled")

    tasks = data.get("tasks")
    if tasks is None or tasks == []:
        report.add("tasks", "WorkflowTask list cannot be empty", tasks)
    elif not isinstance(tasks, list):
        report.add("tasks", "tasks must be a list of tasks", tasks)
    else:
        context = _WorkflowContext(
            workflow_name=name or "", report=report, references=_all_references(tasks)
        )
        _check_task_list(tasks, "tasks", context, loop=None, depth=1)
    if not report.errors:
        _check_stored_size(report, data)
    return report.errors


def _task_type(task: JsonObject) -> str | None:
    """The task's type as Baton reads it (missing means SIMPLE); None if it is not a string."""
    kind = task.get("type")
    if kind is None:
        return "SIMPLE"
    return kind.upper() if isinstance(kind, str) else None


def _nested_task_lists(task: JsonObject, path: str) -> Iterator[tuple[str, list[Any]]]:
    """The task lists inside `task` that its type runs, each with its path.

    Only the fields of the task's own type count: Conductor ignores, say, a SIMPLE task's
    `loopOver`. Lists of the wrong shape are skipped here and reported by the type's check.
    """
    kind = _task_type(task)
    if kind == "FORK_JOIN":
        branches = task.get("forkTasks")
        if isinstance(branches, list):
            for index, branch in enumerate(branches):
                if isinstance(branch, list):
                    yield _item(_child(path, "forkTasks"), index), branch
    elif kind in ("SWITCH", "DECISION"):
        cases = task.get("decisionCases")
        if isinstance(cases, dict):
            for case, tasks in cases.items():
                if isinstance(tasks, list):
                    yield _child(_child(path, "decisionCases"), str(case)), tasks
        default = task.get("defaultCase")
        if isinstance(default, list):
            yield _child(path, "defaultCase"), default
    elif kind == "DO_WHILE":
        body = task.get("loopOver")
        if isinstance(body, list):
            yield _child(path, "loopOver"), body


def _all_references(tasks: list[Any]) -> set[str]:
    references: set[str] = set()
    pending: list[tuple[list[Any], int]] = [(tasks, 1)]
    while pending:
        current, depth = pending.pop()
        for task in current:
            if not isinstance(task, dict):
                continue
            reference = task.get("taskReferenceName")
            if isinstance(reference, str):
                references.add(reference)
            if depth < MAX_TASK_NESTING:
                pending.extend((nested, depth + 1) for _, nested in _nested_task_lists(task, ""))
    return references


def _check_task_list(
    tasks: list[Any], path: str, context: _WorkflowContext, *, loop: str | None, depth: int
) -> None:
    for index, task in enumerate(tasks):
        task_path = _item(path, index)
        if not isinstance(task, dict):
            context.report.add(task_path, "a task must be a JSON object", task)
            continue
        _check_task(task, task_path, context, loop=loop, depth=depth)
        kind = _task_type(task)
        if kind in ("FORK_JOIN", "FORK_JOIN_DYNAMIC") and kind in SUPPORTED_TASK_TYPES:
            following = tasks[index + 1] if index + 1 < len(tasks) else None
            if not (isinstance(following, dict) and _task_type(following) == "JOIN"):
                context.report.add(task_path, FORK_WITHOUT_JOIN, task.get("taskReferenceName"))


def _check_task(
    task: JsonObject, path: str, context: _WorkflowContext, *, loop: str | None, depth: int
) -> None:
    report = context.report
    name = report.required_text(task, path, "name", "WorkflowTask name cannot be empty or null")
    reference = report.required_text(
        task,
        path,
        "taskReferenceName",
        "WorkflowTask taskReferenceName name cannot be empty or null",
    )
    # Task types are polled, and references updated, through URL paths.
    for key, value in (("name", name), ("taskReferenceName", reference)):
        problem = None if value is None else path_name_problem(value)
        if problem is not None:
            report.add(_child(path, key), problem, value)
    if reference is not None:
        if reference in context.seen:
            report.add(
                _child(path, "taskReferenceName"),
                f"taskReferenceName: {reference} should be unique across tasks for a given "
                f"workflowDefinition: {context.workflow_name}",
                reference,
            )
        context.seen.add(reference)
    report.object(task, path, "inputParameters")
    report.boolean(task, path, "optional")
    report.boolean(task, path, "asyncComplete")
    report.integer(task, path, "startDelay", minimum=0)
    report.integer(task, path, "retryCount", minimum=0)
    definition = task.get("taskDefinition")
    if definition is not None:
        if isinstance(definition, dict):
            _check_task_def(report, definition, _child(path, "taskDefinition"), inline=True)
        else:
            report.add(
                _child(path, "taskDefinition"), "taskDefinition must be a JSON object", definition
            )

    kind = _check_task_type(task, path, report)
    if kind is None:
        return
    check = _TYPE_CHECKS.get(kind)
    if check is not None:
        check(task, path, context, name or "")
    else:
        TASK_TYPES[kind].validate(
            TaskCheck(
                task=task,
                path=path,
                name=name or "",
                kind=kind,
                workflow_name=context.workflow_name,
                references=context.references,
                report=report.add,
            )
        )
    if kind == "DO_WHILE" and loop is not None:
        report.add(
            _child(path, "type"),
            f"DO_WHILE tasks cannot be nested: this one is inside the loopOver of {loop}",
            task.get("type"),
        )
    nested = list(_nested_task_lists(task, path))
    if nested and depth >= MAX_TASK_NESTING:
        report.add(path, f"tasks are nested more than {MAX_TASK_NESTING} levels deep", None)
        return
    inner_loop = path if kind == "DO_WHILE" else loop
    for list_path, tasks in nested:
        _check_task_list(tasks, list_path, context, loop=inner_loop, depth=depth + 1)


def _check_task_type(task: JsonObject, path: str, report: _Report) -> str | None:
    """The task's type if Baton runs it; otherwise reports why not and returns None."""
    raw = task.get("type")
    type_path = _child(path, "type")
    if raw is not None and not isinstance(raw, str):
        report.add(type_path, "type must be a string", raw)
        return None
    if isinstance(raw, str) and not raw.strip():
        report.add(type_path, "WorkflowTask type cannot be empty or null", raw)
        return None
    kind = _task_type(task)
    if kind in SUPPORTED_TASK_TYPES:
        return kind
    if kind in UNSUPPORTED_TASK_TYPES:
        report.add(type_path, f"{kind} tasks are not supported by Baton yet", raw)
    else:
        report.add(
            type_path,
            f"Unknown task type: {raw}. Supported types: {', '.join(SUPPORTED_TASK_TYPES)}",
            raw,
        )
    return None


def _required_for(field_name: str, kind: str, task_name: str) -> str:
    return f"{field_name} field is required for taskType: {kind} taskName: {task_name}"


def _inputs(task: JsonObject) -> JsonObject:
    inputs = task.get("inputParameters")
    return inputs if isinstance(inputs, dict) else {}


def _check_wait(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    inputs = _inputs(task)
    inputs_path = _child(path, "inputParameters")
    duration = inputs.get("duration")
    until = inputs.get("until")
    # Present means not null, as the WAIT task reads its input: Conductor would let a blank
    # value through here, but Baton's WAIT rejects it when it runs, so it is caught now.
    if duration is not None and until is not None:
        context.report.add(inputs_path, WAIT_BOTH_GIVEN, {"duration": duration, "until": until})
    for key, value, parse in (
        ("duration", duration, parse_duration),
        ("until", until, parse_until),
    ):
        if value is None:
            continue
        problem = _wait_value_problem(key, value, parse)
        if problem is not None:
            context.report.add(_child(inputs_path, key), problem, value)


def _wait_value_problem(key: str, value: Any, parse: Callable[[str], int]) -> str | None:
    if not isinstance(value, str):
        return f"{key} must be a string"
    # An expression is only known when the task runs.
    if value.startswith(_EXPRESSION_START):
        return None
    try:
        parse(value)
    except (ValueError, OverflowError) as error:
        hint = WAIT_DURATION_HINT if key == "duration" else WAIT_UNTIL_HINT
        return f"{error}. {hint}"
    return None


def _check_event(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    sink = task.get("sink")
    sink_path = _child(path, "sink")
    if _is_blank(sink):
        context.report.add(sink_path, _required_for("sink", "EVENT", name), sink)
    elif not isinstance(sink, str):
        context.report.add(sink_path, "sink must be a string", sink)
    else:
        problem = _sink_problem(sink)
        if problem is not None:
            context.report.add(sink_path, problem, sink)


def _sink_problem(sink: str) -> str | None:
    """Why Baton cannot publish to `sink`, or None when it can."""
    if sink.startswith(_EXPRESSION_START) or sink == "conductor":
        return None
    provider, separator, queue = sink.partition(":")
    if provider == "conductor":
        return None if queue else "sink conductor: needs a name after 'conductor:'"
    if provider == "sqs" and separator:
        # `sqs:${workflow.input.queue}` is resolved when the task runs.
        if _EXPRESSION_START in queue or _SQS_QUEUE_NAME.fullmatch(queue):
            return None
        return f"sink {sink}: an SQS queue name is 1 to 80 letters, digits, hyphens or underscores"
    if separator and provider:
        return f"sink provider {provider} is not supported by Baton; use sqs:<queue> or conductor"
    return f"Invalid / Unsupported sink specified: {sink}; use sqs:<queue> or conductor"


def _check_switch(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    report = context.report
    evaluator = task.get("evaluatorType")
    evaluator_path = _child(path, "evaluatorType")
    if _is_blank(evaluator):
        report.add(evaluator_path, _required_for("evaluatorType", "SWITCH", name), evaluator)
    elif not isinstance(evaluator, str):
        report.add(evaluator_path, "evaluatorType must be a string", evaluator)
    elif evaluator.lower() not in SWITCH_EVALUATORS:
        report.add(
            evaluator_path,
            f"evaluatorType {evaluator} is not supported by Baton; use value-param or "
            "javascript (graaljs is accepted as javascript)",
            evaluator,
        )
    report.required_text(task, path, "expression", _required_for("expression", "SWITCH", name))
    _check_cases(task, path, report, "SWITCH", name)


def _check_decision(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    report = context.report
    value_param = task.get("caseValueParam")
    expression = task.get("caseExpression")
    if _is_blank(value_param) and _is_blank(expression):
        report.add(
            _child(path, "caseValueParam"),
            _required_for("caseValueParam or caseExpression", "DECISION", name),
            value_param,
        )
    report.optional_text(task, path, "caseValueParam")
    report.optional_text(task, path, "caseExpression")
    _check_cases(task, path, report, "DECISION", name)


def _check_cases(task: JsonObject, path: str, report: _Report, kind: str, name: str) -> None:
    cases = task.get("decisionCases")
    cases_path = _child(path, "decisionCases")
    if cases is None or cases == {}:
        report.add(
            cases_path,
            f"decisionCases should have atleast one task for taskType: {kind} taskName: {name}",
            cases,
        )
    elif not isinstance(cases, dict):
        report.add(
            cases_path,
            "decisionCases must be an object mapping each case to a list of tasks",
            cases,
        )
    else:
        for case, tasks in cases.items():
            if not isinstance(tasks, list):
                report.add(
                    _child(cases_path, str(case)), "a decision case must be a list of tasks", tasks
                )
    default = task.get("defaultCase")
    if default is not None and not isinstance(default, list):
        report.add(_child(path, "defaultCase"), "defaultCase must be a list of tasks", default)


def _check_terminate(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    status = _inputs(task).get("terminationStatus")
    if status not in TERMINATION_STATUSES:
        context.report.add(
            _child(_child(path, "inputParameters"), "terminationStatus"),
            "terminate task must have a terminationStatus parameter set to COMPLETED, FAILED "
            f"or TERMINATED, taskName: {name}",
            status,
        )
    if _boolean(task.get("optional")):
        context.report.add(
            _child(path, "optional"), f"terminate task cannot be optional, taskName: {name}", True
        )


def _check_inline(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    evaluator = _inputs(task).get("evaluatorType")
    # Only a literal is known now: an expression is resolved when the task runs.
    if (
        isinstance(evaluator, str)
        and evaluator.strip()
        and not evaluator.startswith(_EXPRESSION_START)
        and evaluator not in INLINE_EVALUATORS
    ):
        context.report.add(
            _child(_child(path, "inputParameters"), "evaluatorType"),
            f"evaluatorType {evaluator} is not supported by Baton; use javascript, graaljs or "
            "value-param",
            evaluator,
        )


def _check_json_jq_transform(
    task: JsonObject, path: str, context: _WorkflowContext, name: str
) -> None:
    definition = task.get("taskDefinition")
    template = definition.get("inputTemplate") if isinstance(definition, dict) else None
    if "queryExpression" in _inputs(task) or (
        isinstance(template, dict) and "queryExpression" in template
    ):
        return
    context.report.add(
        _child(_child(path, "inputParameters"), "queryExpression"),
        _required_for("inputParameters.queryExpression", "JSON_JQ_TRANSFORM", name),
        None,
    )


def _check_http(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    """An HTTP task names its uri and method, in `http_request` or (as current Conductor also
    reads them) directly in its inputs or its TaskDef's inputTemplate. Expressions are resolved
    when the task runs; only what is known now is checked."""
    inputs = _inputs(task)
    definition = task.get("taskDefinition")
    template = definition.get("inputTemplate") if isinstance(definition, dict) else None
    request = inputs.get("http_request")
    base = _child(path, "inputParameters")
    if isinstance(request, str) and request.startswith(_EXPRESSION_START):
        return  # the whole request is resolved at run time
    if isinstance(request, dict):
        found, base = request, _child(base, "http_request")
    else:
        found = {**(template if isinstance(template, dict) else {}), **inputs}
    for key in ("uri", "method"):
        value = found.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            context.report.add(
                _child(base, key),
                _required_for(f"inputParameters.http_request.{key}", "HTTP", name),
                value,
            )
    for key in ("vipAddress", "appName"):
        if found.get(key) not in (None, ""):
            context.report.add(
                _child(base, key),
                f"{key} (service discovery through Eureka) is not supported by Baton; give the "
                "full uri",
                found.get(key),
            )
    method = found.get("method")
    if (
        isinstance(method, str)
        and method.strip()
        and not method.startswith(_EXPRESSION_START)
        and method.strip().upper() not in HTTP_METHODS
    ):
        context.report.add(
            _child(base, "method"),
            f"method {method} is not an HTTP method Baton sends; use one of "
            f"{', '.join(HTTP_METHODS)}",
            method,
        )


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_EXPRESSION_START)


def _check_sub_workflow(task: JsonObject, path: str, context: _WorkflowContext, name: str) -> None:
    params = task.get("subWorkflowParam")
    params_path = _child(path, "subWorkflowParam")
    report = context.report
    if params is None:
        report.add(params_path, _required_for("subWorkflowParam", "SUB_WORKFLOW", name), None)
        return
    if not isinstance(params, dict):
        report.add(params_path, "subWorkflowParam must be a JSON object", params)
        return
    inline = params.get("workflowDefinition")
    inline_path = _child(params_path, "workflowDefinition")
    if isinstance(inline, str):
        if not (inline.startswith(_EXPRESSION_START) and inline.endswith("}")):
            report.add(
                inline_path, "workflowDefinition is a string, but not a valid DSL string", inline
            )
    elif isinstance(inline, dict):
        # An inline child definition is checked as if it were registered.
        for error in validate_workflow_def(inline):
            inner = error.path
            where = f"{inline_path}{'' if not inner or inner.startswith('[') else '.'}{inner}"
            report.add(where, error.message, error.invalid_value)
    elif inline is not None:
        report.add(
            inline_path,
            "workflowDefinition must be either null, or WorkflowDef, or a valid DSL string",
            inline,
        )
    if inline is None:
        report.required_text(
            params, params_path, "name", "SubWorkflowParams name cannot be null or empty"
        )
    if not _is_expression(params.get("version")):
        _check_version(report, params, params_path, "version")
    if not _is_expression(params.get("taskToDomain")):
        report.object(params, params_path, "taskToDomain")
    priority = params.get("priority")
    if priority is not None and not _is_expression(priority):
        report.integer(params, params_path, "priority", minimum=0)


def _check_start_workflow(
    task: JsonObject, path: str, context: _WorkflowContext, name: str
) -> None:
    inputs_path = _child(path, "inputParameters")
    request = _inputs(task).get("startWorkflow")
    request_path = _child(inputs_path, "startWorkflow")
    report = context.report
    if request is None:
        report.add(
            request_path,
            _required_for("inputParameters.startWorkflow", "START_WORKFLOW", name),
            None,
        )
        return
    if _is_expression(request):
        return  # resolved when the task runs; a bad request then fails the task
    if not isinstance(request, dict):
        report.add(request_path, "startWorkflow must be a StartWorkflowRequest object", request)
        return
    if not _is_expression(request.get("name")):
        report.required_text(request, request_path, "name", "Workflow name cannot be empty")
    if not _is_expression(request.get("version")):
        _check_version(report, request, request_path, "version")
    for key in ("input", "taskToDomain"):
        if not _is_expression(request.get(key)):
            report.object(request, request_path, key)


# Checks of the types that have not yet moved into their own module's `validate`.
_TYPE_CHECKS = {
    "WAIT": _check_wait,
    "EVENT": _check_event,
    "SWITCH": _check_switch,
    "DECISION": _check_decision,
    "TERMINATE": _check_terminate,
    "INLINE": _check_inline,
    "JSON_JQ_TRANSFORM": _check_json_jq_transform,
    "SUB_WORKFLOW": _check_sub_workflow,
    "START_WORKFLOW": _check_start_workflow,
    "HTTP": _check_http,
}


# --- task definitions ---------------------------------------------------------------------


def validate_task_def(data: Any) -> list[FieldError]:
    """Every problem with a task definition (`/api/metadata/taskdefs`)."""
    if not isinstance(data, dict):
        return [FieldError("", "TaskDef must be a JSON object", data)]
    report = _Report()
    _check_task_def(report, data, "", inline=False)
    _check_size(report, data, "The task definition")
    return report.errors


def _check_task_def(report: _Report, data: JsonObject, base: str, *, inline: bool) -> None:
    """Checks a TaskDef; an `inline` one (a task's `taskDefinition`) may leave out its name."""
    if inline:
        report.optional_text(data, base, "name")
        given_name = data.get("name")
        name = given_name if isinstance(given_name, str) else None
    else:
        name = report.required_text(data, base, "name", "TaskDef name cannot be null or empty")
    _check_name_length(report, _child(base, "name"), name)
    report.optional_text(data, base, "description")
    report.integer(
        data, base, "retryCount", minimum=0, too_small="TaskDef retryCount: {value} must be >= 0"
    )
    report.integer(data, base, "retryDelaySeconds", minimum=0)
    report.integer(data, base, "maxRetryDelaySeconds", minimum=0)
    report.integer(
        data,
        base,
        "backoffScaleFactor",
        minimum=1,
        too_small="TaskDef backoffScaleFactor: {value} must be >= 1",
    )
    timeout = report.integer(
        data,
        base,
        "timeoutSeconds",
        minimum=0,
        too_small="TaskDef timeoutSeconds: {value} must be >= 0",
    )
    report.integer(data, base, "totalTimeoutSeconds", minimum=0)
    response_timeout = report.integer(
        data,
        base,
        "responseTimeoutSeconds",
        minimum=1,
        too_small="TaskDef responseTimeoutSeconds: {value} should be minimum 1 second",
    )
    report.integer(
        data,
        base,
        "pollTimeoutSeconds",
        minimum=0,
        too_small="TaskDef pollTimeoutSeconds: {value} must be >= 0",
    )
    report.integer(data, base, "rateLimitPerFrequency", minimum=0)
    report.integer(data, base, "rateLimitFrequencyInSeconds", minimum=0)
    report.integer(data, base, "concurrentExecLimit", minimum=0)
    report.choice(data, base, "timeoutPolicy", TASK_TIMEOUT_POLICIES)
    report.choice(data, base, "retryLogic", RETRY_LOGICS)
    report.object(data, base, "inputTemplate")
    report.string_list(data, base, "inputKeys")
    report.string_list(data, base, "outputKeys")
    report.optional_text(data, base, "ownerEmail")

    if data.get("responseTimeoutSeconds") is None:
        response_timeout = DEFAULT_RESPONSE_TIMEOUT_SECONDS
    if (
        timeout is not None
        and timeout > 0
        and response_timeout is not None
        and (response_timeout > timeout)
    ):
        report.add(
            _child(base, "responseTimeoutSeconds"),
            f"TaskDef: {name or ''} responseTimeoutSeconds: {response_timeout} must be less "
            f"than timeoutSeconds: {timeout}",
            response_timeout,
        )


# --- event handlers -----------------------------------------------------------------------


def validate_event_handler(data: Any) -> list[FieldError]:
    """Every problem with an event handler (`/api/event`).

    Whether an `sqs:` queue is provisioned is a deployment question, checked elsewhere.
    """
    if not isinstance(data, dict):
        return [FieldError("", "EventHandler must be a JSON object", data)]
    report = _Report()
    _check_name_length(
        report, "name", report.required_text(data, "", "name", "Missing event handler name")
    )
    _check_size(report, data, "The event handler")
    event = report.required_text(data, "", "event", "Missing event location")
    if event is not None and _too_long(event, MAX_EVENT_BYTES):
        report.add("event", f"event must be at most {MAX_EVENT_BYTES} bytes", event[:64] + "...")
        event = None
    if event is not None:
        problem = _event_problem(event)
        if problem is not None:
            report.add("event", problem, event)
    report.optional_text(data, "", "condition")
    evaluator = data.get("evaluatorType")
    if evaluator is not None and (
        not isinstance(evaluator, str) or evaluator.lower() not in CONDITION_EVALUATORS
    ):
        report.add(
            "evaluatorType",
            "evaluatorType must be javascript (or graaljs): Baton evaluates conditions as "
            "JavaScript",
            evaluator,
        )
    report.boolean(data, "", "active")

    actions = data.get("actions")
    if actions is None or actions == []:
        report.add("actions", "No actions specified. Please specify at-least one action", actions)
    elif not isinstance(actions, list):
        report.add("actions", "actions must be a list of actions", actions)
    else:
        for index, action in enumerate(actions):
            _check_action(report, action, _item("actions", index))
    return report.errors


def _event_problem(event: str) -> str | None:
    """Why Baton cannot listen for `event`, or None when it can."""
    provider, separator, queue = event.partition(":")
    expected = "use sqs:<queue> or conductor:<workflowName>:<queue>"
    if not separator or not provider:
        return f"event must be <provider>:<queue>; {expected}"
    if provider == "sqs":
        if _SQS_QUEUE_NAME.fullmatch(queue):
            return None
        return (
            f"event {event}: an SQS queue name is 1 to 80 letters, digits, hyphens or underscores"
        )
    if provider == "conductor":
        # EVENT tasks publish `conductor:<workflowName>:<queue>`; nothing else ever arrives.
        workflow, separator, name = queue.partition(":")
        if workflow and separator and name:
            # Handlers are listed by event through a URL path (`GET /api/event/{event}`).
            return path_name_problem(event)
        return f"event {event}: conductor events are named conductor:<workflowName>:<queue>"
    return f"event provider {provider} is not supported by Baton; {expected}"


def _check_action(report: _Report, action: Any, path: str) -> None:
    if not isinstance(action, dict):
        report.add(path, "an action must be a JSON object", action)
        return
    kind = action.get("action")
    if kind not in EVENT_ACTIONS:
        report.add(
            _child(path, "action"), f"action must be one of {', '.join(EVENT_ACTIONS)}", kind
        )
        return
    report.boolean(action, path, "expandInlineJSON")
    body_path = _child(path, kind)
    body = action.get(kind)
    if not isinstance(body, dict):
        report.add(body_path, f"{kind} must be a JSON object for action {kind}", body)
        return
    if kind in ("complete_task", "fail_task"):
        for key in ("workflowId", "taskRefName", "taskId", "reasonForIncompletion"):
            report.optional_text(body, body_path, key)
        report.object(body, body_path, "output")
        by_reference = not _is_blank(body.get("workflowId")) and not _is_blank(
            body.get("taskRefName")
        )
        if not by_reference and _is_blank(body.get("taskId")):
            report.add(body_path, f"{kind} needs workflowId and taskRefName, or taskId", body)
    elif kind == "start_workflow":
        report.required_text(body, body_path, "name", "start_workflow needs the name of a workflow")
        _check_version(report, body, body_path, "version")
        report.optional_text(body, body_path, "correlationId")
        report.object(body, body_path, "input")
        report.object(body, body_path, "taskToDomain")
    else:
        report.required_text(body, body_path, "workflowId", f"{kind} needs workflowId")
        if kind == "update_workflow_variables":
            report.object(body, body_path, "variables")
            report.boolean(body, body_path, "appendArray")
        else:
            report.optional_text(body, body_path, "terminationReason")
