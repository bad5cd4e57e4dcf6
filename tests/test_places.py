"""Places come from tzdata's tables and dialogues/places.yaml, and a fault in the YAML is
reported as file:line like every other dialogue file."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.places import Places
from bot.core.setting_parsers import PARSERS, Parsed, Unparsed
from bot.core.timezones import ZoneFound, ZoneNotFound, parse_timezone
from bot.places_loader import PLACES_FILE, compile_places_text, load_places
from bot.script_loader import load_script
from tests.harness import real_script

DIALOGUES = Path(__file__).resolve().parent.parent / "dialogues"
NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
WORDS = real_script().parse_words  # English
YAML_TEXT = (DIALOGUES / PLACES_FILE).read_text("utf-8")
HEADER = "version: 1\nkind: places\n"


def real() -> Places:
    places, problems = load_places(DIALOGUES / PLACES_FILE)
    assert places is not None, problems
    return places


def compiled(text: str) -> Places:
    places, problems = compile_places_text("places.yaml", text)
    assert places is not None, problems
    return places


def problems_of(text: str) -> list[str]:
    places, problems = compile_places_text("dialogues/places.yaml", text)
    assert places is None
    return [str(p) for p in problems]


def zone_of(text: str, places: Places) -> str | None:
    result = parse_timezone(text, places)
    return result.zone if isinstance(result, ZoneFound) else None


def yaml_names() -> set[str]:
    doc: dict[str, Any] = yaml.safe_load(YAML_TEXT)
    return {n.casefold() for names in doc["cities"].values() for n in names}


# --- what comes from tzdata, what from the YAML ----------------------------------------


@pytest.mark.parametrize(
    ("city", "zone"),
    [("Ulaanbaatar", "Asia/Ulaanbaatar"), ("Kathmandu", "Asia/Kathmandu"),
     ("Tegucigalpa", "America/Tegucigalpa"), ("Istanbul", "Europe/Istanbul")],
)  # fmt: skip
def test_a_city_only_tzdata_names_resolves(city: str, zone: str) -> None:
    assert city.casefold() not in yaml_names()  # nobody listed it: tzdata's zone names did
    assert zone_of(city, compiled(HEADER)) == zone
    assert zone_of(city, real()) == zone


@pytest.mark.parametrize(
    ("alias", "zone"),
    [("NYC", "America/New_York"), ("LA", "America/Los_Angeles"), ("Bombay", "Asia/Kolkata"),
     ("Kiev", "Europe/Kyiv"), ("Kyiv", "Europe/Kyiv"), ("Barcelona", "Europe/Madrid"),
     ("Köln", "Europe/Berlin"), ("koln", "Europe/Berlin")],
)  # fmt: skip
def test_an_alias_from_the_yaml_resolves(alias: str, zone: str) -> None:
    assert zone_of(alias, real()) == zone


def test_the_yaml_is_the_source_of_aliases() -> None:
    assert zone_of("NYC", compiled(HEADER)) is None
    gotham = compiled(HEADER + "cities:\n  America/New_York: [Gotham]\n")
    assert zone_of("Gotham", gotham) == "America/New_York"
    assert parse_timezone("Gotham, USA", gotham) == ZoneNotFound(("Gotham (America/New_York)",))


def test_countries_come_from_tzdata_when_their_zones_keep_one_clock() -> None:
    bare = compiled(HEADER)
    # Germany has Berlin and Büsingen, one clock; Iceland, Nepal and Laos have one zone.
    one_clock = [("Germany", "Europe/Berlin"), ("Iceland", "Atlantic/Reykjavik"),
                 ("Nepal", "Asia/Kathmandu"), ("Laos", "Asia/Vientiane"),
                 ("Britain (UK)", "Europe/London"), ("Britain", "Europe/London")]  # fmt: skip
    for country, zone in one_clock:
        assert zone_of(country, bare) == zone, country
    # Several clocks and no choice in the YAML: never guessed.
    for country in ("United States", "Russia", "Mongolia", "China", "Korea"):
        assert zone_of(country, bare) is None, country


def test_the_yaml_picks_a_zone_for_some_countries_and_names_nicknames() -> None:
    places = real()
    named = [("China", "Asia/Shanghai"), ("Ukraine", "Europe/Kyiv"), ("UK", "Europe/London"),
             ("Korea", "Asia/Seoul"), ("Deutschland", "Europe/Berlin"),
             ("Türkiye", "Europe/Istanbul")]  # fmt: skip
    for country, zone in named:
        assert zone_of(country, places) == zone, country
    assert zone_of("United States", places) is None


def test_an_ambiguous_name_is_never_taken() -> None:
    assert zone_of("Georgia", compiled(HEADER)) == "Asia/Tbilisi"  # tzdata alone would
    assert zone_of("Georgia", real()) is None
    assert zone_of("Tbilisi", real()) == "Asia/Tbilisi"


# --- the country setting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [("UK", "GB"), ("united kingdom", "GB"), ("Northern Ireland", "GB"), ("USA", "US"),
     ("United States", "US"), ("Deutschland", "DE"), ("belgie", "BE"), ("België", "BE"),
     ("Россия", "RU"), ("aotearoa", "NZ"), ("other", "INTL"), ("Elsewhere", "INTL"),
     ("no", "NO"), ("de", "DE"), ("Mongolia", "MN"), ("Korea (South)", "KR"),
     ("Trinidad and Tobago", "TT"), ("Trinidad & Tobago", "TT")],
)  # fmt: skip
def test_the_country_setting(text: str, code: str) -> None:
    assert PARSERS["country"](text, NOW, real(), WORDS) == Parsed("country", code)


def test_a_mistyped_country_gets_suggestions_that_parse_back() -> None:
    places = real()
    result = PARSERS["country"]("Germny", NOW, places, WORDS)
    assert isinstance(result, Unparsed) and result.suggestions
    assert result.suggestions[0] == "Germany"
    for suggestion in result.suggestions:
        assert isinstance(PARSERS["country"](suggestion, NOW, places, WORDS), Parsed), suggestion
    assert PARSERS["country"]("zz", NOW, places, WORDS) == Unparsed(
        ("United States", "UK", "India")
    )


def test_loading_the_dialogues_gives_the_script_its_places() -> None:
    result = load_script(DIALOGUES)
    assert result.script is not None, result.errors
    places = result.script.places
    assert zone_of("NYC", places) == "America/New_York"
    assert PARSERS["timezone"]("Bombay", NOW, places, WORDS) == Parsed("timezone", "Asia/Kolkata")


# --- faults are reported with file and line ------------------------------------------------


def test_the_real_file_has_no_problems() -> None:
    assert load_places(DIALOGUES / PLACES_FILE)[1] == []


def test_a_yaml_syntax_error_names_its_line() -> None:
    text = HEADER + "cities:\n  Europe/London: [Leeds, Hull\n  Europe/Paris: [Lyon]\n"
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0].startswith("dialogues/places.yaml:")
    assert ": error: YAML syntax" in problems[0]


def test_every_fault_is_named_at_its_line() -> None:
    text = (
        "version: 1\n"  # 1
        "kind: places\n"  # 2
        "cities:\n"  # 3
        "  Europe/London: [Leeds]\n"  # 4
        "  Europe/Londn: [Hull]\n"  # 5: not a zone
        "  Europe/Paris:\n"  # 6
        "    - Lyon\n"  # 7
        "    - leeds\n"  # 8: already under Europe/London
        "countries:\n"  # 9
        "  XX: [Nowhere]\n"  # 10: not a country code
        "country_zones:\n"  # 11
        "  CN: Asia/Shanghia\n"  # 12: not a zone
        "spelling: []\n"  # 13: unknown key
    )
    problems = problems_of(text)
    expected = [
        ("5", "'Europe/Londn' is not a time zone"),
        ("8", "'leeds' is under Europe/London at line 4"),
        ("10", "'XX' is not a country code"),
        ("12", "'Asia/Shanghia' is not a time zone"),
        ("13", "unknown key 'spelling'"),
    ]
    for line, words in expected:
        assert any(p.startswith(f"dialogues/places.yaml:{line}: error:") and words in p
                   for p in problems), (line, words, problems)  # fmt: skip
    assert len(problems) == len(expected), problems


def test_a_broken_places_file_stops_the_coach_with_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    broken = YAML_TEXT.replace("Europe/Madrid: [", "Europe/Madird: [", 1)
    line = broken[: broken.index("Europe/Madird")].count("\n") + 1
    (folder / PLACES_FILE).write_text(broken, "utf-8")
    result = load_script(folder)
    assert result.script is None
    assert [str(d) for d in result.errors] == [
        f"{folder / PLACES_FILE}:{line}: error: cities: 'Europe/Madird' is not a time zone;"
        " did you mean 'Europe/Madrid'?"
    ]


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Москва", "Europe/Moscow"),
        ("Питер", "Europe/Moscow"),
        ("Londres", "Europe/London"),
        ("Nueva York", "America/New_York"),
        ("Nova York", "America/New_York"),
        ("Cidade do México", "America/Mexico_City"),
        ("Киев", "Europe/Kyiv"),
    ],
)
def test_city_names_in_the_languages_mend_speaks(text: str, zone: str) -> None:
    assert zone_of(text, real()) == zone


@pytest.mark.parametrize(
    ("text", "code"), [("Alemania", "DE"), ("Estados Unidos", "US"), ("Германия", "DE")]
)
def test_country_names_in_the_languages_mend_speaks(text: str, code: str) -> None:
    assert PARSERS["country"](text, NOW, real(), WORDS) == Parsed("country", code)
