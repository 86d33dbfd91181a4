"""The tutorial's round trip as AWS would run the synthesized app: each function in its own
process on its own asset, its template environment and its role's policy enforced on every call.

`conftest.py` stands the templates up in moto; `driver.py` plays API Gateway, the event source
mappings and the schedule the templates declare. Every test asserts that no call was refused.
"""

from __future__ import annotations

import json
import re
import sysconfig
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from infra.bundling import LAMBDA_PYTHON_VERSION
from tests import seed
from tests.deployed.lambdas import HOST_ARCHITECTURE, SANDBOX
from tests.deployed.sandbox.iam_policy import decide
from tests.http.server import Answer, local_server

pytestmark = pytest.mark.slow

# A bound on each scenario, so a broken deployment fails instead of hanging; never asserted.
DEADLINE_SECONDS = 60
IDLE_PAUSE_SECONDS = 0.05
SHORT_WAIT = "1s"


ORDERS = {"orders": [{"id": "a"}, {"id": "b"}]}


def short_round_trip(name: str) -> dict[str, Any]:
    """The tutorial's workflow with a WAIT of a second instead of ten, and an EVENT input that
    only JSONPath (python-jsonpath, from the asset) resolves."""
    definition = seed.event_testing()
    definition["name"] = name
    for branch in definition["tasks"][0]["forkTasks"]:
        for task in branch:
            if task["type"] == "WAIT" and "duration" in task["inputParameters"]:
                task["inputParameters"]["duration"] = SHORT_WAIT
            if task["type"] == "EVENT":
                task["inputParameters"]["orderIds"] = "${workflow.input.orders[*].id}"
    return definition


def conditional_handler() -> dict[str, Any]:
    """The tutorial's handler with a JavaScript condition, so V8 (mini-racer) runs from the
    asset in the events function."""
    handler = seed.complete_task_event()
    handler["condition"] = "$.sink == 'sqs:conductor_doug_testing'"
    return handler


class Client:
    """A caller of the deployed API, authenticated as the deployment's mode requires."""

    def __init__(self, deployed: Any) -> None:
        self.api = deployed.api
        self.headers: dict[str, str] = {}
        if deployed.mode == "conductor-keys":
            key = deployed.create_api_key()
            token = self.call("POST", "/api/token", key)
            self.headers = {"X-Authorization": token["token"]}
            # Without the token the API is closed.
            assert self.api.request("GET", "/api/metadata/workflow").status == 401

    def call(self, method: str, path: str, body: Any = None, *, expect: int = 200) -> Any:
        response = self.api.request(method, path, body, self.headers)
        assert response.status == expect, (method, path, response.status, response.body)
        content_type = response.headers.get("Content-Type", "")
        return response.json() if content_type.startswith("application/json") else response.body

    def register_handler(self, handler: dict[str, Any]) -> None:
        """Add the event handler, or update it where an earlier test of the module added it."""
        created = self.api.request("POST", "/api/event", handler, self.headers)
        if created.status == 409:
            self.call("PUT", "/api/event", handler)
        else:
            assert created.status == 200, created.body

    def statuses(self, workflow_id: str) -> dict[str, str]:
        workflow = self.call("GET", f"/api/workflow/{workflow_id}")
        return {t["referenceTaskName"]: t["status"] for t in workflow["tasks"]} | {
            "workflow": workflow["status"]
        }


def refusals_and_failures(deployed: Any, since: tuple[int, int]) -> tuple[list[Any], list[Any]]:
    cloud = deployed.cloud
    failed = [o for o in cloud.outcomes[since[1] :] if o.error is not None or o.batch_item_failures]
    return cloud.refused[since[0] :], failed


def mark(deployed: Any) -> tuple[int, int]:
    return len(deployed.cloud.refused), len(deployed.cloud.outcomes)


