"""Diagnostics: a stable code each, the line of the offending key, the closest name.

Each fixture in `fixtures/diagnostics` marks the line of each problem with a comment
`# expect: CODE [SUGGESTION]`; compiled with the base fixtures it must report each of them
there, and nothing else.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.core.compile_report import CODES, MISSING_STRING, codes_table
from bot.core.compile_requires import ENGINE
from bot.core.compiler import CompileResult, Diagnostic, compile_script
from tests.scripts import DIALOGUES, FIXTURES, fixture_sources

CASES = FIXTURES / "diagnostics"
NAMES = sorted(p.name for p in CASES.glob("*.yaml"))
_EXPECT = re.compile(r"# expect: (M\d{3})(?: ([a-z_]+))?")


def expectations(name: str) -> set[tuple[int, str, str]]:
    """`(line, code, suggestion)` for each `# expect:` comment in the fixture."""
    found = set()
    for number, line in enumerate((CASES / name).read_text().splitlines(), 1):
        for m in _EXPECT.finditer(line):
            found.add((number, m.group(1), m.group(2) or ""))
    assert found, f"{name} needs '# expect: CODE [SUGGESTION]' comments"
    return found


def compile_case(name: str) -> tuple[CompileResult, list[Diagnostic]]:
    sources = fixture_sources() | {str(CASES / name): (CASES / name).read_text()}
    result = compile_script(sources)
    return result, [d for d in result.diagnostics if d.path == str(CASES / name)]


def seen(diagnostics: list[Diagnostic]) -> set[tuple[int, str, str]]:
    return {(d.line, d.code.id if d.code else "", d.suggestion) for d in diagnostics}


@pytest.mark.parametrize("name", NAMES)
def test_each_problem_has_its_line_code_and_suggestion(name: str) -> None:
    result, mine = compile_case(name)
    assert seen(mine) == expectations(name), "\n".join(map(str, mine))
    assert result.script is None


def test_every_case_at_once_reports_every_problem() -> None:
    sources = fixture_sources() | {str(CASES / n): (CASES / n).read_text() for n in NAMES}
    result = compile_script(sources)
    wanted = {(str(CASES / n), *e) for n in NAMES for e in expectations(n)}
    got = {(d.path, *next(iter(seen([d])))) for d in result.diagnostics}
    assert wanted <= got


def test_an_unknown_next_is_rendered_with_its_code_and_suggestion() -> None:
    _, mine = compile_case("next_target.yaml")
    rendered = {str(d) for d in mine}
    path = CASES / "next_target.yaml"
    assert (
        f"{path}:21: error: node 'message' leads to unknown node 'clsing'; "
        "did you mean 'closing'? [M101 unknown-next-target]"
    ) in rendered


def test_a_misspelt_string_key_is_reported_at_its_line_with_the_key_it_should_be() -> None:
    sources = fixture_sources()
    path = str(DIALOGUES / "_strings.yaml")
    text = sources[path]
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("  stale_button:"))
    sources[path] = text.replace("  stale_button:", "  stale_buton:", 1)
    result = compile_script(sources)
    missing = [d for d in result.errors if d.code and d.code.id == "M103"]
    assert [(d.path, d.line, d.suggestion) for d in missing] == [(path, line, "stale_button")]
    assert "'stale_button' is missing" in missing[0].message


def test_a_missing_string_with_no_near_key_is_reported_at_the_first_strings_file() -> None:
    sources = fixture_sources()
    path = str(DIALOGUES / "_checks.yaml")  # kind: strings, and first by name
    requires = dataclasses.replace(ENGINE, strings=(*ENGINE.strings, "entirely.new_words"))
    result = compile_script(sources, requires)
    (missing,) = [d for d in result.errors if "entirely.new_words" in d.message]
    assert (missing.path, missing.code, missing.suggestion) == (path, MISSING_STRING, "")


def test_the_engines_requirements_are_one_value_the_compiler_is_given() -> None:
    requires = dataclasses.replace(ENGINE, roles=(*ENGINE.roles, "checkin"))
    result = compile_script(fixture_sources(), requires)
    assert [d.message for d in result.errors] == [
        "no flow plays the 'checkin' role the coach needs (add 'role: checkin')"
    ]
    more = dataclasses.replace(
        ENGINE, commands=(*ENGINE.commands, "dance"), flow_commands=(*ENGINE.flow_commands, "dance")
    )
    messages = [d.message for d in compile_script(fixture_sources(), more).errors]
    assert messages == [
        "no flow opens /dance (add 'command: dance' to its header)",
        "missing string 'command.dance' (add it to a 'kind: strings' file)",
    ]


def test_roles_and_commands_are_checked_where_a_flow_declares_them() -> None:
    sources = fixture_sources()
    menu = next(p for p in sources if p.endswith("base/menu.yaml"))
    help_path = next(p for p in sources if p.endswith("base/help.yaml"))
    sources[menu] = sources[menu].replace("role: menu", "role: menus")
    sources[help_path] = sources[help_path].replace("command: help", "command: helpme")
    errors = compile_script(sources).errors
    role = next(d for d in errors if "role 'menus'" in d.message)
    assert (role.path, role.line, role.suggestion) == (menu, 5, "menu")
    command = next(d for d in errors if "command 'helpme'" in d.message)
    assert (command.path, command.line, command.suggestion) == (help_path, 5, "help")
    assert any("no flow plays the 'menu' role" in d.message for d in errors)


def test_codes_are_unique_and_never_empty() -> None:
    assert len({c.id for c in CODES}) == len({c.name for c in CODES}) == len(CODES)
    for code in CODES:
        assert re.fullmatch(r"M\d{3}", code.id) and re.fullmatch(r"[a-z-]+", code.name)
        assert code.meaning and code.fix


def test_format_md_lists_every_code_as_the_compiler_defines_it() -> None:
    text = (DIALOGUES / "FORMAT.md").read_text()
    assert codes_table() in text, "regenerate the table: bot.core.compile_report.codes_table()"
