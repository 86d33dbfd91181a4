"""Lambda's execution environments for one function: a pool of interpreter processes.

Lambda runs a function in as many execution environments as its concurrent invocations need,
each a process of its own that imports the handler once and serves one invocation at a time.
Baton's handlers keep per-invocation state in module globals (Powertools' resolver holds the
current event), so environments here are processes too, not threads: each runs
`python -m embedded.environments`, imports the handler, and serves the invocations the pool
hands it over a socket pair. Within one environment invocations are serialized, and one that
waits (a long poll, a synchronous execute) steps aside for the next, as in the single-process
runtime (see embedded.functions.released_while_idle). The pool hands each invocation to the
environment with the fewest in flight.

An environment that ends mid-invocation (a crash, a kill) fails the invocations it held, as
Lambda answers `Runtime.ExitError` to their callers, and the pool starts another in its place.
An environment's socket pair is its tie to the runtime: when the runtime ends, however it ends,
the environment reads the end of it and exits.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
_FRAME = struct.Struct(">I")
# How long an environment may take to import its handler.
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 5.0
# While every environment is being replaced, how often an invocation looks for a ready one.
READY_CHECK_SECONDS = 0.05


class EnvironmentCrashed(Exception):
    """The environment serving an invocation ended before it answered."""


class FunctionError(Exception):
    """The handler raised; the message names the exception, as Lambda's errorType does."""


def _write_frame(connection: socket.socket, lock: threading.Lock, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    with lock:
        connection.sendall(_FRAME.pack(len(data)) + data)


def _read_frame(stream: BinaryIO) -> Any | None:
    """The next frame, or None at the end of the stream (or of a frame cut short)."""
    header = stream.read(_FRAME.size)
    if len(header) < _FRAME.size:
        return None
    (length,) = _FRAME.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


class _Call:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: Exception | None = None


class Environment:
    """One environment process of a pool, and the invocations it has not answered yet."""

    def __init__(self, pool: FunctionPool, slot: int) -> None:
        self.pool = pool
        self.slot = slot
        self.member = f"{pool.name}-{slot}"
        self.ready = threading.Event()
        self.alive = True
        self._pending: dict[int, _Call] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._ids = itertools.count()
        ours, theirs = socket.socketpair()
        self._socket = ours
        self._stream: BinaryIO = ours.makefile("rb")
        command = [
            sys.executable,
            "-m",
            "embedded.environments",
            str(theirs.fileno()),
            pool.module,
            pool.name,
            pool.region,
            str(pool.timeout_seconds),
            self.member,
            str(pool.broadcast_dir or ""),
            "key-only" if pool.key_only_signing else "sigv4",
        ]
        try:
            self.process = subprocess.Popen(
                command, pass_fds=(theirs.fileno(),), cwd=ROOT, stdin=subprocess.DEVNULL
            )
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, name=f"{self.member}-reader")
        self._reader.daemon = True
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def invoke(self, event: dict[str, Any]) -> Any:
        call = _Call()
        with self._lock:
            if not self.alive:
                raise EnvironmentCrashed(f"{self.member} has ended")
            request_id = next(self._ids)
            self._pending[request_id] = call
        try:
            _write_frame(self._socket, self._write_lock, (request_id, event))
        except OSError:
            with self._lock:
                self._pending.pop(request_id, None)
            raise EnvironmentCrashed(f"{self.member} has ended") from None
        call.done.wait()
        if call.error is not None:
            raise call.error
        return call.result

    def _read(self) -> None:
        while (frame := _read_frame(self._stream)) is not None:
            kind, request_id, value = frame
            if kind == "ready":
                self.ready.set()
                continue
            with self._lock:
                call = self._pending.pop(request_id, None)
            if call is None:
                continue
            if kind == "ok":
                call.result = value
            else:
                call.error = FunctionError(str(value))
            call.done.set()
        with self._lock:
            self.alive = False
            unanswered = list(self._pending.values())
            self._pending.clear()
        self.process.wait()
        self.ready.set()
        # Replaced before its callers hear of it, so none of them finds the pool one short.
        self.pool._ended(self)
        for call in unanswered:
            call.error = EnvironmentCrashed(
                f"{self.member} ended (exit status {self.process.returncode}) before it answered"
            )
            call.done.set()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(STOP_TIMEOUT_SECONDS)
        self._stream.close()
        self._socket.close()


