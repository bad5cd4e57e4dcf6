"""Compile dialogue YAML into a `Script`, collecting every problem at once.

Pure: it takes file texts, not paths to open. Each diagnostic is `path:line: message`
with a stable code (`dialogues/FORMAT.md` lists them). A script with any error is not
returned; warnings (unreachable nodes) are. The work is split by stage:

- `compile_files`, `compile_nodes`, `compile_effects`: parsing YAML into structures;
- `compile_graph`: analysis across the script (references, reachability, names shown);
- `compile_markup`: Telegram's HTML and limits;
- `compile_requires`: what the engine requires of a script, passed in as one value.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core import compile_files as files
from bot.core.checks import TextCheck
from bot.core.compile_files import CORPUS_SUFFIX, DATA_KINDS, FORMAT_VERSION
from bot.core.compile_graph import check_graph, check_references, check_required, check_templates
from bot.core.compile_locales import (
    LanguageWords,
    Overlay,
    english_files,
    language_words,
    languages,
    split_sources,
)
from bot.core.compile_markup import MAX_LABEL, MAX_MESSAGE, check_bot_texts, check_limits
from bot.core.compile_nodes import FlowParser
from bot.core.compile_parsing import parse_words
from bot.core.compile_plurals import plurals as compile_plurals
from bot.core.compile_report import (
    CODES,
    DUPLICATE_FLOW,
    NO_LEXICON,
    SCREEN_MODEL,
    TRANSLATED_SCRIPT,
    UNKNOWN_KIND,
    Code,
    Diagnostic,
    Report,
)
from bot.core.compile_requires import ENGINE, Requirements
from bot.core.model import Flow, Language, Script
from bot.core.parse_words import ParseWords
from bot.core.screening import Screen
from bot.core.screening.corpus import Example
from bot.core.screening.lexicon import Lexicon
from bot.core.screening.model_settings import ModelSettings, compile_model_settings
from bot.core.template import Template
from bot.core.yamlsource import LineDict

__all__ = [
    "CODES", "CORPUS_SUFFIX", "DATA_KINDS", "FORMAT_VERSION", "MAX_LABEL", "MAX_MESSAGE",
    "Code", "CompileResult", "Diagnostic", "Requirements", "compile_script",
]  # fmt: skip
VERSION_CHARS = 6
KINDS = (
    "flow", "strings", "library", "crisis_lexicon", "text_check", "screen_model", "plurals",
    "parsing",
    *DATA_KINDS,
)  # fmt: skip


@dataclass(frozen=True)
class Coverage:
    language: str
    lines: int  # lines with words in the English
    translated: int  # written in this language and shown
    stale: int  # of those, written for an English line that has since changed
    checks: tuple[str, ...]  # the text checks with rules of this language

    @property
    def complete(self) -> bool:
        return self.translated == self.lines and not self.stale


@dataclass
class CompileResult:
    script: Script | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    corpus: tuple[Example, ...] = ()  # the crisis screen's labelled rows, for training
    model_settings: ModelSettings = field(default_factory=ModelSettings)
    coverage: tuple[Coverage, ...] = ()  # one per language other than the source

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def compile_script(sources: Mapping[str, str], requires: Requirements = ENGINE) -> CompileResult:
    """`sources` maps a file's display path to its text; `requires` is what the engine
    that will run the script needs of it. Files under `locales/` are the other languages:
    each is compiled over the English structure (`compile_locales`)."""
    base, translations = split_sources(sources)
    report = Report()
    table = languages(translations, report)
    result = compile_content(base, requires, locale=table[0].locale)
    if result.script is None:
        return dataclasses.replace(result, diagnostics=result.diagnostics + report.items)
    return with_languages(result, base, translations, requires, _version(sources), table, report)


def with_languages(
    result: CompileResult,
    base: Mapping[str, str],
    locale: Mapping[str, str],
    requires: Requirements,
    version: str,
    table: tuple[Language, ...],
    report: Report,
) -> CompileResult:
    """The source script holding each other language's script, and what each covers."""
    source = result.script
    assert source is not None
    translations: dict[str, Script] = {}
    coverage: list[Coverage] = []
    english = english_files(base)
    for language in table[1:]:
        words = language_words(language, english, locale, report)
        script = _translated(words, base, requires, source, report)
        translations[language.code] = dataclasses.replace(
            script, version=version, language=language, languages=table
        )
        checks = tuple(sorted(script.checks))
        coverage.append(Coverage(language.code, words.lines, words.translated, words.stale, checks))
    script = dataclasses.replace(
        source, version=version, language=table[0], translations=translations, languages=table
    )
    diagnostics = sorted([*result.diagnostics, *report.items], key=lambda d: (d.path, d.line))
    # A translation's faults are errors for `check`, but never stop the coach: each line
    # that cannot be shown in a language is shown in English.
    return dataclasses.replace(
        result, script=script, diagnostics=diagnostics, coverage=tuple(coverage)
    )


