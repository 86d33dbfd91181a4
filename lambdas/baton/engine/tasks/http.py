"""HTTP: calls an HTTP endpoint, as Conductor's HttpTask does; the call runs outside decisions.

The request is `inputParameters.http_request` (uri, method, headers, body, accept,
contentType, connectionTimeOut, readTimeOut), or, as current Conductor also reads it, those
same keys directly in `inputParameters`. The output is `response`: `statusCode`,
`reasonPhrase`, `headers` (each name with the list of its values) and `body` (parsed when it
is JSON). A 2xx status completes the task (with `asyncComplete` it stays IN_PROGRESS until an
update from outside); any other status, a refused address or a failed connection fails it,
retried per its TaskDef.

A decision never calls. Once the task is due it records `CallSystemTask` and marks the task
dispatched; after the commit the message goes to the system-task queue, whose function claims
the task (SCHEDULED -> IN_PROGRESS, a conditional write) before calling, so a redelivered
message never calls twice for one attempt, and reports the result as a task update.

One lease, from the dispatch, repairs what a crash leaves (it plays Conductor's in-flight
message timeout, which is the task's responseTimeoutSeconds): CALL_LEASE_SECONDS, or the
TaskDef's `responseTimeoutSeconds` when that is shorter (at least MIN_LEASE_SECONDS). The
claim keeps the same deadline, which is in the due index only (no timer message: the minute
sweep finds it, so a call costs no delayed message nor timer invocation): a task still
SCHEDULED when the lease ends (its message was lost) is dispatched again; a claimed task
whose result has not come (the function stopped between claim and report) is TIMED_OUT, and
retried per its TaskDef. A call gets only what is left of the lease, and none is started
with less than MIN_CALL_SECONDS left. The TaskDef's `timeoutSeconds` applies from the claim,
as Conductor's checkTaskTimeout does, to a task waiting with `asyncComplete` too; an
asyncComplete task is never response-timed out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from baton.engine.definitions import JsonObject, WorkflowTask
from baton.engine.effects import CallSystemTask
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck, is_blank, is_expression
from baton.engine.tasks.simple import check_total_timeout, earliest, total_deadline

REQUEST_PARAMETER: Final = "http_request"
METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
# Conductor's defaults for the two media types.
DEFAULT_MEDIA_TYPE: Final = "application/json"
# Baton's defaults (Conductor's server defaults, 100 ms and 150 ms, are meant to be set per
# deployment); both are in milliseconds as in Conductor's input.
DEFAULT_CONNECT_TIMEOUT_MS: Final = 10_000
DEFAULT_READ_TIMEOUT_MS: Final = 30_000
# A whole call, redirects and body included, ends within this; it is below the system-task
# function's timeout (baton.topology), so a call never outlives its function.
MAX_CALL_SECONDS: Final = 50
# From its dispatch, a task's call is claimed, made and reported within this, else the
# dispatch is repaired: more than the function's timeout, to leave room for the queue.
CALL_LEASE_SECONDS: Final = 300
# A TaskDef's responseTimeoutSeconds shortens the lease, never below this.
MIN_LEASE_SECONDS: Final = 10
# A claim with less of its lease left than this does not call (the lease's end repairs it).
MIN_CALL_SECONDS: Final = 1
# Who holds a claimed HTTP task (the task's workerId, as Conductor sets its server's id).
SYSTEM_TASK_WORKER: Final = "baton-system-task"

MISSING_URI: Final = (
    "Missing HTTP URI.  See documentation for HttpTask for required input parameters"
)
MISSING_METHOD: Final = "No HTTP method specified"


def request_of(input_data: JsonObject) -> JsonObject:
    """The request a task's input describes: `http_request`, else the input itself."""
    request = input_data.get(REQUEST_PARAMETER)
    return request if isinstance(request, dict) else input_data


@dataclass(frozen=True)
class HttpCall:
    """One request, ready to send."""

    method: str
    uri: str
    headers: dict[str, str]
    body: bytes | None
    connect_timeout_ms: int
    read_timeout_ms: int


class InvalidRequest(ValueError):
    """The task's input is not a request Baton can send; the message is the task's reason."""


