"""A crash between writing a large payload to S3 and the commit that refers to it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from baton.store import payloads
from tests.reliability.support import register_workflow, start, wait_workflow, workflow
from tests.reliability.test_crashes import EnvironmentDied
from tests.runtime.conftest import Aws
from tests.runtime.lambda_events import call_api


def payload_keys(workflow_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(
        Bucket=payloads.DEFAULT_BUCKET, Prefix=f"workflows/{workflow_id}/"
    )
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_a_crash_after_the_object_write_leaves_the_workflow_as_it_was_and_the_retry_lands(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_workflow(wait_workflow("reliability_large_payload", "hold_ref"))
    workflow_id = start("reliability_large_payload")
    before = workflow(workflow_id)
    output = {"blob": "x" * (1024 * 1024), "more": ["ż", 1, None]}
    write = payloads.PayloadStore.write
    crashes: list[int] = []

    def write_then_die(self: payloads.PayloadStore, objects: Any, workflow: str) -> None:
        write(self, objects, workflow)
        if objects and not crashes:
            crashes.append(len(objects))
            raise EnvironmentDied("between writing the payload and the commit")

    monkeypatch.setattr(payloads.PayloadStore, "write", write_then_die)

    with pytest.raises(EnvironmentDied):
        call_api("POST", f"/api/tasks/{workflow_id}/hold_ref/COMPLETED", output)
    assert crashes == [1]
    # The object is there but nothing refers to it: the workflow reads exactly as before.
    (orphan,) = payload_keys(workflow_id)
    assert workflow(workflow_id) == before

    # A new environment (nothing cached) retries: the same content, the same object.
    from baton import runtime

    runtime.baton.cache_clear()
    retried = call_api("POST", f"/api/tasks/{workflow_id}/hold_ref/COMPLETED", output)
    assert retried.status == 200, retried.body[:500]
    assert payload_keys(workflow_id) == [orphan]
    after = workflow(workflow_id)
    assert after["status"] == "COMPLETED"
    assert after["tasks"][0]["outputData"] == output


def test_a_reference_whose_object_cannot_be_written_is_never_committed(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_workflow(wait_workflow("reliability_payload_unwritable", "hold_ref"))
    workflow_id = start("reliability_payload_unwritable")
    before = workflow(workflow_id)

    def refuse(self: payloads.PayloadStore, objects: Any, workflow: str) -> None:
        if objects:
            raise ConnectionError("S3 cannot be reached")

    monkeypatch.setattr(payloads.PayloadStore, "write", refuse)
    response = call_api(
        "POST", f"/api/tasks/{workflow_id}/hold_ref/COMPLETED", {"blob": "x" * 500_000}
    )

    # The caller is told to try again; the workflow holds no reference to a missing object.
    assert response.status == 500 and response.json()["retryable"] is True
    assert workflow(workflow_id) == before
    assert payload_keys(workflow_id) == []
