"""The web UI for a deployment in the IAM mode: served on this machine, its calls signed with SigV4.

A browser cannot sign AWS requests, so this serves the UI's build on 127.0.0.1 and forwards its
`/api` calls to the deployed API, signed with the caller's own AWS credentials (the usual chain:
environment, profile, SSO), as `kubectl proxy` does for a cluster. IAM stays in charge: the
proxy can do only what those credentials may. Because it signs whatever reaches it, it answers
only its own pages: a request from another origin (Origin or Sec-Fetch-Site), or for another
host name (DNS rebinding), is refused.

    python -m embedded.ui_proxy https://<api id>.execute-api.<region>.amazonaws.com/
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

from baton import web_ui

DEFAULT_PORT = 8081
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")
# Headers the browser sends that the API reads; everything else (cookies included) stays here.
_FORWARDED_HEADERS = ("content-type", "accept")
_RETURNED_HEADERS = ("content-type", "x-amzn-requestid")
MAX_BODY_BYTES = 10 * 1024 * 1024


class SigningForwarder:
    """Signs a request for API Gateway (`execute-api`) and sends it to the stage's URL."""

    def __init__(self, api_url: str, region: str, credentials: Credentials) -> None:
        self.api_url = api_url.rstrip("/")
        self.region = region
        self.credentials = credentials
        self.session = URLLib3Session(timeout=35)

    def forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        request = AWSRequest(
            method=method, url=self.api_url + target, data=body or None, headers=headers
        )
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(request)
        response = self.session.send(request.prepare())
        returned = {
            name: value
            for name, value in response.headers.items()
            if name.lower() in _RETURNED_HEADERS
        }
        return response.status_code, returned, response.content


def region_of(api_url: str) -> str | None:
    match = _REGION_IN_HOST.search(urlsplit(api_url).hostname or "")
    return match.group(1) if match else None


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    forwarder: SigningForwarder


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _own_origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _refusal(self) -> str | None:
        port = self.server.server_address[1]
        allowed_hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        if self.headers.get("Host", "") not in allowed_hosts:
            return "This proxy answers only requests for 127.0.0.1 or localhost on its own port"
        origin = self.headers.get("Origin")
        own = {f"http://{h}" for h in allowed_hosts}
        if origin is not None and origin not in own:
            return f"Requests from {origin} are refused: this proxy signs only its own pages"
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return "Cross-site requests are refused: this proxy signs only its own pages"
        return None

    def _handle(self) -> None:
        refusal = self._refusal()
        if refusal is not None:
            self._reply(403, {"Content-Type": "application/json"}, _error(403, refusal))
            return
        path = urlsplit(self.path).path
        if path == "/api" or path.startswith("/api/"):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._reply(413, {"Content-Type": "application/json"}, _error(413, "Too large"))
                return
            body = self.rfile.read(length) if length else b""
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() in _FORWARDED_HEADERS
            }
            try:
                status, returned, content = self.server.forwarder.forward(
                    self.command, self.path, headers, body
                )
            # Any failure to reach the API is a 502, as API Gateway answers an unreachable backend.
            except Exception as error:
                message = f"The API did not answer: {type(error).__name__}: {error}"
                self._reply(502, {"Content-Type": "application/json"}, _error(502, message))
                return
            self._reply(status, returned, content)
            return
        found = web_ui.static_file(path) if self.command in ("GET", "HEAD") else None
        if found is None:
            message = "Not found: the UI is not built (make ui), or this is not a page"
            self._reply(404, {"Content-Type": "application/json"}, _error(404, message))
            return
        self._reply(200, {"Content-Type": found.content_type}, found.body)

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _error(status: int, message: str) -> bytes:
    return json.dumps(
        {"status": status, "message": message, "instance": "ui-proxy", "retryable": False}
    ).encode()


def make_server(forwarder: SigningForwarder, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    server = _ProxyServer(("127.0.0.1", port), _Handler)
    server.forwarder = forwarder
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m embedded.ui_proxy",
        description="Baton's web UI for an IAM-mode deployment, its API calls signed with SigV4",
    )
    parser.add_argument("api_url", help="the stack's ApiUrl output (https://…amazonaws.com/)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--region", help="the API's region (read from its URL if not given)")
    parser.add_argument("--profile", help="the AWS profile whose credentials sign the calls")
    arguments = parser.parse_args(argv)
    region = arguments.region or region_of(arguments.api_url)
    if region is None:
        parser.error("the API URL names no region: pass --region")
    session = botocore.session.Session(profile=arguments.profile)
    credentials = session.get_credentials()
    if credentials is None:
        parser.error("no AWS credentials found (environment, profile or SSO)")
    if web_ui.ui_dir() is None:
        parser.error("the web UI is not built: run `make ui` first")
    server = make_server(SigningForwarder(arguments.api_url, region, credentials), arguments.port)
    print(f"Baton's UI for {arguments.api_url}: http://127.0.0.1:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
