"""Turn messages into what the Bot API takes: HTML chunks of at most 4096 characters."""

from __future__ import annotations

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.turn import Button

LIMIT = 4096


def split_message(text: str, limit: int = LIMIT) -> list[str]:
    """Split at paragraph breaks, then lines, then spaces; never inside an HTML tag or entity."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not chunks:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    window = text[:limit]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        while at > 0 and not _safe(window, at):
            at = window.rfind(sep, 0, at)
        if at > limit // 2:
            return at
    at = limit
    while at > 1 and not _safe(window, at):
        at -= 1
    return at


def _safe(text: str, at: int) -> bool:
    """True when position `at` is outside any tag, entity and open formatting."""
    head = text[:at]
    if head.rfind("<") > head.rfind(">") or head.rfind("&") > head.rfind(";"):
        return False
    opened = head.count("<b>") + head.count("<i>") + head.count("<blockquote>")
    closed = head.count("</b>") + head.count("</i>") + head.count("</blockquote>")
    return opened == closed


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    # One button a row: labels are sentences, and phones are narrow.
    return InlineKeyboardMarkup([[_button(b)] for b in buttons])


def _button(b: Button) -> InlineKeyboardButton:
    if b.copy is not None:  # copies to the clipboard on the phone: no round trip to us
        return InlineKeyboardButton(b.label, copy_text=CopyTextButton(b.copy))
    return InlineKeyboardButton(b.label, callback_data=b.data)