def run_until(deployed: Any, done: Any, since: tuple[int, int], what: str) -> None:
    """Let the event source mappings deliver until `done()` holds, or a call is refused, or an
    invocation fails (either ends it at once), within the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not done():
        refused, failed = refusals_and_failures(deployed, since)
        if refused or failed:
            break
        assert time.monotonic() < deadline, f"{what}: not within {DEADLINE_SECONDS} s"
        if deployed.services.poll_all() == 0:
            time.sleep(IDLE_PAUSE_SECONDS)
    assert_nothing_refused_or_failed(deployed, since)


def assert_nothing_refused_or_failed(deployed: Any, since: tuple[int, int]) -> None:
    refused, failed = refusals_and_failures(deployed, since)
    assert not refused, (
        "Calls AWS would refuse:\n"
        + "\n".join(f"{r['principal']}: {r['message']}" for r in refused)
        + "\n"
        + deployed.cloud.logs()
    )
    assert not failed, f"Failed invocations: {failed}\n{deployed.cloud.logs()}"


def queue_depths(deployed: Any) -> dict[str, int]:
    sqs = deployed.cloud.client("sqs")
    depths = {}
    for physical in deployed.cloud.deployment.physical.values():
        if "QueueUrl" in physical.attributes:
            attributes = sqs.get_queue_attributes(QueueUrl=physical.ref, AttributeNames=["All"])[
                "Attributes"
            ]
            depths[physical.attributes["QueueName"]] = sum(
                int(attributes[k])
                for k in (
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                )
            )
    return depths


def assert_ran_on_asset_layer_and_runtime_only(deployed: Any, platform_paths: dict[str, Path]):
    """pynamodb, mini-racer and python-jsonpath came from the asset (a dependency missing from
    the bundle fails); nothing came from the repository or this environment's site-packages."""
    repository = Path(__file__).resolve().parents[2]
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    for process in deployed.cloud.functions.values():
        asset = process.spec.asset
        roots = [asset, platform_paths["powertools"], platform_paths["runtime"], SANDBOX]
        modules = process.loaded_modules()
        assert {"baton", "pynamodb"} <= set(modules), process.spec.logical_id
        if process.spec.handler.endswith("events.handler"):
            assert "py_mini_racer" in modules  # the handler's condition ran in V8
        if process.spec.handler.endswith("timers.handler"):
            assert "jsonpath" in modules  # the EVENT task's input was resolved here
        for name in ("pynamodb", "py_mini_racer", "jsonpath", "baton"):
            if name in modules:
                assert Path(modules[name]).is_relative_to(asset), (name, modules[name])
        for name, path in modules.items():
            where = Path(path)
            in_stdlib = (
                where.resolve().is_relative_to(stdlib) and "site-packages" not in where.parts
            )
            assert in_stdlib or any(where.is_relative_to(root) for root in roots), (
                f"{process.spec.logical_id} loaded {name} from {path}"
            )
            assert not where.resolve().is_relative_to(repository / "lambdas"), (name, path)


def test_the_round_trip_completes_with_no_call_refused(deployed, platform_paths):
    since = mark(deployed)
    client = Client(deployed)
    client.call("POST", "/api/metadata/workflow", short_round_trip("deployed_round_trip"))
    client.register_handler(conditional_handler())
    workflow_id = client.call("POST", "/api/workflow/deployed_round_trip", ORDERS)
    # The minute comes round while the WAIT is armed on the timer queue.
    deployed.services.fire_schedules()

    run_until(
        deployed,
        lambda: client.statuses(workflow_id)["workflow"] != "RUNNING",
        since,
        "the round trip",
    )
    assert client.statuses(workflow_id) == {
        "fork_ref": "COMPLETED",
        "task_1_ref": "COMPLETED",
        "task_2_ref": "COMPLETED",
        "send_sqs_message_ref": "COMPLETED",
        "join_ref": "COMPLETED",
        "workflow": "COMPLETED",
    }
    tasks = client.call("GET", f"/api/workflow/{workflow_id}")["tasks"]
    (event_task,) = [t for t in tasks if t["referenceTaskName"] == "send_sqs_message_ref"]
    assert event_task["inputData"]["orderIds"] == ["a", "b"]
    (execution,) = [
        e
        for e in client.call("GET", "/api/event/executions/complete_task_event")
        if workflow_id in json.dumps(e)
    ]
    # And the next minute's sweep finds nothing to do.
    deployed.services.fire_schedules()
    assert_nothing_refused_or_failed(deployed, since)
    assert not any(queue_depths(deployed).values()), queue_depths(deployed)
    sources = {o.source for o in deployed.cloud.outcomes[since[1] :]}
    # The WAIT was fired by the timer queue's mapping, the message handled by the event queue's.
    consumed = {
        m.logical_id
        for m in deployed.services.mappings
        if (m.function.spec.handler.endswith("timers.handler") and m.queue_arn.endswith("-timers"))
        or m.queue_arn.endswith(":conductor_doug_testing")
    }
    assert len(consumed) == 2 and consumed <= sources, (consumed, sources)
    assert any(rule.logical_id in sources for rule in deployed.services.rules)
    assert execution
    assert_ran_on_asset_layer_and_runtime_only(deployed, platform_paths)


