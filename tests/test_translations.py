"""The localisation seam: translation files checked line by line against the English, the
coverage `python -m bot check` prints, the run-time fallback to English, and the tool that
writes translation files for translators (never touching a line already written)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.compiler import compile_script
from bot.core.locale_strings import overlay, source_hash, source_lines
from bot.core.model import Script
from bot.core.translation_file import entries
from bot.core.yamlsource import LineDict, parse_yaml
from bot.script_loader import read_sources
from bot.translations_writer import set_words, write_translations
from tests.harness import real_script

ROOT = Path(__file__).resolve().parent.parent
DIALOGUES = ROOT / "dialogues"
BROKEN = Path(__file__).resolve().parent / "fixtures" / "locales_broken"


def dialogues_with(tmp: Path, locales: Path | None) -> Path:
    """A copy of the English dialogues with `locales` (or none) as its locales folder."""
    target = tmp / "dialogues"
    shutil.copytree(DIALOGUES, target, ignore=shutil.ignore_patterns("locales", "corpus"))
    shutil.copytree(DIALOGUES / "screening" / "corpus", target / "screening" / "corpus")
    if locales is not None:
        shutil.copytree(locales, target / "locales")
    return target


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Script]:
    directory = dialogues_with(tmp_path_factory.mktemp("broken"), BROKEN)
    result = compile_script(read_sources(directory))
    assert result.script is not None  # a translation's faults never stop the coach
    return directory, [str(d) for d in result.diagnostics], result.script


def test_each_fault_is_named_with_its_file_and_line(
    broken: tuple[Path, list[str], Script],
) -> None:
    directory, said, _ = broken
    eo = directory / "locales" / "eo"
    expected = [
        (f"{eo / 'apology.yaml'}:9: error:", "nodes.nowhere.say", "M503"),
        (f"{eo / 'apology.yaml'}:17: warning:", "summary: the English changed", "M506"),
        (f"{eo / 'apology.yaml'}:21: error:", "nodes.intro.say: markup", "M504"),
        (f"{eo / 'apology.yaml'}:44: error:", "placeholders differ from the English", "M504"),
        (f"{eo / 'privacy.yaml'}:", "YAML syntax", "M502"),
        (f"{eo / '_plurals.yaml'}:4: error:", "needs exactly the forms one, other", "M508"),
        (f"{eo / 'apology.yaml'}:", "not yet in eo, shown in English", "M505"),
    ]
    for where, what, code in expected:
        assert any(d.startswith(where) and what in d and code in d for d in said), (
            where,
            what,
            "\n".join(d for d in said if "/eo/" in d),
        )


def test_what_cannot_be_shown_in_a_language_is_shown_in_english(
    broken: tuple[Path, list[str], Script],
) -> None:
    _, _, root = broken
    eo = root.for_language("eo")
    english, theirs = root.flows["apology"], eo.flows["apology"]
    assert theirs.title == "Konstrui pardonpeton"  # written and sound: shown
    assert theirs.summary == english.summary  # stale: English until checked
    assert theirs.nodes["intro"].say == english.nodes["intro"].say  # broken markup
    assert theirs.nodes["impact_recall"].say == english.nodes["impact_recall"].say
    assert theirs.nodes["parts"].say == english.nodes["parts"].say  # never written
    assert eo.plurals == {}  # a plural file with a missing form brings none: bare numbers


def test_check_fails_on_a_broken_translation_and_prints_coverage(
    broken: tuple[Path, list[str], Script],
) -> None:
    directory, _, _ = broken
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check", str(directory)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "eo: 1/1377 lines (0.1%)" in done.stdout or "eo: 1/" in done.stdout, done.stdout


def test_the_real_languages_are_complete_and_each_has_its_own_checks() -> None:
    result = compile_script(read_sources(DIALOGUES))
    assert result.script is not None
    assert not result.errors, "\n".join(map(str, result.errors))
    assert {c.language for c in result.coverage} == {"es", "pt-BR", "ru"}
    for c in result.coverage:
        assert c.translated == c.lines and c.stale == 0, c
        assert {"apology", "defensiveness", "validation"} <= set(c.checks), c


def test_every_language_the_picker_offers_exists_and_each_is_offered() -> None:
    root = real_script()
    picker = root.flows["language_picker"].nodes["pick"]
    offered = {
        spec.value for choice in picker.choices for spec in choice.effects if hasattr(spec, "value")
    }
    assert offered == {lang.code for lang in root.languages}


def test_an_overlay_changes_words_only_and_keeps_lines() -> None:
    doc = parse_yaml((DIALOGUES / "apology.yaml").read_text(encoding="utf-8")).data
    assert isinstance(doc, LineDict)
    changed = overlay("flow", doc, {"title": "T", "nodes.escapes.choices.0.label": "Go"})
    assert changed["title"] == "T" and changed["id"] == doc["id"]
    assert changed["nodes"]["escapes"]["choices"][0]["label"] == "Go"
    assert changed["nodes"]["escapes"]["choices"][0]["next"] == "what"
    assert changed.line_of("title") == doc.line_of("title")
    assert doc["title"] == "Build an apology"  # the source document is left alone


def test_ids_name_words_not_structure() -> None:
    doc = parse_yaml((DIALOGUES / "acknowledge.yaml").read_text(encoding="utf-8")).data
    assert isinstance(doc, LineDict)
    ids = source_lines("flow", doc)
    assert "title" in ids and "nodes.intro.say" in ids
    assert not [k for k in ids if k.endswith((".next", ".if.done", ".save", ".check"))]


def test_the_writer_keeps_written_lines_and_adds_the_missing_empty(tmp_path: Path) -> None:
    directory = dialogues_with(tmp_path, None)
    written, missing = write_translations(directory, "xx")
    assert written > 30 and missing > 1000
    target = directory / "locales" / "xx" / "apology.yaml"
    set_words(directory, "xx", directory / "apology.yaml", {"title": "Mine"})
    write_translations(directory, "xx")  # again: what was written stays
    table, problems = entries(parse_yaml(target.read_text(encoding="utf-8")).data)
    assert not problems
    assert table["title"].text == "Mine"
    doc = parse_yaml((directory / "apology.yaml").read_text(encoding="utf-8")).data
    assert table["title"].source == source_hash(doc["title"])
    assert table["summary"].text == ""
    assert "# en: Build an apology" in target.read_text(encoding="utf-8")