def _timeout(request: JsonObject, key: str, default: int) -> int:
    value = request.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidRequest(f"{key} must be a number of milliseconds, not {value!r}")
    try:
        number = int(float(value))
    except ValueError:
        raise InvalidRequest(f"{key} must be a number of milliseconds, not {value!r}") from None
    if number < 0:
        raise InvalidRequest(f"{key} must not be negative, got {number}")
    # 0 means no limit in Conductor; here the call's own limit still holds.
    return number or MAX_CALL_SECONDS * 1000


def _encode_body(body: Any, content_type: str) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, dict) and content_type.startswith("application/x-www-form-urlencoded"):
        return urlencode({k: "" if v is None else str(v) for k, v in body.items()}).encode()
    return json.dumps(body, separators=(",", ":")).encode()


def build_call(input_data: JsonObject) -> HttpCall:
    """The request in a task's resolved input; InvalidRequest with Conductor's words if not."""
    request = request_of(input_data)
    uri = request.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidRequest(MISSING_URI)
    method = request.get("method")
    if not isinstance(method, str) or not method.strip():
        raise InvalidRequest(MISSING_METHOD)
    method = method.strip().upper()
    if method not in METHODS:
        raise InvalidRequest(f"Invalid HTTP method {method}; use one of {', '.join(METHODS)}")
    content_type = str(request.get("contentType") or DEFAULT_MEDIA_TYPE)
    accept = str(request.get("accept") or DEFAULT_MEDIA_TYPE)
    headers = {"Content-Type": content_type, "Accept": accept}
    given = request.get("headers")
    if given is not None and not isinstance(given, dict):
        raise InvalidRequest("headers must be an object of header names and values")
    for name, value in (given or {}).items():
        if value is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            if "\r" in text or "\n" in text or "\r" in str(name) or "\n" in str(name):
                raise InvalidRequest(f"Header {name} holds a line break")
            headers[str(name)] = text
    return HttpCall(
        method=method,
        uri=uri.strip(),
        headers=headers,
        body=_encode_body(request.get("body"), content_type),
        connect_timeout_ms=_timeout(request, "connectionTimeOut", DEFAULT_CONNECT_TIMEOUT_MS),
        read_timeout_ms=_timeout(request, "readTimeOut", DEFAULT_READ_TIMEOUT_MS),
    )


def parse_body(body: bytes) -> Any:
    """The response body as Conductor's HttpTask keeps it: JSON objects, arrays and numbers as
    values, any other JSON as its text, anything else as the text itself; none as null."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return value


@dataclass(frozen=True)
class Outcome:
    """What a call's response makes of the task."""

    status: TaskStatus
    output: JsonObject
    reason: str | None = None


def outcome_of(
    status_code: int,
    reason_phrase: str,
    headers: dict[str, list[str]],
    body: bytes,
    *,
    async_complete: bool,
) -> Outcome:
    response: JsonObject = {
        "statusCode": status_code,
        "reasonPhrase": reason_phrase,
        "headers": headers,
        "body": parse_body(body),
    }
    output: JsonObject = {"response": response}
    if 200 <= status_code < 300:
        return Outcome(TaskStatus.IN_PROGRESS if async_complete else TaskStatus.COMPLETED, output)
    excerpt = body[:1024].decode("utf-8", errors="replace")
    reason = f"Failed to invoke HTTP task due to: {status_code} {reason_phrase}".rstrip()
    if excerpt:
        reason += f": {excerpt}"
    return Outcome(TaskStatus.FAILED, output, reason)


def failure(reason: str) -> Outcome:
    """A call that never got a response (refused, unreachable, timed out, too large)."""
    return Outcome(TaskStatus.FAILED, {"response": reason}, f"Failed to invoke HTTP task: {reason}")


def is_async_complete(task: Task) -> bool:
    value = task.input_data.get("asyncComplete", task.workflow_task.async_complete)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def reported(task: Task) -> bool:
    """Whether anything has updated the task since its call was claimed: the call's result
    (an asyncComplete task then waits on), or an update from outside."""
    return "response" in task.output_data or task.update_time > task.start_time


