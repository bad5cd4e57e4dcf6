"""The crisis resources table: every line sourced and dated, the validator's line numbers,
and how the lines are shown."""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.core.compiler import compile_script
from bot.core.model import Script
from bot.core.resources import FALLBACK, KINDS, check_resources, resources_html
from bot.core.screening import CrisisKind
from bot.core.yamlsource import LineDict, parse_yaml

ROOT = Path(__file__).resolve().parent.parent
RESOURCES_PATH = ROOT / "dialogues" / "_crisis_resources.yaml"
TODAY = date(2026, 12, 2)
REQUIRED = ["US", "GB", "CA", "AU", "NZ", "IE", "DE", "AT", "CH", "FR", "BE", "LU", "ES"]
REQUIRED += ["MX", "AR", "CO", "CL", "PT", "BR", "IT", "RU", "IN", FALLBACK]
EU = {"IE", "DE", "AT", "FR", "BE", "LU", "ES", "PT", "IT"}


def shipped() -> LineDict:
    parsed = parse_yaml(RESOURCES_PATH.read_text("utf-8"))
    assert parsed.duplicates == []
    assert isinstance(parsed.data, LineDict)
    return parsed.data


def problems_in(yaml_text: str, today: date | None = TODAY) -> list[tuple[int, str]]:
    parsed = parse_yaml(textwrap.dedent(yaml_text))
    return check_resources(parsed.data, today=today)


def lines_of(problems: list[tuple[int, str]]) -> list[int]:
    return [line for line, _ in problems]


# --- the shipped table --------------------------------------------------------------------


def test_the_shipped_table_has_no_problems() -> None:
    assert check_resources(shipped(), today=TODAY) == []


def test_the_compiler_accepts_the_shipped_table() -> None:
    path = str(RESOURCES_PATH)
    result = compile_script({path: RESOURCES_PATH.read_text("utf-8")})
    # Whole-script problems (no flows, no strings) are reported at line 1 of the only file.
    assert [d for d in result.diagnostics if d.path == path and d.line > 1] == []


def test_every_required_country_is_there() -> None:
    resources = shipped()["resources"]
    assert set(REQUIRED) <= set(resources)
    assert shipped()["version"] == 1 and shipped()["kind"] == "crisis_resources"


def test_every_line_has_a_https_source_and_a_date_not_in_the_future() -> None:
    for code, entry in shipped()["resources"].items():
        for line in entry["lines"]:
            assert line["source"].startswith("https://"), (code, line["text"])
            assert all(url.startswith("https://") for url in line.get("also", [])), code
            assert isinstance(line["checked"], date) and line["checked"] <= TODAY, code
            assert line["serves"] and set(line["serves"]) <= set(KINDS), code


def test_unverified_countries_say_so_and_offer_only_the_directory() -> None:
    for code, entry in shipped()["resources"].items():
        assert isinstance(entry["verified"], bool), code
        if not entry["verified"]:
            assert entry["note"].strip(), code
            assert all("findahelpline.com" in line["text"] for line in entry["lines"]), code


def test_emergency_numbers() -> None:
    resources = shipped()["resources"]
    for code in EU:
        assert resources[code]["emergency"] == "112", code
    for code, entry in resources.items():
        assert entry["emergency"] in entry["emergency_text"], code
    assert resources["GB"]["emergency"] == "999"
    assert resources["US"]["emergency"] == "911"
    assert resources["AU"]["emergency"] == "000"
    assert "local emergency number" in resources[FALLBACK]["emergency_text"]


def test_the_lines_promised_for_ones_own_anger_exist_where_confirmed() -> None:
    resources = shipped()["resources"]
    for code in ("US", "GB", "AU", "NZ", "DE", "BE", "CH"):
        assert any("anger" in line["serves"] for line in resources[code]["lines"]), code


def test_all_shown_text_is_safe_telegram_html() -> None:
    for code, entry in shipped()["resources"].items():
        texts = [entry["name"], entry["emergency_text"], entry.get("note", "")]
        texts += [line["text"] for line in entry["lines"]]
        for text in texts:
            assert not re.search(r"[<>{}]", text), (code, text)
            assert not re.search(r"&(?!amp;)", text), (code, text)


# --- the validator ------------------------------------------------------------------------

