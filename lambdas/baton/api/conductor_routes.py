"""Every operation of Conductor's REST controllers, and whether Baton serves it.

The one place that says which of Conductor's routes Baton serves. An operation marked
`UNSUPPORTED` is answered 501 in Conductor's error body by a placeholder route, so its literal
path is never taken for a parameter of another route (`GET /api/workflow/search` is not the
workflow whose id is `search`). To serve one: write its handler on the area's router with this
path, and mark the entry `SERVED`. `tests/reliability/test_conductor_routes.py` checks that the
table and the routes agree, and that every operation reaches the handler meant for it.

Source: conductor-oss/conductor, `rest/src/main/java/com/netflix/conductor/rest/controllers/`
(WorkflowResource, WorkflowMessageQueueResource, WorkflowBulkResource, MetadataResource,
TaskResource, EventResource, QueueAdminResource, AdminResource, HealthCheckResource) and
`org/conductoross/conductor/controllers/VersionResource`. Parameters are written `{name}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SERVED: Literal["served"] = "served"
UNSUPPORTED: Literal["unsupported"] = "unsupported"


@dataclass(frozen=True)
class ConductorRoute:
    method: str
    path: str
    summary: str
    status: Literal["served", "unsupported"]
    # Why the operation cannot apply to Baton at all (empty: not served yet).
    not_applicable: str = ""


def _r(
    method: str,
    path: str,
    status: Literal["served", "unsupported"],
    summary: str,
    not_applicable: str = "",
) -> ConductorRoute:
    return ConductorRoute(method, "/api" + path, summary, status, not_applicable)


# Why each operation that cannot apply to Baton does not.
_INLINE_PAYLOADS = (
    "Baton takes every payload inline (a workflow input up to 5 MB, a task output up to 3 MB) "
    "and keeps what does not fit a DynamoDB item in its own payload bucket, returning it "
    "inline; clients upload nothing, so there is no location to give (and "
    "externalInputPayloadStoragePath is not read)"
)
_NO_MESSAGE_QUEUE = "Baton has no workflow message queue (WMQ is off by default in Conductor too)"
_NO_STATUS_QUEUES = (
    "Baton has no default event queue per task status (POST /api/queue/update/... applies "
    "the update at once); its event queues are listed by GET /api/admin/queues, and their "
    "depths are in CloudWatch (ApproximateNumberOfMessagesVisible) and on the dashboard"
)
_NO_ADMIN = (
    "Baton's scheduled sweep already re-decides every workflow with an overdue timer, and a "
    "commit is one transaction, so there is nothing to requeue or repair by hand"
)
_NO_SERVER_CONFIG = "Baton's settings are its CDK context and function environment, not a server's"


S, U = SERVED, UNSUPPORTED

CONDUCTOR_ROUTES: tuple[ConductorRoute, ...] = (
    # WorkflowResource
    _r("POST", "/workflow", S, "Start a workflow from a StartWorkflowRequest"),
    _r("POST", "/workflow/{name}", S, "Start a workflow by name"),
    _r("POST", "/workflow/execute/{name}/{version}", S, "Execute a workflow synchronously"),
    _r("GET", "/workflow/{name}/correlated/{correlationId}", S, "Workflows by correlation id"),
    _r("GET", "/workflow/{workflowId}/tasks", S, "A workflow's tasks, paged"),
    _r("POST", "/workflow/{name}/correlated", S, "Workflows by a list of correlation ids"),
    _r("GET", "/workflow/{workflowId}", S, "A workflow by id"),
    _r("GET", "/workflow/{workflowId}/status", S, "A workflow's status summary"),
    _r("DELETE", "/workflow/{workflowId}/remove", S, "Remove a workflow"),
    _r("GET", "/workflow/running/{name}", S, "Ids of running workflows"),
    _r("PUT", "/workflow/decide/{workflowId}", S, "Run the decider for a workflow"),
    _r("PUT", "/workflow/{workflowId}/pause", S, "Pause a workflow"),
    _r("PUT", "/workflow/{workflowId}/resume", S, "Resume a workflow"),
    _r("PUT", "/workflow/{workflowId}/skiptask/{taskReferenceName}", S, "Skip a task"),
    _r("POST", "/workflow/{workflowId}/rerun", S, "Rerun a workflow from a task"),
    _r("POST", "/workflow/{workflowId}/restart", S, "Restart a workflow"),
    _r("POST", "/workflow/{workflowId}/retry", S, "Retry the last failed task"),
    _r("POST", "/workflow/{workflowId}/resetcallbacks", S, "Reset callback times"),
    _r("DELETE", "/workflow/{workflowId}", S, "Terminate a workflow"),
    _r("DELETE", "/workflow/{workflowId}/terminate-remove", S, "Terminate and remove"),
    _r("GET", "/workflow/search", S, "Search workflows"),
    _r("GET", "/workflow/search-v2", S, "Search workflows, returning Workflows"),
    _r("GET", "/workflow/search-by-tasks", S, "Search workflows by task fields"),
    _r("GET", "/workflow/search-by-tasks-v2", S, "Search workflows by tasks, returning Workflows"),
    _r(
        "GET",
        "/workflow/externalstoragelocation",
        U,
        "External payload storage location",
        _INLINE_PAYLOADS,
    ),
    _r(
        "GET",
        "/workflow/external-storage-location",
        U,
        "External payload storage location",
        _INLINE_PAYLOADS,
    ),
    _r("POST", "/workflow/test", S, "Test a workflow with mock data"),
    # WorkflowMessageQueueResource (off unless Conductor's workflow message queue is enabled)
    _r(
        "POST",
        "/workflow/{workflowId}/messages",
        U,
        "Push a message to a workflow's queue",
        _NO_MESSAGE_QUEUE,
    ),
    # WorkflowBulkResource
    _r("PUT", "/workflow/bulk/pause", S, "Pause a list of workflows"),
    _r("PUT", "/workflow/bulk/resume", S, "Resume a list of workflows"),
    _r("POST", "/workflow/bulk/restart", S, "Restart a list of workflows"),
    _r("POST", "/workflow/bulk/retry", S, "Retry a list of workflows"),
    _r("POST", "/workflow/bulk/terminate", S, "Terminate a list of workflows"),
    _r("DELETE", "/workflow/bulk/remove", S, "Remove a list of workflows"),
    _r("DELETE", "/workflow/bulk/terminate-remove", S, "Terminate and remove a list"),
    _r("POST", "/workflow/bulk/search", S, "Workflows by a list of ids"),
    # MetadataResource
    _r("POST", "/metadata/workflow", S, "Register a workflow definition"),
    _r("POST", "/metadata/workflow/validate", S, "Validate a workflow definition"),
    _r("PUT", "/metadata/workflow", S, "Create or update workflow definitions"),
    _r("GET", "/metadata/workflow/{name}", S, "A workflow definition"),
    _r("GET", "/metadata/workflow", S, "All workflow definitions"),
    _r("GET", "/metadata/workflow/names-and-versions", S, "Names and versions of definitions"),
    _r("GET", "/metadata/workflow/names", S, "Names of definitions"),
    _r("GET", "/metadata/workflow/{name}/versions", S, "Versions of a definition"),
    _r("GET", "/metadata/workflow/latest-versions", S, "Latest version of each definition"),
    _r("DELETE", "/metadata/workflow/{name}/{version}", S, "Unregister a workflow definition"),
    _r("POST", "/metadata/taskdefs", S, "Register task definitions"),
    _r("PUT", "/metadata/taskdefs", S, "Update a task definition"),
    _r("GET", "/metadata/taskdefs", S, "All task definitions"),
    _r("GET", "/metadata/taskdefs/{tasktype}", S, "A task definition"),
    _r("DELETE", "/metadata/taskdefs/{tasktype}", S, "Remove a task definition"),
    # TaskResource
    _r("GET", "/tasks/poll/{tasktype}", S, "Poll for a task"),
    _r("GET", "/tasks/poll/batch/{tasktype}", S, "Poll for a batch of tasks"),
    _r("POST", "/tasks", S, "Update a task from a TaskResult"),
    _r("POST", "/tasks/update-v2", S, "Update a task and return the next one"),
    _r("POST", "/tasks/{workflowId}/{taskRefName}/{status}", S, "Update a task by reference"),
    _r("POST", "/tasks/{workflowId}/{taskRefName}/{status}/sync", S, "Update and return"),
    _r("POST", "/tasks/{workflowId}/{status}/signal", S, "Signal a blocked task"),
    _r("POST", "/tasks/{workflowId}/{status}/signal/sync", S, "Signal and wait"),
    _r("POST", "/tasks/{taskId}/log", S, "Append a task execution log"),
    _r("GET", "/tasks/{taskId}/log", S, "A task's execution logs"),
    _r("GET", "/tasks/{taskId}", S, "A task by id"),
    _r("GET", "/tasks/queue/sizes", S, "Queue sizes per task type (deprecated)"),
    _r("GET", "/tasks/queue/size", S, "Queue size of a task type"),
    _r("GET", "/tasks/queue/all/verbose", S, "Details of every queue"),
    _r("GET", "/tasks/queue/all", S, "Size of every queue"),
    _r("GET", "/tasks/queue/polldata", S, "Last poll of a task type"),
    _r("GET", "/tasks/queue/polldata/all", S, "Last poll of every task type"),
    _r("POST", "/tasks/queue/requeue/{taskType}", S, "Requeue pending tasks"),
    _r("GET", "/tasks/search", S, "Search tasks"),
    _r("GET", "/tasks/search-v2", S, "Search tasks, returning Tasks"),
    _r(
        "GET",
        "/tasks/externalstoragelocation",
        U,
        "External payload storage location",
        _INLINE_PAYLOADS,
    ),
    _r(
        "GET",
        "/tasks/external-storage-location",
        U,
        "External payload storage location",
        _INLINE_PAYLOADS,
    ),
    # EventResource
    _r("POST", "/event", S, "Add an event handler"),
    _r("PUT", "/event", S, "Update an event handler"),
    _r("DELETE", "/event/{name}", S, "Remove an event handler"),
    _r("GET", "/event", S, "All event handlers"),
    _r("GET", "/event/{event}", S, "Event handlers for an event"),
    # QueueAdminResource
    _r("GET", "/queue/size", U, "Sizes of the event queues", _NO_STATUS_QUEUES),
    _r("GET", "/queue/", U, "Names of the event queues", _NO_STATUS_QUEUES),
    _r("POST", "/queue/update/{workflowId}/{taskRefName}/{status}", S, "Complete a waiting task"),
    _r("POST", "/queue/update/{workflowId}/task/{taskId}/{status}", S, "The same, by task id"),
    # AdminResource
    _r("GET", "/admin/config", U, "Server configuration", _NO_SERVER_CONFIG),
    _r("GET", "/admin/task/{tasktype}", S, "Pending tasks of a type"),
    _r(
        "POST",
        "/admin/sweep/requeue/{workflowId}",
        U,
        "Requeue a workflow for the sweeper",
        _NO_ADMIN,
    ),
    _r(
        "POST", "/admin/consistency/verifyAndRepair/{workflowId}", U, "Verify and repair", _NO_ADMIN
    ),
    _r("GET", "/admin/queues", S, "Registered queues"),
    # HealthCheckResource (Conductor's is also at `/health`, which Baton's stack does not route
    # to the API function) and VersionResource
    _r("GET", "/health", S, "Health check"),
    _r("GET", "/version", S, "Server version"),
)


def unsupported_message(route: ConductorRoute) -> str:
    if route.not_applicable:
        return (
            f"{route.method} {route.path} ({route.summary}) is one of Conductor's operations "
            f"that does not apply to Baton: {route.not_applicable}"
        )
    return (
        f"{route.method} {route.path} ({route.summary}) is one of Conductor's operations that "
        "Baton does not support yet"
    )
