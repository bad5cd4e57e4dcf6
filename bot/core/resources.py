"""Crisis and abuse resources for the person's country, from the `crisis_resources` table.

The table is `dialogues/_crisis_resources.yaml`; every word shown to the person comes from
it. `check_resources` is the pure validator the compiler can run on the parsed document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.core.model import Script
from bot.core.template import Markup
from bot.core.yamlsource import LineDict, LineList

FALLBACK = "INTL"
KINDS = ("suicide", "self_harm", "harm_others", "abuse", "anger")

ENTRY_KEYS = {"name", "emergency", "emergency_text", "emergency_source", "verified", "note"}
ENTRY_KEYS |= {"lines"}
LINE_KEYS = {"text", "serves", "source", "checked", "also"}

_CODE = re.compile(r"^[A-Z]{2}$")
_NUMBER = re.compile(r"^[0-9][0-9 ]*$")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#[0-9]+|#x[0-9a-fA-F]+);")
_UNSAFE = re.compile(r"[<>{}]")


# --- showing ------------------------------------------------------------------------------


def resources_html(script: Script, country: str, kind: object = None) -> Markup:
    """The country's lines as Telegram HTML: the name in bold, the emergency number first,
    then the lines (those serving `kind` first, when given). Unknown countries get INTL."""
    table: Any = script.data.get("crisis_resources") or {}
    entry = table.get((country or "").upper()) or table.get(FALLBACK)
    if not isinstance(entry, Mapping):
        return Markup("")
    out = [f"<b>{entry.get('name', '')}</b>"]
    if entry.get("emergency_text"):
        out.append(f"• {entry['emergency_text']}")
    if entry.get("note"):
        out.append(f"<i>{entry['note']}</i>")
    out += [f"• {text}" for text in _ordered_texts(entry.get("lines") or [], _kind_name(kind))]
    return Markup("\n".join(out))


def _kind_name(kind: object) -> str | None:
    if kind is None:
        return None
    value = getattr(kind, "value", kind)  # a CrisisKind or its string
    return str(value)


def _ordered_texts(lines: list[Any], kind: str | None) -> list[str]:
    first: list[str] = []
    rest: list[str] = []
    for line in lines:
        if isinstance(line, Mapping):
            text, serves = line.get("text"), line.get("serves") or []
        else:  # a plain string, as in the first version of the table
            text, serves = line, []
        if not isinstance(text, str) or not text:
            continue
        (first if kind is not None and kind in serves else rest).append(text)
    return first + rest


# --- checking -----------------------------------------------------------------------------


def check_resources(doc: LineDict, today: date | None = None) -> list[tuple[int, str]]:
    """Every problem in a parsed `crisis_resources` document, as (line, message), in the
    order they appear. `today`, when given, is the latest date a `checked` may carry.
    Duplicate country codes are reported by the YAML loader, not here."""
    problems: list[tuple[int, str]] = []
    resources = doc.get("resources") if isinstance(doc, Mapping) else None
    if not isinstance(resources, LineDict):
        line = doc.line_of("resources") if isinstance(doc, LineDict) else 1
        problems.append((line, "'resources' must be a mapping of country codes"))
        return problems
    if FALLBACK not in resources:
        problems.append((doc.line_of("resources"), f"missing the {FALLBACK} fallback entry"))
    for code, entry in resources.items():
        line = resources.line_of(code)
        if not isinstance(code, str) or not (code == FALLBACK or _CODE.match(code)):
            problems.append((line, f"{code!r} is not a two-letter upper-case code or {FALLBACK}"))
        _check_entry(str(code), entry, line, today, problems)
    return problems


def _check_entry(
    code: str, entry: Any, line: int, today: date | None, out: list[tuple[int, str]]
) -> None:
    if not isinstance(entry, LineDict):
        out.append((line, f"{code}: an entry must be a mapping"))
        return
    for key in entry:
        if key not in ENTRY_KEYS:
            allowed = ", ".join(sorted(ENTRY_KEYS))
            out.append((entry.line_of(key), f"{code}: unknown key {key!r} (allowed: {allowed})"))
    for key in ("name", "emergency", "emergency_text"):
        value = entry.get(key)
        if key not in entry:
            out.append((entry.line, f"{code}: missing {key!r}"))
        elif not isinstance(value, str) or not value.strip():
            out.append((entry.line_of(key), f"{code}: {key!r} must be non-empty text"))
        else:
            _check_markup(f"{code}: {key}", value, entry.line_of(key), out)
    emergency, emergency_text = entry.get("emergency"), entry.get("emergency_text")
    if code != FALLBACK and isinstance(emergency, str) and not _NUMBER.match(emergency):
        out.append((entry.line_of("emergency"), f"{code}: 'emergency' must be a number"))
    if (
        isinstance(emergency, str)
        and isinstance(emergency_text, str)
        and emergency.strip()
        and emergency not in emergency_text
    ):
        msg = f"{code}: 'emergency_text' does not show the emergency number {emergency!r}"
        out.append((entry.line_of("emergency_text"), msg))
    if "emergency_source" in entry:
        _check_url(f"{code}: emergency_source", entry["emergency_source"], entry, out)
    verified = entry.get("verified")
    if "verified" not in entry:
        out.append((entry.line, f"{code}: missing 'verified'"))
    elif not isinstance(verified, bool):
        out.append((entry.line_of("verified"), f"{code}: 'verified' must be true or false"))
    note = entry.get("note")
    if "note" in entry:
        if not isinstance(note, str) or not note.strip():
            out.append((entry.line_of("note"), f"{code}: 'note' must be non-empty text"))
        else:
            _check_markup(f"{code}: note", note, entry.line_of("note"), out)
    elif verified is False:
        out.append((entry.line, f"{code}: an unverified entry needs a 'note' that says so"))
    lines = entry.get("lines")
    if "lines" not in entry:
        out.append((entry.line, f"{code}: missing 'lines'"))
    elif not isinstance(lines, LineList) or not lines:
        out.append((entry.line_of("lines"), f"{code}: 'lines' must be a non-empty list"))
    else:
        for number, item in enumerate(lines, 1):
            _check_line(f"{code}: line {number}", item, lines.line, today, out)


def _check_line(
    where: str, item: Any, list_line: int, today: date | None, out: list[tuple[int, str]]
) -> None:
    if not isinstance(item, LineDict):
        out.append((list_line, f"{where}: must be a mapping with text, serves, source, checked"))
        return
    for key in item:
        if key not in LINE_KEYS:
            allowed = ", ".join(sorted(LINE_KEYS))
            out.append((item.line_of(key), f"{where}: unknown key {key!r} (allowed: {allowed})"))
    text = item.get("text")
    if "text" not in item:
        out.append((item.line, f"{where}: missing 'text'"))
    elif not isinstance(text, str) or not text.strip():
        out.append((item.line_of("text"), f"{where}: 'text' must be non-empty text"))
    else:
        _check_markup(where, text, item.line_of("text"), out)
    serves = item.get("serves")
    if "serves" not in item:
        out.append((item.line, f"{where}: missing 'serves'"))
    elif not isinstance(serves, list) or not serves:
        out.append((item.line_of("serves"), f"{where}: 'serves' must be a non-empty list"))
    else:
        for kind in serves:
            if kind not in KINDS:
                msg = f"{where}: unknown kind {kind!r} in 'serves' (known: {', '.join(KINDS)})"
                out.append((item.line_of("serves"), msg))
        if len(set(map(str, serves))) != len(serves):
            out.append((item.line_of("serves"), f"{where}: a kind is listed twice in 'serves'"))
    if "source" not in item:
        out.append((item.line, f"{where}: missing 'source' (the service's own page)"))
    else:
        _check_url(f"{where}: source", item["source"], item, out, key="source")
    also = item.get("also")
    if "also" in item:
        if not isinstance(also, list) or not also:
            out.append((item.line_of("also"), f"{where}: 'also' must be a non-empty list"))
        else:
            for url in also:
                _check_url(f"{where}: also", url, item, out, key="also")
    _check_checked(where, item, today, out)


def _check_checked(
    where: str, item: LineDict, today: date | None, out: list[tuple[int, str]]
) -> None:
    if "checked" not in item:
        out.append((item.line, f"{where}: missing 'checked' (the date the source was read)"))
        return
    value, line = item["checked"], item.line_of("checked")
    day: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is None:
        out.append((line, f"{where}: 'checked' must be an ISO date like 2026-12-02"))
    elif today is not None and day > today:
        out.append((line, f"{where}: 'checked' {day.isoformat()} is in the future"))


def _check_url(
    where: str, value: Any, owner: LineDict, out: list[tuple[int, str]], key: str = ""
) -> None:
    line = owner.line_of(key or "emergency_source")
    if not isinstance(value, str) or not value.startswith("https://") or len(value) <= 8:
        out.append((line, f"{where} must be a web address starting with https://"))
    elif any(c.isspace() for c in value):
        out.append((line, f"{where} must not contain spaces"))


def _check_markup(where: str, text: str, line: int, out: list[tuple[int, str]]) -> None:
    """Text goes into Telegram HTML as it is: no tags, no template braces, & as &amp;."""
    if _UNSAFE.search(text):
        out.append((line, f"{where}: write no < > {{ }} (the text is shown as HTML)"))
    if "&" in _ENTITY.sub("", text):
        out.append((line, f"{where}: write & as &amp;"))
