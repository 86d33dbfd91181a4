"""How a request finds its route: Conductor's paths, segment by segment.

Powertools' resolver matches a route parameter against a fixed set of characters (word
characters and some punctuation), so a name holding `#`, `?`, an emoji or a zero-width space
could be registered and then never reached; and among routes with parameters the first
registered wins, so `/api/tasks/queue/requeue/{type}` could lose to
`/api/tasks/{workflowId}/{ref}/{status}`. `ConductorResolver` changes both:

- The handler gives it the path in one canonical encoding (`encoded_path`): each segment
  (decoded, as an HTTP API passes the path) percent-encoded but for unreserved
  characters. A parameter matches any
  segment (anything but `/`) and the route receives it decoded, so every name that holds no
  `/` is reachable however its client encoded it.
- Routes are tried most specific first, as Spring orders Conductor's: at the first segment
  where two routes differ, a literal beats a parameter. A literal Conductor path is never
  taken for a parameter of another route, whatever the order routes were added in.
"""

from __future__ import annotations

import re
from re import Match, Pattern
from typing import Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Route

from baton.api.errors import validation_failed
from baton.engine.validation import FieldError

# A route parameter, as Powertools writes it (`<name>`), and what it matches here.
_PARAMETER = re.compile(r"<(\w+)>")
_SEGMENT = r"(?P<\1>[^/]+)"
# RFC 3986's unreserved characters stay as they are; every literal route segment is made of them.
_UNRESERVED = "-._~"


def canonical_path(raw_path: str) -> str:
    """`raw_path` with each segment decoded, then encoded again the one way routes expect."""
    return encoded_path(path_segments(raw_path))


def encoded_path(segments: list[str]) -> str:
    """Decoded path segments, encoded the one way routes expect (as an HTTP API passes the
    path decoded, the handler starts from its segments)."""
    return "/".join(quote(segment, safe=_UNRESERVED) for segment in segments)


def path_segments(raw_path: str) -> list[str]:
    """The decoded segments of a path as a client sent it (a `%2F` stays inside its segment).

    Raises UnicodeDecodeError when a segment's percent-escapes are not UTF-8.
    """
    return [unquote(segment, errors="strict") for segment in raw_path.split("/")]


def specificity(rule: str) -> tuple[int, ...]:
    """Sort key of a route: per segment, 0 for a literal and 1 for a parameter."""
    return tuple(1 if _PARAMETER.fullmatch(part) else 0 for part in rule.split("/"))


def shape(rule: str) -> str:
    """A rule with every parameter, `<name>` or Conductor's `{name}`, written `{}`, and no
    trailing slash (the resolver ignores them)."""
    return re.sub(r"<\w+>|\{\w+\}", "{}", rule).rstrip("/") or "/"


class ConductorResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, matching paths as Conductor's server does (see above)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._sorted_routes = 0

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = "^{}/*$") -> Pattern[str]:
        # As APIGatewayRestResolver does, rules are kept without and matched with or without
        # trailing slashes.
        literal = "".join(
            part if _PARAMETER.fullmatch(part) else re.escape(part)
            for part in re.split(r"(<\w+>)", rule)
        )
        return re.compile(base_regex.format(_PARAMETER.sub(_SEGMENT, literal)))

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}

    def _resolve(self) -> Any:
        self._order_routes()
        return super()._resolve()

    def _order_routes(self) -> None:
        if self._sorted_routes != len(self._dynamic_routes):
            # A stable sort: routes of equal specificity keep the order they were added in.
            self._dynamic_routes.sort(key=lambda route: specificity(route.path))
            self._sorted_routes = len(self._dynamic_routes)

    def route_for(self, method: str, path: str) -> Route | None:
        """The route a request for `path` (canonical) would be handed to, if any."""
        self._order_routes()
        for route in [*self._static_routes, *self._dynamic_routes]:
            if route.method == method.upper() and route.rule.match(path):
                return route
        return None

    def rules(self) -> list[tuple[str, str]]:
        """Every registered (method, rule)."""
        return [(r.method, r.path) for r in [*self._static_routes, *self._dynamic_routes]]


def shadowing_route(router: Any, method: str, rule: str, **parameters: str) -> str | None:
    """The route that takes a request meant for `rule` with these parameters, if not `rule`.

    A workflow named `test` is a case: `POST /api/workflow/test` is Conductor's test route, not
    the start of that workflow. Names are checked at registration, so that none is kept that
    one of its own routes could never reach.
    """
    resolver = getattr(router, "api_resolver", router)
    if not isinstance(resolver, ConductorResolver):
        return None
    path = _PARAMETER.sub(lambda match: quote(parameters[match[1]], safe=_UNRESERVED), rule)
    route = resolver.route_for(method, path)
    if route is None or route.path == rule:
        return None
    return f"{method} {shape(route.path)}"


def refuse_if_shadowed(
    router: Any, what: str, field: str, value: str, routes: tuple[tuple[str, str], ...]
) -> None:
    """A 400 when one of the `routes` that reach `value` (its parameter) could not reach it."""
    for method, rule in routes:
        parameter = _PARAMETER.search(rule)
        assert parameter is not None, rule
        parameters = {name: "1" for name in _PARAMETER.findall(rule)}
        taken_by = shadowing_route(router, method, rule, **{**parameters, parameter[1]: value})
        if taken_by is not None:
            message = (
                f"{what} '{value}' cannot be used: {taken_by} is Conductor's own route, so "
                f"{method} {shape(rule)} could never reach it"
            )
            raise validation_failed([FieldError(field, message, value)])
