"""WAIT task time formats, checked against Conductor's DateTimeUtils behaviour."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from baton.engine.durations import parse_duration, parse_until

# --- duration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        # Conductor's accepted examples.
        ("10s", 10),
        ("1m 30s", 90),
        ("10m20s", 620),
        ("2 hours", 7200),
        ("1d2h", 93600),
        ("60seconds", 60),
        # Every unit spelling.
        ("1d", 86400),
        ("1 day", 86400),
        ("3 days", 259200),
        ("1h", 3600),
        ("1hr", 3600),
        ("2hrs", 7200),
        ("1 hour", 3600),
        ("1m", 60),
        ("1min", 60),
        ("5 mins", 300),
        ("1 minute", 60),
        ("2 minutes", 120),
        ("1s", 1),
        ("1sec", 1),
        ("9 secs", 9),
        ("1 second", 1),
        # Case, whitespace, zeros.
        ("1D 2H 3M 4S", 93784),
        ("2 Hours 30 Minutes", 9000),
        ("  1d\t2h\n3m  4s  ", 93784),
        ("0s", 0),
        ("007m", 420),
        ("1d 0h 0m 1s", 86401),
        ("100000d", 100000 * 86400),
    ],
)
def test_valid_durations(text: str, seconds: int):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        # Conductor's rejected examples.
        "90",
        "1.5h",
        "30s 1m",
        "10ms",
        # Blank text: Conductor reads it as zero; Baton rejects it.
        "",
        " ",
        "\t\n",
        # Out of order, repeated, or unknown.
        "1h 1d",
        "1d 1d",
        "1 h 2",
        "s",
        "h1",
        "1w",
        "1 dayz",
        "-1s",
        "+1s",
        "1_000s",
        # Java's \d, \s and case folding are ASCII only.
        "\uff11s",
        "1\u00a0s",
        "1\u017f",
        "1 \u212a",
    ],
)
def test_invalid_durations(text: str):
    with pytest.raises(ValueError, match=re.escape(f"Not valid duration: {text}")) as caught:
        parse_duration(text)
    assert str(caught.value) == f"Not valid duration: {text}"


def test_long_blank_runs_do_not_backtrack_badly():
    with pytest.raises(ValueError):
        parse_duration("1d" + " " * 100_000 + "1x")


amounts = st.integers(min_value=0, max_value=10**6)
day_units = st.sampled_from(["d", "day", "days"])
hour_units = st.sampled_from(["h", "hr", "hrs", "hour", "hours"])
minute_units = st.sampled_from(["m", "min", "mins", "minute", "minutes"])
second_units = st.sampled_from(["s", "sec", "secs", "second", "seconds"])
gaps = st.sampled_from(["", " ", "  ", "\t"])


def _mixed_case(text: str, pattern: list[bool]) -> str:
    return "".join(
        c.upper() if pattern[i % len(pattern)] else c.lower() for i, c in enumerate(text)
    )


@given(d=amounts, h=amounts, m=amounts, s=amounts)
def test_formatted_durations_parse_to_their_seconds(d: int, h: int, m: int, s: int):
    assert parse_duration(f"{d}d {h}h {m}m {s}s") == d * 86400 + h * 3600 + m * 60 + s


@given(
    d=amounts,
    h=amounts,
    m=amounts,
    s=amounts,
    units=st.tuples(day_units, hour_units, minute_units, second_units),
    inner_gaps=st.lists(gaps, min_size=8, max_size=8),
    case_pattern=st.lists(st.booleans(), min_size=1, max_size=5),
    present=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_duration_variants_parse_to_their_seconds(
    d: int,
    h: int,
    m: int,
    s: int,
    units: tuple[str, str, str, str],
    inner_gaps: list[str],
    case_pattern: list[bool],
    present: list[bool],
):
    assume(any(present))
    amounts_in_order = [d, h, m, s]
    pieces = [
        f"{inner_gaps[2 * i]}{amount}{inner_gaps[2 * i + 1]}{unit}"
        for i, (amount, unit) in enumerate(zip(amounts_in_order, units, strict=True))
        if present[i]
    ]
    text = _mixed_case("".join(pieces), case_pattern)
    expected = sum(
        amount * factor
        for amount, factor, keep in zip(
            amounts_in_order, [86400, 3600, 60, 1], present, strict=True
        )
        if keep
    )
    assert parse_duration(text) == expected


_GRAMMAR = re.compile(
    r"\s*(?:(\d+)\s*(?:days?|d))?\s*(?:(\d+)\s*(?:hours?|hrs?|h))?"
    r"\s*(?:(\d+)\s*(?:minutes?|mins?|m))?\s*(?:(\d+)\s*(?:seconds?|secs?|s))?\s*",
    re.IGNORECASE | re.ASCII,
)


@given(st.text(max_size=30))
def test_text_outside_the_grammar_is_rejected(text: str):
    assume(_GRAMMAR.fullmatch(text) is None or not text.strip())
    with pytest.raises(ValueError, match=r"^Not valid duration: "):
        parse_duration(text)


@given(
    st.lists(
        st.sampled_from(["1", "23", " ", "d", "h", "m", "s", "x", ".", "ms", "hours", "-"]),
        max_size=8,
    ).map("".join)
)
def test_near_misses_are_rejected_exactly_when_outside_the_grammar(text: str):
    match = _GRAMMAR.fullmatch(text)
    if match is None or not text.strip():
        with pytest.raises(ValueError):
            parse_duration(text)
    else:
        d, h, m, s = (int(group or 0) for group in match.groups())
        assert parse_duration(text) == d * 86400 + h * 3600 + m * 60 + s


# --- until --------------------------------------------------------------------------------


def epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Conductor's examples; values as commons-lang3 gives them with a UTC JVM.
        ("2022-12-31 11:59", 1672487940000),
        ("2022-12-31 11:59 GMT", 1672487940000),
        ("2025-06-15 09:00 GMT+00:00", 1749978000000),
        ("2022-12-31", 1672444800000),
        ("2022-12-31 11:59 UTC", 1672487940000),
        ("2022-12-31 11:59 GMT+04:00", 1672473540000),
        ("2022-12-31 11:59 GMT-08:00", 1672516740000),
        ("2022-12-31 11:59 -0800", 1672516740000),
        ("2022-12-31 11:59 +0530", 1672468140000),
        ("2022-12-31 11:59 PST", 1672516740000),
        ("2022-07-01 11:59 PST", 1656705540000),
        ("2022-07-01 11:59 PDT", 1656701940000),
        ("2022-12-31 11:59 pst", 1672516740000),
        ("2022-12-31 11:59 EST", 1672505940000),
        ("2022-12-31 11:59 CST", 1672509540000),
        ("2022-12-31 11:59 gmt", 1672487940000),
        ("2022-1-5", 1641340800000),
        ("2022-12-31 1:5", 1672448700000),
        ("2022-12-31  11:59", 1672487940000),
        (" 2022-12-31", 1672444800000),
        # Zones Baton takes beyond Conductor.
        ("2022-12-31 11:59 Z", 1672487940000),
        ("2022-12-31 11:59 UT", 1672487940000),
        ("2022-12-31 11:59 UTC+1", epoch_ms("2022-12-31T11:59+01:00")),
        ("2022-12-31 11:59 UTC+01:00", epoch_ms("2022-12-31T11:59+01:00")),
        ("2022-12-31 11:59 GMT+4", epoch_ms("2022-12-31T11:59+04:00")),
        ("2022-12-31 11:59 +05:30", epoch_ms("2022-12-31T11:59+05:30")),
        ("2022-12-31 11:59 MST", epoch_ms("2022-12-31T11:59-07:00")),
        ("2022-07-01 11:59 MDT", epoch_ms("2022-07-01T11:59-06:00")),
        ("2022-07-01 11:59 CDT", epoch_ms("2022-07-01T11:59-05:00")),
        ("2022-07-01 11:59 EDT", epoch_ms("2022-07-01T11:59-04:00")),
        ("2022-12-31 11:59 ", 1672487940000),
        # Range.
        ("1970-01-01", 0),
        ("1969-12-31 23:59", -60000),
        ("2024-02-29 00:00", epoch_ms("2024-02-29T00:00+00:00")),
    ],
)
def test_valid_until(text: str, expected: int):
    assert parse_until(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "2022-12-31T11:59",
        "2022-12-31 11:59:30",
        "2022-12-31 11:59:30 GMT",
        "2022-12-31 GMT",
        "2022-12-31 11",
        "2022/12/31",
        "31-12-2022",
        "22-01-05",
        "+2022-12-31",
        "tomorrow",
        "2022-12-31 11:59 America/New_York",
        "2022-12-31 11:59 CET",
        "2022-12-31 11:59 GMT+24:00",
        "2022-12-31 11:59 +0860",
        "2022-12-31 11:59GMT",
        # Calendar values Conductor's lenient parser would roll over.
        "2022-02-30",
        "2023-02-29",
        "2022-13-01",
        "2022-00-10",
        "2022-12-31 24:00",
        "2022-12-31 11:60",
        "0000-01-01",
    ],
)
def test_invalid_until(text: str):
    with pytest.raises(ValueError) as caught:
        parse_until(text)
    assert str(caught.value) == f"Invalid/Unsupported Wait Until format.  Provided: {text}"


_MILLISECOND = timedelta(milliseconds=1)


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
)
def test_until_with_an_offset_is_that_wall_time_minus_the_offset(
    moment: datetime, offset_minutes: int
):
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d} {sign}{hours:02d}{minutes:02d}"
    )
    wall_time = moment.replace(second=0, microsecond=0)
    wall_time_ms = (wall_time - datetime(1970, 1, 1)) // _MILLISECOND
    assert parse_until(text) == wall_time_ms - offset_minutes * 60_000


@given(st.dates())
def test_until_date_is_midnight_utc(day: date):
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert parse_until(text) == (midnight - datetime(1970, 1, 1, tzinfo=UTC)) // _MILLISECOND
