"""What workers leave behind: poll data (who polled which queue, when) and task logs.

Both live in the metadata table: poll data under `POLL_DATA` / `<task type>#<domain>` (one
item per queue, the last poll's worker and time, as Conductor keeps it), task logs under
`TASK_LOG#<task id>` / `<created time>#<n>`, expiring with their workflows' retention.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from baton.store.models import MetadataItem

POLL_DATA = "POLL_DATA"
RATE_LIMIT = "RATE_LIMIT"
# Conductor's activeWorkerLastPollTimeout: a domain whose worker polled this recently is live.
ACTIVE_WORKER_LAST_POLL_MS = 10_000
# Each process records a worker's polls of a queue at most this often: a poll every 100 ms
# must not be a write every 100 ms. Well inside ACTIVE_WORKER_LAST_POLL_MS.
POLL_DATA_WRITE_INTERVAL_MS = 5_000
# A task keeps at most this many log entries of at most this many characters each.
MAX_LOG_ENTRIES_PER_TASK = 100
MAX_LOG_CHARACTERS = 4_096
LOG_RETENTION = timedelta(days=30)


def _log_partition(task_id: str) -> str:
    return f"TASK_LOG#{task_id}"


def _queue_key(task_type: str, domain: str | None) -> str:
    return f"{task_type}#{domain or ''}"


class PollRecorder:
    """Records polls, at most once per POLL_DATA_WRITE_INTERVAL_MS per (queue, worker) and
    process, and answers whether a queue has a live poller."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: dict[tuple[str, str], int] = {}

    def record(self, task_type: str, domain: str | None, worker_id: str | None, now: int) -> None:
        key = (_queue_key(task_type, domain), worker_id or "")
        with self._lock:
            if now - self._written.get(key, -POLL_DATA_WRITE_INTERVAL_MS) < (
                POLL_DATA_WRITE_INTERVAL_MS
            ):
                return
            self._written[key] = now
        body = {
            "queueName": task_type,
            "domain": domain,
            "workerId": worker_id,
            "lastPollTime": now,
        }
        MetadataItem(
            POLL_DATA,
            key[0],
            body=json.dumps({k: v for k, v in body.items() if v is not None}),
            update_time=now,
        ).save()

    def is_live(self, task_type: str, domain: str, now: int) -> bool:
        try:
            item = MetadataItem.get(POLL_DATA, _queue_key(task_type, domain))
        except DoesNotExist:
            return False
        return now - int(item.update_time or 0) <= ACTIVE_WORKER_LAST_POLL_MS


def poll_data(task_type: str | None = None) -> list[dict[str, Any]]:
    """Conductor's PollData list: of one task type's queues, or of every queue."""
    condition = MetadataItem.sk.startswith(f"{task_type}#") if task_type is not None else None
    found = []
    for item in MetadataItem.query(POLL_DATA, condition):
        data = json.loads(item.body or "{}")
        if task_type is None or data.get("queueName") == task_type:
            found.append(data)
    return found


def append_logs(task_id: str, texts: list[str], now: int) -> int:
    """Keep `texts` as the task's log entries (each cut to MAX_LOG_CHARACTERS); entries past
    MAX_LOG_ENTRIES_PER_TASK are dropped. Returns how many were kept."""
    if not texts:
        return 0
    held = MetadataItem.count(_log_partition(task_id), limit=MAX_LOG_ENTRIES_PER_TASK)
    room = max(0, MAX_LOG_ENTRIES_PER_TASK - held)
    kept = texts[:room]
    expires_at = datetime.now(UTC) + LOG_RETENTION
    with MetadataItem.batch_write() as batch:
        for n, text in enumerate(kept):
            entry = {"log": text[:MAX_LOG_CHARACTERS], "taskId": task_id, "createdTime": now}
            batch.save(
                MetadataItem(
                    _log_partition(task_id),
                    # Time, then place among the task's entries: oldest first, even within a ms.
                    f"{now:013d}#{held + n:03d}#{uuid.uuid4().hex[:8]}",
                    body=json.dumps(entry),
                    update_time=now,
                    expires_at=expires_at,
                )
            )
    return len(kept)


def task_logs(task_id: str) -> list[dict[str, Any]]:
    """Conductor's TaskExecLog list for a task, oldest first."""
    return [
        json.loads(item.body or "{}")
        for item in MetadataItem.query(_log_partition(task_id), consistent_read=True)
    ]


def take_rate_slot(task_name: str, per_frequency: int, frequency_seconds: int, now: int) -> bool:
    """One of the `per_frequency` hand-outs a task type may have per `frequency_seconds`
    window (TaskDef rateLimitPerFrequency / rateLimitFrequencyInSeconds); False when the
    current window has none left. Windows are fixed and counted with conditional writes, so
    concurrent polls never hand out more than the limit in one window."""
    window_ms = max(1, frequency_seconds) * 1000
    window = now - now % window_ms
    target = MetadataItem(RATE_LIMIT, task_name)
    try:
        target.update(
            actions=[MetadataItem.counter.add(1)],
            condition=(MetadataItem.update_time == window) & (MetadataItem.counter < per_frequency),
        )
        return True
    except UpdateError as error:
        if not _condition_failed(error):
            raise
    try:
        target.update(
            actions=[
                MetadataItem.update_time.set(window),
                MetadataItem.counter.set(1),
                MetadataItem.expires_at.set(datetime.now(UTC) + timedelta(days=1)),
            ],
            condition=MetadataItem.pk.does_not_exist() | (MetadataItem.update_time < window),
        )
        return per_frequency >= 1
    except UpdateError as error:
        if not _condition_failed(error):
            raise
    return False


def _condition_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"
