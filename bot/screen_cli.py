"""`python -m bot screen`: run the detectors on people's own data, one text per line.

For clinicians and content writers reviewing the crisis screen and the text checks:
each input line gives one JSON object on standard output, with the crisis kind (or
null), its level (clear, unclear or none), what raised it (a rule id or the model's
probability), and each text check's findings by rule id.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from bot.core.model import Script

CRISIS = "crisis"


def screen_lines(script: Script, lines: Iterable[str], only: str | None = None) -> Iterator[str]:
    checks = script.checks
    for raw in lines:
        text = raw.rstrip("\n").rstrip("\r")
        if not text.strip():
            continue
        out: dict[str, Any] = {"text": text}
        if only in (None, CRISIS):
            signal = script.screen.screen(text)
            out["crisis"] = signal.kind.value if signal else None
            out["level"] = signal.level.value if signal else "none"
            out["source"] = signal.source if signal else None
        if only != CRISIS:
            out["checks"] = {
                name: [finding.rule for finding in check.run(text)]
                for name, check in sorted(checks.items())
                if only in (None, name)
            }
        yield json.dumps(out, ensure_ascii=False)


def main(script: Script, source: Path | None, only: str | None, out: IO[str]) -> int:
    known = {CRISIS, *script.checks}
    if only is not None and only not in known:
        print(f"unknown check {only!r}; known: {', '.join(sorted(known))}", file=sys.stderr)
        return 2
    if source is None:
        lines: Iterable[str] = sys.stdin
    else:
        try:
            lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            print(f"cannot read {source}: {exc.strerror}", file=sys.stderr)
            return 2
    for line in screen_lines(script, lines, only):
        print(line, file=out, flush=source is None)
    return 0
