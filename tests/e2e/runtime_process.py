"""`python -m embedded` in a subprocess, for end-to-end tests.

The runtime runs in its own process because Baton's pynamodb models read AWS_ENDPOINT_URL when
they are imported, and the test process imports Baton's modules while collecting other tests.
Its stdout and stderr are read on a thread (so a full pipe never blocks it) and kept, so a
failure can show what it printed.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TICK_SECONDS = "2"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
TUTORIAL_WORKFLOW = "event_testing"
TUTORIAL_EVENT = "sqs:conductor_doug_testing"

_API_LINE = re.compile(r"^\s*API\s+(?P<url>https?://\S+/api)\s*$")
_MOTO_LINE = re.compile(r"^\s*DynamoDB/SQS\s+(?P<url>https?://\S+)")
# Variables that would point the runtime at something other than its own moto server and
# the tutorial's queue.
_CLEARED_VARIABLES = ("AWS_ENDPOINT_URL", "BATON_EVENT_QUEUES", "PORT", "BATON_TICK_SECONDS")
# The key the runtime's moto server accepts (random per run unless set): tests read its queues.
ACCESS_KEY_ID = "BATONE2ETESTS"

T = TypeVar("T")


class RuntimeDidNotStart(Exception):
    pass


@dataclass
class RuntimeProcess:
    """A running `python -m embedded`: its API URL, moto's URL and what it has printed."""

    process: subprocess.Popen[str]
    api_url: str = ""
    moto_url: str = ""
    _lines: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reader: threading.Thread | None = None

    def output(self, last: int | None = None) -> str:
        with self._lock:
            lines = self._lines if last is None else self._lines[-last:]
            return "".join(lines)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self._lines.append(line)

    def stop(self) -> None:
        """SIGINT (the runtime's clean stop), then SIGKILL if it has not ended in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_SECONDS)
        if self._reader is not None:
            self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def sqs(self) -> Any:
        """A boto3 SQS client on the runtime's moto server."""
        return boto3.client(
            "sqs",
            endpoint_url=self.moto_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=ACCESS_KEY_ID,
        )


def _die_with_parent() -> None:
    """In the child: receive SIGTERM (a clean stop for the runtime) if the test process dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _start(runtime: RuntimeProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not (runtime.api_url and runtime.moto_url):
        if runtime.process.poll() is not None:
            raise RuntimeDidNotStart(f"it exited with status {runtime.process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeDidNotStart(f"no banner within {START_TIMEOUT_SECONDS:.0f} s")
        for line in runtime.output().splitlines():
            if match := _API_LINE.match(line):
                runtime.api_url = match["url"]
            elif match := _MOTO_LINE.match(line):
                runtime.moto_url = match["url"]
        time.sleep(0.1)
    # The tutorial's definitions are registered before the banner; wait for them regardless.
    ready = (
        f"{runtime.api_url}/metadata/workflow/{TUTORIAL_WORKFLOW}",
        f"{runtime.api_url}/event/{TUTORIAL_EVENT.replace(':', '%3A')}",
    )
    while not all(_get_status(url) == 200 for url in ready):
        if runtime.process.poll() is not None:
            raise RuntimeDidNotStart(f"it exited with status {runtime.process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeDidNotStart(f"{ready[0]} did not answer 200 in time")
        time.sleep(0.2)


def start_runtime(
    tick_seconds: str = TICK_SECONDS,
    *,
    data_dir: Path | None = None,
    port: int = 0,
    extra_env: dict[str, str] | None = None,
) -> RuntimeProcess:
    """Start `python -m embedded` on a free port (or `port`) and wait until the tutorial is
    registered; in memory unless given a `data_dir`.

    Raises RuntimeDidNotStart, with everything the process printed, if it does not come up;
    the process is stopped in that case.
    """
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED_VARIABLES}
    env |= {
        "PORT": str(port),
        "BATON_TICK_SECONDS": tick_seconds,
        "PYTHONUNBUFFERED": "1",
        "BATON_DATA_DIR": str(data_dir) if data_dir else "",
        "BATON_LOCAL_ACCESS_KEY_ID": ACCESS_KEY_ID,
        **(extra_env or {}),
    }
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.setdefault("AWS_DEFAULT_REGION", REGION)
    process = subprocess.Popen(
        [sys.executable, "-m", "embedded"],
        cwd=REPOSITORY_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    runtime = RuntimeProcess(process=process)
    runtime._reader = threading.Thread(target=runtime._read, name="embedded-output", daemon=True)
    runtime._reader.start()
    try:
        _start(runtime)
    except BaseException as error:
        runtime.stop()
        if isinstance(error, RuntimeDidNotStart):
            raise RuntimeDidNotStart(
                f"`python -m embedded` did not start: {error}. It printed:\n{runtime.output()}"
            ) from None
        raise
    return runtime


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    runtime: RuntimeProcess | None = None,
    interval: float = 0.5,
) -> T:
    """Call `probe` until it returns something other than None; fail with `what` after
    `timeout` seconds, showing the tail of the runtime's output."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            tail = f"\nThe runtime's last output:\n{runtime.output(last=40)}" if runtime else ""
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}{tail}")
        time.sleep(interval)


def queue_depth(runtime: RuntimeProcess, queue_name: str) -> int:
    """Messages in a queue: visible, in flight and delayed."""
    sqs = runtime.sqs()
    try:
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
    finally:
        sqs.close()
    return sum(int(value) for value in attributes.values())


def http_json(method: str, url: str, body: Any = None) -> tuple[int, str, Any]:
    """One request with the standard library: (status, content type, parsed JSON or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, content_type, raw = (
                int(response.status),
                response.headers.get("Content-Type", ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as error:
        status, content_type, raw = (
            error.code,
            error.headers.get("Content-Type", ""),
            error.read().decode(),
        )
    parsed: Any = json.loads(raw) if content_type.startswith("application/json") and raw else raw
    return status, content_type, parsed