GOOD = """\
version: 1
kind: crisis_resources
resources:
  GB:
    name: United Kingdom
    emergency: "999"
    emergency_text: "In danger now: call 999"
    verified: true
    lines:
      - text: "Samaritans: call 116 123"
        serves: [suicide]
        source: https://www.samaritans.org/
        checked: 2026-12-01
  INTL:
    name: Anywhere else
    emergency: "your local emergency number"
    emergency_text: "Call your local emergency number"
    verified: true
    lines:
      - text: "findahelpline.com"
        serves: [suicide, abuse]
        source: https://findahelpline.com/
        checked: 2026-12-01
"""


def test_a_good_snippet_has_no_problems() -> None:
    assert problems_in(GOOD) == []


def replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("yaml_text", "line", "words"),
    [
        (replace("        source: https://www.samaritans.org/\n", ""), 10, "missing 'source'"),
        (replace("https://www.samaritans.org/", "http://www.samaritans.org/"), 12, "https://"),
        (replace("https://www.samaritans.org/", "www.samaritans.org"), 12, "https://"),
        (replace("        checked: 2026-12-01\n", ""), 10, "missing 'checked'"),
        (replace("checked: 2026-12-01", "checked: last week"), 13, "ISO date"),
        (replace("checked: 2026-12-01", "checked: 2027-01-01"), 13, "in the future"),
        (replace("checked: 2026-12-01", 'checked: "2027-01-01"'), 13, "in the future"),
        (replace("serves: [suicide]", "serves: [suicide, sadness]"), 11, "'sadness'"),
        (replace("serves: [suicide]", "serves: []"), 11, "non-empty"),
        (replace("serves: [suicide]", "serves: [suicide, suicide]"), 11, "twice"),
        (replace("call 116 123", "call 116 123 & more"), 10, "&amp;"),
        (replace("call 116 123", "call <b>116 123</b>"), 10, "< >"),
        (replace("call 116 123", "call {answer.x}"), 10, "< >"),
        (replace("name: United Kingdom", "name: Fish & Chips"), 5, "&amp;"),
        (replace('    emergency_text: "In danger now: call 999"\n', ""), 5, "'emergency_text'"),
        (
            replace('emergency_text: "In danger now: call 999"', 'emergency_text: "Call 112"'),
            7,
            "999",
        ),
        (replace('emergency: "999"', 'emergency: "nine"'), 6, "number"),
        (replace('    emergency: "999"\n', ""), 5, "missing 'emergency'"),
        (replace("    name: United Kingdom\n", ""), 5, "missing 'name'"),
        (replace("    verified: true\n", "    verified: yes please\n"), 8, "true or false"),
        (replace("    verified: true\n", "    verified: false\n"), 5, "needs a 'note'"),
        (replace("    verified: true\n", "    verified: true\n    colour: red\n"), 9, "'colour'"),
        (
            replace(
                "        checked: 2026-12-01\n", "        checked: 2026-12-01\n        hours: 24\n"
            ),
            14,
            "'hours'",
        ),
        (replace("  GB:\n", "  gb:\n"), 4, "two-letter"),
        (replace("  GB:\n", "  GBR:\n"), 4, "two-letter"),
        (GOOD.replace("  INTL:", "  XX:"), 3, "INTL"),
    ],
)
def test_broken_snippets_name_the_right_line(yaml_text: str, line: int, words: str) -> None:
    problems = problems_in(yaml_text)
    assert problems, "expected a problem"
    assert any(at == line and words in message for at, message in problems), problems


def test_lines_that_are_not_mappings_point_at_the_list() -> None:
    text = GOOD.replace(
        """      - text: "Samaritans: call 116 123"
        serves: [suicide]
        source: https://www.samaritans.org/
        checked: 2026-12-01
""",
        """      - "Samaritans: call 116 123"
""",
    )
    problems = problems_in(text)
    assert lines_of(problems) == [10]
    assert "mapping" in problems[0][1]


def test_missing_or_empty_lines() -> None:
    text = """\
    resources:
      GB:
        name: United Kingdom
        emergency: "999"
        emergency_text: "Call 999"
        verified: true
        lines: []
      INTL:
        name: Anywhere else
        emergency: "local"
        emergency_text: "local"
        verified: true
    """
    assert problems_in(text) == [
        (7, "GB: 'lines' must be a non-empty list"),
        (9, "INTL: missing 'lines'"),
    ]


def test_resources_must_be_a_mapping() -> None:
    assert problems_in("version: 1\nkind: crisis_resources\nresources: [GB]\n") == [
        (3, "'resources' must be a mapping of country codes")
    ]


