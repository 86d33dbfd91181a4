"""Outbound HTTP for system tasks: which addresses may be called, and the call itself.

Every request goes through `call`: the host is resolved once, every address it resolves to is
checked against the policy, and the connection is made to a checked address (the Host header
and, for HTTPS, the TLS server name and certificate check keep the original name), so a name
that answers a public address to the check and a private one to the connect (DNS rebinding)
gains nothing. Redirects are followed by hand, each new location resolved and checked again.
The response body is read up to MAX_RESPONSE_BODY_BYTES and no further.

Always refused: link-local addresses (169.254.0.0/16, where EC2's instance metadata and the
ECS credentials endpoint live, fe80::/10, and EC2's IPv6 metadata fd00:ec2::254), unspecified
and multicast addresses. Refused too unless the deployment allows them: loopback (where the
Lambda runtime API listens) and private ranges. The embedded runtime allows loopback, so a
local server can be called; a deployment admits chosen networks with the `httpAllowedNetworks`
context (see docs/DEPLOY.md).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

from baton import settings

# The most of a response body Baton reads; a longer body fails the task. One constant, so the
# limit moves in one place (under a task output's own limit, baton.service's 3 MB).
MAX_RESPONSE_BODY_BYTES: Final = 2 * 1024 * 1024
MAX_REDIRECTS: Final = 5
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_READ_CHUNK: Final = 64 * 1024

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> every address the name resolves to.
Resolver = Callable[[str, int], list[str]]

_ALWAYS_REFUSED: Final[tuple[tuple[IpNetwork, str], ...]] = (
    (ipaddress.ip_network("169.254.0.0/16"), "a link-local address (instance metadata)"),
    (ipaddress.ip_network("fd00:ec2::254/128"), "EC2's instance metadata address"),
    (ipaddress.ip_network("fe80::/10"), "a link-local address"),
    (ipaddress.ip_network("0.0.0.0/8"), "an unspecified address"),
    (ipaddress.ip_network("::/128"), "an unspecified address"),
    (ipaddress.ip_network("224.0.0.0/4"), "a multicast address"),
    (ipaddress.ip_network("ff00::/8"), "a multicast address"),
)
_LOOPBACK: Final[tuple[tuple[IpNetwork, str], ...]] = (
    (ipaddress.ip_network("127.0.0.0/8"), "a loopback address (the Lambda runtime API)"),
    (ipaddress.ip_network("::1/128"), "a loopback address"),
)
_PRIVATE: Final[tuple[tuple[IpNetwork, str], ...]] = (
    (ipaddress.ip_network("10.0.0.0/8"), "a private address"),
    (ipaddress.ip_network("172.16.0.0/12"), "a private address"),
    (ipaddress.ip_network("192.168.0.0/16"), "a private address"),
    (ipaddress.ip_network("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
    (ipaddress.ip_network("fc00::/7"), "a private (unique local) address"),
)


class OutboundRefused(Exception):
    """The request names an address the policy does not allow, or is not a request Baton
    can make (a scheme other than http/https, no host)."""


class OutboundFailed(Exception):
    """The request could not be completed: connection, timeout, too many redirects, or a
    response body larger than MAX_RESPONSE_BODY_BYTES."""


def _address(text: str) -> IpAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone index
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


@dataclass(frozen=True)
class OutboundPolicy:
    """Which addresses outbound calls may reach."""

    allow_loopback: bool = False
    # Networks admitted although a rule above refuses them (the deployment's allow-list).
    allowed_networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> OutboundPolicy:
        env = os.environ if environ is None else environ
        networks = json.loads(env.get(settings.HTTP_ALLOWED_NETWORKS) or "[]")
        return cls(
            allow_loopback=(env.get(settings.HTTP_ALLOW_LOOPBACK) or "").lower() == "true",
            allowed_networks=parse_networks(networks),
        )

    def refusal(self, text: str) -> str | None:
        """Why `text` (an IP address) may not be called, or None when it may."""
        address = _address(text)
        if any(address in network for network in self.allowed_networks):
            return None
        rules = [*_ALWAYS_REFUSED, *_PRIVATE]
        if not self.allow_loopback:
            rules += _LOOPBACK
        for network, what in rules:
            if address.version == network.version and address in network:
                return f"{address} is {what}"
        return None


def parse_networks(values: Iterable[Any]) -> tuple[IpNetwork, ...]:
    """CIDR blocks (or single addresses) from configuration; a bad one is a clear error."""
    networks: list[IpNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP network (write it as 10.1.0.0/16)") from None
    return tuple(networks)


def system_resolver(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OutboundFailed(f"Could not resolve host {host}: {error}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Target:
    """Where one request goes: its URL's parts and the address checked for it."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def resolve_target(url: str, policy: OutboundPolicy, resolver: Resolver) -> Target:
    """The checked address to connect to for `url`; OutboundRefused if any address the host
    resolves to is refused (a name that answers both public and private addresses is refused,
    as the address used could be either)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused(f"Only http and https URIs can be called, not {url!r}")
    host = parts.hostname
    if not host:
        raise OutboundRefused(f"The URI {url!r} names no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused(f"The URI {url!r} has an invalid port") from None
    try:
        addresses = [str(_address(host))]
    except ValueError:
        addresses = resolver(host, port)
    if not addresses:
        raise OutboundFailed(f"Host {host} resolved to no address")
    for address in addresses:
        reason = policy.refusal(address)
        if reason is not None:
            raise OutboundRefused(
                f"Calls to {host} are refused: {reason}. A deployment can admit a network "
                "with the httpAllowedNetworks context"
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    # Conductor's response headers: each name with the list of its values.
    headers: dict[str, list[str]]
    body: bytes
    url: str


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def _send(
    target: Target, request: Request, deadline: float, tls: ssl.SSLContext | None
) -> Response:
    import urllib3

    timeout = urllib3.Timeout(
        connect=request.connect_timeout_seconds, read=request.read_timeout_seconds
    )
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            ssl_context=tls or ssl.create_default_context(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1
        )
    headers = {**request.headers, "Host": _host_header(target)}
    try:
        raw = pool.urlopen(
            request.method,
            target.path,
            body=request.body,
            headers=headers,
            redirect=False,
            preload_content=False,
            decode_content=True,
            assert_same_host=False,
        )
        try:
            body = _read_bounded(raw, deadline)
        finally:
            raw.release_conn()
    except urllib3.exceptions.HTTPError as error:
        raise OutboundFailed(f"{type(error).__name__}: {error}") from None
    finally:
        pool.close()
    values: dict[str, list[str]] = {}
    for name, value in raw.headers.items():
        values.setdefault(name, []).append(value)
    return Response(
        status=raw.status, reason=raw.reason or "", headers=values, body=body, url=request.url
    )


def _read_bounded(raw: Any, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise OutboundFailed("The response took longer than the call's time limit")
        chunk = raw.read(_READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BODY_BYTES:
            raise OutboundFailed(
                f"The response body is larger than {MAX_RESPONSE_BODY_BYTES} bytes, the most "
                "Baton reads; have the service return less, or a reference to the data"
            )
        chunks.append(chunk)


def call(
    request: Request,
    policy: OutboundPolicy,
    *,
    resolver: Resolver = system_resolver,
    total_seconds: float = 50.0,
    tls: ssl.SSLContext | None = None,
) -> Response:
    """Make `request`, following up to MAX_REDIRECTS redirects, each location checked anew.

    `total_seconds` bounds the whole call, redirects and a slowly dripping body included.
    `tls` is the trust for HTTPS (default: the system's certificate authorities).
    """
    deadline = time.monotonic() + total_seconds
    current = request
    for _ in range(MAX_REDIRECTS + 1):
        target = resolve_target(current.url, policy, resolver)
        response = _send(target, current, deadline, tls)
        location = response.headers.get("Location") or response.headers.get("location")
        if response.status not in _REDIRECT_STATUSES or not location:
            return response
        method, body = current.method, current.body
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = ("GET" if method != "HEAD" else "HEAD"), None
        headers = dict(current.headers)
        if body is None:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        next_url = urljoin(current.url, location[0])
        if urlsplit(next_url).hostname != urlsplit(current.url).hostname:
            # Credentials meant for one host are not handed to another.
            headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
        current = Request(
            method=method,
            url=next_url,
            headers=headers,
            body=body,
            connect_timeout_seconds=current.connect_timeout_seconds,
            read_timeout_seconds=current.read_timeout_seconds,
        )
    raise OutboundFailed(f"More than {MAX_REDIRECTS} redirects, starting from {request.url}")


_CREDENTIAL_HEADERS: Final = frozenset({"authorization", "cookie", "proxy-authorization"})