def test_the_catalog_status_and_health_routes_with_no_call_refused(deployed):
    """Each read these routes make (keys-only Queries, BatchGetItem, the health probes) is
    within the API function's grants."""
    since = mark(deployed)
    client = Client(deployed)
    name = f"deployed_list_{uuid.uuid4().hex[:8]}"
    # A WAIT with no duration: nothing is armed or sent, so no queue is left holding anything.
    held = {"name": name, "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}]}
    client.call("POST", "/api/metadata/workflow", held)
    assert name in client.call("GET", "/api/metadata/workflow/names")
    assert name in client.call("GET", "/api/metadata/workflow/names-and-versions")
    assert client.call("GET", f"/api/metadata/workflow/{name}/versions")[0]["version"] == 1
    latest = client.call("GET", "/api/metadata/workflow/latest-versions")
    assert name in [d["name"] for d in latest]
    workflow_id = client.call("POST", f"/api/workflow/{name}", {})
    status = client.call("GET", f"/api/workflow/{workflow_id}/status")
    assert status == {"workflowId": workflow_id, "status": "RUNNING"}
    health = client.call("GET", "/api/health")
    assert health["healthy"] is True, health
    assert client.call("GET", "/api/version")
    # Search reads each of its indexes and the page's items by key (BatchGetItem). The
    # indexes are eventually consistent: these check the reads are granted, not what they find.
    for search in (
        {"query": f"workflowType = '{name}' AND status = RUNNING"},
        {"query": "status = RUNNING"},
        {"query": "correlationId = 'deployed-none'"},
        {"freeText": workflow_id},
    ):
        found = client.call("GET", f"/api/workflow/search?{urlencode(search)}")
        assert set(found) == {"totalHits", "results"}, found
    client.call("DELETE", f"/api/workflow/{workflow_id}")
    assert_nothing_refused_or_failed(deployed, since)


def test_retry_restart_running_bulk_and_remove_with_no_call_refused(deployed):
    """The running index, a restart's new task set (and the deletion of the old one), bulk
    operations and removal are within the API function's grants."""
    since = mark(deployed)
    client = Client(deployed)
    name = f"deployed_ops_{uuid.uuid4().hex[:8]}"
    held = {"name": name, "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}]}
    client.call("POST", "/api/metadata/workflow", held)
    workflow_id = client.call("POST", f"/api/workflow/{name}", {})
    assert client.call("GET", f"/api/workflow/running/{name}") == [workflow_id]
    client.call("POST", f"/api/tasks/{workflow_id}/hold/FAILED", {})
    client.call("POST", f"/api/workflow/{workflow_id}/retry", expect=204)
    client.call("DELETE", f"/api/workflow/{workflow_id}")
    client.call("POST", f"/api/workflow/{workflow_id}/restart", expect=204)
    paused = client.call("PUT", "/api/workflow/bulk/pause", [workflow_id, "unknown"])
    assert paused["bulkSuccessfulResults"] == [workflow_id]
    client.call("DELETE", f"/api/workflow/{workflow_id}/terminate-remove")
    client.call("GET", f"/api/workflow/{workflow_id}", expect=404)
    assert client.call("GET", f"/api/workflow/running/{name}") == []
    assert_nothing_refused_or_failed(deployed, since)


def test_retry_resuming_a_failed_child_resumes_its_parent_with_no_call_refused(deployed):
    """`retry?resumeSubworkflowTasks=true` retries the child and moves the parent's task, all
    in the API function, within its grants."""
    since = mark(deployed)
    client = Client(deployed)
    suffix = uuid.uuid4().hex[:8]
    child = {
        "name": f"deployed_resumed_child_{suffix}",
        "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
    }
    parent = {
        "name": f"deployed_resumed_parent_{suffix}",
        "tasks": [
            {
                "name": "child",
                "taskReferenceName": "child_ref",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": child["name"]},
            }
        ],
    }
    for definition in (child, parent):
        client.call("POST", "/api/metadata/workflow", definition)
    parent_id = client.call("POST", f"/api/workflow/{parent['name']}", {})
    child_id = client.call("GET", f"/api/workflow/{parent_id}")["tasks"][0]["subWorkflowId"]
    client.call("POST", f"/api/tasks/{child_id}/hold/FAILED", {})
    run_until(
        deployed,
        lambda: client.statuses(parent_id)["workflow"] == "FAILED",
        since,
        "the child's failure to fail its parent",
    )
    client.call("POST", f"/api/workflow/{parent_id}/retry?resumeSubworkflowTasks=true", expect=204)
    assert client.statuses(parent_id) == {"workflow": "RUNNING", "child_ref": "IN_PROGRESS"}
    client.call("POST", f"/api/tasks/{child_id}/hold/COMPLETED", {})
    run_until(
        deployed,
        lambda: client.statuses(parent_id)["workflow"] == "COMPLETED",
        since,
        "the resumed child to complete its parent",
    )
    assert_nothing_refused_or_failed(deployed, since)


def test_the_minute_sweep_fires_an_overdue_wait_with_no_call_refused(deployed):
    since = mark(deployed)
    client = Client(deployed)
    client.call("POST", "/api/metadata/workflow", short_round_trip("deployed_sweep"))
    client.register_handler(conditional_handler())
    workflow_id = client.call("POST", "/api/workflow/deployed_sweep", {})
    timer_queue = next(
        m for m in deployed.services.mappings if m.function.spec.handler.endswith("timers.handler")
    )
    sqs = deployed.cloud.client("sqs")

    def wait_is_overdue() -> bool:
        # The timer message is delayed until the WAIT is due: once visible, the WAIT is overdue.
        attributes = sqs.get_queue_attributes(
            QueueUrl=timer_queue.queue_url, AttributeNames=["All"]
        )["Attributes"]
        return attributes["ApproximateNumberOfMessagesDelayed"] == "0"

    deadline = time.monotonic() + DEADLINE_SECONDS
    while not wait_is_overdue():
        assert time.monotonic() < deadline, "the timer never became due"
        time.sleep(IDLE_PAUSE_SECONDS)
    deployed.services.fire_schedules()
    assert_nothing_refused_or_failed(deployed, since)
    assert client.statuses(workflow_id)["task_2_ref"] == "COMPLETED"

    run_until(
        deployed,
        lambda: (
            client.statuses(workflow_id)["workflow"] == "COMPLETED"
            and not any(queue_depths(deployed).values())
        ),
        since,
        "the rest of the round trip",
    )


def test_a_child_ends_in_the_timers_function_and_its_parents_timeout_starts_a_failure_workflow(
    deployed,
):
    """A SUB_WORKFLOW's child is started by the API function; its WAIT fires in the timers
    function, which ends the child and completes the parent's task. A second parent times out
    in the timers function, which starts its failure workflow."""
    since = mark(deployed)
    client = Client(deployed)
    child = {
        "name": "deployed_child",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "pause",
                "taskReferenceName": "pause_ref",
                "type": "WAIT",
                "inputParameters": {"duration": SHORT_WAIT},
            }
        ],
    }
    parent = {
        "name": "deployed_parent",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "child",
                "taskReferenceName": "child_ref",
                "type": "SUB_WORKFLOW",
                "subWorkflowParam": {"name": "deployed_child"},
            }
        ],
    }
    impatient = {
        "name": "deployed_impatient",
        "version": 1,
        "schemaVersion": 2,
        "timeoutSeconds": 1,
        "timeoutPolicy": "TIME_OUT_WF",
        "failureWorkflow": "deployed_child",
        "tasks": [{"name": "hold", "taskReferenceName": "hold_ref", "type": "WAIT"}],
    }
    for definition in (child, parent, impatient):
        client.call("POST", "/api/metadata/workflow", definition)
    parent_id = client.call("POST", "/api/workflow/deployed_parent", {})
    impatient_id = client.call("POST", "/api/workflow/deployed_impatient", {})

    run_until(
        deployed,
        lambda: (
            client.statuses(parent_id)["workflow"] == "COMPLETED"
            and client.statuses(impatient_id)["workflow"] == "TIMED_OUT"
        ),
        since,
        "the child and the timeout",
    )
    failure_id = client.call("GET", f"/api/workflow/{impatient_id}")["output"][
        "conductor.failure_workflow"
    ]
    assert client.call("GET", f"/api/workflow/{failure_id}")["workflowName"] == "deployed_child"
    assert_nothing_refused_or_failed(deployed, since)


