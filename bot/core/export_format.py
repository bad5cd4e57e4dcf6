"""The person's data as a readable Markdown document (the JSON file is the raw export)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.model import Script

EXPORT_STRINGS = (
    "export.title",
    "export.intro",
    "export.settings",
    "export.answers",
    "export.journal",
    "export.promises",
    "export.completed",
    "export.flags",
    "export.empty",
)


def export_markdown(data: Mapping[str, Any], script: Script) -> str:
    def heading(key: str) -> str:
        return script.string(key).render({})

    def section(key: str, lines: list[str]) -> list[str]:
        return [f"## {heading(key)}", "", *(lines or [heading("export.empty")]), ""]

    user = data.get("user") or {}
    settings = user.get("settings") or {}
    out = [f"# {heading('export.title')}", "", heading("export.intro"), ""]
    out += section("export.settings", [f"- {k}: {v}" for k, v in settings.items()])
    out += section(
        "export.answers",
        [f"- **{a['name']}**: {_one_line(a['value'])}" for a in _rows(data, "answers")],
    )
    out += section(
        "export.journal",
        [f"- {_day(j['created_at'])}: {_one_line(j['text'])}" for j in _rows(data, "journal")],
    )
    out += section(
        "export.promises",
        [
            f"- {_one_line(c['text'])}"
            + (f" ({_one_line(c['due'])})" if c.get("due") else "")
            + f" — {c.get('status', '')}"
            for c in _rows(data, "commitments")
        ],
    )
    out += section(
        "export.completed",
        [f"- {_day(c['completed_at'])}: {c['flow']}" for c in _rows(data, "completions")],
    )
    out += section(
        "export.flags",
        [f"- {_day(f['created_at'])}: {f['kind']}" for f in _rows(data, "crisis_flags")],
    )
    return "\n".join(out)


def _rows(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    rows = data.get(key) or []
    return [r for r in rows if isinstance(r, Mapping)]


def _day(stamp: object) -> str:
    return str(stamp)[:16].replace("T", " ")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())
