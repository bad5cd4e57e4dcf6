"""Parsing, file by file: YAML with line numbers into a document, and the tables that are
not flows (strings, libraries, data, lexicons, text checks, corpus rows)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from bot.core.checks import TextCheck, compile_check
from bot.core.compile_markup import template
from bot.core.compile_report import (
    BAD_ID,
    BAD_TABLE,
    BAD_VERSION,
    CORPUS,
    DUPLICATE_KEY,
    DUPLICATE_STRING,
    LEXICON,
    MISSING_KEY,
    NOT_A_MAPPING,
    RESOURCES,
    SECOND_TABLE,
    TEXT_CHECK,
    UNKNOWN_KEY,
    YAML_SYNTAX,
    Code,
    Report,
)
from bot.core.resources import check_resources
from bot.core.screening.corpus import Example, parse_corpus
from bot.core.screening.lexicon import Lexicon, compile_lexicon
from bot.core.template import Template
from bot.core.yamlsource import LineDict, LineList, parse_yaml

FORMAT_VERSION = 1
CORPUS_SUFFIX = ".tsv"
DATA_KINDS = {"crisis_resources": "resources"}
ID = re.compile(r"^[a-z][a-z0-9_]*$")

T = TypeVar("T")


def load(path: str, text: str, report: Report) -> tuple[LineDict, list[tuple[str, int]]] | None:
    """The document and its duplicate keys `(key, line)`; None if it cannot be read."""
    try:
        parsed = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        report.error(YAML_SYNTAX, path, line, f"YAML syntax: {problem}")
        return None
    doc = parsed.data
    if not isinstance(doc, LineDict):
        message = "a dialogue file is a mapping with version, id, title, … at the top"
        report.error(NOT_A_MAPPING, path, 1, message)
        return None
    if doc.get("version") != FORMAT_VERSION:
        if "version" not in doc:
            message = f"missing required key 'version' (use {FORMAT_VERSION})"
            report.error(BAD_VERSION, path, doc.line, message)
        else:
            message = (
                f"unsupported version {doc['version']!r}: this coach reads version {FORMAT_VERSION}"
            )
            report.error(BAD_VERSION, path, doc.line_of("version"), message)
        return None
    return doc, parsed.duplicates


def duplicate_keys(path: str, duplicates: list[tuple[str, int]], report: Report) -> None:
    for key, line in duplicates:
        report.error(DUPLICATE_KEY, path, line, f"duplicate key {key!r} (a key written twice)")


def unknown_keys(path: str, doc: LineDict, allowed: set[str], report: Report) -> None:
    for key in doc:
        if key not in allowed:
            message = f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
            report.unknown(UNKNOWN_KEY, path, doc.line_of(key), message, key, allowed)


def strings(
    path: str,
    doc: LineDict,
    out: dict[str, Template],
    lines: dict[str, tuple[str, int]],
    report: Report,
) -> None:
    """Each string into `out`, and where it was written into `lines`."""
    unknown_keys(path, doc, {"version", "kind", "strings"}, report)
    table = doc.get("strings")
    if not isinstance(table, LineDict):
        message = "'strings' must be a mapping of key: text"
        report.error(BAD_TABLE, path, doc.line_of("strings"), message)
        return
    for key, text in table.items():
        line = table.line_of(key)
        if key in out:
            report.error(DUPLICATE_STRING, path, line, f"duplicate string {key!r}")
            continue
        parsed = template(path, line, text, report, f"string {key!r}")
        if parsed is not None:
            out[key] = parsed
            lines[key] = (path, line)


def data(path: str, doc: LineDict, kind: str, out: dict[str, object], report: Report) -> None:
    field_name = DATA_KINDS[kind]
    unknown_keys(path, doc, {"version", "kind", field_name}, report)
    if field_name not in doc:
        report.error(MISSING_KEY, path, doc.line, f"missing required key {field_name!r}")
    elif kind in out:
        report.error(SECOND_TABLE, path, doc.line_of("kind"), f"a second {kind!r} file")
    else:
        if kind == "crisis_resources":
            report.problems(RESOURCES, path, check_resources(doc))
        out[kind] = _plain(doc[field_name])


def corpus(path: str, text: str, report: Report) -> list[Example]:
    """A corpus file is named `<language>.<anything>.tsv`."""
    language = path.rsplit("/", 1)[-1].split(".", 1)[0]
    rows, problems = parse_corpus(language, text)
    report.problems(CORPUS, path, problems)
    return rows


def _keep(
    code: Code,
    where: tuple[str, LineDict, str],
    compiled: tuple[T | None, list[tuple[int, str]]],
    name: Callable[[T], str],
    out: dict[str, T],
    report: Report,
) -> None:
    """Report a content file's problems; keep what it compiled to under its name, once."""
    path, doc, key = where
    value, problems = compiled
    report.problems(code, path, problems)
    if value is None:
        return
    if name(value) in out:
        report.error(SECOND_TABLE, path, doc.line_of(key), f"a second {key} {name(value)!r}")
        return
    out[name(value)] = value


# Compiling thousands of patterns takes seconds; the same text always compiles to the same
# value, so a process that compiles the script again (tests, `check` then `run`) reuses it.
_COMPILED: dict[tuple[str, str, str], Any] = {}
_COMPILED_MAX = 64


def _memo(kind: str, path: str, text: str, compile_it: Callable[[], T]) -> T:
    key = (kind, path, text)
    if key not in _COMPILED:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = compile_it()
    result: T = _COMPILED[key]
    return result


def text_check(
    path: str, text: str, doc: LineDict, out: dict[str, TextCheck], report: Report
) -> None:
    compiled = _memo("check", path, text, lambda: compile_check(path, doc))
    _keep(TEXT_CHECK, (path, doc, "check"), compiled, lambda c: c.name, out, report)


def lexicon(path: str, text: str, doc: LineDict, out: dict[str, Lexicon], report: Report) -> None:
    compiled = _memo("lexicon", path, text, lambda: compile_lexicon(doc))
    _keep(LEXICON, (path, doc, "language"), compiled, lambda lex: lex.language, out, report)


def library(path: str, doc: LineDict, out: dict[str, tuple[str, ...]], report: Report) -> None:
    unknown_keys(path, doc, {"version", "kind", "name", "items"}, report)
    name, items = doc.get("name"), doc.get("items")
    if not isinstance(name, str) or not ID.match(name):
        report.error(BAD_ID, path, doc.line_of("name"), "a library needs a lower_case 'name'")
        return
    if not isinstance(items, LineList) or not items:
        report.error(BAD_TABLE, path, doc.line_of("items"), "a library needs a list of 'items'")
        return
    if name in out:
        report.error(SECOND_TABLE, path, doc.line_of("name"), f"a second library named {name!r}")
        return
    texts: list[str] = []
    for index, item in enumerate(items):
        line = items.line_of_item(index)
        parsed = template(path, line, item, report, f"an item of {name!r}")
        if parsed is not None and parsed.slots:
            report.error(BAD_TABLE, path, line, f"library {name!r}: items cannot show answers")
        texts.append(parsed.render({}) if parsed is not None else "")
    out[name] = tuple(texts)


def _plain(value: Any) -> Any:
    """Drop line bookkeeping from data tables the core hands out as they are."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
