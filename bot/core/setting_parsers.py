"""Read a setting from what a person types: "8pm", "Berlin", "22:00-07:00", "7", "UK"."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from bot.core.parse_words import ParseWords
from bot.core.places import Places, place_key
from bot.core.timezones import ZoneFound, parse_timezone


@dataclass(frozen=True)
class Parsed:
    setting: str  # the setting to change (pause_days becomes paused_until)
    value: str


@dataclass(frozen=True)
class Unparsed:
    suggestions: tuple[str, ...] = ()


ParseResult = Parsed | Unparsed

_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?h?(am|pm|a\.m\.|p\.m\.)?$")
MAX_PAUSE_DAYS = 90


def _clean(text: str) -> str:
    return " ".join(text.replace("’", "'").strip().lower().split())


def parse_clock(text: str) -> str | None:
    """ "20:00", "8pm", "8.30 pm", "20h" -> "HH:MM"; None when it is not a time of day."""
    m = _TIME.match(_clean(text).replace(" ", ""))
    if m is None:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    suffix = (m.group(3) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _examples(words: ParseWords, setting: str) -> Unparsed:
    return Unparsed(words.examples.get(setting, ()))


def _timezone(text: str, now: datetime, places: Places, words: ParseWords) -> ParseResult:
    found = parse_timezone(text, places)
    if isinstance(found, ZoneFound):
        return Parsed("timezone", found.zone)
    return Unparsed(found.suggestions)


def _checkin_time(text: str, now: datetime, places: Places, words: ParseWords) -> ParseResult:
    clock = parse_clock(text)
    return Parsed("checkin_time", clock) if clock else _examples(words, "checkin_time")


def _quiet_hours(text: str, now: datetime, places: Places, words: ParseWords) -> ParseResult:
    parts = words.range.split(_clean(text))
    if len(parts) == 2:
        start, end = parse_clock(parts[0]), parse_clock(parts[1])
        if start and end and start != end:
            return Parsed("quiet_hours", f"{start}-{end}")
    return _examples(words, "quiet_hours")


def _pause_days(text: str, now: datetime, places: Places, words: ParseWords) -> ParseResult:
    """ "7", "7 days", "a week", "two weeks", "a fortnight" (the language's words)."""
    m = words.pause.match(_clean(text).strip("."))
    if m is None or not (m.group(1) or m.group(2) or m.group(3)):
        return _examples(words, "pause_days")
    count = int(m.group(1)) if m.group(1) else words.counts.get(m.group(2) or "", 1)
    days = count * words.units.get(m.group(3) or "", 1)
    if not 1 <= days <= MAX_PAUSE_DAYS:
        return _examples(words, "pause_days")
    until = (now + timedelta(days=days)).date()
    return Parsed("paused_until", until.isoformat())


def _country(text: str, now: datetime, places: Places, words: ParseWords) -> ParseResult:
    """A country's name (tzdata's, or another from dialogues/places.yaml) or ISO code."""
    cleaned = _clean(text).strip(".")
    key = place_key(cleaned)
    if key in places.countries:
        return Parsed("country", places.countries[key])
    if re.fullmatch(r"[a-z]{2}", cleaned) and (not places.codes or cleaned.upper() in places.codes):
        return Parsed("country", cleaned.upper())
    labels = places.country_labels
    close = difflib.get_close_matches(key, [k for k in labels if len(k) > 3], n=3, cutoff=0.6)
    if close:
        return Unparsed(tuple(labels[k] for k in close))
    return _examples(words, "country")


# Each parser gets the text, the time, the places and the language's words, all compiled
# with the script.
PARSERS: Mapping[str, Callable[[str, datetime, Places, ParseWords], ParseResult]] = (
    MappingProxyType(
        {
            "timezone": _timezone,
            "checkin_time": _checkin_time,
            "quiet_hours": _quiet_hours,
            "pause_days": _pause_days,
            "country": _country,
        }
    )
)
