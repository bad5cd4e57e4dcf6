"""Reads the dialogue folder and compiles it: the file-system side of the compiler."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.compiler import CompileResult, compile_script
from bot.core.model import Script


def read_sources(directory: Path) -> dict[str, str]:
    files = sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")])
    return {str(f): f.read_text(encoding="utf-8", errors="replace") for f in files}


def load_script(directory: Path) -> CompileResult:
    return compile_script(read_sources(directory))


def load_or_explain(directory: Path, who: str) -> Script | None:
    """The compiled script; or None after printing every diagnostic and why `who` stops.

    The one start-up path for the bot and the console: the same words for the same faults.
    """
    result = load_script(directory)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    if result.script is None:
        print(f"The dialogues have errors; the {who} will not start.", file=sys.stderr)
    return result.script
