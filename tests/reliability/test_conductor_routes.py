"""Conductor's literal paths are never taken for another route's parameters.

Every operation of Conductor's REST controllers (the table in baton.api.conductor_routes,
taken from conductor-oss/conductor's WorkflowResource, WorkflowBulkResource,
MetadataResource, TaskResource, EventResource, QueueAdminResource, AdminResource,
HealthCheckResource and VersionResource) is either served by the handler registered for
exactly its path, or answered 501 with Conductor's body by its placeholder.
"""

from __future__ import annotations

import re

import pytest

from baton.api import conductor_routes
from baton.api.conductor_routes import CONDUCTOR_ROUTES, UNSUPPORTED, ConductorRoute
from baton.api.routing import canonical_path, shape, specificity
from tests.reliability.support import register_workflow, start, wait_workflow
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api

# Operations of conductor-oss/conductor's controllers at b54f0d4, a path of two (the external
# storage locations) counted twice: WorkflowResource 27, WorkflowMessageQueueResource 1,
# WorkflowBulkResource 8, MetadataResource 15, TaskResource 22, EventResource 5,
# QueueAdminResource 4, AdminResource 5, health 1, version 1.
CONDUCTOR_OPERATION_COUNT = 89


def concrete(path: str) -> str:
    """The path with each parameter given a value that is no literal of any route."""
    return re.sub(r"\{(\w+)\}", lambda match: f"{match[1]}-value", path)


def app():  # type: ignore[no-untyped-def]
    from baton.handlers import api

    return api.app


def test_the_table_holds_every_operation_of_conductors_controllers_once() -> None:
    keys = [(route.method, shape(route.path)) for route in CONDUCTOR_ROUTES]
    assert len(keys) == len(set(keys))
    assert len(keys) == CONDUCTOR_OPERATION_COUNT
    # The ones the shadowing was first found on.
    for method, path in [
        ("POST", "/api/workflow/test"),
        ("GET", "/api/workflow/search"),
        ("PUT", "/api/workflow/bulk/pause"),
        ("GET", "/api/metadata/workflow/names-and-versions"),
        ("GET", "/api/tasks/search"),
        ("POST", "/api/tasks/queue/requeue/{}"),
    ]:
        assert (method, path) in keys


@pytest.mark.parametrize("route", CONDUCTOR_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_each_operation_reaches_the_route_registered_for_its_own_path(
    route: ConductorRoute,
) -> None:
    matched = app().route_for(route.method, canonical_path(concrete(route.path)))

    assert matched is not None, f"{route.method} {route.path} reaches no route"
    assert shape(matched.path) == shape(route.path), (
        f"{route.method} {route.path} is taken by {matched.path}"
    )
    placeholder = matched.func.__qualname__.startswith("_unsupported")
    assert placeholder == (route.status == UNSUPPORTED), (
        f"{route.method} {route.path} is marked {route.status} but its route is "
        f"{'a placeholder' if placeholder else 'a handler'}"
    )


def test_every_conductor_shaped_route_baton_registers_is_in_the_table() -> None:
    """A handler added for one of Conductor's operations must flip its entry to SERVED."""
    table = {(route.method, shape(route.path)): route.status for route in CONDUCTOR_ROUTES}
    baton_only = {"/api/openapi.json", "/api/token", "/api/event/executions/{}"}
    for method, rule in app().rules():
        if shape(rule) in baton_only:
            continue
        assert (method, shape(rule)) in table, f"{method} {rule} is not in Conductor's table"


def test_routes_are_tried_most_specific_first() -> None:
    app().route_for("GET", "/api")  # orders the routes, as the first request does
    order = [specificity(route.path) for route in app()._dynamic_routes]
    assert order == sorted(order)


@pytest.mark.parametrize(
    "route",
    [route for route in CONDUCTOR_ROUTES if route.status == UNSUPPORTED],
    ids=lambda r: f"{r.method} {r.path}",
)
def test_each_unsupported_operation_is_answered_501_in_conductors_body(
    aws: Aws, route: ConductorRoute
) -> None:
    response = call_api(route.method, concrete(route.path), {})

    assert response.status == 501, response.body
    body = response.json()
    assert set(body) >= {"status", "message", "instance", "retryable"}
    assert body["status"] == 501
    assert body["retryable"] is False
    assert body["message"] == conductor_routes.unsupported_message(route)


def test_post_workflow_test_starts_nothing_and_no_workflow_may_be_named_test(aws: Aws) -> None:
    refused = call_api(
        "POST",
        "/api/metadata/workflow",
        {"name": "test", "version": 1, "tasks": wait_workflow("x", "hold_ref")["tasks"]},
    )
    assert refused.status == 400, refused.body
    (error,) = refused.json()["validationErrors"]
    assert error["path"] == "name"
    assert "POST /api/workflow/{}" in error["message"]

    response = call_api("POST", "/api/workflow/test", {"workflowDef": {}, "name": "test"})

    # The test route answers (no definition named `test` exists): nothing is started.
    assert response.status == 404, response.body
    listed = call_api("GET", "/api/workflow/test/correlated/x", query={"includeClosed": "true"})
    assert listed.status == 200 and listed.json() == []


@pytest.mark.parametrize("name", ["names", "names-and-versions", "latest-versions"])
def test_names_conductors_metadata_paths_take_are_refused(aws: Aws, name: str) -> None:
    tasks = wait_workflow("x", "hold_ref")["tasks"]
    refused = call_api(
        "POST", "/api/metadata/workflow", {"name": name, "version": 1, "tasks": tasks}
    )
    assert refused.status == 400, refused.body
    assert "GET /api/metadata/workflow/{}" in refused.json()["validationErrors"][0]["message"]


def test_a_workflow_with_a_literal_looking_id_is_still_reached_by_id(aws: Aws) -> None:
    """Only literal paths are taken: ids in the parameter positions still route by id."""
    register_workflow(wait_workflow("routing_by_id", "hold_ref"))
    workflow_id = start("routing_by_id")
    assert call_api("GET", f"/api/workflow/{workflow_id}").status == 200
    assert call_api("PUT", f"/api/workflow/{workflow_id}/pause").status == 200
    # `search` is a workflow id nowhere: Conductor's search route answers.
    searched = call_api("GET", "/api/workflow/search")
    assert searched.status == 200 and set(searched.json()) == {"totalHits", "results"}