class Http(TaskType):
    name = "HTTP"
    uses_registered_task_def = True

    def validate(self, check: TaskCheck) -> None:
        """The uri and method, in `http_request` or (as current Conductor also reads them)
        directly in the inputs or the inline TaskDef's inputTemplate. Expressions are resolved
        when the task runs; only what is known now is checked."""
        request = check.inputs.get(REQUEST_PARAMETER)
        base: tuple[str, ...]
        if is_expression(request):
            return  # the whole request is resolved at run time
        if isinstance(request, dict):
            found, base = request, ("inputParameters", REQUEST_PARAMETER)
        else:
            found, base = {**check.template, **check.inputs}, ("inputParameters",)
        for key in ("uri", "method"):
            value = found.get(key)
            if is_blank(value):
                check.missing(f"inputParameters.http_request.{key}", value, *base, key)
        for key in ("vipAddress", "appName"):
            if found.get(key) not in (None, ""):
                check.error(
                    f"{key} (service discovery through Eureka) is not supported by Baton; give "
                    "the full uri",
                    found.get(key),
                    *base,
                    key,
                )
        method = found.get("method")
        if (
            isinstance(method, str)
            and method.strip()
            and not is_expression(method)
            and method.strip().upper() not in METHODS
        ):
            check.error(
                f"method {method} is not an HTTP method Baton sends; use one of "
                f"{', '.join(METHODS)}",
                method,
                *base,
                "method",
            )

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        task = run.new_task(
            definition,
            iteration=iteration,
            status=TaskStatus.SCHEDULED,
            extra_input={"asyncComplete": definition.async_complete},
        )
        task.callback_after_seconds = max(0, definition.start_delay)
        return [task]

    def deadline(self, task: Task) -> int | None:
        if task.status == TaskStatus.SCHEDULED:
            return lease_end(task) if task.dispatched_at else task.pollable_from()
        if task.status != TaskStatus.IN_PROGRESS:
            return None
        if reported(task):
            return total_deadline(task)
        return earliest(lease_end(task), total_deadline(task))

    def deadline_is_repair(self, task: Task) -> bool:
        # The lease's end repairs a lost message or an interrupted call: the minute sweep
        # finds it, so a call costs no timer message (a startDelay or timeoutSeconds does).
        return self.deadline(task) == lease_end(task) and bool(task.dispatched_at)

    def execute(self, run: Run, task: Task) -> bool:
        if task.status == TaskStatus.SCHEDULED:
            due = self.deadline(task)
            if due is not None and run.now < due:
                return False
            try:
                build_call(task.input_data)
            except InvalidRequest as error:
                run.complete(task, TaskStatus.FAILED, str(error))
                return True
            edited = run.edit(task)
            edited.dispatched_at = run.now
            run.effects.append(CallSystemTask(task_id=task.task_id, retry_count=task.retry_count))
            return True
        if task.status != TaskStatus.IN_PROGRESS:
            return False
        if check_total_timeout(run, task):
            return True
        if not reported(task) and run.now >= lease_end(task):
            run.complete(
                task,
                TaskStatus.TIMED_OUT,
                f"Task did not complete within its responseTimeout of {lease_seconds(task)}s: "
                "the HTTP call's result did not come (the call was interrupted); retried per "
                "the task's TaskDef",
            )
            return True
        return False


def lease_seconds(task: Task) -> int:
    """How long from its dispatch a call has to be claimed, made and reported."""
    task_def = task.workflow_task.task_definition
    if task_def is None or task_def.response_timeout_seconds <= 0:
        return CALL_LEASE_SECONDS
    return max(MIN_LEASE_SECONDS, min(CALL_LEASE_SECONDS, task_def.response_timeout_seconds))


def lease_end(task: Task) -> int:
    # A task claimed before the lease existed (no dispatch time) counts from its claim.
    return (task.dispatched_at or task.start_time) + lease_seconds(task) * 1000


def call_seconds_left(task: Task, now: int) -> float:
    """The time a call claimed at `now` may take, within its lease and MAX_CALL_SECONDS."""
    return min(float(MAX_CALL_SECONDS), (lease_end(task) - now) / 1000)
