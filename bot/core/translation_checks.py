"""What a translated line must keep from its English source.

The same slots (`{apology.what}`; a slot's fallback is words and is translated), the same
Telegram tags, valid markup, the same commands (`/menu`), the same numbers and links where
a number matters (a crisis line), and a button label Telegram shows whole. Pure.
"""

from __future__ import annotations

import re
from collections import Counter

from bot.core.compile_markup import MAX_LABEL, MAX_MESSAGE, bot_text_limit, markup_problem
from bot.core.template import TemplateError, parse_template

_TAG = re.compile(r"</?([a-z-]+)")
_COMMAND = re.compile(r"(?<![\w/])/[a-z_]+\b")
_LINK = re.compile(r"https?://[^\s\"'<>]+|tel:[+\d]+")
_NUMBER = re.compile(r"\+?\d[\d\s-]{1,}\d|\d")

LABEL_ENDINGS = (".label", ".skip", ".done", ".missed")  # ids of button labels


def is_label(key: str) -> bool:
    return key.endswith(LABEL_ENDINGS) or key.endswith("_button")


def problems(key: str, source: str, translated: str, *, numbers: bool) -> list[str]:
    """Why `translated` cannot stand for `source` under id `key` ([] when it can).

    `numbers`: the digits must match too (crisis lines, where a wrong digit is a wrong
    number to call)."""
    out: list[str] = []
    try:
        theirs = parse_template(translated.strip())
    except TemplateError as exc:
        return [f"not a valid template: {exc}"]
    ours = parse_template(source.strip())
    if sorted(s.name for s in ours.slots) != sorted(s.name for s in theirs.slots):
        want = ", ".join(sorted({s.name for s in ours.slots})) or "none"
        got = ", ".join(sorted({s.name for s in theirs.slots})) or "none"
        out.append(f"placeholders differ from the English: want {want}; got {got}")
    problem = markup_problem(translated)
    if problem:
        out.append(f"markup: {problem}")
    elif Counter(_TAG.findall(source)) != Counter(_TAG.findall(translated)):
        out.append("its tags differ from the English (" + _tags(source) + ")")
    for what, pattern in (("commands", _COMMAND), ("links", _LINK)):
        if sorted(pattern.findall(source)) != sorted(pattern.findall(translated)):
            out.append(f"{what} differ from the English: {' '.join(pattern.findall(source))}")
    if numbers and _digits(source) != _digits(translated):
        out.append(f"numbers differ from the English: {' '.join(_digits(source))}")
    if len(translated) > MAX_MESSAGE:  # before the slots are filled: the least it can be
        out.append(f"{len(translated)} characters: a message holds at most {MAX_MESSAGE}")
    limit = bot_text_limit(key)
    if limit is not None and len(translated.strip()) > limit:
        out.append(f"{len(translated.strip())} characters; Telegram takes at most {limit} here")
    if is_label(key) and len(translated) > MAX_LABEL:
        out.append(f"a button label of {len(translated)} characters (at most {MAX_LABEL})")
    return out


def _tags(text: str) -> str:
    return " ".join(f"<{t}>" for t in sorted(set(_TAG.findall(text)))) or "no tags"


def _digits(text: str) -> list[str]:
    text = _LINK.sub("", text)
    return sorted(re.sub(r"[\s-]", "", n) for n in _NUMBER.findall(text))
