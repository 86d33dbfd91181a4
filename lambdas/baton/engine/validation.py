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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from baton.engine.definitions import WorkflowDef
from baton.engine.limits import MAX_JSON_DEPTH, json_depth_exceeds
from baton.engine.params import names_whole_document
from baton.engine.tasks import TASK_TYPES, checking
from baton.engine.tasks.checking import (
    FieldReport,
    TaskCheck,
    child,
    is_blank,
    item,
)
from baton.engine.tasks.event import SQS_QUEUE_NAME

JsonObject = dict[str, Any]

VALIDATION_FAILED_MESSAGE = "Validation failed, check below errors for detail."
# The API bounds versions by the same number, and reads it from here.
MAX_VERSION = checking.MAX_VERSION

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
# Conductor's rule for workflow names (`@ValidNameConstraint` on WorkflowDef.name), less its
# whitespace, which Baton has always refused in workflow names: they are parts of URL paths and
# of event names (`conductor:<workflow>:<queue>`).
_WORKFLOW_NAME = re.compile(r"[A-Za-z0-9_<>{}#-]+")
WORKFLOW_NAME_RULE = (
    "Allowed characters are alphanumeric, underscores, hyphens, and special characters like "
    "<, >, {, }, #"
)


FORK_WITHOUT_JOIN = "Fork task definition is not followed by a join task.  Check the blueprint"


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


class _Report(FieldReport):
    """The errors found so far, plus the small checks every definition kind shares."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str, invalid_value: Any) -> None:
        self.errors.append(FieldError(path, message, invalid_value))


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
            pending.extend((value, child(path, str(key))) for key, value in node.items())
        elif isinstance(node, list):
            pending.extend((value, item(path, index)) for index, value in enumerate(node))
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
    report.version(data, "", "version")
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
    report.version(data, "", "failureWorkflowVersion")
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
                    yield item(child(path, "forkTasks"), index), branch
    elif kind in ("SWITCH", "DECISION"):
        cases = task.get("decisionCases")
        if isinstance(cases, dict):
            for case, tasks in cases.items():
                if isinstance(tasks, list):
                    yield child(child(path, "decisionCases"), str(case)), tasks
        default = task.get("defaultCase")
        if isinstance(default, list):
            yield child(path, "defaultCase"), default
    elif kind == "DO_WHILE":
        body = task.get("loopOver")
        if isinstance(body, list):
            yield child(path, "loopOver"), body


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
        task_path = item(path, index)
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
            report.add(child(path, key), problem, value)
    if reference is not None:
        if reference in context.seen:
            report.add(
                child(path, "taskReferenceName"),
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
            _check_task_def(report, definition, child(path, "taskDefinition"), inline=True)
        else:
            report.add(
                child(path, "taskDefinition"), "taskDefinition must be a JSON object", definition
            )

    kind = _check_task_type(task, path, report)
    if kind is None:
        return
    TASK_TYPES[kind].validate(
        TaskCheck(
            task=task,
            path=path,
            name=name or "",
            kind=kind,
            workflow_name=context.workflow_name,
            references=context.references,
            report=report.add,
            workflow_def_problems=_workflow_def_problems,
        )
    )
    if kind == "DO_WHILE" and loop is not None:
        report.add(
            child(path, "type"),
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


def _workflow_def_problems(data: Any) -> list[tuple[str, str, Any]]:
    return [(e.path, e.message, e.invalid_value) for e in validate_workflow_def(data)]


def _check_task_type(task: JsonObject, path: str, report: _Report) -> str | None:
    """The task's type if Baton runs it; otherwise reports why not and returns None."""
    raw = task.get("type")
    type_path = child(path, "type")
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
    _check_name_length(report, child(base, "name"), name)
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
            child(base, "responseTimeoutSeconds"),
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
            _check_action(report, action, item("actions", index))
    return report.errors


def _event_problem(event: str) -> str | None:
    """Why Baton cannot listen for `event`, or None when it can."""
    provider, separator, queue = event.partition(":")
    expected = "use sqs:<queue> or conductor:<workflowName>:<queue>"
    if not separator or not provider:
        return f"event must be <provider>:<queue>; {expected}"
    if provider == "sqs":
        if SQS_QUEUE_NAME.fullmatch(queue):
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
        report.add(child(path, "action"), f"action must be one of {', '.join(EVENT_ACTIONS)}", kind)
        return
    report.boolean(action, path, "expandInlineJSON")
    body_path = child(path, kind)
    body = action.get(kind)
    if not isinstance(body, dict):
        report.add(body_path, f"{kind} must be a JSON object for action {kind}", body)
        return
    if kind in ("complete_task", "fail_task"):
        for key in ("workflowId", "taskRefName", "taskId", "reasonForIncompletion"):
            report.optional_text(body, body_path, key)
        report.object(body, body_path, "output")
        by_reference = not is_blank(body.get("workflowId")) and not is_blank(
            body.get("taskRefName")
        )
        if not by_reference and is_blank(body.get("taskId")):
            report.add(body_path, f"{kind} needs workflowId and taskRefName, or taskId", body)
    elif kind == "start_workflow":
        report.required_text(body, body_path, "name", "start_workflow needs the name of a workflow")
        report.version(body, body_path, "version")
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
