"""Conductor's definitions: WorkflowDef, WorkflowTask, TaskDef and EventHandler.

Parsing is lenient the way Conductor's Jackson mapper is: unknown fields are ignored and
missing ones take Conductor's defaults. `raw` keeps what the user sent, so a definition reads
back with every field it was registered with. Checking a definition is `baton.engine.validation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


def _dict(value: Any) -> JsonObject:
    return dict(value) if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # str.strip() removes more than int() accepts around a number (e.g. "\x1f").
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(text := value.strip()):
        return int(text)
    return default


def _optional_int(value: Any) -> int | None:
    return None if value is None else _int(value, 0)


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return default


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _task_list(value: Any) -> list[WorkflowTask]:
    return [WorkflowTask.from_json(t) for t in _list(value) if isinstance(t, dict)]


@dataclass
class TaskDef:
    """A task definition (`/api/metadata/taskdefs`): retries and timeouts for a task name."""

    name: str
    retry_count: int = 3
    retry_logic: str = "FIXED"
    retry_delay_seconds: int = 60
    backoff_scale_factor: int = 1
    max_retry_delay_seconds: int = 0
    timeout_seconds: int = 0
    total_timeout_seconds: int = 0
    response_timeout_seconds: int = 3600
    poll_timeout_seconds: int | None = None
    timeout_policy: str = "TIME_OUT_WF"
    input_template: JsonObject = field(default_factory=dict)
    # Limits enforced when tasks are handed out (0: none).
    concurrent_exec_limit: int = 0
    rate_limit_per_frequency: int = 0
    rate_limit_frequency_in_seconds: int = 1
    raw: JsonObject = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: JsonObject) -> TaskDef:
        return cls(
            name=_str(data.get("name")) or "",
            retry_count=_int(data.get("retryCount"), 3),
            retry_logic=_str(data.get("retryLogic")) or "FIXED",
            retry_delay_seconds=_int(data.get("retryDelaySeconds"), 60),
            backoff_scale_factor=_int(data.get("backoffScaleFactor"), 1),
            max_retry_delay_seconds=_int(data.get("maxRetryDelaySeconds"), 0),
            timeout_seconds=_int(data.get("timeoutSeconds"), 0),
            total_timeout_seconds=_int(data.get("totalTimeoutSeconds"), 0),
            response_timeout_seconds=_int(data.get("responseTimeoutSeconds"), 3600),
            poll_timeout_seconds=_optional_int(data.get("pollTimeoutSeconds")),
            timeout_policy=_str(data.get("timeoutPolicy")) or "TIME_OUT_WF",
            input_template=_dict(data.get("inputTemplate")),
            concurrent_exec_limit=_int(data.get("concurrentExecLimit"), 0),
            rate_limit_per_frequency=_int(data.get("rateLimitPerFrequency"), 0),
            rate_limit_frequency_in_seconds=_int(data.get("rateLimitFrequencyInSeconds"), 1),
            raw=dict(data),
        )

    def to_json(self) -> JsonObject:
        defaults: JsonObject = {
            "name": self.name,
            "retryCount": self.retry_count,
            "retryLogic": self.retry_logic,
            "retryDelaySeconds": self.retry_delay_seconds,
            "backoffScaleFactor": self.backoff_scale_factor,
            "timeoutSeconds": self.timeout_seconds,
            "totalTimeoutSeconds": self.total_timeout_seconds,
            "responseTimeoutSeconds": self.response_timeout_seconds,
            "timeoutPolicy": self.timeout_policy,
            "inputKeys": [],
            "outputKeys": [],
            "inputTemplate": self.input_template,
            "rateLimitPerFrequency": 0,
            "rateLimitFrequencyInSeconds": 1,
        }
        return {**defaults, **self.raw}


@dataclass
class WorkflowTask:
    """One task of a workflow definition, with the fields of every task type Baton runs."""

    name: str
    task_reference_name: str
    type: str = "SIMPLE"
    input_parameters: JsonObject = field(default_factory=dict)
    optional: bool = False
    async_complete: bool = False
    start_delay: int = 0
    retry_count: int | None = None
    # EVENT
    sink: str | None = None
    # FORK_JOIN and JOIN
    fork_tasks: list[list[WorkflowTask]] = field(default_factory=list)
    join_on: list[str] = field(default_factory=list)
    # SWITCH (and the older DECISION)
    evaluator_type: str | None = None
    expression: str | None = None
    case_value_param: str | None = None
    case_expression: str | None = None
    decision_cases: dict[str, list[WorkflowTask]] = field(default_factory=dict)
    default_case: list[WorkflowTask] = field(default_factory=list)
    # DO_WHILE
    loop_condition: str | None = None
    loop_over: list[WorkflowTask] = field(default_factory=list)
    # DO_WHILE over a list: an expression naming it
    items: str | None = None
    # DYNAMIC
    dynamic_task_name_param: str | None = None
    # FORK_JOIN_DYNAMIC
    dynamic_fork_tasks_param: str | None = None
    dynamic_fork_tasks_input_param_name: str | None = None
    # EXCLUSIVE_JOIN
    default_exclusive_join_task: list[str] = field(default_factory=list)
    task_definition: TaskDef | None = None
    raw: JsonObject = field(default_factory=dict)
    # Made while the workflow runs (a DYNAMIC's named task, a dynamic fork's branches), not
    # found in the workflow's definition: each instance keeps its own copy in the store.
    generated: bool = False

    @classmethod
    def from_json(cls, data: JsonObject) -> WorkflowTask:
        fork_tasks = [_task_list(branch) for branch in _list(data.get("forkTasks"))]
        cases = {
            str(key): _task_list(tasks) for key, tasks in _dict(data.get("decisionCases")).items()
        }
        task_definition = data.get("taskDefinition")
        return cls(
            name=_str(data.get("name")) or "",
            task_reference_name=_str(data.get("taskReferenceName")) or "",
            type=(_str(data.get("type")) or "SIMPLE").upper(),
            input_parameters=_dict(data.get("inputParameters")),
            optional=_bool(data.get("optional"), False),
            async_complete=_bool(data.get("asyncComplete"), False),
            start_delay=_int(data.get("startDelay"), 0),
            retry_count=_optional_int(data.get("retryCount")),
            sink=_str(data.get("sink")),
            fork_tasks=fork_tasks,
            join_on=[str(ref) for ref in _list(data.get("joinOn"))],
            evaluator_type=_str(data.get("evaluatorType")),
            expression=_str(data.get("expression")),
            case_value_param=_str(data.get("caseValueParam")),
            case_expression=_str(data.get("caseExpression")),
            decision_cases=cases,
            default_case=_task_list(data.get("defaultCase")),
            loop_condition=_str(data.get("loopCondition")),
            loop_over=_task_list(data.get("loopOver")),
            items=_str(data.get("items")),
            dynamic_task_name_param=_str(data.get("dynamicTaskNameParam")),
            dynamic_fork_tasks_param=_str(data.get("dynamicForkTasksParam")),
            dynamic_fork_tasks_input_param_name=_str(data.get("dynamicForkTasksInputParamName")),
            default_exclusive_join_task=[
                str(ref) for ref in _list(data.get("defaultExclusiveJoinTask"))
            ],
            task_definition=(
                TaskDef.from_json(task_definition) if isinstance(task_definition, dict) else None
            ),
            raw=dict(data),
        )

    def to_json(self) -> JsonObject:
        defaults: JsonObject = {
            "name": self.name,
            "taskReferenceName": self.task_reference_name,
            "type": self.type,
            "inputParameters": self.input_parameters,
            "startDelay": self.start_delay,
            "optional": self.optional,
            "asyncComplete": self.async_complete,
        }
        # Nested tasks from their own objects, not from the JSON as read: a TaskDef attached
        # to one at start (or anything else set on it since) is part of what is stored.
        nested: JsonObject = {}
        if "forkTasks" in self.raw:
            nested["forkTasks"] = [[t.to_json() for t in branch] for branch in self.fork_tasks]
        if "decisionCases" in self.raw:
            nested["decisionCases"] = {
                case: [t.to_json() for t in tasks] for case, tasks in self.decision_cases.items()
            }
        if "defaultCase" in self.raw:
            nested["defaultCase"] = [t.to_json() for t in self.default_case]
        if "loopOver" in self.raw:
            nested["loopOver"] = [t.to_json() for t in self.loop_over]
        return {**defaults, **self.raw, **nested, "type": self.type}

    def children(self) -> list[WorkflowTask]:
        """Every task nested directly inside this one (fork branches, cases, loop body)."""
        nested: list[WorkflowTask] = [t for branch in self.fork_tasks for t in branch]
        for case in self.decision_cases.values():
            nested.extend(case)
        nested.extend(self.default_case)
        nested.extend(self.loop_over)
        return nested

    def walk(self) -> list[WorkflowTask]:
        """This task and all tasks nested in it, depth first."""
        found = [self]
        for child in self.children():
            found.extend(child.walk())
        return found


@dataclass
class WorkflowDef:
    """A workflow definition (`/api/metadata/workflow`)."""

    name: str
    tasks: list[WorkflowTask]
    version: int = 1
    schema_version: int = 2
    description: str | None = None
    input_parameters: list[Any] = field(default_factory=list)
    output_parameters: JsonObject = field(default_factory=dict)
    input_template: JsonObject = field(default_factory=dict)
    variables: JsonObject = field(default_factory=dict)
    failure_workflow: str | None = None
    restartable: bool = True
    timeout_policy: str = "ALERT_ONLY"
    timeout_seconds: int = 0
    owner_email: str | None = None
    raw: JsonObject = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: JsonObject) -> WorkflowDef:
        return cls(
            name=_str(data.get("name")) or "",
            tasks=_task_list(data.get("tasks")),
            version=_int(data.get("version"), 1),
            schema_version=_int(data.get("schemaVersion"), 2),
            description=_str(data.get("description")),
            input_parameters=_list(data.get("inputParameters")),
            output_parameters=_dict(data.get("outputParameters")),
            input_template=_dict(data.get("inputTemplate")),
            variables=_dict(data.get("variables")),
            failure_workflow=_str(data.get("failureWorkflow")),
            restartable=_bool(data.get("restartable"), True),
            timeout_policy=_str(data.get("timeoutPolicy")) or "ALERT_ONLY",
            timeout_seconds=_int(data.get("timeoutSeconds"), 0),
            owner_email=_str(data.get("ownerEmail")),
            raw=dict(data),
        )

    def to_json(self) -> JsonObject:
        defaults: JsonObject = {
            "name": self.name,
            "version": self.version,
            "tasks": [t.to_json() for t in self.tasks],
            "inputParameters": self.input_parameters,
            "outputParameters": self.output_parameters,
            "schemaVersion": self.schema_version,
            "restartable": self.restartable,
            "workflowStatusListenerEnabled": False,
            "timeoutPolicy": self.timeout_policy,
            "timeoutSeconds": self.timeout_seconds,
            "variables": self.variables,
            "inputTemplate": self.input_template,
        }
        merged = {**defaults, **self.raw}
        merged["tasks"] = defaults["tasks"]
        merged["version"] = self.version
        return merged

    def all_tasks(self) -> list[WorkflowTask]:
        """Every task in the definition, nested ones included, depth first."""
        return [found for task in self.tasks for found in task.walk()]


@dataclass
class EventHandlerAction:
    """One action of an event handler: what to do with a message."""

    action: str
    # The action's body: `complete_task`, `fail_task`, `start_workflow`, ... as sent.
    body: JsonObject = field(default_factory=dict)
    expand_inline_json: bool = False
    raw: JsonObject = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: JsonObject) -> EventHandlerAction:
        action = _str(data.get("action")) or ""
        return cls(
            action=action,
            body=_dict(data.get(action)),
            expand_inline_json=_bool(data.get("expandInlineJSON"), False),
            raw=dict(data),
        )

    def to_json(self) -> JsonObject:
        return {"action": self.action, "expandInlineJSON": self.expand_inline_json, **self.raw}


@dataclass
class EventHandler:
    """An event handler (`/api/event`): actions taken when a message arrives on `event`."""

    name: str
    event: str
    actions: list[EventHandlerAction] = field(default_factory=list)
    condition: str | None = None
    evaluator_type: str | None = None
    active: bool = False
    raw: JsonObject = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: JsonObject) -> EventHandler:
        return cls(
            name=_str(data.get("name")) or "",
            event=_str(data.get("event")) or "",
            actions=[
                EventHandlerAction.from_json(a)
                for a in _list(data.get("actions"))
                if isinstance(a, dict)
            ],
            condition=_str(data.get("condition")),
            evaluator_type=_str(data.get("evaluatorType")),
            active=_bool(data.get("active"), False),
            raw=dict(data),
        )

    def to_json(self) -> JsonObject:
        merged: JsonObject = {**self.raw}
        merged.update(
            {
                "name": self.name,
                "event": self.event,
                "actions": [a.to_json() for a in self.actions],
                "active": self.active,
            }
        )
        return merged