def test_a_message_that_keeps_failing_ends_in_its_dlq_with_no_call_refused(deployed):
    """Batch item failures stay on the queue; after maxReceiveCount receives the queue's
    redrive policy (from the template) moves the message to its DLQ."""
    since = mark(deployed)
    client = Client(deployed)
    client.register_handler(conditional_handler())
    event_queue = next(
        m for m in deployed.services.mappings if m.queue_arn.endswith(":conductor_doug_testing")
    )
    deployment = deployed.cloud.deployment
    queue = next(p for p in deployment.physical.values() if p.ref == event_queue.queue_url)
    sqs = deployed.cloud.client("sqs")
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue.ref, AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]["RedrivePolicy"]
    )
    dlq_url = deployment.ref_of("Arn", redrive["deadLetterTargetArn"])
    sqs.send_message(QueueUrl=queue.ref, MessageBody="not json")

    received = 0
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not sqs.receive_message(QueueUrl=dlq_url, VisibilityTimeout=0).get("Messages"):
        assert time.monotonic() < deadline, "the message never reached the DLQ"
        received += event_queue.poll()
        event_queue.let_visibility_timeout_pass()
    refused, failed = refusals_and_failures(deployed, since)
    assert not refused, refused
    assert received == int(redrive["maxReceiveCount"])
    assert len(failed) == received  # each delivery reported it as a batch item failure
    (dead,) = sqs.receive_message(QueueUrl=dlq_url)["Messages"]
    assert dead["Body"] == "not json"
    sqs.purge_queue(QueueUrl=dlq_url)


