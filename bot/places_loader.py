"""Reads tzdata's tables and `dialogues/places.yaml`: the file side of `bot.core.places`."""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

from bot.core.compiler import Diagnostic
from bot.core.places import Places, Problem, TzTables, compile_places

PLACES_FILE = "places.yaml"  # in the dialogues folder; not a flow, so kept from the compiler
_EMPTY = "version: 1\nkind: places\n"


@cache
def tz_tables() -> TzTables:
    """tzdata's own tables from the `tzdata` package (a dependency), not the system's copy,
    so every machine reads the same names."""
    folder = importlib.resources.files("tzdata.zoneinfo")

    def read(name: str) -> str:
        return folder.joinpath(name).read_text(encoding="utf-8")

    return TzTables(read("iso3166.tab"), read("zone1970.tab"), read("zone.tab"))


@cache  # the same file compiles to the same places: tests and benches load it many times
def _compiled(text: str) -> tuple[Places | None, tuple[Problem, ...]]:
    places, problems = compile_places(tz_tables(), text)
    return places, tuple(problems)


def compile_places_text(path: str, text: str) -> tuple[Places | None, list[Diagnostic]]:
    places, problems = _compiled(text)
    return places, [Diagnostic(path, p.line, p.message, suggestion=p.suggestion) for p in problems]


def load_places(path: Path) -> tuple[Places | None, list[Diagnostic]]:
    """The places, or None and every problem as `file:line`. Without the file (a folder of
    test dialogues), tzdata's names alone."""
    if not path.exists():
        return compile_places_text(str(path), _EMPTY)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        return None, [Diagnostic(str(path), 1, f"cannot read the places file: {e.strerror}")]
    return compile_places_text(str(path), text)
