"""Outbound calls: which addresses are refused, and calls against a local server."""

from __future__ import annotations

import pytest

from baton import outbound
from baton.outbound import (
    MAX_RESPONSE_BODY_BYTES,
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    Request,
    call,
    resolve_target,
)
from tests.http.server import Answer, local_server

DEPLOYED = OutboundPolicy()
LOCAL = OutboundPolicy(allow_loopback=True)


def resolver_of(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # EC2 instance metadata
        "169.254.170.2",  # ECS task credentials
        "fd00:ec2::254",  # EC2 metadata over IPv6
        "fe80::1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "127.0.0.1",  # the Lambda runtime API listens on loopback
        "127.9.9.9",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "::ffff:10.0.0.1",  # an IPv4-mapped private address
        "0.0.0.0",
        "100.64.0.1",
    ],
)
def test_the_deployed_policy_refuses_internal_addresses(address):
    assert DEPLOYED.refusal(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "172.32.0.1", "2606:4700::1111", "8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert DEPLOYED.refusal(address) is None


def test_the_local_policy_allows_loopback_only():
    assert LOCAL.refusal("127.0.0.1") is None
    assert LOCAL.refusal("::1") is None
    assert LOCAL.refusal("10.0.0.1") is not None
    assert LOCAL.refusal("169.254.169.254") is not None


def test_an_allow_list_admits_its_networks_and_nothing_else():
    policy = OutboundPolicy(allowed_networks=outbound.parse_networks(["10.1.0.0/16"]))
    assert policy.refusal("10.1.200.3") is None
    assert policy.refusal("10.2.0.1") is not None


def test_a_bad_allow_list_entry_is_a_clear_error():
    with pytest.raises(ValueError, match="not an IP network"):
        outbound.parse_networks(["10.0.0.0/33"])


def test_the_policy_reads_the_environment():
    policy = OutboundPolicy.from_environment(
        {"BATON_HTTP_ALLOW_LOOPBACK": "true", "BATON_HTTP_ALLOWED_NETWORKS": '["10.0.0.0/8"]'}
    )
    assert policy.allow_loopback
    assert policy.refusal("10.3.3.3") is None
    assert OutboundPolicy.from_environment({}) == OutboundPolicy()


def test_every_address_a_name_resolves_to_is_checked():
    both = resolver_of({"mixed.test": ["93.184.216.34", "10.0.0.5"]})
    with pytest.raises(OutboundRefused, match=r"10\.0\.0\.5 is a private address"):
        resolve_target("http://mixed.test/x", DEPLOYED, both)


def test_the_checked_address_is_the_one_connected_to():
    public = resolver_of({"api.test": ["93.184.216.34"]})
    target = resolve_target("https://api.test:8443/a/b?c=1", DEPLOYED, public)
    assert (target.address, target.host, target.port, target.path) == (
        "93.184.216.34",
        "api.test",
        8443,
        "/a/b?c=1",
    )


def test_literal_addresses_are_checked_without_resolving():
    def no_resolving(host: str, port: int) -> list[str]:
        raise AssertionError("a literal address is not resolved")

    with pytest.raises(OutboundRefused):
        resolve_target("http://169.254.169.254/latest/meta-data/", LOCAL, no_resolving)
    with pytest.raises(OutboundRefused):
        resolve_target(
            "http://[::1]:9001/2018-06-01/runtime/invocation/next", DEPLOYED, no_resolving
        )


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "ftp://x.test/", "http:///nohost", "x"])
def test_other_schemes_and_hostless_uris_are_refused(uri):
    with pytest.raises(OutboundRefused):
        resolve_target(uri, LOCAL, resolver_of({}))


# -- against a local server ------------------------------------------------------------------


def test_a_call_sends_method_headers_and_body_and_reads_the_answer():
    with local_server() as server:
        server.routes["/orders"] = Answer(201, {"id": 7}, {"X-Request-Id": "r-1"})
        response = call(
            Request("POST", server.url("/orders?x=1"), {"X-Trace": "t"}, b'{"a":1}'), LOCAL
        )
    assert response.status == 201
    assert response.reason == "Created"
    assert response.body == b'{"id": 7}'
    assert response.headers["X-Request-Id"] == ["r-1"]
    seen = server.seen[0]
    assert (seen.method, seen.path, seen.body) == ("POST", "/orders?x=1", b'{"a":1}')
    assert seen.headers["X-Trace"] == "t"
    assert seen.headers["Host"] == f"127.0.0.1:{server.port}"


