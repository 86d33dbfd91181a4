"""moto's server for DynamoDB and SQS: guarded, serialized, durable, and tied to the runtime.

- **Guarded.** It answers only requests signed with this run's access key (a random one, which
  only the runtime and what it starts know), and never its `/moto-api` (whose reset wipes
  every table): anyone else on the machine gets a 403.
- **Serialized.** moto keeps no locks: two conditional writes handled on two threads at once
  could both see the condition hold. DynamoDB applies each request atomically, and Baton's
  commits rely on it, so DynamoDB requests are applied one at a time here. SQS requests (long
  polls among them) stay concurrent.
- **Durable.** With a data directory, every change is journalled before it is answered and
  the state is rebuilt from the journal on start (see embedded.persistence).
- **Tied.** In its own process (so it does not contend with the runtime for one interpreter
  lock), it reads its standard input, a pipe from the runtime: when the runtime ends, however
  it ends, the pipe closes and moto's server exits.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from embedded import moto_patches
from embedded.functions import FairLock
from embedded.persistence import COMPACT_AFTER_BYTES, Journal, Persistence, Record, Snapshot

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The environment of moto's process: the access key it accepts, the data directory (none: in
# memory), how often expired items are deleted.
ACCESS_KEY_VARIABLE = "BATON_LOCAL_ACCESS_KEY_ID"
DATA_DIR_VARIABLE = "BATON_MOTO_DATA_DIR"
# How long a clean stop may take (moto writes its snapshot).
STOP_TIMEOUT_SECONDS = 60
# For tests: the journal size that starts a compaction.
COMPACT_AFTER_VARIABLE = "BATON_JOURNAL_COMPACT_BYTES"

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_QUERY_CREDENTIAL = re.compile(r"(?:^|&)X-Amz-Credential=([^%/&]+)(?:%2F|/)", re.IGNORECASE)

# Requests that change nothing (reads, receives) or that the journal records in its own way.
_DYNAMODB_WRITES = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "CreateTable",
        "DeleteTable",
        "UpdateTable",
        "UpdateTimeToLive",
        "TagResource",
        "UntagResource",
    }
)
_SQS_QUEUE_CHANGES = frozenset(
    {"CreateQueue", "DeleteQueue", "SetQueueAttributes", "PurgeQueue", "TagQueue", "UntagQueue"}
)
_SQS_SENDS = frozenset({"SendMessage", "SendMessageBatch"})
_SQS_DELETES = frozenset({"DeleteMessage", "DeleteMessageBatch"})
# Headers a replayed request does without: they belong to the connection or this run.
_UNREPLAYED_HEADERS = frozenset({"HTTP_CONNECTION", "HTTP_CONTENT_LENGTH", "HTTP_USER_AGENT"})


def new_access_key_id() -> str:
    """A random access key for one run (not 12 digits, which moto would read as an account)."""
    return "BATON" + secrets.token_hex(8).upper()


def _forbidden(start_response: Callable[..., Any], message: str) -> list[bytes]:
    body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
    start_response(
        "403 Forbidden",
        [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))],
    )
    return [body]


class AccessGuard:
    """WSGI middleware: only this run's access key, and never moto's own API."""

    def __init__(self, app: WsgiApp, access_key_id: str) -> None:
        self._app = app
        self._access_key_id = access_key_id

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/moto-api"):
            return _forbidden(start_response, "moto's API is not served here")
        match = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        query = _QUERY_CREDENTIAL.search(str(environ.get("QUERY_STRING", "")))
        key = match.group(1) if match else query.group(1) if query else None
        if key is None or not secrets.compare_digest(key, self._access_key_id):
            return _forbidden(
                start_response, "Sign requests with the access key this Baton runtime was given"
            )
        return self._app(environ, start_response)


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _region_and_service(environ: dict[str, Any]) -> tuple[str, str]:
    match = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    return (match.group(2), match.group(3)) if match else ("us-east-1", "")


def _queue_name(request: dict[str, Any]) -> str:
    return str(request.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]


class DurableApp:
    """WSGI middleware over moto's app: DynamoDB one request at a time, and with a
    `Persistence`, every change journalled and fsync'd before it is answered."""

    def __init__(
        self,
        app: WsgiApp,
        persistence: Persistence | None = None,
        *,
        dynamodb_app: WsgiApp | None = None,
    ) -> None:
        self._app = app
        # What serves DynamoDB's requests (unset: `app`).
        self._dynamodb_app = dynamodb_app or app
        self._persistence = persistence
        # DynamoDB requests, one at a time, in the order they came.
        self._dynamodb_lock = FairLock()
        # SQS sends and deletes (so a message's delete is never journalled before its send)
        # and other changes (S3's), so that a snapshot sees no change half made.
        self._sqs_lock = threading.Lock()
        self._compacting = threading.Lock()
        self._compact_after_bytes = int(
            os.environ.get(COMPACT_AFTER_VARIABLE) or COMPACT_AFTER_BYTES
        )
        # Requests journalled since the snapshot that a snapshot of tables and messages does
        # not cover (queues, S3 objects): the next snapshot keeps them.
        self._kept_requests: list[dict[str, Any]] = []

    # -- serving ------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        service, _, operation = target.partition(".")
        if service.startswith("DynamoDB"):
            return self._dynamodb(environ, start_response, operation)
        if service == "AmazonSQS":
            return self._sqs(environ, start_response, operation)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if self._persistence is None or method in ("GET", "HEAD", "OPTIONS"):
            return self._app(environ, start_response)
        # Anything else that changes state (S3's PUT, POST and DELETE): kept as the request.
        body = _read_body(environ)
        ticket = None
        with self._sqs_lock:
            status, response = self._call(environ, start_response)
            if status < 300:
                entry = self._request_entry(environ, body)
                self._kept_requests.append(entry)
                ticket = self._journal_only(Record("request", entry))
        self._wait_durable(ticket)
        return response

    def _call(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        app: WsgiApp | None = None,
    ) -> tuple[int, list[bytes]]:
        """Run moto's app (or `app`) to the end (moto may build its answer lazily); the status
        code."""
        seen: list[int] = []

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        response = list((app or self._app)(environ, capture))
        return (seen[0] if seen else 500), response

    def _dynamodb(
        self, environ: dict[str, Any], start_response: Callable[..., Any], operation: str
    ) -> list[bytes]:
        if self._persistence is None or operation not in _DYNAMODB_WRITES:
            with self._dynamodb_lock:
                _, response = self._call(environ, start_response, self._dynamodb_app)
            self._wait_durable(None)
            return response
        body = _read_body(environ)
        with self._dynamodb_lock:
            status, response = self._call(environ, start_response, self._dynamodb_app)
            ticket = None
            if status < 300:
                ticket = self._journal_only(Record("request", self._request_entry(environ, body)))
        self._wait_durable(ticket)
        return response

    def _sqs(
        self, environ: dict[str, Any], start_response: Callable[..., Any], operation: str
    ) -> Iterable[bytes]:
        if self._persistence is None or not (
            operation in _SQS_QUEUE_CHANGES or operation in _SQS_SENDS or operation in _SQS_DELETES
        ):
            return self._app(environ, start_response)
        body = _read_body(environ)
        request = json.loads(body or b"{}")
        region, _ = _region_and_service(environ)
        queue_name = _queue_name(request)
        with self._sqs_lock:
            if operation in _SQS_DELETES:
                handles = (
                    [request.get("ReceiptHandle", "")]
                    if operation == "DeleteMessage"
                    else [entry.get("ReceiptHandle", "") for entry in request.get("Entries", [])]
                )
                message_ids = moto_patches.message_ids_for(region, queue_name, handles)
            status, response = self._call(environ, start_response)
            ticket = None
            if status < 300:
                if operation in _SQS_QUEUE_CHANGES:
                    entry = self._request_entry(environ, body)
                    self._kept_requests.append(entry)
                    ticket = self._journal_only(Record("request", entry))
                elif operation in _SQS_SENDS:
                    answer = json.loads(b"".join(response) or b"{}")
                    sent = [answer["MessageId"]] if "MessageId" in answer else []
                    sent += [entry["MessageId"] for entry in answer.get("Successful", [])]
                    messages = moto_patches.stored_messages(region, queue_name, sent)
                    record = {"region": region, "queue": queue_name, "messages": messages}
                    ticket = self._journal_only(Record("send", record))
                else:
                    gone = moto_patches.absent_message_ids(region, queue_name, message_ids)
                    if gone:
                        record = {"region": region, "queue": queue_name, "ids": sorted(gone)}
                        ticket = self._journal_only(Record("delete", record))
        self._wait_durable(ticket)
        return response

    # -- the journal ----------------------------------------------------------------------------

    @staticmethod
    def _request_entry(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
        headers = {
            name[5:].replace("_", "-").title(): str(value)
            for name, value in environ.items()
            if name.startswith("HTTP_") and name not in _UNREPLAYED_HEADERS
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = str(environ["CONTENT_TYPE"])
        return {
            "method": str(environ.get("REQUEST_METHOD", "POST")),
            "path": str(environ.get("PATH_INFO", "/")),
            "query": str(environ.get("QUERY_STRING", "")),
            "headers": headers,
            "body": body,
        }

    def _journal_only(self, record: Record) -> tuple[Journal, int] | None:
        """Append a record (callers hold the lock of its kind); the ticket to wait on."""
        if self._persistence is None or self._persistence.journal is None:
            return None
        journal = self._persistence.journal
        return journal, journal.append(record)

    def _wait_durable(self, ticket: tuple[Journal, int] | None) -> None:
        """Wait until the ticket's record (or, for a read, everything written so far) is on
        disk: an answer never shows what a crash could still take back. A journal closed by
        a compaction meanwhile was fsync'd when it closed."""
        if self._persistence is None:
            return
        if ticket is None:
            journal = self._persistence.journal
            if journal is None:
                return
            ticket = (journal, journal.written)
        journal, sequence = ticket
        journal.wait_durable(sequence)
        current = self._persistence.journal
        if (
            current is not None
            and current.size > self._compact_after_bytes
            and self._compacting.acquire(blocking=False)
        ):
            threading.Thread(target=self._compact_in_background, daemon=True).start()

    def _compact_in_background(self) -> None:
        try:
            self.compact()
        except Exception:
            logger.exception("Compacting the journal failed; it keeps growing until it works")
        finally:
            self._compacting.release()

    # -- start and compaction ------------------------------------------------------------------

    def restore(self) -> int:
        """Rebuild moto's state from the data directory, then compact; the records replayed."""
        if self._persistence is None:
            return 0
        snapshot, records = self._persistence.load()
        for entry in snapshot.requests:
            self._replay_request(entry)
        moto_patches.restore_tables(snapshot.tables)
        for key, messages in snapshot.messages.items():
            region, _, queue = key.partition("/")
            moto_patches.add_messages(region, queue, messages)
        self._kept_requests = list(snapshot.requests)
        count = 0
        for record in records:
            count += 1
            if record.kind == "request":
                self._replay_request(record.data)
                if not str(record.data["headers"].get("X-Amz-Target", "")).startswith("DynamoDB"):
                    self._kept_requests.append(record.data)
            elif record.kind == "send":
                moto_patches.add_messages(
                    record.data["region"], record.data["queue"], record.data["messages"]
                )
            elif record.kind == "delete":
                moto_patches.remove_messages(
                    record.data["region"], record.data["queue"], set(record.data["ids"])
                )
        self.compact()
        return count

    def compact(self) -> None:
        """A snapshot of everything so far, and a new, empty journal."""
        if self._persistence is None:
            return
        with self._dynamodb_lock, self._sqs_lock:
            snapshot = Snapshot(
                tables=moto_patches.all_tables(),
                messages=moto_patches.all_messages(),
                requests=list(self._kept_requests),
            )
            self._persistence.compact(snapshot)

    def _replay_request(self, entry: dict[str, Any]) -> None:
        from werkzeug.test import EnvironBuilder

        builder = EnvironBuilder(
            method=entry["method"],
            path=entry["path"],
            query_string=entry["query"] or None,
            headers=entry["headers"],
            data=entry["body"],
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        dynamodb = str(entry["headers"].get("X-Amz-Target", "")).startswith("DynamoDB")
        app = self._dynamodb_app if dynamodb else self._app
        status, _ = self._call(environ, lambda *_args: None, app)
        if status >= 300:
            # A request that succeeded once fails again only if the state already has its effect
            # (a queue created by an earlier run); nothing else depends on it.
            logger.debug("Replaying %s %s answered %d", entry["method"], entry["path"], status)


class MotoServer:
    """moto's WSGI app on a werkzeug server in a background thread."""

    def __init__(
        self,
        host: str,
        port: int = 0,
        *,
        access_key_id: str | None = None,
        data_dir: Path | None = None,
    ) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from embedded.wsgi_server import KeepAliveWsgiServer

        moto_patches.apply()
        persistence = Persistence(data_dir) if data_dir is not None else None
        self.state = DurableApp(
            DomainDispatcherApplication(create_backend_app),
            persistence,
            dynamodb_app=moto_patches.serve_dynamodb,
        )
        self.replayed = self.state.restore()
        app: WsgiApp = (
            self.state if access_key_id is None else AccessGuard(self.state, access_key_id)
        )
        self._server = KeepAliveWsgiServer(host, port, app)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> MotoServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()


class MotoProcess:
    """moto's server in a child process that ends when this process does: on a machine with
    few cores the runtime and moto then stop contending for one interpreter's lock.

    With an `access_key_id` it answers only requests signed with it (tests that play several
    callers with keys of their own start it without); with a `data_dir` it is durable."""

    def __init__(
        self, host: str, *, access_key_id: str | None = None, data_dir: Path | None = None
    ) -> None:
        self._host = host
        self._access_key_id = access_key_id
        self._data_dir = data_dir
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> MotoProcess:
        env = dict(os.environ)
        env[ACCESS_KEY_VARIABLE] = self._access_key_id or ""
        env[DATA_DIR_VARIABLE] = str(self._data_dir) if self._data_dir else ""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "embedded.moto_server", self._host],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"moto's server did not start: {line!r}")
        self.url = line
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            # It writes a snapshot before it exits.
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
        self._process = None


def _exit_when_parent_ends() -> None:
    """Standard input is a pipe from the runtime; it reaches its end when the runtime ends."""
    try:
        while sys.stdin.buffer.read(65536):
            pass
    finally:
        # Every acknowledged change is already on disk: nothing is left to save.
        os._exit(0)


def _serve(host: str) -> None:
    import signal

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    data_dir = os.environ.get(DATA_DIR_VARIABLE) or None
    server = MotoServer(
        host,
        access_key_id=os.environ.get(ACCESS_KEY_VARIABLE) or None,
        data_dir=Path(data_dir) if data_dir else None,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    threading.Thread(target=_exit_when_parent_ends, name="parent-watch", daemon=True).start()
    from embedded.expiry import Expiry

    expiry = Expiry(server.state)
    expiry.start()
    server.start()
    print(server.url, flush=True)
    stopped.wait()
    expiry.stop()
    server.stop()
    try:
        # A clean stop leaves a snapshot, so the next start loads it instead of replaying.
        server.state.compact()
    except Exception:
        logging.getLogger(__name__).exception("No snapshot at stop; the journal is replayed")
    # The parent-watch thread is blocked reading standard input: end without waiting for it.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    _serve(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1")
