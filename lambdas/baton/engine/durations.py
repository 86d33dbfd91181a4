"""WAIT task time formats, as Conductor's DateTimeUtils reads them.

``duration`` is a count of days, hours, minutes and seconds in that order (``1d 2h``, ``90s``,
``10m20s``, ``2 hours``). ``until`` is a wall-clock time, ``2022-12-31 11:59``, optionally
followed by a zone, or a bare date meaning midnight.

Where Baton differs from Conductor, on purpose:

* An empty or blank duration is rejected. Conductor's pattern matches it as zero, but a WAIT of
  nothing is a mistake in the definition.
* Days, hours, minutes and seconds are not limited to Java's ``int``, so they never overflow.
* ``until`` must be a real date and time with a four-digit year: Conductor's lenient parser
  turns ``2022-02-30`` into March 2nd and ``22-01-05`` into the year 22.
* With no zone, ``until`` is UTC. Conductor uses the JVM's zone, which is UTC in its images.
* Zones accepted: ``GMT``, ``UTC``, ``UT``, ``Z``, an offset alone (``-0800``, ``+05:30``) or
  after ``GMT``/``UTC``/``UT`` (``GMT+04:00``, ``UTC+1``), and the US abbreviations PST, PDT,
  MST, MDT, CST, CDT, EST and EDT as fixed offsets. Conductor also takes every zone name Java
  knows (``CET``, ``Pacific Standard Time``) but not ``Z``, ``UTC+1`` or ``+05:30``.
* Whitespace around the text is ignored, and any run of spaces may separate date, time and
  zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

__all__ = ["parse_duration", "parse_until"]

# Conductor's pattern. ASCII: Java's \d and \s, and its case folding, are ASCII only.
_DURATION = re.compile(
    r"\s*(?:(\d+)\s*(?:days?|d))?"
    r"\s*(?:(\d+)\s*(?:hours?|hrs?|h))?"
    r"\s*(?:(\d+)\s*(?:minutes?|mins?|m))?"
    r"\s*(?:(\d+)\s*(?:seconds?|secs?|s))?"
    r"\s*",
    re.IGNORECASE | re.ASCII,
)
# Every place the pattern allows whitespace allows any amount of it, so runs can be squeezed to
# one space first. That keeps the many adjacent \s* from backtracking badly on long blank runs.
_WHITESPACE_RUN = re.compile(r"\s+", re.ASCII)

_UNTIL = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?:\s+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2})(?:\s+(?P<zone>\S+))?)?",
    re.ASCII,
)
_ZONE_OFFSET = re.compile(
    r"(?:GMT|UTC|UT)?(?P<sign>[+-])(?P<hours>[0-9]{1,2})(?::?(?P<minutes>[0-9]{2}))?",
    re.IGNORECASE | re.ASCII,
)
_NAMED_ZONE_MINUTES: Final[dict[str, int]] = {
    "GMT": 0,
    "UTC": 0,
    "UT": 0,
    "Z": 0,
    "EST": -5 * 60,
    "EDT": -4 * 60,
    "CST": -6 * 60,
    "CDT": -5 * 60,
    "MST": -7 * 60,
    "MDT": -6 * 60,
    "PST": -8 * 60,
    "PDT": -7 * 60,
}
_MAX_OFFSET_HOURS: Final = 23  # Java's GMT+hh:mm zones allow up to 23:59.
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MILLISECOND: Final = timedelta(milliseconds=1)


def parse_duration(text: str) -> int:
    """Return the number of seconds in a WAIT ``duration`` such as ``1h 30m`` or ``45s``.

    Raises ValueError("Not valid duration: <text>") for anything else, including blank text.
    """
    match = _DURATION.fullmatch(_WHITESPACE_RUN.sub(" ", text))
    if match is None or match.lastindex is None:
        raise ValueError(f"Not valid duration: {text}")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def parse_until(text: str) -> int:
    """Return the epoch milliseconds of a WAIT ``until`` such as ``2022-12-31 11:59 GMT``.

    Formats: ``yyyy-MM-dd HH:mm``, ``yyyy-MM-dd HH:mm z`` and ``yyyy-MM-dd``; no zone means
    UTC. Raises ValueError("Invalid/Unsupported Wait Until format.  Provided: <text>").
    """
    match = _UNTIL.fullmatch(text.strip())
    if match is None:
        raise _invalid_until(text)
    zone = match["zone"]
    offset_minutes = 0 if zone is None else _zone_offset_minutes(zone)
    if offset_minutes is None:
        raise _invalid_until(text)
    try:
        moment = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            tzinfo=timezone(timedelta(minutes=offset_minutes)),
        )
    except ValueError:
        raise _invalid_until(text) from None
    return (moment - _EPOCH) // _ONE_MILLISECOND


def _zone_offset_minutes(zone: str) -> int | None:
    named = _NAMED_ZONE_MINUTES.get(zone.upper())
    if named is not None:
        return named
    offset = _ZONE_OFFSET.fullmatch(zone)
    if offset is None:
        return None
    hours = int(offset["hours"])
    minutes = int(offset["minutes"] or 0)
    if hours > _MAX_OFFSET_HOURS or minutes > 59:
        return None
    total = hours * 60 + minutes
    return -total if offset["sign"] == "-" else total


def _invalid_until(text: str) -> ValueError:
    return ValueError(f"Invalid/Unsupported Wait Until format.  Provided: {text}")
