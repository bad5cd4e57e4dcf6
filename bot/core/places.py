"""Place names a person may type for a time zone or a country, compiled from data.

Two sources, both handed in as text by a shell (`bot/places_loader.py`):

- tzdata's own tables: `iso3166.tab` (a name for every country code), `zone1970.tab` and
  `zone.tab` (the zones of each country), and the zone names zoneinfo knows, whose last
  part names a city ("America/Tegucigalpa" -> "Tegucigalpa");
- `dialogues/places.yaml`: what tzdata lacks (city names and spellings, country nicknames,
  unambiguous abbreviations, the zone most people mean in a country with several).

A country stands for a zone only when all its zones keep the same clock (Germany's Berlin
and Büsingen) or the YAML names one (China, Ukraine). Pure: text in, a `Places` out;
zoneinfo reads its own data files, nothing else.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import yaml

from bot.core.yamlsource import LineDict, LineList, parse_yaml

Hit = tuple[str, str]  # (zone, label); the label parses back to the zone
INTERNATIONAL = "INTL"  # the country value for "no country": international crisis lines

# Zones a person must never get: one depends on the server, one means "no zone".
EXCLUDED = frozenset({"localtime", "Factory", "posixrules"})
# Areas whose last component names a place ("America/Tegucigalpa" -> "Tegucigalpa").
_PLACE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian",
     "Pacific"}
)  # fmt: skip
# Two instants, winter and summer, to tell whether a country's zones keep one clock now.
# Fixed, not today's date: the core reads no clock, and the answer only changes with tzdata.
_SAMPLES = (datetime(2026, 1, 15, 12), datetime(2026, 7, 15, 12))
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)")
_YAML_KEYS = {"version", "kind", "cities", "abbreviations", "countries", "country_zones",
              "ambiguous"}  # fmt: skip


def place_key(text: str) -> str:
    """Case, accents, spaces, underscores and punctuation removed; '/' and signed digits kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(
        ch for ch in decomposed if not unicodedata.combining(ch) and (ch.isalnum() or ch in "/+-")
    )
    return re.sub(r"[+-](?!\d)", "", kept)


@dataclass(frozen=True)
class TzTables:
    """tzdata's tables, as text."""

    iso3166: str
    zone1970: str
    zone: str


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    suggestion: str = ""  # the closest known zone or code, when a name is unknown


@dataclass(frozen=True, eq=False)
class Places:
    """Lookup tables keyed by `place_key`. Built once by `compile_places`."""

    names: Mapping[str, Hit]  # cities and countries with one zone
    abbreviations: Mapping[str, Hit]
    zones: Mapping[str, Hit]  # full IANA names
    last_parts: Mapping[str, Hit]  # "tegucigalpa" -> America/Tegucigalpa
    pool: Mapping[str, Hit]  # everything zone suggestions are drawn from
    countries: Mapping[str, str] = field(default_factory=dict)  # key -> ISO code or INTL
    country_labels: Mapping[str, str] = field(default_factory=dict)  # key -> name to show
    codes: frozenset[str] = frozenset()  # every ISO 3166 code tzdata knows


@cache
def usable_zones() -> frozenset[str]:
    return frozenset(z for z in available_timezones() if z not in EXCLUDED)


@cache
def bare_places() -> Places:
    """IANA names only, for a core used without a loader (no cities, no countries)."""
    return _build({}, {}, {}, {}, frozenset())