class FunctionPool:
    """`size` environments of one function whose handler is `module`'s `handler`."""

    def __init__(
        self,
        *,
        name: str,
        module: str,
        region: str,
        timeout_seconds: float,
        size: int,
        broadcast_dir: Path | None = None,
        key_only_signing: bool = False,
    ) -> None:
        if size < 1:
            raise ValueError("A pool has at least one environment")
        self.name = name
        self.module = module
        self.region = region
        self.timeout_seconds = timeout_seconds
        self.size = size
        self.broadcast_dir = broadcast_dir
        self.key_only_signing = key_only_signing
        self.environments: list[Environment] = []
        self.replaced = 0
        self._lock = threading.Lock()
        self._stopping = False

    def start(self) -> FunctionPool:
        self.environments = [Environment(self, slot) for slot in range(self.size)]
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for environment in self.environments:
            environment.ready.wait(max(0.0, deadline - time.monotonic()))
        if not all(e.alive and e.ready.is_set() for e in self.environments):
            self.stop()
            raise RuntimeError(f"The environments of {self.name} did not start")
        return self

    def invoke(self, event: dict[str, Any]) -> Any:
        return self._pick().invoke(event)

    def _pick(self) -> Environment:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            with self._lock:
                ready = [e for e in self.environments if e.alive and e.ready.is_set()]
            if ready:
                return min(ready, key=lambda e: e.in_flight)
            if self._stopping or time.monotonic() > deadline:
                raise EnvironmentCrashed(f"{self.name} has no environment to serve this")
            time.sleep(READY_CHECK_SECONDS)

    def _ended(self, environment: Environment) -> None:
        with self._lock:
            if self._stopping or environment not in self.environments:
                return
            logger.warning(
                "An environment of %s ended (exit status %s); starting another",
                self.name,
                environment.process.returncode,
            )
            index = self.environments.index(environment)
            self.environments[index] = Environment(self, environment.slot)
            self.replaced += 1

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            environments = list(self.environments)
        for environment in environments:
            environment.stop()


# -- the environment's own process ------------------------------------------------------------


def sign_with_key_only() -> None:
    """SigV4 requests in this process carry their access key and scope but no signature.

    The runtime's own moto server checks the access key only (see embedded.moto_server): the
    signature's canonical request and HMACs were a tenth of an API environment's CPU for nothing.
    Only for processes whose every request goes to that server: the API's environments, and
    `python -m embedded`'s own when it starts that server.
    """
    import botocore.auth
    from botocore.exceptions import NoCredentialsError

    class KeyOnlyAuth(botocore.auth.SigV4Auth):  # type: ignore[misc]
        def add_auth(self, request: Any) -> None:
            if self.credentials is None:
                raise NoCredentialsError()
            day = time.strftime("%Y%m%d", time.gmtime())
            scope = f"{day}/{self._region_name}/{self._service_name}/aws4_request"
            if "Authorization" in request.headers:
                del request.headers["Authorization"]
            request.headers["Authorization"] = (
                f"AWS4-HMAC-SHA256 Credential={self.credentials.access_key}/{scope}, "
                "SignedHeaders=host, Signature=unsigned"
            )

    botocore.auth.AUTH_TYPE_MAPS["v4"] = KeyOnlyAuth


