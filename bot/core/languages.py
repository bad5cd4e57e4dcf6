"""Which language a person reads: their choice once made, else what Telegram says they use."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.model import Language, Script
from bot.core.session import Session


def telegram_language(languages: Sequence[Language], code: str | None) -> str:
    """The language for Telegram's `language_code` (an IETF tag such as "pt-br"): an exact
    match, else the first language sharing its primary subtag ("pt" -> "pt-BR"), else the
    source language (the first)."""
    if not languages:
        return "en"
    tag = (code or "").strip().lower().replace("_", "-")
    for language in languages:
        if tag in language.telegram:
            return language.code
    primary = tag.split("-", 1)[0]
    for language in languages:
        if primary and any(t.split("-", 1)[0] == primary for t in language.telegram):
            return language.code
    return languages[0].code


def reading_language(script: Script, session: Session, telegram_code: str | None) -> str:
    chosen = session.settings.language
    if chosen and (chosen in script.translations or chosen == script.language.code):
        return chosen
    return telegram_language(script.languages, telegram_code)
