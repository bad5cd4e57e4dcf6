"""Compiling a language's `_parsing.yaml` into `ParseWords` (see parse_words.py)."""

from __future__ import annotations

import re
from types import MappingProxyType

from bot.core.compile_files import unknown_keys
from bot.core.compile_report import PARSE_WORDS, Report
from bot.core.parse_words import ParseWords
from bot.core.yamlsource import LineDict, LineList

_WORD = re.compile(r"^[^\W\d_]+$")


def parse_words(path: str, doc: LineDict, out: list[ParseWords], report: Report) -> None:
    """The language's words into `out` (one file per language)."""
    unknown_keys(path, doc, {"version", "kind", "counts", "units", "ranges", "examples"}, report)
    counts = _numbers(path, doc, "counts", report)
    units = _numbers(path, doc, "units", report)
    ranges = doc.get("ranges", [])
    if not isinstance(ranges, LineList) or not all(isinstance(r, str) and r for r in ranges):
        report.error(PARSE_WORDS, path, doc.line_of("ranges"), "'ranges' is a list of words")
        ranges = []
    examples: dict[str, tuple[str, ...]] = {}
    table = doc.get("examples", {})
    if not isinstance(table, LineDict):
        report.error(
            PARSE_WORDS, path, doc.line_of("examples"), "'examples' maps a setting to a list"
        )
        table = LineDict()
    for name, items in table.items():
        if not isinstance(items, LineList) or not all(isinstance(i, str) for i in items):
            report.error(PARSE_WORDS, path, table.line_of(name), f"{name}: a list of examples")
            continue
        examples[str(name)] = tuple(items)
    if out:
        report.error(PARSE_WORDS, path, doc.line, "a second parsing file for this language")
        return
    out.append(
        ParseWords(
            MappingProxyType(counts),
            MappingProxyType(units),
            tuple(r.lower() for r in ranges),
            MappingProxyType(examples),
        )
    )


def _numbers(path: str, doc: LineDict, key: str, report: Report) -> dict[str, int]:
    table = doc.get(key, {})
    if not isinstance(table, LineDict):
        report.error(PARSE_WORDS, path, doc.line_of(key), f"'{key}' maps a word to a number")
        return {}
    out: dict[str, int] = {}
    for word, number in table.items():
        good = isinstance(word, str) and _WORD.match(word) and type(number) is int and number > 0
        if not good:
            message = f"{key}: {word!r} must be one word mapped to a whole number above 0"
            report.error(PARSE_WORDS, path, table.line_of(word), message)
            continue
        out[str(word).lower()] = int(number)
    return out
