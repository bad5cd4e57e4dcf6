"""Crisis and abuse resources for the person's country, from the `crisis_resources` table."""

from __future__ import annotations

from typing import Any

from bot.core.model import Script
from bot.core.template import Markup

FALLBACK = "INTL"


def resources_html(script: Script, country: str) -> Markup:
    table: Any = script.data.get("crisis_resources") or {}
    entry = table.get(country.upper()) or table.get(FALLBACK)
    if not isinstance(entry, dict):
        return Markup("")
    lines = [f"<b>{entry.get('name', '')}</b>"] + [f"• {line}" for line in entry.get("lines", [])]
    return Markup("\n".join(lines))