def compile_places(tables: TzTables, yaml_text: str) -> tuple[Places | None, list[Problem]]:
    """The places from tzdata's tables and the YAML; or None and every problem, by line."""
    problems: list[Problem] = []
    try:
        parsed = parse_yaml(yaml_text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return None, [Problem(line, f"YAML syntax: {getattr(e, 'problem', None) or e}")]
    doc = parsed.data
    problems += [Problem(line, f"duplicate key {key!r}") for key, line in parsed.duplicates]
    if not isinstance(doc, LineDict):
        return None, [Problem(1, "expected a mapping with kind: places")]
    for key in doc:
        if key not in _YAML_KEYS:
            problems.append(Problem(doc.line_of(key), f"unknown key {key!r}"))
    if doc.get("version") != 1:
        problems.append(Problem(doc.line_of("version"), "version must be 1"))
    if doc.get("kind") != "places":
        problems.append(Problem(doc.line_of("kind"), "kind must be 'places'"))

    zones = usable_zones()
    country_names = _tab_rows(tables.iso3166, 2)
    codes = frozenset(row[0] for row in country_names)
    known_code = codes | {INTERNATIONAL}
    cities = _names_by_target(doc, "cities", zones, "a time zone", problems)
    abbreviations = _names_by_target(doc, "abbreviations", zones, "a time zone", problems)
    nicknames = _names_by_target(doc, "countries", known_code, "a country code", problems)
    chosen = _country_zones(doc, codes, zones, problems)
    ambiguous = _ambiguous(doc, problems)
    if problems:
        return None, problems

    country_zone = _country_zone(tables, zones, chosen)
    countries: dict[str, tuple[str, str]] = {}  # key -> (code, name as written)
    for name, code in nicknames.items():
        countries.setdefault(place_key(name), (code, name))
    for code, name in country_names:
        for variant in _country_variants(name, country_names):
            countries.setdefault(place_key(variant), (code, variant))
    for key in ambiguous:
        countries.pop(key, None)
    current = frozenset(row[2] for row in _tab_rows(tables.zone1970, 3))
    current |= frozenset(row[2] for row in _tab_rows(tables.zone, 3))
    return _build(cities, abbreviations, countries, country_zone, ambiguous, codes, current), []


# Internals.


def _build(
    cities: Mapping[str, str],
    abbreviations: Mapping[str, str],
    countries: Mapping[str, tuple[str, str]],
    country_zone: Mapping[str, str],
    ambiguous: frozenset[str],
    codes: frozenset[str] = frozenset(),
    current: frozenset[str] = frozenset(),
) -> Places:
    names: dict[str, Hit] = {}
    for name, zone in cities.items():
        names.setdefault(place_key(name), (zone, f"{name} ({zone})"))
    for key, (code, name) in countries.items():
        if code in country_zone:
            names.setdefault(key, (country_zone[code], f"{name} ({country_zone[code]})"))
    for key in ambiguous:
        names.pop(key, None)
    abbrev = {place_key(a): (z, f"{a} ({z})") for a, z in abbreviations.items()}
    available = sorted(usable_zones())
    zones = {place_key(z): (z, z) for z in available}
    last_parts: dict[str, Hit] = {}
    # tzdata's current zones before its old links (Europe/Istanbul, not Asia/Istanbul), then
    # deeper names first: America/Argentina/Cordoba wins over the old America/Cordoba.
    for zone in sorted(available, key=lambda z: (z not in current, -z.count("/"), z)):
        area, _, rest = zone.partition("/")
        if area in _PLACE_AREAS and rest:
            place = rest.rsplit("/", 1)[-1].replace("_", " ")
            last_parts.setdefault(place_key(place), (zone, f"{place} ({zone})"))
    for key in ambiguous:
        last_parts.pop(key, None)
    pool = {**zones, **last_parts, **names}  # later tables win on equal keys
    return Places(
        names,
        abbrev,
        zones,
        last_parts,
        pool,
        countries={k: code for k, (code, _) in countries.items()},
        country_labels={k: name for k, (_, name) in countries.items()},
        codes=codes,
    )


def _tab_rows(text: str, columns: int) -> list[tuple[str, ...]]:
    """The rows of a tzdata .tab file: tab-separated, '#' starts a comment line."""
    rows = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= columns:
                rows.append(tuple(parts[:columns]))
    return rows


def _country_zone(
    tables: TzTables, zones: frozenset[str], chosen: Mapping[str, str]
) -> dict[str, str]:
    """The zone a country's name stands for, where there is one."""
    by_country: dict[str, list[str]] = {}
    # zone.tab first: its zone for a country is the country's own ("Europe/Oslo", not the
    # "Europe/Berlin" zone1970.tab shares among five countries), most populous first.
    for code, _, zone in _tab_rows(tables.zone, 3):
        by_country.setdefault(code, []).append(zone)
    for codes, _, zone in _tab_rows(tables.zone1970, 3):
        for code in codes.split(","):
            by_country.setdefault(code, []).append(zone)
    out = dict(chosen)
    for code, listed in by_country.items():
        usable = [z for z in listed if z in zones]
        if code not in out and usable and len({_clock(z) for z in usable}) == 1:
            out[code] = usable[0]
    return out


@cache  # zoneinfo keeps only a few zones loaded; this is asked about each zone 1-3 times
def _clock(zone: str) -> tuple[object, ...]:
    tz = ZoneInfo(zone)
    return tuple(tz.utcoffset(at) for at in _SAMPLES)


def _country_variants(name: str, all_names: Iterable[tuple[str, ...]]) -> list[str]:
    """ "Britain (UK)" -> itself and "Britain"; "Korea (North)" -> only itself, since
    "Korea" would be both Koreas (the YAML says which one a bare "Korea" means)."""
    out = [name]
    bare = _PARENTHETICAL.sub("", name).strip()
    if bare != name:
        heads = [_PARENTHETICAL.sub("", n).strip() for _, n in all_names]
        if heads.count(bare) == 1:
            out.append(bare)
    if "&" in name:
        out += [v.replace("&", "and") for v in list(out)]
    return out


def _names_by_target(
    doc: LineDict, section: str, targets: frozenset[str], what: str, problems: list[Problem]
) -> dict[str, str]:
    """`target: [name, ...]` -> {name: target}, each name once in the section."""
    raw = doc.get(section, LineDict())
    out: dict[str, str] = {}
    if not isinstance(raw, LineDict):
        problems.append(Problem(doc.line_of(section), f"{section}: expected a mapping"))
        return out
    seen: dict[str, tuple[str, int]] = {}  # key -> (target, line)
    for target, names in raw.items():
        line = raw.line_of(target)
        if target not in targets:
            hint = _closest(target, targets)
            problems.append(Problem(line, f"{section}: {target!r} is not {what}", hint))
            continue
        if not isinstance(names, LineList) or not names:
            problems.append(Problem(line, f"{section}: {target}: expected a list of names"))
            continue
        for index, name in enumerate(names):
            at = names.line_of_item(index)
            if not isinstance(name, str) or not place_key(name):
                problems.append(Problem(at, f"{section}: {target}: {name!r} is not a name"))
                continue
            key = place_key(name)
            if key in seen:
                first, first_line = seen[key]
                problems.append(
                    Problem(at, f"{section}: {name!r} is already listed at line {first_line}")
                    if first == target
                    else Problem(at, f"{section}: {name!r} is under {first} at line {first_line}")
                )
                continue
            seen[key] = (str(target), at)
            out[name] = str(target)
    return out


def _country_zones(
    doc: LineDict, codes: frozenset[str], zones: frozenset[str], problems: list[Problem]
) -> dict[str, str]:
    raw = doc.get("country_zones", LineDict())
    if not isinstance(raw, LineDict):
        problems.append(Problem(doc.line_of("country_zones"), "country_zones: expected a mapping"))
        return {}
    out = {}
    for code, zone in raw.items():
        line = raw.line_of(code)
        if code not in codes:
            hint = _closest(code, codes)
            problems.append(Problem(line, f"country_zones: {code!r} is not a country code", hint))
        elif not isinstance(zone, str) or zone not in zones:
            message = f"country_zones: {code}: {zone!r} is not a time zone"
            problems.append(Problem(line, message, _closest(zone, zones)))
        else:
            out[str(code)] = zone
    return out


def _closest(name: object, known: Iterable[str]) -> str:
    matches = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.8)
    return matches[0] if matches else ""


def _ambiguous(doc: LineDict, problems: list[Problem]) -> frozenset[str]:
    raw: Any = doc.get("ambiguous", LineList())
    if not isinstance(raw, LineList):
        problems.append(Problem(doc.line_of("ambiguous"), "ambiguous: expected a list of names"))
        return frozenset()
    keys = set()
    for index, name in enumerate(raw):
        if not isinstance(name, str) or not place_key(name):
            problems.append(Problem(raw.line_of_item(index), f"ambiguous: {name!r} is not a name"))
        else:
            keys.add(place_key(name))
    return frozenset(keys)
