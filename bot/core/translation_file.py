"""One translation file: `dialogues/locales/<language>/<source file>`.

    version: 1
    kind: translation
    language: es
    strings:
      # en: Let's build an apology that holds nothing back.
      nodes.intro.say:
        source: 3f9a1c2e        # the hash of the English this was written from
        text: Construyamos una disculpa que no se guarde nada.

Reading it gives the entries with their lines; writing it (for `python -m bot
translations`) keeps every entry a translator has written and adds the missing ones empty,
with the English above each as a comment. Pure: text in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.locale_strings import SourceLine, source_hash
from bot.core.yamlsource import LineDict

KIND = "translation"


@dataclass(frozen=True)
class Entry:
    text: str
    source: str  # the hash of the English it was written from
    line: int


def entries(doc: LineDict) -> tuple[dict[str, Entry], list[tuple[int, str]]]:
    """The entries of a parsed translation file, and `(line, problem)` for malformed ones."""
    out: dict[str, Entry] = {}
    problems: list[tuple[int, str]] = []
    table = doc.get("strings") or {}
    if not isinstance(table, LineDict):
        return out, [(doc.line_of("strings"), "'strings' must map ids to entries")]
    for key, value in table.items():
        line = table.line_of(key)
        if isinstance(value, LineDict):
            text, source = value.get("text"), value.get("source")
        else:
            text, source = None, None
        if not isinstance(text, str) and text is not None:
            problems.append((line, f"{key}: 'text' must be a string"))
            continue
        if not isinstance(value, LineDict) or not isinstance(source, str):
            problems.append((line, f"{key}: an entry has 'source' (a hash) and 'text'"))
            continue
        out[str(key)] = Entry(text or "", source, line)
    return out, problems


def render(language: str, sources: Mapping[str, SourceLine], kept: Mapping[str, Entry]) -> str:
    """The file for `language`: every source id in source order, kept words where written."""
    lines = [
        f"# {language} words for this file's English source (format: dialogues/FORMAT.md,",
        "# 'Languages'). 'source' is the hash of the English the text was written from;",
        "# after changing a text to follow a new English line, set 'source' to the new hash",
        "# that `python -m bot check` prints.",
        "version: 1",
        f"kind: {KIND}",
        f"language: {language}",
        "strings:",
    ]
    for key, source in sources.items():
        entry = kept.get(key)
        for part in source.text.splitlines() or [""]:
            lines.append(f"  # en: {part}".rstrip())
        lines.append(f"  {_scalar(key)}:")
        lines.append(f'    source: "{entry.source if entry else source_hash(source.text)}"')
        lines.append("    text: " + _block(entry.text if entry else "", "      "))
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    return text if text.replace(".", "").replace("_", "").isalnum() else json.dumps(text)


def _block(text: str, indent: str) -> str:
    """A YAML scalar that reads back as exactly `text`: a literal block when it spans
    lines and can, else a double-quoted string (JSON's escapes are YAML's)."""
    if (
        "\n" in text
        and not text.endswith("\n")
        and not any(
            line != line.rstrip() or line.startswith((" ", "\t")) for line in text.splitlines()
        )
    ):
        return "|-\n" + "\n".join(indent + line if line else "" for line in text.splitlines())
    return json.dumps(text, ensure_ascii=False)