def test_an_http_task_completes_through_the_system_task_function_with_no_call_refused(deployed):
    """The API dispatches, the system-task queue's mapping runs the system-task function in
    its own process: it claims the task, calls a server on this machine (admitted by the
    allow-list the deployment is synthesized with) and reports, all within its grants."""
    since = mark(deployed)
    client = Client(deployed)
    name = f"deployed_http_{uuid.uuid4().hex[:8]}"
    with local_server() as server:
        server.routes["/orders"] = Answer(200, {"accepted": True})
        definition = {
            "name": name,
            "tasks": [
                {
                    "name": "call_service",
                    "taskReferenceName": "call",
                    "type": "HTTP",
                    "inputParameters": {
                        "http_request": {
                            "uri": server.url("/orders"),
                            "method": "POST",
                            "body": {"order": "${workflow.input.order}"},
                        }
                    },
                },
                {"name": "after", "taskReferenceName": "after", "type": "NOOP"},
            ],
        }
        client.call("POST", "/api/metadata/workflow", definition)
        workflow_id = client.call("POST", f"/api/workflow/{name}", {"order": "o-1"})
        run_until(
            deployed,
            lambda: client.statuses(workflow_id)["workflow"] != "RUNNING",
            since,
            "the HTTP task",
        )
    assert client.statuses(workflow_id) == {
        "call": "COMPLETED",
        "after": "COMPLETED",
        "workflow": "COMPLETED",
    }
    assert server.calls("/orders") == 1
    assert json.loads(server.seen[0].body) == {"order": "o-1"}
    sources = {o.source for o in deployed.cloud.outcomes[since[1] :]}
    system_tasks = {
        m.logical_id
        for m in deployed.services.mappings
        if m.function.spec.handler.endswith("system_tasks.handler")
    }
    assert len(system_tasks) == 1 and system_tasks <= sources, (system_tasks, sources)
    assert_nothing_refused_or_failed(deployed, since)


def test_lambda_may_write_each_functions_logs_and_traces_with_its_role(deployed):
    for process in deployed.cloud.functions.values():
        spec = process.spec
        refused = {r: decide(spec.principal, r) for r in spec.platform_requests()}
        assert not any(refused.values()), (spec.logical_id, refused)


def test_the_asset_bundles_jq_built_for_the_lambda_runtime(deployed):
    """jq (JSON_JQ_TRANSFORM) is a C extension: the asset holds its build for Lambda's CPython
    on this architecture. The functions here run on this machine's Python, which may not be
    Lambda's, so no scenario of this module runs jq from the asset."""
    machine = {"x86_64": "x86_64", "arm64": "aarch64"}[HOST_ARCHITECTURE]
    interpreter = LAMBDA_PYTHON_VERSION.replace(".", "")
    extension = f"jq.cpython-{interpreter}-{machine}-linux-gnu.so"
    for process in deployed.cloud.functions.values():
        assert (process.spec.asset / extension).is_file(), (process.spec.logical_id, extension)


