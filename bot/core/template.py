"""Message templates: author text (Telegram HTML) with `{answer.name}` slots.

Slots are filled with the person's own words, HTML-escaped, so nothing they type
can inject markup. `{name|fallback}` renders the fallback when the answer is missing;
`{{` and `}}` are literal braces.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

NAME = r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+"
_SLOT = re.compile(r"\{\{|\}\}|\{(" + NAME + r")(?:\|([^{}]*))?\}")
_STRAY = re.compile(r"[{}]")


class TemplateError(ValueError):
    pass


class Markup(str):
    """A value that is already Telegram HTML written by us (a resources table), not the
    person's words: shown as it is, not escaped."""

    __slots__ = ()


@dataclass(frozen=True)
class Slot:
    name: str
    fallback: str | None  # author text, already HTML


@dataclass(frozen=True)
class Template:
    parts: tuple[str | Slot, ...]

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(p for p in self.parts if isinstance(p, Slot))

    def render(self, values: Mapping[str, str]) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = values.get(part.name)
            if isinstance(value, Markup):
                out.append(value)
            elif value:
                out.append(html.escape(value, quote=False))
            elif part.fallback is not None:
                out.append(part.fallback)
        return "".join(out)

    def max_length(self, slot_length: int) -> int:
        """Length of the longest rendering when every slot holds `slot_length` characters."""
        fixed = sum(len(p) for p in self.parts if isinstance(p, str))
        return fixed + slot_length * len(self.slots)


def parse_template(text: str) -> Template:
    parts: list[str | Slot] = []
    pos = 0
    for m in _SLOT.finditer(text):
        literal = text[pos : m.start()]
        if _STRAY.search(literal):
            raise TemplateError(f"stray brace in {literal!r}: slots look like {{flow.answer}}")
        parts.append(literal)
        token = m.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        else:
            parts.append(Slot(m.group(1), m.group(2)))
        pos = m.end()
    tail = text[pos:]
    if _STRAY.search(tail):
        raise TemplateError(f"stray brace in {tail!r}: slots look like {{flow.answer}}")
    parts.append(tail)
    merged: list[str | Slot] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    return Template(tuple(merged))


def plain(text: str) -> Template:
    """A template with no slots (for text that must not be parsed)."""
    return Template((text,) if text else ())
