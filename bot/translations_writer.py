"""`python -m bot translations LANG`: write or bring up to date the translation files of
one language, keeping every line a translator has written (the file-system side of
`core/translation_file.py`)."""

from __future__ import annotations

from pathlib import Path

from bot.core.compile_files import FORMAT_VERSION
from bot.core.locale_strings import source_hash, source_lines
from bot.core.translation_file import Entry, entries, render
from bot.core.yamlsource import LineDict, parse_yaml

LOCALES = "locales"


def source_files(directory: Path) -> list[Path]:
    """The English content files that hold words: not the translations themselves."""
    found = sorted(directory.rglob("*.yaml"))
    return [p for p in found if LOCALES not in p.relative_to(directory).parts]


def translation_path(directory: Path, language: str, source: Path) -> Path:
    return directory / LOCALES / language / source.relative_to(directory)


def write_translations(directory: Path, language: str) -> tuple[int, int]:
    """(files written, entries still to translate) for `language`."""
    written = missing = 0
    for source in source_files(directory):
        doc = parse_yaml(source.read_text(encoding="utf-8")).data
        if not isinstance(doc, LineDict) or doc.get("version") != FORMAT_VERSION:
            continue
        lines = source_lines(str(doc.get("kind", "flow")), doc)
        if not lines:
            continue
        target = translation_path(directory, language, source)
        kept = _written(target)
        _write(target, render(language, lines, kept))
        written += 1
        missing += sum(1 for key in lines if key not in kept)
    return written, missing


def set_words(directory: Path, language: str, source: Path, words: dict[str, str]) -> None:
    """Write `words` (id -> text) into one translation file as following today's English
    (their `source` set to its hash): how a reviewed line is accepted."""
    doc = parse_yaml(source.read_text(encoding="utf-8")).data
    assert isinstance(doc, LineDict)
    lines = source_lines(str(doc.get("kind", "flow")), doc)
    unknown = set(words) - set(lines)
    if unknown:
        raise KeyError(f"{source.name} has no lines {sorted(unknown)}")
    target = translation_path(directory, language, source)
    kept = _written(target)
    for key, text in words.items():
        kept[key] = Entry(text, source_hash(lines[key].text), 0)
    _write(target, render(language, lines, kept))


def _written(target: Path) -> dict[str, Entry]:
    """The lines a translator has written in `target` (none if it does not exist yet)."""
    if not target.exists():
        return {}
    old = parse_yaml(target.read_text(encoding="utf-8")).data
    if not isinstance(old, LineDict):
        return {}
    return {k: e for k, e in entries(old)[0].items() if e.text}


def _write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