class _Answered:
    """An answer read whole, as botocore reads a response it does not stream."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, *args: object, **kwargs: object) -> Iterator[bytes]:
        yield self.data


def send_over_plain_connections(endpoint_url: str) -> None:
    """botocore's requests to `endpoint_url` (moto's, on this machine) in this process go over
    the process's kept-alive connections to it (embedded.dynamodb_wire's pool, which pynamodb's
    item requests share) instead of urllib3's pool: its pool manager, retry object and
    response wrapper per request were about a tenth of an API environment's CPU. Answers
    botocore streams (S3's objects), and bodies that are not bytes or text (a file being
    uploaded), still go through urllib3."""
    from urllib.parse import urlsplit

    import botocore.awsrequest
    import botocore.httpsession
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

    from embedded.dynamodb_wire import pool_for

    parts = urlsplit(endpoint_url)
    if parts.scheme != "http" or not parts.hostname:
        return
    base = f"http://{parts.netloc}"
    pool = pool_for(parts.hostname, parts.port or 80)
    through_urllib3 = botocore.httpsession.URLLib3Session.send

    def send(session: Any, request: Any) -> Any:
        url: str = request.url
        body = request.body
        if (
            request.stream_output
            or not (url == base or url.startswith(base + "/"))
            or not (body is None or isinstance(body, (bytes, bytearray, str)))
        ):
            return through_urllib3(session, request)
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
        lines = [f"{request.method} {url[len(base) :] or '/'} HTTP/1.1"]
        named = set()
        for name, value in request.headers.items():
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            lines.append(f"{name}: {text}")
            named.add(name.lower())
        if "host" not in named:
            lines.append(f"Host: {parts.netloc}")
        if "content-length" not in named and (data or request.method in ("POST", "PUT")):
            lines.append(f"Content-Length: {len(data)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            status, headers, answer = pool.exchange(
                head, data, answer_has_body=request.method != "HEAD"
            )
        except ConnectionRefusedError as error:
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        except (OSError, ValueError) as error:
            raise ConnectionClosedError(endpoint_url=url, request=request, error=error) from error
        return botocore.awsrequest.AWSResponse(url, status, headers, _Answered(answer))

    botocore.httpsession.URLLib3Session.send = send


def _serve(
    descriptor: int,
    module: str,
    function_name: str,
    region: str,
    timeout_seconds: float,
    member: str,
    broadcast_dir: str,
    signing: str,
) -> None:
    import warnings

    from embedded.functions import LocalFunction, released_while_idle
    from embedded.runtime import _import_handler

    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    connection = socket.socket(fileno=descriptor)
    write_lock = threading.Lock()
    if signing == "key-only":
        sign_with_key_only()
        endpoint_url = os.environ.get("AWS_ENDPOINT_URL", "")
        send_over_plain_connections(endpoint_url)
        if endpoint_url:
            from embedded.dynamodb_wire import route_item_requests

            route_item_requests(endpoint_url, os.environ["AWS_ACCESS_KEY_ID"], region)
    handler = _import_handler(module)
    from baton import wakeup

    # A waiting invocation lets the next one in, as another environment would take it.
    wakeup.work_signal.idle_hook = released_while_idle
    if broadcast_dir:
        from embedded.broadcast import Broadcast

        Broadcast(Path(broadcast_dir), member).attach(wakeup.work_signal)
    function = LocalFunction(
        name=function_name, handler=handler, region=region, timeout_seconds=timeout_seconds
    )

    def run(request_id: int, event: dict[str, Any]) -> None:
        try:
            answer: tuple[str, int, Any] = ("ok", request_id, function.invoke(event))
        except Exception as error:
            logger.exception("%s raised", function_name)
            answer = ("error", request_id, f"{type(error).__name__}: {error}")
        try:
            _write_frame(connection, write_lock, answer)
        except (OSError, pickle.PicklingError, TypeError) as error:
            if isinstance(error, OSError):
                return  # the runtime has gone
            _write_frame(connection, write_lock, ("error", request_id, repr(error)))

    _write_frame(connection, write_lock, ("ready", -1, os.getpid()))
    stream: BinaryIO = connection.makefile("rb")
    while (frame := _read_frame(stream)) is not None:
        request_id, event = frame
        threading.Thread(target=run, args=(request_id, event), daemon=True).start()
    # The runtime has ended or let this environment go.
    os._exit(0)


if __name__ == "__main__":
    _serve(
        int(sys.argv[1]),
        sys.argv[2],
        sys.argv[3],
        sys.argv[4],
        float(sys.argv[5]),
        sys.argv[6],
        sys.argv[7],
        sys.argv[8],
    )
