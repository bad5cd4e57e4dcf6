"""What a person types for their time zone, turned into a zone the planner can load.

`parse_timezone` accepts, in any case, with extra spaces, accents and curly
punctuation tolerated:

- an IANA name: "Europe/Berlin", "europe/berlin", "America/New York";
- a city or a single-zone country from the `Places` the loader compiled (tzdata's tables
  and `dialogues/places.yaml`): "Berlin", "são paulo", "Japan", "NYC";
- a handful of unambiguous abbreviations: "CET", "PST", "JST" (not IST, CST, BST, AST);
- a UTC/GMT offset: "UTC+2", "GMT-5", "+05:30", "utc +1", "UTC−3:30";
- a suggestion this module made, as a button would send it back: "Berlin (Europe/Berlin)".

Zone names it returns (the only ones `load_zone` must understand besides IANA):

- whole-hour offsets become the IANA `Etc/GMT` zone, which zoneinfo loads. Its sign is
  inverted by POSIX convention: UTC+2 is "Etc/GMT-2". `describe_zone` shows it as
  "UTC+02:00" so nobody ever sees the inverted sign;
- UTC itself is "UTC";
- offsets with minutes ("+05:30", "-03:30", "+12:45") have no Etc zone: they become
  "UTC+05:30", which `load_zone` turns into a fixed `datetime.timezone`.

Pure: no clock, no environment. zoneinfo reads its own data files, nothing else. The
places come in as data: the script's (`Script.places`, compiled by the loader from tzdata
and dialogues/places.yaml), passed to `parse_timezone`; without them, bare IANA names.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.places import EXCLUDED, Hit, Places, bare_places, place_key


@dataclass(frozen=True)
class ZoneFound:
    zone: str  # an IANA name, "UTC", or a fixed offset such as "UTC+05:30"


@dataclass(frozen=True)
class ZoneNotFound:
    suggestions: tuple[str, ...]  # at most 3 labels; each parses back to its zone


class UnknownZoneError(ValueError):
    """`load_zone` was given a name that is neither an IANA zone nor a fixed offset."""


MAX_SUGGESTIONS = 3
_MAX_TEXT = 200  # longer input is not a time zone; refuse before any work
_MAX_KEY = 64  # the longest IANA name is 32 characters
_CUTOFF = 0.75  # difflib similarity for a suggestion ("Berlim" ~ "Berlin" is 0.83)

_CANONICAL_OFFSET = re.compile(r"UTC([+-])(\d{2}):(\d{2})")
_ETC_GMT = re.compile(r"Etc/GMT([+-])(\d{1,2})")
_TYPED_OFFSET = re.compile(r"(?:utc|gmt)?([+-])(\d{1,2})(?:[:.h]?(\d{2}))?")
# Meant as an offset, even if not a valid one: "UTC+", "+123", "GMT+2:60".
_OFFSET_ATTEMPT = re.compile(r"(?:utc|gmt)?[+-].*|(?:utc|gmt)\d.*")
_PARENS = re.compile(r"(.*?)\s*\(([^()]*)\)")
_DASHES = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_MAX_EAST = timedelta(hours=14)
_MAX_WEST = timedelta(hours=-12)


def load_zone(name: str) -> tzinfo:
    """The tzinfo for a zone name `parse_timezone` can return (or any IANA name).

    Raises `UnknownZoneError` (a ValueError) for anything else.
    """
    m = _CANONICAL_OFFSET.fullmatch(name)
    if m is not None:
        sign, hours, minutes = m.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        if sign == "-":
            offset = -offset
        if not _MAX_WEST <= offset <= _MAX_EAST or int(minutes) >= 60:
            raise UnknownZoneError(f"offset out of range: {name!r}")
        return timezone(offset, name)
    if name in EXCLUDED:
        raise UnknownZoneError(f"not a usable zone: {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise UnknownZoneError(f"unknown time zone: {name!r}") from e


def describe_zone(zone: str) -> str:
    """How to show a zone to a person: Etc/GMT-2 -> "UTC+02:00", IANA names unchanged."""
    m = _ETC_GMT.fullmatch(zone)
    if m is not None:
        sign, hours = m.groups()
        if int(hours) == 0:
            return "UTC"
        # Etc signs are inverted: Etc/GMT-2 is two hours *ahead* of UTC.
        shown = "+" if sign == "-" else "-"
        return f"UTC{shown}{int(hours):02d}:00"
    if zone in ("Etc/UTC", "Etc/GMT", "UTC", "GMT"):
        return "UTC"
    return zone


def parse_timezone(text: str, places: Places | None = None) -> ZoneFound | ZoneNotFound:
    """A zone for what the person typed, or up to 3 close matches. Never raises."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        return ZoneNotFound(())
    cleaned = _clean(text)
    if not cleaned:
        return ZoneNotFound(())
    where = places or bare_places()

    hit = _resolve(cleaned, where)
    if hit is not None:
        return ZoneFound(hit[0])

    head = cleaned
    m = _PARENS.fullmatch(cleaned)
    if m is not None:
        # "Berlin (Europe/Berlin)": a suggestion sent back; the zone in brackets decides.
        inner = _resolve(m.group(2), where)
        if inner is not None:
            return ZoneFound(inner[0])
        head = m.group(1)
    elif "," in cleaned:
        # "Berlin, Germany": found only when both halves agree. "Portland, Maine" must
        # not silently become Los Angeles, so a lone first half is only suggested.
        head, tail = (part.strip() for part in cleaned.split(",", 1))
        first, second = _resolve(head, where), _resolve(tail, where)
        if first is not None and second is not None and first[0] == second[0]:
            return ZoneFound(first[0])

    if head and head != cleaned:
        first = _resolve(head, where)
        if first is not None:
            return ZoneNotFound((first[1],))
    return ZoneNotFound(_suggest(head or cleaned, where))


