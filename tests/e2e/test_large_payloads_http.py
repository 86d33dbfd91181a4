"""A payload too large for a DynamoDB item, over HTTP against `python -m embedded`: the local
runtime creates the payload bucket in moto's server and the handlers keep the payload there."""

from __future__ import annotations

import pytest

from tests.e2e.runtime_process import RuntimeProcess, http_json

pytestmark = pytest.mark.slow

HOLD = {
    "name": "e2e_large_payload",
    "version": 1,
    "tasks": [{"name": "hold", "taskReferenceName": "hold", "type": "WAIT"}],
}


def test_a_large_input_and_output_round_trip_through_the_local_runtime(
    runtime: RuntimeProcess,
) -> None:
    api = runtime.api_url
    assert http_json("POST", f"{api}/metadata/workflow", HOLD)[0] == 200
    blob = {"rows": [{"i": i, "text": "żółw " + "x" * 1000} for i in range(600)]}
    status, _, workflow_id = http_json("POST", f"{api}/workflow/e2e_large_payload", {"b": blob})
    assert status == 200, workflow_id

    status, _, _ = http_json("POST", f"{api}/tasks/{workflow_id}/hold/COMPLETED", {"r": blob})
    assert status == 200

    status, _, workflow = http_json("GET", f"{api}/workflow/{workflow_id}")
    assert status == 200
    assert workflow["status"] == "COMPLETED"
    assert workflow["input"] == {"b": blob}
    assert workflow["tasks"][0]["outputData"] == {"r": blob}
