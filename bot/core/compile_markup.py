"""Markup checks: text is a valid template in the HTML Telegram accepts, within its limits."""

from __future__ import annotations

import html.parser
import re
from typing import Any

from bot.core import buttons
from bot.core.compile_report import (
    BAD_MARKUP,
    BAD_TEMPLATE,
    LONG_BOT_TEXT,
    LONG_CALLBACK,
    LONG_MESSAGE,
    NOT_TEXT,
    Report,
    SourceLines,
)
from bot.core.model import Flow, NodeKind
from bot.core.template import Template, TemplateError, parse_template

MAX_MESSAGE = 4096  # Telegram's limit for one message
MAX_LABEL = 64  # longer button labels are cut off on phones
# What Telegram accepts for the bot's own texts (setMyShortDescription, setMyDescription,
# setMyCommands), by string key.
BOT_TEXT_LIMITS = {"short_description": 120, "description": 512}
COMMAND_LIMIT = 256


def bot_text_limit(key: str) -> int | None:
    """The most characters Telegram takes for the string `key` ("strings." dropped)."""
    key = key.removeprefix("strings.")
    if key.startswith("command."):
        return COMMAND_LIMIT
    return BOT_TEXT_LIMITS.get(key)


_ALLOWED_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"}


def template(path: str, line: int, text: Any, report: Report, what: str) -> Template | None:
    """`text` as a template, reporting a bad `{slot}` or markup Telegram would refuse."""
    if not isinstance(text, str):
        report.error(NOT_TEXT, path, line, f"{what} must be text")
        return None
    try:
        parsed = parse_template(text.strip())
    except TemplateError as exc:
        report.error(BAD_TEMPLATE, path, line, f"{what}: {exc}")
        return None
    problem = markup_problem(text)
    if problem:
        report.error(BAD_MARKUP, path, line, f"{what}: {problem}")
    return parsed


class _TagCheck(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS and not self.problem:
            self.problem = f"<{tag}> is not a tag Telegram accepts"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if (not self.open or self.open[-1] != tag) and not self.problem:
            self.problem = f"</{tag}> closes a tag that is not open"
        elif self.open:
            self.open.pop()


def markup_problem(text: str) -> str:
    """Why Telegram would refuse `text` as HTML, or "" if it would not."""
    parser = _TagCheck()
    parser.feed(text)
    parser.close()
    if parser.problem:
        return parser.problem
    if parser.open:
        return f"<{parser.open[-1]}> is never closed"
    if re.search(r"&(?![a-z]+;|#\d+;)", text):
        return "a bare '&' (write &amp;)"
    if re.search(r"<(?![/a-z])", text):
        return "a bare '<' (write &lt;)"
    return ""


def check_bot_texts(
    strings: dict[str, Template], lines: dict[str, tuple[str, int]], report: Report
) -> None:
    """The texts Telegram shows for the bot itself, within what setMy* accept."""
    for key, text in strings.items():
        limit = bot_text_limit(key)
        length = len(text.render({}).strip())
        if limit is not None and length > limit and key in lines:
            message = f"string {key!r} has {length} characters; Telegram takes at most {limit}"
            report.error(LONG_BOT_TEXT, *lines[key], message)


def check_limits(flows: dict[str, Flow], version: str, lines: SourceLines, report: Report) -> None:
    for flow in flows.values():
        for node in flow.nodes.values():
            length = node.say.max_length(0) if node.say is not None else 0
            if length > MAX_MESSAGE:
                message = (
                    f"node {node.id!r} says {length} characters; Telegram allows {MAX_MESSAGE}"
                )
                key = "ask" if node.kind is NodeKind.ASK else "say"
                report.error(LONG_MESSAGE, flow.path, lines.of(flow, node, key), message)
            if node.kind in (NodeKind.CHOICES, NodeKind.ASK):
                size = buttons.longest_encoding(version, flow.id, node.id)
                if size > buttons.MAX_BYTES:
                    report.error(
                        LONG_CALLBACK,
                        flow.path,
                        node.line,
                        f"buttons of {flow.id}.{node.id} need {size} bytes of callback data; "
                        f"Telegram allows {buttons.MAX_BYTES}: shorten the ids",
                    )