# Internals.


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = " ".join(text.split())
    return text.strip(" \"'`.!?;:")


def _offset_zone(text: str) -> str | None:
    compact = "".join(text.casefold().split())
    if compact in ("utc", "gmt", "z", "utc0", "gmt0"):
        return "UTC"
    m = _TYPED_OFFSET.fullmatch(compact)
    if m is None:
        return None
    sign, hours_text, minutes_text = m.groups()
    hours, minutes = int(hours_text), int(minutes_text or 0)
    if minutes not in (0, 15, 30, 45):
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    if sign == "-":
        offset = -offset
    if not _MAX_WEST <= offset <= _MAX_EAST:
        return None
    if not offset:
        return "UTC"
    if not minutes:
        # POSIX: Etc/GMT-2 is UTC+2.
        return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _resolve(text: str, places: Places) -> Hit | None:
    """(zone, label) for an exact match of the whole text, else None."""
    offset = _offset_zone(text)
    if offset is not None:
        return offset, describe_zone(offset)
    if _OFFSET_ATTEMPT.fullmatch("".join(text.casefold().split())):
        return None
    key = place_key(text)
    if not key or len(key) > _MAX_KEY:
        return None
    for table in (places.names, places.abbreviations, places.zones, places.last_parts):
        hit = table.get(key)
        if hit is not None:
            return hit
    return None


def _suggest(text: str, places: Places) -> tuple[str, ...]:
    key = place_key(text)
    if not key or len(key) > _MAX_KEY:
        return ()
    pool = places.pool
    close = difflib.get_close_matches(key, pool.keys(), n=4 * MAX_SUGGESTIONS, cutoff=_CUTOFF)
    out: list[str] = []
    seen: set[str] = set()
    for match in close:
        zone, label = pool[match]
        if zone not in seen:
            seen.add(zone)
            out.append(label)
        if len(out) == MAX_SUGGESTIONS:
            break
    return tuple(out)