def test_the_date_check_is_pure_without_today() -> None:
    future = replace("checked: 2026-12-01", "checked: 2999-01-01")
    assert problems_in(future, today=None) == []
    assert lines_of(problems_in(future, today=TODAY)) == [13]


def test_the_validator_does_not_change_its_input() -> None:
    doc = parse_yaml(GOOD).data
    before = repr(doc)
    check_resources(doc, today=TODAY)
    assert repr(doc) == before


# --- showing ------------------------------------------------------------------------------


def script_with(table: dict[str, Any]) -> Script:
    return Script(flows={}, strings={}, version="test", data={"crisis_resources": table})


def shipped_script() -> Script:
    parsed = parse_yaml(RESOURCES_PATH.read_text("utf-8"))
    return script_with(parsed.data["resources"])


TABLE: dict[str, Any] = {
    "GB": {
        "name": "United Kingdom",
        "emergency": "999",
        "emergency_text": "In danger now: call 999",
        "verified": True,
        "lines": [
            {"text": "Samaritans", "serves": ["suicide", "self_harm"]},
            {"text": "Refuge", "serves": ["abuse"]},
            {"text": "Respect", "serves": ["harm_others", "anger"]},
        ],
    },
    "ES": {
        "name": "Spain",
        "emergency": "112",
        "emergency_text": "In danger now: call 112",
        "verified": False,
        "note": "Not confirmed yet.",
        "lines": [{"text": "findahelpline.com", "serves": list(KINDS)}],
    },
    "INTL": {
        "name": "Anywhere else",
        "emergency": "local",
        "emergency_text": "Call your local emergency number",
        "verified": True,
        "lines": [{"text": "findahelpline.com", "serves": list(KINDS)}],
    },
}


def test_the_name_is_bold_and_the_emergency_number_comes_first() -> None:
    html = resources_html(script_with(TABLE), "gb")
    assert html.splitlines() == [
        "<b>United Kingdom</b>",
        "• In danger now: call 999",
        "• Samaritans",
        "• Refuge",
        "• Respect",
    ]


@pytest.mark.parametrize(
    ("kind", "first"),
    [
        ("abuse", "Refuge"),
        (CrisisKind.ABUSE, "Refuge"),
        (CrisisKind.HARM_OTHERS, "Respect"),
        ("anger", "Respect"),
        (CrisisKind.SUICIDE, "Samaritans"),
    ],
)
def test_lines_serving_the_kind_come_first(kind: object, first: str) -> None:
    lines = resources_html(script_with(TABLE), "GB", kind).splitlines()
    assert lines[:2] == ["<b>United Kingdom</b>", "• In danger now: call 999"]
    assert lines[2] == f"• {first}"
    assert sorted(lines[2:]) == ["• Refuge", "• Respect", "• Samaritans"]


def test_kind_keeps_the_tables_order_within_each_group() -> None:
    lines = resources_html(script_with(TABLE), "GB", "abuse").splitlines()
    assert lines[2:] == ["• Refuge", "• Samaritans", "• Respect"]


@pytest.mark.parametrize("country", ["", "ZZ", "xx", "Narnia"])
def test_an_unknown_country_falls_back_to_intl(country: str) -> None:
    html = resources_html(script_with(TABLE), country)
    assert html.startswith("<b>Anywhere else</b>")
    assert "findahelpline.com" in html


def test_an_unverified_country_shows_its_emergency_number_and_its_note() -> None:
    lines = resources_html(script_with(TABLE), "ES").splitlines()
    assert lines == [
        "<b>Spain</b>",
        "• In danger now: call 112",
        "<i>Not confirmed yet.</i>",
        "• findahelpline.com",
    ]


def test_no_table_shows_nothing() -> None:
    assert resources_html(script_with({}), "GB") == ""


def test_the_old_call_form_and_old_string_lines_still_work() -> None:
    old = {"INTL": {"name": "Anywhere else", "lines": ["Emergency: call your local number"]}}
    assert resources_html(script_with(old), "GB").splitlines() == [
        "<b>Anywhere else</b>",
        "• Emergency: call your local number",
    ]


def test_the_shipped_table_renders_for_every_country() -> None:
    script = shipped_script()
    for code, entry in shipped()["resources"].items():
        html = resources_html(script, code, CrisisKind.ABUSE)
        assert html.startswith(f"<b>{entry['name']}</b>\n• {entry['emergency_text']}"), code
        assert len(html) < 4096
        assert "&amp;amp;" not in html
    assert "Samaritans" in resources_html(script, "GB")
    assert "findahelpline.com" in resources_html(script, "")
