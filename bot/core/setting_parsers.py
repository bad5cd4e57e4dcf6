"""Read a setting from what a person types: "8pm", "Berlin", "22:00-07:00", "7", "UK"."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

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

COUNTRIES: Mapping[str, str] = MappingProxyType(
    {
        "united states": "US", "usa": "US", "us": "US", "america": "US",
        "united kingdom": "GB", "uk": "GB", "gb": "GB", "britain": "GB", "england": "GB",
        "scotland": "GB", "wales": "GB", "northern ireland": "GB",
        "canada": "CA", "ca": "CA", "australia": "AU", "au": "AU",
        "ireland": "IE", "ie": "IE", "germany": "DE", "deutschland": "DE", "de": "DE",
        "india": "IN", "in": "IN", "new zealand": "NZ", "nz": "NZ", "france": "FR",
        "fr": "FR", "spain": "ES", "es": "ES", "italy": "IT", "it": "IT",
        "netherlands": "NL", "nl": "NL", "south africa": "ZA", "za": "ZA",
        "nigeria": "NG", "ng": "NG", "kenya": "KE", "ke": "KE", "philippines": "PH",
        "ph": "PH", "singapore": "SG", "sg": "SG", "brazil": "BR", "br": "BR",
        "mexico": "MX", "mx": "MX", "austria": "AT", "at": "AT", "switzerland": "CH",
        "ch": "CH", "poland": "PL", "pl": "PL", "sweden": "SE", "se": "SE",
        "norway": "NO", "no": "NO", "denmark": "DK", "dk": "DK", "other": "INTL",
        "españa": "ES", "espana": "ES", "méxico": "MX", "brasil": "BR", "portugal": "PT",
        "pt": "PT", "italia": "IT", "österreich": "AT", "osterreich": "AT", "schweiz": "CH",
        "suisse": "CH", "svizzera": "CH", "belgium": "BE", "belgique": "BE", "belgië": "BE",
        "belgie": "BE", "be": "BE", "luxembourg": "LU", "lu": "LU", "argentina": "AR",
        "ar": "AR", "colombia": "CO", "co": "CO", "chile": "CL", "cl": "CL", "russia": "RU",
        "ru": "RU", "россия": "RU", "rossiya": "RU", "aotearoa": "NZ",
        "international": "INTL", "elsewhere": "INTL",
    }
)  # fmt: skip


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


def _timezone(text: str, now: datetime) -> ParseResult:
    found = parse_timezone(text)
    if isinstance(found, ZoneFound):
        return Parsed("timezone", found.zone)
    return Unparsed(found.suggestions)


def _checkin_time(text: str, now: datetime) -> ParseResult:
    clock = parse_clock(text)
    return Parsed("checkin_time", clock) if clock else Unparsed(("20:00", "8pm", "7.30 am"))


def _quiet_hours(text: str, now: datetime) -> ParseResult:
    parts = re.split(r"\s*(?:-|–|—|to|until)\s*", _clean(text))
    if len(parts) == 2:
        start, end = parse_clock(parts[0]), parse_clock(parts[1])
        if start and end and start != end:
            return Parsed("quiet_hours", f"{start}-{end}")
    return Unparsed(("22:00-07:00", "11pm-7am"))


_PAUSE = re.compile(
    r"^(?:(\d{1,3})|(a|an|one|two|three|four))?\s*(days?|weeks?|fortnight|months?)?$"
)
_COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4}
_UNIT_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "fortnight": 14, "month": 30,
              "months": 30}  # fmt: skip


def _pause_days(text: str, now: datetime) -> ParseResult:
    """ "7", "7 days", "a week", "two weeks", "a fortnight", "a month"."""
    m = _PAUSE.match(_clean(text).strip("."))
    if m is None or not (m.group(1) or m.group(2) or m.group(3)):
        return Unparsed(("3", "a week", "two weeks"))
    count = int(m.group(1)) if m.group(1) else _COUNT_WORDS.get(m.group(2) or "", 1)
    days = count * _UNIT_DAYS.get(m.group(3) or "days", 1)
    if not 1 <= days <= MAX_PAUSE_DAYS:
        return Unparsed(("3", "a week", "two weeks"))
    until = (now + timedelta(days=days)).date()
    return Parsed("paused_until", until.isoformat())


def _country(text: str, now: datetime) -> ParseResult:
    key = _clean(text).strip(".")
    if key in COUNTRIES:
        return Parsed("country", COUNTRIES[key])
    if re.fullmatch(r"[a-z]{2}", key):
        return Parsed("country", key.upper())
    names = [n for n in COUNTRIES if len(n) > 3]
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    return Unparsed(tuple(n.title() for n in close) or ("United States", "UK", "India"))


PARSERS: Mapping[str, Callable[[str, datetime], ParseResult]] = MappingProxyType(
    {
        "timezone": _timezone,
        "checkin_time": _checkin_time,
        "quiet_hours": _quiet_hours,
        "pause_days": _pause_days,
        "country": _country,
    }
)