def test_the_web_ui_is_served_from_the_asset_in_key_mode_only(deployed):
    """In the "conductor-keys" mode the API function serves the UI's build from its asset, with
    no token (the page signs in); the API stays closed. In the IAM mode there is no UI route."""
    since = mark(deployed)
    page = deployed.api.request("GET", "/")
    deep_link = deployed.api.request("GET", "/execution/some-workflow-id")
    if deployed.mode != "conductor-keys":
        assert page.status == deep_link.status == 404, page.body
        return
    assert page.status == 200, page.body
    assert page.headers["Content-Type"].startswith("text/html")
    assert '<div id="root">' in page.body
    assert deep_link.status == 200 and deep_link.body == page.body
    (script,) = re.findall(r'src="(/assets/[^"]+\.js)"', page.body)
    asset = deployed.api.request("GET", script)
    assert asset.status == 200 and "immutable" in asset.headers["Cache-Control"]
    assert deployed.api.request("GET", "/api/metadata/workflow").status == 401
    # A token that is not valid: the 401 on which Conductor's SDKs fetch a new one.
    forged = {"X-Authorization": "not-a-token"}
    refused = deployed.api.request("GET", "/api/metadata/workflow", headers=forged)
    assert refused.status == 401 and refused.json()["error"] == "INVALID_TOKEN", refused.body
    assert_nothing_refused_or_failed(deployed, since)


def test_a_timer_schedules_a_dynamic_task_and_a_dynamic_fork_with_no_call_refused(deployed):
    """The timers function decides what follows a WAIT: a DYNAMIC and a FORK_JOIN_DYNAMIC,
    whose TaskDefs it reads as it schedules them (a GetItem its role allows)."""
    since = mark(deployed)
    client = Client(deployed)
    suffix = uuid.uuid4().hex[:8]
    client.call("POST", "/api/metadata/taskdefs", [{"name": f"ship_{suffix}", "retryCount": 0}])
    definition = {
        "name": f"deployed_dynamic_{suffix}",
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "pause",
                "taskReferenceName": "pause",
                "type": "WAIT",
                "inputParameters": {"duration": SHORT_WAIT},
            },
            {
                "name": "ship",
                "taskReferenceName": "ship",
                "type": "DYNAMIC",
                "dynamicTaskNameParam": "taskToRun",
                "inputParameters": {"taskToRun": f"ship_{suffix}"},
            },
            {
                "name": "fan",
                "taskReferenceName": "fan",
                "type": "FORK_JOIN_DYNAMIC",
                "inputParameters": {"forkTaskName": f"ship_{suffix}", "forkTaskInputs": [1, 2]},
            },
            {"name": "gather", "taskReferenceName": "gather", "type": "JOIN"},
        ],
    }
    client.call("POST", "/api/metadata/workflow", definition)
    workflow_id = client.call("POST", f"/api/workflow/deployed_dynamic_{suffix}", {})

    def ship_scheduled() -> bool:
        return client.statuses(workflow_id).get("ship") == "SCHEDULED"

    run_until(deployed, ship_scheduled, since, "the timer deciding the DYNAMIC task")
    # Completed by reference: the API's decision then schedules the dynamic fork.
    client.call("POST", f"/api/tasks/{workflow_id}/ship/COMPLETED", {"shipped": True})
    statuses = client.statuses(workflow_id)
    assert statuses[f"_ship_{suffix}_0"] == statuses[f"_ship_{suffix}_1"] == "SCHEDULED"
    assert_nothing_refused_or_failed(deployed, since)


def payload_objects(deployed: Any) -> dict[str, int]:
    """Every payload object in the deployment's bucket: key -> size."""
    s3 = deployed.cloud.client("s3")
    (bucket,) = [
        p.ref
        for p in deployed.cloud.deployment.physical.values()
        if str(p.attributes.get("Arn", "")).startswith("arn:aws:s3:::")
    ]
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: item["Size"] for item in listed}


