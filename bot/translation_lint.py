"""Read-only: `python -m bot.translation_lint LANG [FILE...]` lists, for translation files
of one language, the entries still empty and every line that cannot stand for its English
(slots, tags, commands, links, crisis numbers, label length). Exit 1 if any."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.locale_strings import source_hash, source_lines
from bot.core.translation_checks import problems
from bot.core.translation_file import entries
from bot.core.yamlsource import LineDict, parse_yaml
from bot.translations_writer import source_files, translation_path

DIALOGUES = Path(__file__).resolve().parent.parent / "dialogues"


def lint(directory: Path, language: str, only: set[str]) -> int:
    bad = 0
    for source in source_files(directory):
        if only and source.name not in only:
            continue
        doc = parse_yaml(source.read_text(encoding="utf-8")).data
        if not isinstance(doc, LineDict):
            continue
        kind = str(doc.get("kind", "flow"))
        lines = source_lines(kind, doc)
        target = translation_path(directory, language, source)
        if not lines or not target.exists():
            continue
        try:
            table, malformed = entries(parse_yaml(target.read_text(encoding="utf-8")).data)
        except Exception as exc:  # a translator's YAML slip: say where, go on
            print(f"{target}: cannot read: {exc}")
            bad += 1
            continue
        for line, message in malformed:
            print(f"{target}:{line}: {message}")
            bad += 1
        for key, entry in table.items():
            if key not in lines:
                print(f"{target}:{entry.line}: {key}: no such line in {source.name}")
                bad += 1
                continue
            if not entry.text:
                print(f"{target}:{entry.line}: {key}: not translated yet")
                bad += 1
                continue
            if entry.source != source_hash(lines[key].text):
                print(f"{target}:{entry.line}: {key}: stale (English changed)")
                bad += 1
            numbers = kind == "crisis_resources"
            for problem in problems(key, lines[key].text, entry.text, numbers=numbers):
                print(f"{target}:{entry.line}: {key}: {problem}")
                bad += 1
        for key in lines.keys() - table.keys():
            print(f"{target}: {key}: missing")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(lint(DIALOGUES, sys.argv[1], set(sys.argv[2:])))
