"""The UI as its users use it: find an execution, watch it, act on it, register a definition.

The executions test comes last, so that its screenshot shows the executions of the others.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.runtime_process import TUTORIAL_WORKFLOW, RuntimeProcess, http_json
from tests.ui.conftest import base_url, screenshot

pytestmark = pytest.mark.slow

# The tutorial's WAITs last 10 s and the runtime ticks every 2 s: generous, never asserted on.
TUTORIAL_SECONDS = 60


def start(runtime: RuntimeProcess, name: str, body: object | None = None) -> str:
    status, _, workflow_id = http_json("POST", f"{runtime.api_url}/workflow/{name}", body or {})
    assert status == 200, workflow_id
    return str(workflow_id)


def register(runtime: RuntimeProcess, definition: dict[str, object]) -> None:
    status, _, body = http_json("POST", f"{runtime.api_url}/metadata/workflow", definition)
    assert status in (200, 204), body


def workflow(runtime: RuntimeProcess, workflow_id: str) -> dict[str, object]:
    status, _, body = http_json("GET", f"{runtime.api_url}/workflow/{workflow_id}")
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def node(page: Page, reference: str) -> object:
    return page.locator(f"[data-testid=diagram] g[data-task='{reference}']")


def test_the_tutorial_in_the_diagram_from_in_progress_to_completed(
    runtime: RuntimeProcess, page: Page
) -> None:
    workflow_id = start(runtime, TUTORIAL_WORKFLOW)
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")

    diagram = page.get_by_test_id("diagram")
    for reference in ("task_1_ref", "task_2_ref"):
        expect(diagram.locator(f"g[data-task='{reference}']")).to_have_attribute(
            "data-status", "IN_PROGRESS"
        )
        expect(page.locator(f"tr[data-task='{reference}']")).to_contain_text("IN_PROGRESS")
    expect(page.get_by_test_id("workflow-id")).to_have_text(workflow_id)
    screenshot(page, "execution-running.png")

    # The page reads a running execution again by itself.
    expect(page.locator("h1 .status")).to_have_text("COMPLETED", timeout=TUTORIAL_SECONDS * 1000)
    for reference in ("task_1_ref", "task_2_ref", "send_sqs_message_ref"):
        expect(diagram.locator(f"g[data-task='{reference}']")).to_have_attribute(
            "data-status", "COMPLETED"
        )
    screenshot(page, "execution-completed.png")

    page.locator("tr[data-task='send_sqs_message_ref'] button").click()
    panel = page.get_by_role("complementary", name="Task send_sqs_message_ref")
    panel.get_by_role("tab", name="Output").click()
    output = panel.get_by_label("Task output")
    expect(output).to_contain_text("sqs:conductor_doug_testing")
    shown = json.loads(output.inner_text())
    assert shown == next(
        t["outputData"]
        for t in workflow(runtime, workflow_id)["tasks"]  # type: ignore[attr-defined]
        if t["referenceTaskName"] == "send_sqs_message_ref"
    )


def test_terminate_a_running_workflow_from_its_page(runtime: RuntimeProcess, page: Page) -> None:
    workflow_id = start(runtime, TUTORIAL_WORKFLOW)
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    page.get_by_role("button", name="Terminate").click()
    page.get_by_role("button", name="Yes, terminate").click()
    expect(page.locator("h1 .status")).to_have_text("TERMINATED")
    assert workflow(runtime, workflow_id)["status"] == "TERMINATED"


def test_complete_a_wait_task_with_an_output_from_the_page(
    runtime: RuntimeProcess, page: Page
) -> None:
    name = f"ui_wait_{uuid.uuid4().hex[:8]}"
    register(
        runtime,
        {
            "name": name,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [{"name": "hold", "taskReferenceName": "hold_ref", "type": "WAIT"}],
            "outputParameters": {"answer": "${hold_ref.output.answer}"},
        },
    )
    workflow_id = start(runtime, name)
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    page.locator("tr[data-task='hold_ref'] button").click()
    panel = page.get_by_role("complementary", name="Task hold_ref")
    panel.get_by_label("Task output to send").fill('{"answer": 42}')
    panel.get_by_role("button", name="Complete").click()
    panel.get_by_role("button", name="Yes, complete").click()
    expect(page.locator("h1 .status")).to_have_text("COMPLETED", timeout=30_000)
    assert workflow(runtime, workflow_id)["output"] == {"answer": 42}


def test_retry_a_failed_workflow_from_its_page(runtime: RuntimeProcess, page: Page) -> None:
    name = f"ui_retry_{uuid.uuid4().hex[:8]}"
    task_type = f"{name}_work"
    status, _, body = http_json(
        "POST", f"{runtime.api_url}/metadata/taskdefs", [{"name": task_type, "retryCount": 0}]
    )
    assert status in (200, 204), body
    register(
        runtime,
        {
            "name": name,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [{"name": task_type, "taskReferenceName": "work_ref", "type": "SIMPLE"}],
        },
    )
    workflow_id = start(runtime, name)
    status, _, task = http_json("GET", f"{runtime.api_url}/tasks/poll/{task_type}?workerid=ui")
    assert status == 200, task
    status, _, body = http_json(
        "POST",
        f"{runtime.api_url}/tasks",
        {
            "workflowInstanceId": workflow_id,
            "taskId": task["taskId"],
            "status": "FAILED",
            "reasonForIncompletion": "the worker gave up",
        },
    )
    assert status == 200, body
    assert workflow(runtime, workflow_id)["status"] == "FAILED"

    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    expect(page.locator("h1 .status")).to_have_text("FAILED")
    page.get_by_role("button", name="Retry").click()
    page.get_by_role("button", name="Yes, retry").click()
    expect(page.locator("h1 .status")).to_have_text("RUNNING")
    tasks = workflow(runtime, workflow_id)["tasks"]
    assert [t["status"] for t in tasks] == ["FAILED", "SCHEDULED"]  # type: ignore[attr-defined]


def test_a_wide_fork_draws_its_first_branches_and_one_node_for_the_rest(
    runtime: RuntimeProcess, page: Page
) -> None:
    name = f"ui_wide_{uuid.uuid4().hex[:8]}"
    branches = 30
    register(
        runtime,
        {
            "name": name,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "fork",
                    "taskReferenceName": "fork",
                    "type": "FORK_JOIN",
                    "forkTasks": [
                        [{"name": "hold", "taskReferenceName": f"hold_{i}", "type": "WAIT"}]
                        for i in range(branches)
                    ],
                },
                {
                    "name": "join",
                    "taskReferenceName": "join",
                    "type": "JOIN",
                    "joinOn": [f"hold_{i}" for i in range(branches)],
                },
            ],
        },
    )
    workflow_id = start(runtime, name)
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    diagram = page.get_by_test_id("diagram")
    # Eleven branches drawn, and one node standing for the other nineteen, by their status.
    expect(diagram.locator("g[data-task='fork__19_more_branches']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )
    expect(diagram.locator("g[data-task='hold_10']")).to_have_count(1)
    expect(diagram.locator("g[data-task='hold_11']")).to_have_count(0)
    # The task list has every task.
    expect(page.locator("tr[data-task^='hold_']")).to_have_count(branches)


def test_a_dynamic_fork_draws_the_branches_it_started(runtime: RuntimeProcess, page: Page) -> None:
    name = f"ui_dynamic_{uuid.uuid4().hex[:8]}"
    branches = 105
    register(
        runtime,
        {
            "name": name,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "fan",
                    "taskReferenceName": "fan",
                    "type": "FORK_JOIN_DYNAMIC",
                    "inputParameters": {
                        "forkTaskName": "hold",
                        "forkTaskType": "WAIT",
                        "forkTaskInputs": "${workflow.input.items}",
                    },
                },
                {"name": "gather", "taskReferenceName": "gather", "type": "JOIN"},
            ],
        },
    )
    workflow_id = start(runtime, name, {"items": list(range(branches))})
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    diagram = page.get_by_test_id("diagram")
    # The branches the fork started, by status: the first eleven, and one node for the rest.
    expect(diagram.locator("g[data-task='_hold_0']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )
    expect(diagram.locator("g[data-task='fan__94_more_branches']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )
    expect(diagram.locator("g[data-task='_hold_10']")).to_have_count(1)
    expect(diagram.locator("g[data-task='_hold_11']")).to_have_count(0)
    expect(diagram.locator("g[data-task='gather']")).to_have_attribute("data-status", "IN_PROGRESS")
    # The task list, 100 tasks a page: the fork and 99 branches, then the rest and the JOIN.
    rows = page.locator("tr[data-task^='_hold_']")
    expect(rows).to_have_count(99)
    expect(page.get_by_text(f"1\u2013100 of {branches + 2}")).to_be_visible()
    page.get_by_role("button", name="Next tasks").click()
    expect(rows).to_have_count(branches - 99)
    expect(page.locator("tr[data-task='gather']")).to_be_visible()


def test_a_sub_workflow_links_to_its_child_and_a_loop_shows_its_iterations(
    runtime: RuntimeProcess, page: Page
) -> None:
    child = f"ui_child_{uuid.uuid4().hex[:8]}"
    register(
        runtime,
        {
            "name": child,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [{"name": "hold", "taskReferenceName": "hold_ref", "type": "WAIT"}],
        },
    )
    parent = f"ui_parent_{uuid.uuid4().hex[:8]}"
    register(
        runtime,
        {
            "name": parent,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "loop",
                    "taskReferenceName": "loop",
                    "type": "DO_WHILE",
                    "loopCondition": "$.loop['iteration'] < 2",
                    "loopOver": [
                        {
                            "name": "count",
                            "taskReferenceName": "count",
                            "type": "SET_VARIABLE",
                            "inputParameters": {"n": "${loop.output.iteration}"},
                        }
                    ],
                },
                {
                    "name": "child",
                    "taskReferenceName": "child_ref",
                    "type": "SUB_WORKFLOW",
                    "subWorkflowParam": {"name": child, "version": 1},
                },
            ],
        },
    )
    workflow_id = start(runtime, parent)
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    diagram = page.get_by_test_id("diagram")
    # Both iterations in the list; the loop's body drawn once, with its latest iteration's status.
    expect(page.locator("tr[data-task='count__2']")).to_contain_text("COMPLETED")
    expect(page.locator("tr[data-task='count__1']")).to_contain_text("COMPLETED")
    expect(diagram.locator("g[data-task='count']")).to_have_attribute("data-status", "COMPLETED")
    expect(diagram.locator("g[data-task='child_ref']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )

    # The loop's node counts its iterations; a click on its body opens the latest iteration.
    expect(diagram.locator("g[data-task='loop']")).to_contain_text("2 iterations")
    diagram.locator("g[data-task='count']").click()
    panel = page.get_by_role("complementary", name="Task count__2")
    expect(panel).to_contain_text("SET_VARIABLE")
    panel.get_by_role("button", name="Close").click()
    # The sub-workflow's node links to its child, as its row does.
    child_id = next(
        t["subWorkflowId"]
        for t in workflow(runtime, workflow_id)["tasks"]  # type: ignore[attr-defined]
        if t["referenceTaskName"] == "child_ref"
    )
    expect(
        diagram.locator("g[data-task='child_ref']").get_by_role(
            "link", name="Open the sub-workflow"
        )
    ).to_have_attribute("href", f"/execution/{child_id}")

    page.locator("tr[data-task='child_ref']").get_by_role("link", name="sub-workflow").click()
    expect(page.get_by_role("heading", name=child)).to_be_visible()
    expect(page.get_by_role("link", name=workflow_id)).to_be_visible()
    expect(page.get_by_test_id("diagram").locator("g[data-task='hold_ref']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )


def test_a_switch_shows_the_case_it_took_and_the_diagram_pans_and_zooms(
    runtime: RuntimeProcess, page: Page
) -> None:
    name = f"ui_switch_{uuid.uuid4().hex[:8]}"
    register(
        runtime,
        {
            "name": name,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {
                    "name": "route",
                    "taskReferenceName": "route",
                    "type": "SWITCH",
                    "evaluatorType": "value-param",
                    "expression": "kind",
                    "inputParameters": {"kind": "${workflow.input.kind}"},
                    "decisionCases": {
                        "small": [
                            {"name": "hold", "taskReferenceName": "small_ref", "type": "WAIT"}
                        ],
                        "large": [
                            {"name": "hold", "taskReferenceName": "large_ref", "type": "WAIT"}
                        ],
                    },
                    "defaultCase": [
                        {"name": "hold", "taskReferenceName": "other_ref", "type": "WAIT"}
                    ],
                }
            ],
        },
    )
    workflow_id = start(runtime, name, {"kind": "large"})
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    diagram = page.get_by_test_id("diagram")
    expect(diagram.locator("g[data-task='large_ref']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )
    expect(diagram.locator("g[data-task='route']")).to_have_attribute("data-status", "COMPLETED")
    # The case taken is marked; the others are drawn, not taken, their tasks without a status.
    expect(diagram.locator("text[data-case='large']")).to_have_attribute("data-taken", "true")
    for case, reference in (("small", "small_ref"), ("default", "other_ref")):
        expect(diagram.locator(f"text[data-case='{case}']")).to_have_class(re.compile(r"\boff\b"))
        expect(diagram.locator(f"g[data-task='{reference}']")).not_to_have_attribute(
            "data-status", re.compile(".*")
        )

    # Dragging the canvas moves the drawing; zooming in makes a node larger.
    node_box = diagram.locator("g[data-task='route'] rect")
    before = node_box.bounding_box()
    assert before is not None
    canvas = diagram.locator("svg").bounding_box()
    assert canvas is not None
    page.mouse.move(canvas["x"] + 20, canvas["y"] + 20)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 80, canvas["y"] + 60, steps=5)
    page.mouse.up()
    dragged = node_box.bounding_box()
    assert dragged is not None
    assert (round(dragged["x"] - before["x"]), round(dragged["y"] - before["y"])) == (60, 40)
    diagram.get_by_role("button", name="Zoom in").click()
    zoomed = node_box.bounding_box()
    assert zoomed is not None and zoomed["width"] > dragged["width"]

    # A click on a task's node opens it.
    diagram.locator("g[data-task='large_ref']").click()
    expect(page.get_by_role("complementary", name="Task large_ref")).to_contain_text("IN_PROGRESS")


def two_waits(runtime: RuntimeProcess, prefix: str) -> str:
    """A workflow of two WAITs in a row, registered under a fresh name."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    register(
        runtime,
        {
            "name": name,
            "version": 1,
            "schemaVersion": 2,
            "tasks": [
                {"name": "first", "taskReferenceName": "first_ref", "type": "WAIT"},
                {"name": "second", "taskReferenceName": "second_ref", "type": "WAIT"},
            ],
        },
    )
    return name