def test_a_large_payload_moves_through_the_functions_with_no_call_refused(deployed):
    """A 1 MB input and a 1 MB output kept in the payload bucket: written by the API function,
    read back by the timers function that fires the WAIT, tagged as ended by the commit that
    ends the workflow, all within each function's grants."""
    since = mark(deployed)
    client = Client(deployed)
    name = f"deployed_large_{uuid.uuid4().hex[:8]}"
    definition = {
        "name": name,
        "tasks": [
            {
                "name": "nap",
                "taskReferenceName": "nap",
                "type": "WAIT",
                "inputParameters": {"duration": SHORT_WAIT},
            },
            {
                "name": "hold",
                "taskReferenceName": "hold",
                "type": "WAIT",
                "inputParameters": {"echo": "${workflow.input.blob}"},
            },
        ],
    }
    client.call("POST", "/api/metadata/workflow", definition)
    blob = {"rows": [{"i": i, "text": "żółw " + "x" * 1000} for i in range(1000)]}
    workflow_id = client.call("POST", f"/api/workflow/{name}", {"blob": blob})
    assert any(key.startswith(f"workflows/{workflow_id}/") for key in payload_objects(deployed))

    run_until(
        deployed,
        lambda: client.statuses(workflow_id).get("hold") == "IN_PROGRESS",
        since,
        "the WAIT fired by the timers function",
    )
    output = {"result": blob}
    client.call("POST", f"/api/tasks/{workflow_id}/hold/COMPLETED", output)

    workflow = client.call("GET", f"/api/workflow/{workflow_id}")
    assert workflow["status"] == "COMPLETED"
    assert workflow["input"] == {"blob": blob}
    (hold,) = [t for t in workflow["tasks"] if t["referenceTaskName"] == "hold"]
    assert hold["inputData"] == {"echo": blob}
    assert hold["outputData"] == output
    assert_nothing_refused_or_failed(deployed, since)
    timers = {
        process.spec.logical_id
        for process in deployed.cloud.functions.values()
        if process.spec.handler.endswith("timers.handler")
    }
    assert any(o.function in timers for o in deployed.cloud.outcomes[since[1] :])


def test_a_worker_polls_and_completes_its_task_with_no_call_refused(deployed):
    """Conductor's worker protocol through the API function: a single poll and a batch poll
    (each claim reads the task item, then writes it on a condition), and the result."""
    since = mark(deployed)
    client = Client(deployed)
    task_type = f"deployed_work_{uuid.uuid4().hex[:8]}"
    definition = {
        "name": task_type,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {"name": task_type, "taskReferenceName": "first", "type": "SIMPLE"},
            {"name": task_type, "taskReferenceName": "second", "type": "SIMPLE"},
        ],
    }
    client.call("POST", "/api/metadata/workflow", definition)
    workflow_id = client.call("POST", f"/api/workflow/{task_type}", {})

    polled = client.call("GET", f"/api/tasks/poll/{task_type}?workerid=deployed-worker")
    assert polled["referenceTaskName"] == "first" and polled["workerId"] == "deployed-worker"
    result = {
        "workflowInstanceId": workflow_id,
        "taskId": polled["taskId"],
        "status": "COMPLETED",
        "outputData": {"done": 1},
    }
    client.call("POST", "/api/tasks", result)
    # A task id alone finds its workflow (the task-prefix index, then the task-id index for
    # ids it does not know).
    assert client.call("GET", f"/api/tasks/{polled['taskId']}")["status"] == "COMPLETED"
    client.call("GET", f"/api/tasks/{uuid.uuid4()}", expect=404)

    (batch,) = client.call(
        "GET", f"/api/tasks/poll/batch/{task_type}?workerid=deployed-worker&count=2&timeout=100"
    )
    assert batch["referenceTaskName"] == "second"
    client.call("POST", "/api/tasks", {**result, "taskId": batch["taskId"]})
    assert client.statuses(workflow_id)["workflow"] == "COMPLETED"
    assert_nothing_refused_or_failed(deployed, since)


