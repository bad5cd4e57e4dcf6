"""Reads the dialogue folder and compiles it: the file-system side of the compiler."""

from __future__ import annotations

from pathlib import Path

from bot.core.compiler import CompileResult, compile_script


def read_sources(directory: Path) -> dict[str, str]:
    files = sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")])
    return {str(f): f.read_text(encoding="utf-8", errors="replace") for f in files}


def load_script(directory: Path) -> CompileResult:
    return compile_script(read_sources(directory))


class ScriptError(SystemExit):
    """Raised at start-up when the dialogues do not compile; carries the diagnostics."""
