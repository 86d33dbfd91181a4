"""moto's server for DynamoDB and SQS, with DynamoDB's requests applied one at a time.

moto keeps no locks: two conditional writes handled on two threads at once could both see
the condition hold. DynamoDB applies each request atomically, and Baton's commits rely on it,
so DynamoDB requests are serialized here. SQS requests (long polls among them) stay concurrent.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SerializedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB"):
            with self._lock:
                # Consume the response inside the lock: moto may build it lazily.
                return list(self._app(environ, start_response))
        return self._app(environ, start_response)


class MotoServer:
    """moto's WSGI app on a werkzeug server in a background thread."""

    def __init__(self, host: str, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="moto-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class MotoProcess:
    """moto's server in a child process: on a machine with few cores the runtime and moto
    then stop contending for one interpreter's lock."""

    def __init__(self, host: str) -> None:
        self._host = host
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> MotoProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "embedded.moto_server", self._host],
            stdout=subprocess.PIPE,
            text=True,
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
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None


def _serve(host: str) -> None:
    import logging
    import signal

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = MotoServer(host)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    server.start()
    print(server.url, flush=True)
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    _serve(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1")