def test_task_search_admin_reads_and_a_test_run_with_no_call_refused(deployed):
    """Task search (the workflow indexes, each workflow's item and tasks, the task id index),
    the admin reads (the poll index, poll data) and an in-memory test run (definitions and
    TaskDefs read, nothing written) are within the API function's grants."""
    since = mark(deployed)
    client = Client(deployed)
    task_type = f"deployed_find_{uuid.uuid4().hex[:8]}"
    definition = {
        "name": task_type,
        "version": 1,
        "tasks": [{"name": task_type, "taskReferenceName": "work", "type": "SIMPLE"}],
    }
    client.call("POST", "/api/metadata/workflow", definition)
    client.call("POST", "/api/metadata/taskdefs", [{"name": task_type, "retryCount": 0}])
    workflow_id = client.call(
        "POST", "/api/workflow", {"name": task_type, "correlationId": task_type}
    )

    found = client.call(
        "GET", f"/api/tasks/search?{urlencode({'query': f'workflowId = {workflow_id}'})}"
    )
    (task,) = found["results"]
    # Index reads are eventually consistent: these check the reads are granted.
    for path, query in (
        ("/api/tasks/search-v2", {"query": f"taskId = '{task['taskId']}'"}),
        ("/api/tasks/search", {"query": f"workflowType = {task_type} AND status = SCHEDULED"}),
        ("/api/workflow/search-by-tasks", {"query": f"correlationId = {task_type}"}),
        ("/api/workflow/search-by-tasks-v2", {"freeText": workflow_id}),
    ):
        answer = client.call("GET", f"{path}?{urlencode(query)}")
        assert set(answer) == {"totalHits", "results"}, answer
    pending = client.call("GET", f"/api/admin/task/{task_type}")
    assert [t["taskId"] for t in pending] == [task["taskId"]]
    assert isinstance(client.call("GET", "/api/admin/queues"), dict)

    run = client.call(
        "POST",
        "/api/workflow/test",
        {
            "name": task_type,
            "version": 1,
            "taskRefToMockOutput": {"work": [{"status": "COMPLETED", "output": {"x": 1}}]},
        },
    )
    assert run["status"] == "COMPLETED"
    client.call("GET", f"/api/workflow/{run['workflowId']}", expect=404)
    client.call("DELETE", f"/api/workflow/{workflow_id}")
    assert_nothing_refused_or_failed(deployed, since)


DECISIONS = "-decisions.fifo"


def test_a_wide_fork_completed_through_the_api_is_decided_by_the_timers_function(deployed):
    """A fork wide enough that its task updates do not decide (baton.store.workflows'
    WIDE_OPEN_TASKS): the API function reads each task item and writes it alone, sends the
    decision message to the decision queue (FIFO, grouped by workflow), and the timers
    function's decisions, taken from there, complete it."""
    from baton.store.workflows import WIDE_OPEN_TASKS

    since = mark(deployed)
    client = Client(deployed)
    name = f"deployed_wide_{uuid.uuid4().hex[:8]}"
    references = [f"wait_{i}" for i in range(WIDE_OPEN_TASKS)]
    definition = {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": ref, "taskReferenceName": ref, "type": "WAIT"}] for ref in references
                ],
            },
            {"name": "join", "taskReferenceName": "join", "type": "JOIN", "joinOn": references},
        ],
    }
    client.call("POST", "/api/metadata/workflow", definition)
    workflow_id = client.call("POST", f"/api/workflow/{name}", {})
    started = client.call("GET", f"/api/workflow/{workflow_id}")
    task_ids = {t["referenceTaskName"]: t["taskId"] for t in started["tasks"]}
    for i, reference in enumerate(references):
        result = {
            "workflowInstanceId": workflow_id,
            "taskId": task_ids[reference],
            "status": "COMPLETED",
            "outputData": {"branch": i},
        }
        client.call("POST", "/api/tasks", result)
    # The asks wait on the FIFO queue until its mapping hands them to the timers function.
    (asks,) = [n for name, n in queue_depths(deployed).items() if name.endswith(DECISIONS)]
    assert asks >= 1

    run_until(
        deployed,
        lambda: client.statuses(workflow_id)["workflow"] == "COMPLETED",
        since,
        "the timers function's decisions",
    )

    def asks_left() -> int:
        (left,) = [n for name, n in queue_depths(deployed).items() if name.endswith(DECISIONS)]
        return left

    # The asks left after the decision that completed it find nothing to do, and are done.
    run_until(deployed, lambda: asks_left() == 0, since, "the decision queue's last asks")
    workflow = client.call("GET", f"/api/workflow/{workflow_id}")
    (join,) = [t for t in workflow["tasks"] if t["referenceTaskName"] == "join"]
    assert join["outputData"] == {ref: {"branch": i} for i, ref in enumerate(references)}
    assert_nothing_refused_or_failed(deployed, since)