def complete_open_task(runtime: RuntimeProcess, workflow_id: str, reference: str) -> None:
    task = next(
        t
        for t in workflow(runtime, workflow_id)["tasks"]  # type: ignore[attr-defined]
        if t["referenceTaskName"] == reference and t["status"] == "IN_PROGRESS"
    )
    status, _, body = http_json(
        "POST",
        f"{runtime.api_url}/tasks",
        {"workflowInstanceId": workflow_id, "taskId": task["taskId"], "status": "COMPLETED"},
    )
    assert status == 200, body


def test_rerun_a_completed_workflow_from_a_task_from_its_page(
    runtime: RuntimeProcess, page: Page
) -> None:
    workflow_id = start(runtime, two_waits(runtime, "ui_rerun"))
    complete_open_task(runtime, workflow_id, "first_ref")
    complete_open_task(runtime, workflow_id, "second_ref")
    assert workflow(runtime, workflow_id)["status"] == "COMPLETED"

    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    expect(page.locator("h1 .status")).to_have_text("COMPLETED")
    page.locator("tr[data-task='second_ref'] button").click()
    panel = page.get_by_role("complementary", name="Task second_ref")
    panel.get_by_role("button", name="Rerun from here").click()
    panel.get_by_role("button", name="Yes, rerun from here").click()
    expect(page.locator("h1 .status")).to_have_text("RUNNING")
    expect(page.get_by_test_id("diagram").locator("g[data-task='second_ref']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )
    tasks = workflow(runtime, workflow_id)["tasks"]
    # The task before it stays as it was; the task rerun is in progress again.
    assert [(t["referenceTaskName"], t["status"]) for t in tasks] == [  # type: ignore[attr-defined]
        ("first_ref", "COMPLETED"),
        ("second_ref", "IN_PROGRESS"),
    ]


def test_skip_a_task_the_workflow_has_not_reached_from_the_diagram(
    runtime: RuntimeProcess, page: Page
) -> None:
    workflow_id = start(runtime, two_waits(runtime, "ui_skip"))
    page.goto(f"{base_url(runtime)}/execution/{workflow_id}")
    diagram = page.get_by_test_id("diagram")
    expect(diagram.locator("g[data-task='first_ref']")).to_have_attribute(
        "data-status", "IN_PROGRESS"
    )
    # A task not reached yet is drawn without a status; clicking it offers to skip it.
    second = diagram.locator("g[data-task='second_ref']")
    expect(second).not_to_have_attribute("data-status", re.compile(".*"))
    second.get_by_text("second_ref").click()
    panel = page.get_by_role("complementary", name="Task second_ref")
    expect(panel).to_contain_text("not reached yet")
    panel.get_by_role("button", name="Skip").click()
    panel.get_by_role("button", name="Yes, skip").click()
    expect(page.locator("tr[data-task='second_ref']")).to_contain_text("SKIPPED")

    complete_open_task(runtime, workflow_id, "first_ref")
    expect(page.locator("h1 .status")).to_have_text("COMPLETED")
    expect(second).to_have_attribute("data-status", "SKIPPED")


def test_register_edit_and_delete_a_task_definition(runtime: RuntimeProcess, page: Page) -> None:
    name = f"ui_taskdef_{uuid.uuid4().hex[:8]}"
    page.goto(f"{base_url(runtime)}/definitions?kind=tasks")
    page.get_by_role("link", name="New task definition").click()
    editor = page.get_by_label("Task definition JSON")
    editor.fill(
        json.dumps(
            {"name": name, "retryCount": -1, "timeoutSeconds": 60, "responseTimeoutSeconds": 30}
        )
    )
    page.get_by_role("button", name="Register").click()
    # Conductor's validation error, next to the text, naming the field.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("retryCount")
    expect(alert).not_to_contain_text("[0]")
    status, _, _ = http_json("GET", f"{runtime.api_url}/metadata/taskdefs/{name}")
    assert status == 404

    editor.fill(
        json.dumps(
            {"name": name, "retryCount": 2, "timeoutSeconds": 60, "responseTimeoutSeconds": 30}
        )
    )
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_label("Task definition JSON")).to_contain_text('"retryCount": 2')

    page.get_by_role("button", name="Edit").click()
    edited = json.loads(page.get_by_label("Task definition JSON").input_value())
    page.get_by_label("Task definition JSON").fill(json.dumps({**edited, "retryCount": 5}))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    status, _, stored = http_json("GET", f"{runtime.api_url}/metadata/taskdefs/{name}")
    assert status == 200 and stored["retryCount"] == 5

    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_role("table", name="Task definitions")).to_be_visible()
    expect(page.get_by_role("link", name=name)).to_have_count(0)
    status, _, _ = http_json("GET", f"{runtime.api_url}/metadata/taskdefs/{name}")
    assert status == 404