def _translated(
    words: LanguageWords,
    base: Mapping[str, str],
    requires: Requirements,
    source: Script,
    report: Report,
) -> Script:
    """The language's script; the source script itself when its words do not compile."""
    compiled = compile_content(
        words.content_sources(base),
        requires,
        locale=words.language.locale,
        overlay=words.overlay,
        known_checks={**source.checks, **words.own_checks},
        screen_needed=False,
    )
    if compiled.script is None:
        for d in compiled.errors:
            message = f"in {words.language.code}: {d.message} (the language is shown in English)"
            report.error(TRANSLATED_SCRIPT, d.path, d.line, message)
        return dataclasses.replace(source, translations={})
    # Only this language's own rules run on its text (the English were for validation).
    return dataclasses.replace(compiled.script, checks=words.own_checks, screen=source.screen)


def compile_content(
    sources: Mapping[str, str],
    requires: Requirements = ENGINE,
    *,
    locale: str = "en",
    overlay: Overlay | None = None,
    known_checks: Mapping[str, TextCheck] | None = None,
    screen_needed: bool = True,
) -> CompileResult:
    """One language's script. `overlay` swaps in translated words right after parsing;
    `known_checks` are checks flows may name though this language has no rules for them
    (they are validated against, not run); a translation reuses the English screen, so it
    needs no lexicon of its own (`screen_needed`)."""
    report = Report()
    strings: dict[str, Template] = {}
    string_lines: dict[str, tuple[str, int]] = {}
    data: dict[str, object] = {}
    libraries: dict[str, tuple[str, ...]] = {}
    flow_docs: list[tuple[str, LineDict, list[tuple[str, int]]]] = []
    lexicons: dict[str, Lexicon] = {}
    checks: dict[str, TextCheck] = {}
    plurals: dict[str, dict[str, Template]] = {}
    words: list[ParseWords] = []
    corpus: list[Example] = []
    model_settings = ModelSettings()
    for path in sorted(sources):
        if path.endswith(CORPUS_SUFFIX):
            corpus += files.corpus(path, sources[path], report)
            continue
        loaded = files.load(path, sources[path], report)
        if loaded is None:
            continue
        doc, duplicates = loaded
        kind = doc.get("kind", "flow")
        if overlay is not None:
            doc = overlay(path, str(kind), doc)
        if kind == "flow":
            flow_docs.append((path, doc, duplicates))  # once every check is known
            continue
        files.duplicate_keys(path, duplicates, report)
        if kind == "strings":
            files.strings(path, doc, strings, string_lines, report)
        elif kind in DATA_KINDS:
            files.data(path, doc, kind, data, report)
        elif kind == "library":
            files.library(path, doc, libraries, report)
        elif kind == "crisis_lexicon":
            files.lexicon(path, sources[path], doc, lexicons, report)
        elif kind == "text_check":
            files.text_check(path, sources[path], doc, checks, report)
        elif kind == "parsing":
            parse_words(path, doc, words, report)
        elif kind == "plurals":
            compile_plurals(path, doc, locale, plurals, report)
        elif kind == "screen_model":
            model_settings, problems = compile_model_settings(doc)
            report.problems(SCREEN_MODEL, path, problems)
        else:
            message = f"unknown kind {kind!r} (known: {', '.join(KINDS)})"
            report.unknown(UNKNOWN_KIND, path, doc.line_of("kind"), message, kind, KINDS)
    parser = FlowParser(report, {**(known_checks or {}), **checks}, requires)
    flows: dict[str, Flow] = {}
    for path, doc, duplicates in flow_docs:
        flow = parser.flow(path, doc, duplicates)
        if flow is None:
            continue
        check_graph(flow, parser.lines, report)
        if flow.id in flows:
            message = f"duplicate flow id {flow.id!r} (also in {flows[flow.id].path})"
            report.error(DUPLICATE_FLOW, path, doc.line_of("id"), message)
            continue
        flows[flow.id] = flow
    version = _version(sources)
    script = Script(
        flows,
        strings,
        version,
        data,
        libraries,
        Screen(lexicons),
        checks,
        plurals=plurals,
        parse_words=words[0] if words else ParseWords(),
    )
    default_path = min(sources) if sources else "dialogues"
    check_references(script, parser.lines, report)
    check_required(script, requires, string_lines, default_path, report)
    check_templates(flows, requires, parser.lines, report)
    check_limits(flows, version, parser.lines, report)
    check_bot_texts(strings, string_lines, report)
    if not lexicons and screen_needed:
        message = "no crisis lexicon: the coach must screen text"
        report.error(NO_LEXICON, default_path, 1, message)
    report.items.sort(key=lambda d: (d.path, d.line, d.message))
    ok = not any(d.severity == "error" for d in report.items)
    return CompileResult(script if ok else None, report.items, tuple(corpus), model_settings)


def _version(sources: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(sources):
        digest.update(path.encode() + b"\0" + sources[path].encode() + b"\0")
    return digest.hexdigest()[:VERSION_CHARS]
