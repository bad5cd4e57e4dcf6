"""Numbered migration files shipped as package data, for both stores (each has its own)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class MigrationFile:
    version: int
    name: str
    sql: str


def load_numbered(package: str, pattern: re.Pattern[str]) -> list[MigrationFile]:
    """The files of `package` whose names match `pattern` (group 1: the number), in order,
    numbered 1, 2, 3... without gaps."""
    found: list[MigrationFile] = []
    for entry in resources.files(package).iterdir():
        match = pattern.fullmatch(entry.name)
        if match and entry.is_file():
            found.append(MigrationFile(int(match[1]), entry.name, entry.read_text("utf-8")))
    if not found:
        # An install missing its .sql files would otherwise open an empty database, or call
        # an existing one "too new".
        raise RuntimeError(
            f"no SQL migrations found in {package}: the package data (*.sql) is missing from"
            " this installation"
        )
    found.sort(key=lambda m: m.version)
    numbers = [m.version for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{package}: migrations must be numbered 1..n, found {numbers}")
    return found