def test_a_definition_with_an_error_shows_the_error_next_to_the_text(
    runtime: RuntimeProcess, page: Page
) -> None:
    name = f"ui_new_{uuid.uuid4().hex[:8]}"
    broken = {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [{"name": "hold", "type": "WAIT"}],
    }
    page.goto(f"{base_url(runtime)}/definitions/new")
    editor = page.get_by_label("Definition JSON")
    editor.fill(json.dumps(broken, indent=2))
    page.get_by_role("button", name="Register").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("taskReferenceName")
    status, _, _ = http_json("GET", f"{runtime.api_url}/metadata/workflow/{name}")
    assert status == 404

    fixed = {**broken, "tasks": [{"name": "hold", "taskReferenceName": "hold_ref", "type": "WAIT"}]}
    editor.fill(json.dumps(fixed, indent=2))
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_test_id("diagram").locator("text=hold_ref")).to_be_visible()
    status, _, stored = http_json("GET", f"{runtime.api_url}/metadata/workflow/{name}")
    assert status == 200 and stored["tasks"][0]["taskReferenceName"] == "hold_ref"


def test_event_handlers_and_task_queues_pages(runtime: RuntimeProcess, page: Page) -> None:
    page.goto(f"{base_url(runtime)}/events")
    page.get_by_role("button", name="complete_task_event").click()
    panel = page.get_by_role("complementary", name="Event handler complete_task_event")
    expect(panel.get_by_label("Event handler JSON")).to_contain_text("sqs:conductor_doug_testing")

    task_type = f"ui_queue_{uuid.uuid4().hex[:8]}"
    http_json("GET", f"{runtime.api_url}/tasks/poll/{task_type}?workerid=ui-worker")
    page.goto(f"{base_url(runtime)}/queues")
    expect(page.get_by_role("table", name="Poll data")).to_contain_text("ui-worker")