def test_a_name_is_connected_to_at_its_checked_address_with_its_own_host_header():
    with local_server() as server:
        server.routes["/"] = Answer(200, "hello")
        resolve = resolver_of({"service.test": ["127.0.0.1"]})
        response = call(
            Request("GET", f"http://service.test:{server.port}/"), LOCAL, resolver=resolve
        )
    assert response.body == b"hello"
    assert server.seen[0].headers["Host"] == f"service.test:{server.port}"


def test_loopback_is_refused_under_the_deployed_policy():
    with local_server() as server, pytest.raises(OutboundRefused, match="loopback"):
        call(Request("GET", server.url("/")), DEPLOYED)
    assert server.seen == []


def test_redirects_are_followed_and_each_location_is_checked():
    with local_server() as server:
        server.routes["/old"] = Answer(302, b"", {"Location": "/new"})
        server.routes["/new"] = Answer(200, "moved here")
        server.routes["/evil"] = Answer(
            307, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}
        )
        assert call(Request("GET", server.url("/old")), LOCAL).body == b"moved here"
        with pytest.raises(OutboundRefused, match="link-local"):
            call(Request("GET", server.url("/evil")), LOCAL)


def test_a_post_redirected_with_303_becomes_a_get():
    with local_server() as server:
        server.routes["/submit"] = Answer(303, b"", {"Location": "/result"})
        server.routes["/result"] = Answer(200, "ok")
        call(Request("POST", server.url("/submit"), {}, b"data"), LOCAL)
    assert [(s.method, s.path, s.body) for s in server.seen] == [
        ("POST", "/submit", b"data"),
        ("GET", "/result", b""),
    ]


def test_endless_redirects_fail():
    with local_server() as server:
        server.routes["/loop"] = Answer(302, b"", {"Location": "/loop"})
        with pytest.raises(OutboundFailed, match="redirects"):
            call(Request("GET", server.url("/loop")), LOCAL)


def test_a_body_over_the_limit_fails_the_call():
    with local_server() as server:
        server.routes["/big"] = Answer(200, b"x" * (MAX_RESPONSE_BODY_BYTES + 1))
        server.routes["/fits"] = Answer(200, b"x" * MAX_RESPONSE_BODY_BYTES)
        assert len(call(Request("GET", server.url("/fits")), LOCAL).body) == (
            MAX_RESPONSE_BODY_BYTES
        )
        with pytest.raises(OutboundFailed, match="larger than"):
            call(Request("GET", server.url("/big")), LOCAL)


def test_a_slow_answer_hits_the_read_timeout():
    with local_server() as server:
        server.routes["/slow"] = Answer(200, "late", delay=1.0)
        with pytest.raises(OutboundFailed, match=r"(?i)timed? ?out"):
            call(Request("GET", server.url("/slow"), read_timeout_seconds=0.05), LOCAL)


def test_nothing_listening_fails_the_call():
    with local_server() as server:
        port = server.port
    with pytest.raises(OutboundFailed):
        call(Request("GET", f"http://127.0.0.1:{port}/"), LOCAL)


def test_an_unresolvable_name_fails_the_call():
    def fails(host: str, port: int) -> list[str]:
        raise OutboundFailed(f"Could not resolve host {host}")

    with pytest.raises(OutboundFailed, match="resolve"):
        call(Request("GET", "http://nowhere.test/"), LOCAL, resolver=fails)


# -- HTTPS to the checked address ------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for `service.test`, made with the openssl command."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = str(folder / "key.pem"), str(folder / "cert.pem")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", key, "-out", cert, "-subj", "/CN=service.test",
            "-addext", "subjectAltName=DNS:service.test",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


def _https_server(key: str, cert: str):
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            body = f"host={self.headers['Host']}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


def test_https_goes_to_the_checked_address_and_verifies_the_name(certificate):
    import ssl

    key, cert = certificate
    httpd, thread = _https_server(key, cert)
    port = httpd.server_address[1]
    trust = ssl.create_default_context(cafile=cert)
    resolve = resolver_of({"service.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    try:
        response = call(
            Request("GET", f"https://service.test:{port}/"), LOCAL, resolver=resolve, tls=trust
        )
        assert response.body == f"host=service.test:{port}".encode()
        # The certificate names service.test: a name it does not cover fails, though the
        # address is the same.
        with pytest.raises(OutboundFailed, match=r"(?i)certificate|hostname"):
            call(Request("GET", f"https://other.test:{port}/"), LOCAL, resolver=resolve, tls=trust)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
