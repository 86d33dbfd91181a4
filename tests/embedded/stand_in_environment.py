"""A stand-in Lambda handler for the environment pool's tests: it crashes, raises, waits for a
wake-up or sends one, as its event asks."""

from __future__ import annotations

import os
from typing import Any

from baton import wakeup

WAIT_SECONDS = 20.0


def handler(event: dict[str, Any], context: Any) -> Any:
    action = event.get("action")
    key = wakeup.signal_key(str(event.get("task_type", "")), None)
    if action == "crash":
        os._exit(3)
    if action == "raise":
        raise ValueError("asked to raise")
    if action == "wait":
        # Generation 0 is where every fresh environment starts: any notification counts.
        woken = wakeup.work_signal.wait([key], {key: 0}, WAIT_SECONDS)
        since = wakeup.work_signal.candidates_since(key, 0)
        return {"woken": woken, "tasks": [c.task_key for c in since], "pid": os.getpid()}
    if action == "notify":
        wakeup.work_signal.notify({key: [wakeup.Candidate("workflow", str(event["task_key"]))]})
    return {"pid": os.getpid(), "function": context.function_name}
