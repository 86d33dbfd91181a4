"""Payloads too large for a DynamoDB item, kept in S3 and returned inline (baton.store.payloads)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from baton.service import MAX_TASK_PAYLOAD_BYTES, MAX_WORKFLOW_PAYLOAD_BYTES
from baton.store import payloads
from baton.store.payloads import PAYLOAD_REFERENCES, PayloadStore
from tests.runtime.lambda_events import ApiResponse, call_api

MB = 1024 * 1024
DYNAMODB_ITEM_BYTES = 400 * 1024

FLOW = {
    "name": "payload_flow",
    "version": 1,
    "tasks": [
        {
            "name": "produce",
            "taskReferenceName": "produce",
            "type": "SIMPLE",
            "inputParameters": {"label": "${workflow.input.label}"},
        },
        {
            "name": "consume",
            "taskReferenceName": "consume",
            "type": "SIMPLE",
            "inputParameters": {"fromProducer": "${produce.output.result}"},
        },
    ],
}


def blob(size: int, seed: str) -> dict[str, Any]:
    """A JSON value of about `size` bytes: nesting, numbers, escapes and non-ASCII text."""
    line = f'{seed} żółw 🐢 "quoted" \\ ' + "abcdefghij" * 100
    rows = [
        {"i": i, "n": i / 7, "ok": True, "none": None, "line": line} for i in range(size // 1100)
    ]
    return {"seed": seed, "rows": rows}


def stored_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def ok(response: ApiResponse) -> ApiResponse:
    assert response.status == 200, response.body[:500]
    return response


def objects(prefix: str = "workflows/") -> dict[str, dict[str, Any]]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=payloads.DEFAULT_BUCKET, Prefix=prefix)
    return {item["Key"]: item for item in listed.get("Contents", [])}


def tags(key: str) -> dict[str, str]:
    s3 = boto3.client("s3")
    found = s3.get_object_tagging(Bucket=payloads.DEFAULT_BUCKET, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in found}


def items(workflow_id: str) -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb")
    workflow = dynamodb.get_item(
        TableName="baton-workflows", Key={"workflowId": {"S": workflow_id}}
    )
    tasks = dynamodb.query(
        TableName="baton-tasks",
        KeyConditionExpression="workflowId = :w",
        ExpressionAttributeValues={":w": {"S": workflow_id}},
    )
    return [workflow["Item"], *tasks["Items"]]


def item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name) + len(json.dumps(value)) for name, value in item.items())


def poll(task_type: str) -> dict[str, Any]:
    task: dict[str, Any] = ok(call_api("GET", f"/api/tasks/poll/{task_type}")).json()
    return task


def complete(task: dict[str, Any], output: dict[str, Any]) -> ApiResponse:
    return call_api(
        "POST",
        "/api/tasks",
        {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": output,
        },
    )


@pytest.fixture
def registered(aws):
    ok(call_api("POST", "/api/metadata/workflow", FLOW))
    return aws


# -- the codec ---------------------------------------------------------------------------------


def test_a_body_that_fits_is_stored_whole_and_writes_nothing():
    body = {"taskId": "t", "inputData": {"a": 1}, "outputData": {"b": "x" * 1000}}
    stored = payloads.split(body, payloads.TASK_PAYLOAD_FIELDS, "wf")
    assert stored.body is body
    assert stored.objects == {}
    assert payloads.references(stored.body) == {}


def test_the_largest_fields_move_out_until_the_rest_fits():
    body = {
        "taskId": "t",
        "inputData": {"small": "y" * 200},
        "outputData": {"big": "x" * 2000},
    }
    stored = payloads.split(body, payloads.TASK_PAYLOAD_FIELDS, "wf", inline_limit=1000)
    # Only the output had to move: without it the body fits.
    assert set(payloads.references(stored.body)) == {"outputData"}
    assert "outputData" not in stored.body
    assert stored.body["inputData"] == body["inputData"]
    (key,) = stored.objects
    assert key == payloads.object_key("wf", stored.objects[key])
    assert key.startswith("workflows/wf/")
    assert payloads.join(stored.body, stored.objects) == body


def test_keys_are_the_content_hash_within_the_workflow():
    body = {"taskId": "t", "outputData": {"big": "x" * 2000}}
    first = payloads.split(body, payloads.TASK_PAYLOAD_FIELDS, "wf", inline_limit=100)
    again = payloads.split(dict(body), payloads.TASK_PAYLOAD_FIELDS, "wf", inline_limit=100)
    other = payloads.split(body, payloads.TASK_PAYLOAD_FIELDS, "other-wf", inline_limit=100)
    changed = payloads.split(
        {**body, "outputData": {"big": "z" * 2000}},
        payloads.TASK_PAYLOAD_FIELDS,
        "wf",
        inline_limit=100,
    )
    # A retried commit writes exactly the same object; another workflow never shares it.
    assert first.objects == again.objects
    assert set(first.objects).isdisjoint(other.objects)
    assert set(first.objects).isdisjoint(changed.objects)


def test_user_data_that_looks_like_a_reference_is_only_data():
    sneaky = {PAYLOAD_REFERENCES: {"outputData": "workflows/x/y"}}
    body = {"taskId": "t", "inputData": sneaky, "outputData": {}}
    stored = payloads.split(body, payloads.TASK_PAYLOAD_FIELDS, "wf")
    assert payloads.join(stored.body, {}) == body


def test_a_value_past_the_object_limit_is_refused_before_anything_is_written():
    body = {"taskId": "t", "outputData": {"big": "x" * (payloads.MAX_PAYLOAD_OBJECT_BYTES + 1)}}
    with pytest.raises(payloads.ItemTooLarge, match="more than"):
        payloads.split(body, payloads.TASK_PAYLOAD_FIELDS, "wf")


def test_the_store_reads_each_object_once_per_process(aws):
    store = PayloadStore()
    stored = payloads.split(
        {"taskId": "t", "outputData": blob(300 * 1024, "c")}, payloads.TASK_PAYLOAD_FIELDS, "wf"
    )
    store.write(stored.objects, "wf")
    store.write(stored.objects, "wf")  # known: not written twice
    assert store.puts == 1
    reader = PayloadStore()
    for _ in range(3):
        (joined,) = reader.join_all([stored.body], "wf")
        assert joined["outputData"] == blob(300 * 1024, "c")
    assert reader.gets == 1


# -- through the API ---------------------------------------------------------------------------


def test_large_input_and_output_round_trip_exactly_and_feed_the_next_task(registered):
    workflow_input = {"label": "large", "blob": blob(1 * MB, "input")}
    output = {"result": blob(2 * MB, "output")}
    workflow_id = ok(call_api("POST", "/api/workflow/payload_flow", workflow_input)).body

    assert stored_size(workflow_input) > 1 * MB and stored_size(output) > 2 * MB
    produce = poll("produce")
    assert produce["inputData"] == {"label": "large"}
    ok(complete(produce, output))

    workflow = ok(call_api("GET", f"/api/workflow/{workflow_id}")).json()
    assert workflow["input"] == workflow_input
    assert workflow["tasks"][0]["outputData"] == output
    assert workflow["tasks"][1]["inputData"] == {"fromProducer": output["result"]}
    consume = poll("consume")
    assert consume["inputData"] == {"fromProducer": output["result"]}
    task = ok(call_api("GET", f"/api/tasks/{produce['taskId']}")).json()
    assert task["outputData"] == output

    # Every item stays well within DynamoDB's 400 KB; the payloads are in S3.
    assert all(item_bytes(item) < DYNAMODB_ITEM_BYTES for item in items(workflow_id))
    stored = objects(f"workflows/{workflow_id}/")
    assert stored

    ok(complete(consume, {"done": True}))
    finished = ok(call_api("GET", f"/api/workflow/{workflow_id}")).json()
    assert finished["status"] == "COMPLETED"
    assert finished["input"] == workflow_input
    # The ending commit tags the workflow's objects for the lifecycle rule to expire.
    for key in objects(f"workflows/{workflow_id}/"):
        assert tags(key) == {payloads.ENDED_TAG: "true"}


def test_small_payloads_never_touch_s3(registered):
    from baton import runtime

    workflow_id = ok(call_api("POST", "/api/workflow/payload_flow", {"label": "small"})).body
    ok(complete(poll("produce"), {"result": blob(20 * 1024, "small")}))
    ok(complete(poll("consume"), {"done": True}))
    assert ok(call_api("GET", f"/api/workflow/{workflow_id}")).json()["status"] == "COMPLETED"
    store = runtime.baton().store.payloads
    assert (store.puts, store.gets) == (0, 0)
    assert objects() == {}


def test_a_start_input_over_the_limit_is_a_413_and_nothing_is_stored(registered):
    too_large = {"blob": "x" * MAX_WORKFLOW_PAYLOAD_BYTES}
    for response in (
        call_api("POST", "/api/workflow/payload_flow", too_large),
        call_api("POST", "/api/workflow", {"name": "payload_flow", "input": too_large}),
    ):
        assert response.status == 413, response.body[:300]
        body = response.json()
        assert set(body) == {"status", "message", "instance", "retryable"}
        assert body["status"] == 413 and body["retryable"] is False
        assert str(MAX_WORKFLOW_PAYLOAD_BYTES) in body["message"]
    dynamodb = boto3.client("dynamodb")
    assert dynamodb.scan(TableName="baton-workflows", Select="COUNT")["Count"] == 0
    assert objects() == {}


def test_a_task_output_over_the_limit_is_a_413_and_the_workflow_is_unchanged(registered):
    workflow_id = ok(call_api("POST", "/api/workflow/payload_flow", {"label": "small"})).body
    produce = poll("produce")
    before = ok(call_api("GET", f"/api/workflow/{workflow_id}")).json()

    response = complete(produce, {"blob": "x" * MAX_TASK_PAYLOAD_BYTES})

    assert response.status == 413, response.body[:300]
    assert str(MAX_TASK_PAYLOAD_BYTES) in response.json()["message"]
    assert ok(call_api("GET", f"/api/workflow/{workflow_id}")).json() == before
    assert objects() == {}


def test_a_workflow_larger_than_one_answer_is_a_clear_413_and_reads_in_parts(aws):
    steps = [{"name": "big", "taskReferenceName": f"big_{n}", "type": "SIMPLE"} for n in range(3)]
    ok(call_api("POST", "/api/metadata/workflow", {"name": "wide", "version": 1, "tasks": steps}))
    workflow_id = ok(call_api("POST", "/api/workflow/wide", {})).body
    task_ids = []
    for n in range(3):
        task = poll("big")
        ok(complete(task, {"part": blob(int(2.5 * MB), f"part-{n}")}))
        task_ids.append(task["taskId"])

    whole = call_api("GET", f"/api/workflow/{workflow_id}")

    assert whole.status == 413
    message = whole.json()["message"]
    assert "includeTasks=false" in message and "/api/tasks/" in message
    summary = ok(call_api("GET", f"/api/workflow/{workflow_id}", query={"includeTasks": "false"}))
    assert summary.json()["status"] == "COMPLETED"
    for n, task_id in enumerate(task_ids):
        task = ok(call_api("GET", f"/api/tasks/{task_id}")).json()
        assert task["outputData"] == {"part": blob(int(2.5 * MB), f"part-{n}")}


def test_a_poll_reads_the_tasks_payloads_only(registered):
    from baton import runtime

    workflow_input = {"label": "large", "blob": blob(1 * MB, "input")}
    ok(call_api("POST", "/api/workflow/payload_flow", workflow_input))
    runtime.baton.cache_clear()  # another environment: nothing cached

    produce = poll("produce")

    # The workflow's 1 MB input is in S3, but the poll's answer does not hold it.
    assert produce["inputData"] == {"label": "large"}
    assert runtime.baton().store.payloads.gets == 0
