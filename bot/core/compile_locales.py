"""The other languages: each one's words checked line by line against the English.

`locales/languages.yaml` names the languages; `locales/<code>/<file>` holds the words of
one English file in that language (`translation_file`), and `locales/<code>/checks/` that
language's own text-check rules. For each language this module reports, at the
translation's own line, every id the English lacks, every line not yet written or written
for an English line that has since changed, and every line that cannot stand for its
English (`translation_checks`); it hands the compiler the words that can, as an overlay on
the English documents. A line left out is shown in English: reported, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.core.checks import TextCheck, compile_check
from bot.core.compile_files import FORMAT_VERSION
from bot.core.compile_parsing import parse_words
from bot.core.compile_plurals import plurals
from bot.core.compile_report import (
    BAD_TRANSLATION,
    EXTRA_TRANSLATION,
    LANGUAGES,
    MISSING_TRANSLATION,
    STALE_TRANSLATION,
    TEXT_CHECK,
    TRANSLATION_FILE,
    Report,
)
from bot.core.locale_strings import SourceLine, overlay, source_hash, source_lines
from bot.core.model import ENGLISH, Language
from bot.core.translation_checks import problems
from bot.core.translation_file import KIND, Entry, entries
from bot.core.yamlsource import LineDict, parse_yaml

LOCALES = "locales"
LANGUAGES_FILE = "languages.yaml"
SOURCE_LANGUAGE = ENGLISH
_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2})?$")
# Not translated line by line: the screen reads every language at once; text checks and
# plural phrases are written for each language in its own files.
OWN_FILES = ("/_plurals.yaml", "/_parsing.yaml")  # written per language, not translated
_NOT_TRANSLATED = ("/screening/", "/checks/", *OWN_FILES)

Overlay = Callable[[str, str, LineDict], LineDict]  # (path, kind, document) -> document


@dataclass
class LanguageWords:
    """What one language brings: words by English file, its own check files, coverage."""

    language: Language
    words: dict[str, dict[str, str]] = field(default_factory=dict)  # English path -> id -> text
    own_sources: dict[str, str] = field(default_factory=dict)  # its plurals, parsing words
    own_checks: dict[str, TextCheck] = field(default_factory=dict)  # compiled once
    lines: int = 0  # lines with words in the English
    translated: int = 0  # of those, written in this language and usable
    stale: int = 0

    def overlay(self, path: str, kind: str, doc: LineDict) -> LineDict:
        return overlay(kind, doc, self.words.get(path, {}))

    def content_sources(self, base: Mapping[str, str]) -> dict[str, str]:
        """The English files this language is compiled from (its words go over them)."""
        kept = {p: t for p, t in base.items() if not any(s in p for s in _NOT_TRANSLATED)}
        return {**kept, **self.own_sources}


def split_sources(sources: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(the English files, the files under `locales/`)."""
    base: dict[str, str] = {}
    locale: dict[str, str] = {}
    for path, text in sources.items():
        (locale if f"/{LOCALES}/" in f"/{path}" else base)[path] = text
    return base, locale


def languages(locale_sources: Mapping[str, str], report: Report) -> tuple[Language, ...]:
    """The source language first, then each language `languages.yaml` names."""
    path = next(
        (p for p in sorted(locale_sources) if p.endswith(f"{LOCALES}/{LANGUAGES_FILE}")), None
    )
    if path is None:
        return (SOURCE_LANGUAGE,)
    doc = _document(path, locale_sources[path], report)
    if doc is None:
        return (SOURCE_LANGUAGE,)
    table = doc.get("languages")
    if doc.get("kind") != "languages" or not isinstance(table, LineDict):
        report.error(
            LANGUAGES, path, doc.line, "a languages file has `kind: languages` and `languages:`"
        )
        return (SOURCE_LANGUAGE,)
    found = [SOURCE_LANGUAGE]
    for code, entry in table.items():
        line = table.line_of(code)
        if not isinstance(code, str) or not _TAG.match(code) or not isinstance(entry, LineDict):
            report.error(
                LANGUAGES, path, line, f"{code!r}: a language is `code: {{name, locale, telegram}}`"
            )
            continue
        name, locale, telegram = entry.get("name"), entry.get("locale"), entry.get("telegram")
        if (
            not isinstance(name, str)
            or not isinstance(locale, str)
            or not isinstance(telegram, list)
        ):
            report.error(LANGUAGES, path, line, f"{code}: needs name, locale and a telegram list")
            continue
        language = Language(code, name, locale, tuple(str(t).lower() for t in telegram))
        if code == SOURCE_LANGUAGE.code:
            found[0] = language  # the source's own name, locale and codes
        else:
            found.append(language)
    return tuple(found)


@dataclass(frozen=True)
class EnglishFile:
    """An English file with words: its kind and its lines by id, read once for every language."""

    kind: str
    lines: dict[str, SourceLine]


def english_files(base: Mapping[str, str]) -> dict[str, EnglishFile]:
    """Every English file that holds words a language translates line by line."""
    out: dict[str, EnglishFile] = {}
    for path in sorted(base):
        if any(s in path for s in _NOT_TRANSLATED):
            continue
        doc = _document(path, base[path], Report())  # its own errors are reported once
        if doc is None:
            continue
        kind = str(doc.get("kind", "flow"))
        lines = source_lines(kind, doc)
        if lines:
            out[path] = EnglishFile(kind, lines)
    return out


