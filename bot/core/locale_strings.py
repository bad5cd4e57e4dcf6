"""Which words in a content file a translator writes, under ids that stay put.

A dialogue keeps its structure once, in the English source file. Every piece of text in
it has an id: its path through the document (`nodes.intro.say`, `nodes.pick.choices.2.label`,
`strings.menu_button`), the way Yarn Spinner keeps one line id across locales. A
translation file maps those ids to the words in another language, each with a short hash
of the English it was written from, so a changed source line shows up as stale.

Pure: parsed documents in, tables and documents out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.yamlsource import LineDict, LineList

# The keys whose values are words for the person, by kind of file. Everything else
# (ids, `next:`, settings, answers, patterns) is structure and stays in the source.
FLOW_TEXT = frozenset(
    {"title", "summary", "say", "ask", "label", "journal", "skip", "done", "missed", "text"}
)
RESOURCE_TEXT = frozenset({"name", "emergency", "emergency_text", "text", "note"})
_PROMISE_LABELS = frozenset({"done", "missed"})
HASH_CHARS = 8
_SLOT = re.compile(r"\{[^{}]*\}")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class SourceLine:
    text: str
    line: int


def source_hash(text: str) -> str:
    """The lock on a translation: the English it was written from, in 8 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def has_words(text: str) -> bool:
    """Whether a value holds words to translate, not only slots such as `{answer.name}`."""
    return bool(_LETTER.search(_SLOT.sub("", text)))


def source_lines(kind: str, doc: LineDict) -> dict[str, SourceLine]:
    """Every translatable text of one source document, by id, with its line."""
    return {key: SourceLine(text, line) for key, text, line in _texts(kind, doc)}


def overlay(kind: str, doc: LineDict, words: Mapping[str, str]) -> LineDict:
    """A copy of `doc` with each translatable text whose id is in `words` replaced.

    Lines are kept, so a diagnostic about the translated script still names the place in
    the source; ids not in `words` keep the English (the run-time fallback)."""
    if not words:
        return doc
    result = _rebuild(doc, (), _chooser(kind), words)
    assert isinstance(result, LineDict)
    return result


def _texts(kind: str, doc: LineDict) -> Iterator[tuple[str, str, int]]:
    choose = _chooser(kind)
    yield from _walk(doc, (), choose, doc.line)


def _chooser(kind: str) -> Any:
    """A predicate on a path (tuple of keys) saying whether the leaf there is text."""
    if kind == "flow":
        return _flow_text
    if kind == "strings":
        return lambda path: len(path) == 2 and path[0] == "strings"
    if kind == "library":
        return lambda path: len(path) == 2 and path[0] == "items"
    if kind == "crisis_resources":
        return lambda path: bool(path) and path[0] == "resources" and str(path[-1]) in RESOURCE_TEXT
    return lambda path: False


def _flow_text(path: tuple[Any, ...]) -> bool:
    if not path or not isinstance(path[-1], str) or path[-1] not in FLOW_TEXT:
        return False
    # `done` and `missed` are labels only in a promises node; elsewhere (`if: {done: x}`)
    # they name a flow.
    return path[-1] not in _PROMISE_LABELS or (len(path) > 1 and path[-2] == "promises")


def _key(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _walk(
    node: Any, path: tuple[Any, ...], choose: Any, line: int
) -> Iterator[tuple[str, str, int]]:
    if isinstance(node, LineDict):
        for key, value in node.items():
            yield from _walk(value, (*path, key), choose, node.line_of(key))
    elif isinstance(node, LineList):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i), choose, node.line_of_item(i))
    elif isinstance(node, str) and choose(path) and has_words(node):
        yield _key(path), node, line


def _rebuild(node: Any, path: tuple[Any, ...], choose: Any, words: Mapping[str, str]) -> Any:
    if isinstance(node, LineDict):
        copy = LineDict((k, _rebuild(v, (*path, k), choose, words)) for k, v in node.items())
        copy.line, copy.key_lines = node.line, node.key_lines
        return copy
    if isinstance(node, LineList):
        seq = LineList(_rebuild(v, (*path, i), choose, words) for i, v in enumerate(node))
        seq.line, seq.item_lines = node.line, node.item_lines
        return seq
    if isinstance(node, str) and choose(path):
        return words.get(_key(path), node)
    return node
