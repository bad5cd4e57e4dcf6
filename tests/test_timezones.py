"""Parsing what a person types for their time zone."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.places import Places
from bot.core.timezones import (
    UnknownZoneError,
    ZoneFound,
    ZoneNotFound,
    describe_zone,
    load_zone,
    parse_timezone,
)
from bot.places_loader import load_places

DIALOGUES = Path(__file__).resolve().parent.parent / "dialogues"
AVAILABLE = frozenset(available_timezones())
ZONES = sorted(AVAILABLE - {"localtime", "Factory", "posixrules"})
SUMMER = datetime(2025, 7, 1, 12, 0)


def _places() -> Places:
    places, problems = load_places(DIALOGUES / "places.yaml")
    assert places is not None, problems
    return places


def _by_name(section: str) -> dict[str, str]:
    """A `zone: [names]` section of places.yaml as {name: zone}."""
    doc: dict[str, Any] = yaml.safe_load((DIALOGUES / "places.yaml").read_text("utf-8"))
    return {name: zone for zone, names in doc[section].items() for name in names}


PLACES = _places()
CITIES = _by_name("cities")  # the names tzdata lacks
ABBREVIATIONS = _by_name("abbreviations")
# Cities tzdata itself names (the last part of a zone), which places.yaml need not list.
TZDATA_CITIES = {"London": "Europe/London", "Kathmandu": "Asia/Kathmandu",
                 "Tegucigalpa": "America/Tegucigalpa", "Ulaanbaatar": "Asia/Ulaanbaatar",
                 "Sydney": "Australia/Sydney", "Lagos": "Africa/Lagos"}  # fmt: skip


def parse(text: str) -> ZoneFound | ZoneNotFound:
    return parse_timezone(text, PLACES)


def offset_of(zone: str, at: datetime = SUMMER) -> timedelta:
    value = load_zone(zone).utcoffset(at)
    assert value is not None
    return value


def zone_of(text: str) -> str:
    result = parse(text)
    assert isinstance(result, ZoneFound), (text, result)
    return result.zone


# IANA names.


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("EUROPE/BERLIN", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("america/new_york", "America/New_York"),
        ("  America / New  York  ", "America/New_York"),
        ("america/port au prince", "America/Port-au-Prince"),
        ("America/Argentina/Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("Pacific/Chatham", "Pacific/Chatham"),
        ("Etc/GMT-2", "Etc/GMT-2"),
        ("etc/gmt+5", "Etc/GMT+5"),
        ("“Europe/Berlin”", "Europe/Berlin"),
        ("Europe/Berlin.", "Europe/Berlin"),
    ],
)
def test_iana_names(text: str, zone: str) -> None:
    assert zone_of(text) == zone


def test_every_iana_name_parses_to_itself_in_any_case() -> None:
    for zone in ZONES:
        if zone in ABBREVIATIONS:
            # "EST" the fixed offset is not what people mean: New York, with its DST.
            assert zone_of(zone) == ABBREVIATIONS[zone]
        elif "/" not in zone:
            # "Japan", "Singapore", "Zulu": found, maybe as the modern name of the place.
            assert offset_of(zone_of(zone)) == offset_of(zone), zone
        else:
            assert zone_of(zone) == zone
            assert zone_of(zone.lower()) == zone
            assert zone_of(zone.upper().replace("_", " ")) == zone


def test_server_dependent_names_are_refused() -> None:
    for name in ("localtime", "Factory", "posixrules"):
        assert isinstance(parse(name), ZoneNotFound)
        with pytest.raises(UnknownZoneError):
            load_zone(name)


# Cities, countries, abbreviations.


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Berlin", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"),
        ("  BERLIN  ", "Europe/Berlin"),
        ("São Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("Zürich", "Europe/Zurich"),
        ("munchen", "Europe/Berlin"),
        ("new   york", "America/New_York"),
        ("New York City", "America/New_York"),
        ("St. John’s", "America/St_Johns"),
        ("st johns", "America/St_Johns"),
        ("Ho Chi Minh City", "Asia/Ho_Chi_Minh"),
        ("Mumbai", "Asia/Kolkata"),
        ("Tegucigalpa", "America/Tegucigalpa"),  # any IANA city, not only the list
        ("Ulaanbaatar", "Asia/Ulaanbaatar"),
        ("Indianapolis", "America/Indiana/Indianapolis"),
        ("Germany", "Europe/Berlin"),
        ("Japan", "Asia/Tokyo"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("EST", "America/New_York"),
        ("pst", "America/Los_Angeles"),
        ("CET", "Europe/Paris"),
    ],
)
def test_places(text: str, zone: str) -> None:
    assert zone_of(text) == zone


def test_the_built_in_lists() -> None:
    assert len(CITIES) >= 120
    for table in (CITIES, ABBREVIATIONS, TZDATA_CITIES):
        for name, zone in table.items():
            assert zone in AVAILABLE, zone
            # Also: no two names that read the same point to different zones.
            assert zone_of(name) == zone, name
    continents = {zone.split("/")[0] for zone in CITIES.values()}
    assert {"Europe", "Africa", "Asia", "America", "Australia", "Pacific"} <= continents


def test_ambiguous_abbreviations_are_not_guessed() -> None:
    for text in ("IST", "CST", "BST", "AST"):
        assert isinstance(parse(text), ZoneNotFound)


def test_city_with_an_unknown_region_is_only_suggested() -> None:
    # Portland, Maine is not Portland, Oregon: ask, do not assume.
    assert parse("Portland, Maine") == ZoneNotFound(("Portland (America/Los_Angeles)",))
    assert parse("New York, USA") == ZoneNotFound(("New York (America/New_York)",))


def test_the_zone_shortcuts() -> None:
    # One list, in dialogues/zone_picker.yaml, which onboarding and settings both call.
    doc = yaml.safe_load((DIALOGUES / "zone_picker.yaml").read_text("utf-8"))
    zones = [
        effect["setting"]["timezone"]
        for choice in doc["nodes"]["zone"]["choices"]
        for effect in choice.get("do", [])
    ]
    assert 6 <= len(zones) <= 12
    assert len(set(zones)) == len(zones)
    for zone in zones:
        assert zone_of(zone) == zone
        load_zone(zone)
    # Across the world: distinct offsets from -7 to +10.
    assert len({offset_of(zone) for zone in zones}) >= 7
    for flow in ("onboarding", "settings"):
        caller = yaml.safe_load((DIALOGUES / f"{flow}.yaml").read_text("utf-8"))
        assert caller["nodes"]["zone"]["call"] == "zone_picker", flow


# Offsets.


@pytest.mark.parametrize(
    ("text", "zone", "hours"),
    [
        ("UTC+2", "Etc/GMT-2", 2),
        ("utc +1", "Etc/GMT-1", 1),
        ("UTC + 2", "Etc/GMT-2", 2),
        ("GMT-5", "Etc/GMT+5", -5),
        ("gmt−5", "Etc/GMT+5", -5),  # a real minus sign
        ("UTC–5", "Etc/GMT+5", -5),  # an en dash
        ("+2", "Etc/GMT-2", 2),
        ("UTC+02:00", "Etc/GMT-2", 2),
        ("UTC+14", "Etc/GMT-14", 14),
        ("UTC-12", "Etc/GMT+12", -12),
        ("UTC", "UTC", 0),
        ("gmt", "UTC", 0),
        ("UTC+0", "UTC", 0),
        ("GMT-00:00", "UTC", 0),
        ("+05:30", "UTC+05:30", 5.5),
        ("UTC+5:30", "UTC+05:30", 5.5),
        ("utc+0530", "UTC+05:30", 5.5),
        ("UTC -3:30", "UTC-03:30", -3.5),
        ("UTC+12:45", "UTC+12:45", 12.75),
        ("＋９", "Etc/GMT-9", 9),  # full-width
    ],
)
def test_offsets(text: str, zone: str, hours: float) -> None:
    assert zone_of(text) == zone
    assert offset_of(zone) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["UTC+15", "UTC-13", "+5:17", "UTC+2:60", "UTC+", "+123", "GMT+x"])
def test_offsets_that_do_not_exist(text: str) -> None:
    assert isinstance(parse(text), ZoneNotFound)


@given(
    sign=st.sampled_from(["+", "-"]),
    hours=st.integers(0, 14),
    minutes=st.sampled_from([0, 15, 30, 45]),
    prefix=st.sampled_from(["UTC", "utc ", "GMT", "gmt ", ""]),
    form=st.sampled_from(["{h}:{m:02d}", "{h:02d}:{m:02d}", "{h:02d}{m:02d}"]),
)
def test_property_offsets_round_trip(
    sign: str, hours: int, minutes: int, prefix: str, form: str
) -> None:
    offset = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
    text = prefix + sign + form.format(h=hours, m=minutes)
    result = parse(text)
    if not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        assert isinstance(result, ZoneNotFound)
        return
    assert isinstance(result, ZoneFound), text
    assert offset_of(result.zone) == offset
    # What the person is shown reads the right way round, and parses back the same.
    shown = describe_zone(result.zone)
    expected = "UTC" if not offset else f"UTC{sign}{hours:02d}:{minutes:02d}"
    assert shown == expected
    assert zone_of(shown) == result.zone


def test_describe_zone() -> None:
    assert describe_zone("Etc/GMT-2") == "UTC+02:00"
    assert describe_zone("Etc/GMT+5") == "UTC-05:00"
    assert describe_zone("Etc/GMT") == "UTC"
    assert describe_zone("UTC+05:30") == "UTC+05:30"
    assert describe_zone("Europe/Berlin") == "Europe/Berlin"


def test_load_zone() -> None:
    assert offset_of("UTC+05:30") == timedelta(hours=5, minutes=30)
    assert offset_of("UTC-03:30") == timedelta(hours=-3, minutes=-30)
    assert offset_of("Etc/GMT-2") == timedelta(hours=2)
    assert offset_of("Europe/Berlin") == timedelta(hours=2)
    assert offset_of("Europe/Berlin", datetime(2025, 1, 1)) == timedelta(hours=1)
    for bad in ("Nowhere/City", "", "../../etc/passwd", "Europe", "UTC+25:00", "UTC+5:30"):
        with pytest.raises(UnknownZoneError):
            load_zone(bad)
    assert issubclass(UnknownZoneError, ValueError)


def test_an_offset_zone_works_with_aware_datetimes() -> None:
    there = datetime(2025, 6, 15, 20, 0, tzinfo=load_zone("UTC+05:30"))
    assert there.astimezone(UTC) == datetime(2025, 6, 15, 14, 30, tzinfo=UTC)


# Typos and junk.


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Berlim", "Berlin (Europe/Berlin)"),
        ("berln", "Berlin (Europe/Berlin)"),
        ("Tokio", "Tokyo (Asia/Tokyo)"),
        ("Londn", "London (Europe/London)"),
        ("Sidney", "Sydney (Australia/Sydney)"),
        ("Amsterdm", "Amsterdam (Europe/Amsterdam)"),
        ("Europe/Berlim", "Europe/Berlin"),
        ("Amerika/New_York", "America/New_York"),
    ],
)
def test_typos_get_suggestions(text: str, first: str) -> None:
    result = parse(text)
    assert isinstance(result, ZoneNotFound)
    assert 1 <= len(result.suggestions) <= 3
    assert result.suggestions[0] == first


def test_a_suggestion_parses_back_to_its_zone() -> None:
    for typo in ("Berlim", "Tokio", "Sidney", "Europe/Berlim", "Parris", "Kolkatta", "Honolul"):
        result = parse(typo)
        assert isinstance(result, ZoneNotFound)
        assert result.suggestions, typo
        for suggestion in result.suggestions:
            zone = suggestion.rsplit("(", 1)[-1].rstrip(")")
            assert zone_of(suggestion) == zone


def test_bracketed_zone_wins() -> None:
    assert zone_of("Berlin (Europe/Berlin)") == "Europe/Berlin"
    assert zone_of("My place (Asia/Tokyo)") == "Asia/Tokyo"
    assert zone_of("Delhi (UTC+05:30)") == "UTC+05:30"


JUNK = [
    "",
    "   ",
    "🙂",
    "🙂" * 5000,
    "x" * 10_000,
    "Berlin" * 2000,
    "\x00\x01\x02",
    "\u200b\u200b",
    "()",
    "(((",
    ",,,",
    "/",
    "//",
    "+",
    "-",
    "UTC+" + "9" * 5000,
    "Абракадабра",  # no place (Москва is one now: places.yaml)
    "東京",
    "' OR 1=1 --",
    "../../etc/passwd",
    "a" * 199 + "/",
]


@pytest.mark.parametrize("text", JUNK, ids=range(len(JUNK)))
def test_junk_is_not_found_quickly(text: str) -> None:
    started = clock.perf_counter()
    result = parse(text)
    assert clock.perf_counter() - started < 0.5
    assert isinstance(result, ZoneNotFound)
    assert len(result.suggestions) <= 3


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_property_never_raises(text: str) -> None:
    result = parse(text)
    if isinstance(result, ZoneFound):
        load_zone(result.zone)
    else:
        assert len(result.suggestions) <= 3
        for suggestion in result.suggestions:
            assert isinstance(parse(suggestion), ZoneFound)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(CITIES | TZDATA_CITIES)),
    case=st.sampled_from([str.lower, str.upper, str.title, str]),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_property_cities_in_any_case_and_padding(name: str, case: object, pad: str) -> None:
    assert callable(case)
    assert zone_of(pad + case(name) + pad) == (CITIES | TZDATA_CITIES)[name]
