"""The tutorial's workflow and event handler, registered through Baton's own API at start."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parent / "seed"
WORKFLOW_FILE = SEED_DIR / "event_testing.json"
EVENT_HANDLER_FILE = SEED_DIR / "complete_task_event.json"
# Each file is sent as it is, unchanged, to the endpoint Conductor's users send it to.
REGISTRATIONS = (("/metadata/workflow", WORKFLOW_FILE), ("/event", EVENT_HANDLER_FILE))


class TutorialNotRegistered(Exception):
    """The API refused a definition for a reason other than that it exists already."""


def workflow_name() -> str:
    name: str = json.loads(WORKFLOW_FILE.read_text())["name"]
    return name


def event_handler_name() -> str:
    name: str = json.loads(EVENT_HANDLER_FILE.read_text())["name"]
    return name


def event_queue_name() -> str | None:
    """The SQS queue the tutorial's handler listens on (`sqs:<queue>`), which must exist."""
    provider, _, queue = json.loads(EVENT_HANDLER_FILE.read_text())["event"].partition(":")
    return queue if provider == "sqs" else None


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def register(api_url: str, *, timeout: float = 30.0) -> None:
    """POST the workflow and the event handler; 409 (already registered) counts as done."""
    for path, file in REGISTRATIONS:
        status, answer = _post(api_url + path, file.read_bytes(), timeout)
        if not (200 <= status < 300 or status == 409):
            raise TutorialNotRegistered(
                f"POST {api_url}{path} ({file.name}) answered {status}: {answer}"
            )