def test_a_ui_route_loads_from_a_link_and_an_unknown_api_path_stays_an_api_error(
    runtime: RuntimeProcess, page: Page
) -> None:
    response = page.goto(f"{base_url(runtime)}/definitions")
    assert response is not None and response.status == 200
    expect(page.get_by_role("table", name="Workflow definitions")).to_contain_text(
        TUTORIAL_WORKFLOW
    )
    status, content_type, body = http_json("GET", f"{runtime.api_url}/no/such/route")
    assert status == 404 and content_type.startswith("application/json"), body


def test_a_deployment_that_asks_for_a_key_brings_up_the_sign_in_then_the_page(
    runtime: RuntimeProcess, page: Page
) -> None:
    # The key mode's API, played in front of the runtime: 401 without the token /api/token gave.
    token = "ui-test-token"

    def key_mode(route: Route) -> None:
        if route.request.url.endswith("/api/token"):
            route.fulfill(status=200, content_type="application/json", json={"token": token})
        elif route.request.headers.get("x-authorization") != token:
            route.fulfill(
                status=401, content_type="application/json", json={"message": "Unauthorized"}
            )
        else:
            route.continue_()

    page.route("**/api/**", key_mode)
    page.goto(f"{base_url(runtime)}/definitions")
    page.get_by_label("Key id").fill("key-id")
    page.get_by_label("Key secret").fill("key-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("table", name="Workflow definitions")).to_contain_text(
        TUTORIAL_WORKFLOW
    )


def test_the_executions_page_finds_the_tutorial_by_name_and_status(
    runtime: RuntimeProcess, page: Page
) -> None:
    workflow_id = start(runtime, TUTORIAL_WORKFLOW)
    page.goto(f"{base_url(runtime)}/executions")
    page.get_by_label("Workflow name").select_option(TUTORIAL_WORKFLOW)
    page.get_by_label("RUNNING").check()
    page.get_by_role("button", name="Search").click()
    link = page.get_by_role("link", name=workflow_id)
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_test_id("workflow-id")).to_have_text(workflow_id)

    # Every execution this module ran, newest first, for the README.
    page.goto(f"{base_url(runtime)}/executions")
    expect(page.get_by_role("link", name=workflow_id)).to_be_visible()
    screenshot(page, "executions.png")
