"""The core is pure: no Telegram, no database, no event loop, no environment, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "bot" / "core"
FORBIDDEN_MODULES = {"telegram", "aiosqlite", "sqlite3", "asyncio", "os", "socket", "httpx"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "getenv"}


def core_files() -> list[Path]:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 5
    return files


def test_core_imports_no_io_libraries() -> None:
    offenders = []
    for path in core_files():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad = [n for n in names if n.split(".")[0] in FORBIDDEN_MODULES]
            offenders += [f"{path.name}: {n}" for n in bad]
    assert offenders == []


def test_core_reads_no_clock_and_no_environment() -> None:
    offenders = []
    for path in core_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "environ":
                offenders.append(f"{path.name}:{node.lineno} environ")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in FORBIDDEN_CALLS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"datetime", "date", "time", "os"}
            ):
                offenders.append(f"{path.name}:{node.lineno} {node.func.value.id}.{node.func.attr}")
    assert offenders == []


def test_the_purity_check_would_catch_an_offender(tmp_path: Path) -> None:
    bad = "import os\nfrom telegram import Bot\n"
    tree = ast.parse(bad)
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    assert {m.split(".")[0] for m in modules} & FORBIDDEN_MODULES == {"os", "telegram"}
