"""Reads the dialogue folder and compiles it: the file-system side of the compiler."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from bot.config import DEFAULT_CACHE_DIR
from bot.core.compiler import CORPUS_SUFFIX, CompileResult, compile_script
from bot.core.model import Script
from bot.places_loader import PLACES_FILE, load_places
from bot.screen_model import build_classifier


def read_sources(directory: Path) -> dict[str, str]:
    files = sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")])
    files = [f for f in files if f != directory / PLACES_FILE]  # read by load_places
    files += sorted(directory.rglob(f"screening/corpus/*{CORPUS_SUFFIX}"))
    return {str(f): f.read_text(encoding="utf-8", errors="replace") for f in files}


def load_script(directory: Path, cache_dir: Path | None = DEFAULT_CACHE_DIR) -> CompileResult:
    """Compile the dialogues, then train (or load from `cache_dir`) the screen's model."""
    places, problems = load_places(directory / PLACES_FILE)
    result = compile_script(read_sources(directory))
    if places is None:
        return dataclasses.replace(result, script=None, diagnostics=problems + result.diagnostics)
    if result.script is None:
        return result
    classifier = build_classifier(result.corpus, result.model_settings, cache_dir)
    screen = dataclasses.replace(result.script.screen, classifier=classifier)
    script = dataclasses.replace(result.script, screen=screen, places=places)
    return dataclasses.replace(result, script=script)


def load_or_explain(
    directory: Path, who: str, cache_dir: Path | None = DEFAULT_CACHE_DIR
) -> Script | None:
    """The compiled script; or None after printing every diagnostic and why `who` stops.

    The one start-up path for the bot and the console: the same words for the same faults.
    """
    result = load_script(directory, cache_dir)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    if result.script is None:
        print(f"The dialogues have errors; the {who} will not start.", file=sys.stderr)
    return result.script