def language_words(
    language: Language,
    english: Mapping[str, EnglishFile],
    locale_sources: Mapping[str, str],
    report: Report,
) -> LanguageWords:
    """Check every translation file of `language`; return the words that can be shown."""
    out = LanguageWords(language)
    folder = f"{LOCALES}/{language.code}/"
    mine = {p: t for p, t in locale_sources.items() if folder in p}
    own = {p: t for p, t in mine.items() if f"{folder}checks/" in p or p.endswith(OWN_FILES)}
    for path, text in sorted(own.items()):
        _own_file(path, text, language, out, report)
    if not any(p.endswith("/_plurals.yaml") for p in out.own_sources):
        message = f"no {folder}_plurals.yaml: counts are shown as bare numbers in {language.code}"
        where = _would_be(
            next(iter(english), "_plurals.yaml").rpartition("/")[0] + "/_plurals.yaml", folder
        )
        report.warn(MISSING_TRANSLATION, where, 1, message)
    targets = _translation_paths(english, folder, mine, own)
    for base_path, source in english.items():
        sources = source.lines
        out.lines += len(sources)
        target = targets.get(base_path)
        table = _table(target, mine, language, report) if target else {}
        numbers = source.kind == "crisis_resources"
        words: dict[str, str] = {}
        for key, entry in table.items():
            if key not in sources:
                message = f"{key}: the English file has no such line"
                report.error(EXTRA_TRANSLATION, target or base_path, entry.line, message)
                continue
            if not entry.text:
                continue
            found = problems(key, sources[key].text, entry.text, numbers=numbers)
            for problem in found:
                report.error(BAD_TRANSLATION, target or base_path, entry.line, f"{key}: {problem}")
            if found:
                continue
            now = source_hash(sources[key].text)
            if entry.source != now:
                out.stale += 1
                message = (
                    f"{key}: the English changed since this was written (line {sources[key].line}"
                    f' of {base_path}); check the words, then set source: "{now}"'
                )
                report.warn(STALE_TRANSLATION, target or base_path, entry.line, message)
                continue  # shown in English until checked: a shifted button must not mislead
            words[key] = entry.text
        missing = [k for k in sources if not (k in table and table[k].text)]  # stale: not here
        if missing:
            where = target or _would_be(base_path, folder)
            first = table[missing[0]].line if missing[0] in table else 1
            shown = ", ".join(missing[:3]) + (
                f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            )
            message = (
                f"{len(missing)} line(s) not yet in {language.code}, shown in English: {shown}"
            )
            report.warn(MISSING_TRANSLATION, where, first, message)
        out.translated += len(words)
        out.words[base_path] = words
    return out


def _own_file(path: str, text: str, language: Language, out: LanguageWords, report: Report) -> None:
    """A language's own checks, plurals or parsing words, kept if they compile; if not,
    their faults are reported here and the language goes on without them. A check is kept
    compiled: its patterns are the costly part of start-up, so they compile once."""
    doc = _document(path, text, report)
    if doc is None:
        return
    found = Report()
    if doc.get("kind") == "text_check":
        check, problems = compile_check(path, doc)
        found.problems(TEXT_CHECK, path, problems)
        if check is not None and not problems:
            out.own_checks[check.name] = check
    elif doc.get("kind") == "plurals":
        plurals(path, doc, language.locale, {}, found)
    elif doc.get("kind") == "parsing":
        parse_words(path, doc, [], found)
    report.items += found.items
    if doc.get("kind") != "text_check" and not any(d.severity == "error" for d in found.items):
        out.own_sources[path] = text


def _translation_paths(
    english: Mapping[str, EnglishFile],
    folder: str,
    mine: Mapping[str, str],
    own: Mapping[str, str],
) -> dict[str, str]:
    """English path -> the path of its translation in this language's folder."""
    out: dict[str, str] = {}
    for path in mine:
        if path in own or path.endswith(LANGUAGES_FILE):
            continue
        candidate = path.replace(folder, "", 1)
        if candidate in english:
            out[candidate] = path
    return out


def _would_be(base_path: str, folder: str) -> str:
    head, _, name = base_path.rpartition("/")
    return f"{head}/{folder}{name}" if head else f"{folder}{name}"


def _table(
    path: str, mine: Mapping[str, str], language: Language, report: Report
) -> dict[str, Entry]:
    doc = _document(path, mine[path], report)
    if doc is None:
        return {}
    if doc.get("kind") != KIND or doc.get("language") != language.code:
        message = f"a translation file has `kind: {KIND}` and `language: {language.code}`"
        report.error(TRANSLATION_FILE, path, doc.line, message)
        return {}
    table, malformed = entries(doc)
    report.problems(TRANSLATION_FILE, path, malformed)
    return dict(table)


def _document(path: str, text: str, report: Report) -> LineDict | None:
    try:
        parsed = parse_yaml(text)
    except Exception as exc:  # a YAML slip in a translation: reported, the language goes on
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        report.error(TRANSLATION_FILE, path, line, f"YAML syntax: {getattr(exc, 'problem', exc)}")
        return None
    doc = parsed.data
    if not isinstance(doc, LineDict) or doc.get("version") != FORMAT_VERSION:
        report.error(
            TRANSLATION_FILE, path, 1, f"a translation file starts with `version: {FORMAT_VERSION}`"
        )
        return None
    for key, line in parsed.duplicates:
        report.error(TRANSLATION_FILE, path, line, f"{key}: written twice")
    return doc
