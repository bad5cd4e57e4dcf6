"""Command line entry points. Thin: each command hands off to its shell."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from bot.script_loader import load_script

DEFAULT_DIALOGUES = Path(__file__).resolve().parent.parent / "dialogues"


def check(directory: Path) -> int:
    """Exit 1 on any error, and on any language that is not complete: the bot itself
    starts with a translation's faults (those lines are shown in English), `check` does not
    let them pass."""
    result = load_script(directory)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    if result.script is None:
        print(f"{len(result.errors)} error(s); the coach will not start.", file=sys.stderr)
        return 1
    for c in result.coverage:
        stale = f", {c.stale} stale" if c.stale else ""
        checks = ", ".join(c.checks) or "none"
        print(
            f"{c.language}: {c.translated}/{c.lines} lines ({100 * c.translated / c.lines:.1f}%)"
            f"{stale}; text checks: {checks}"
        )
    flows = len(result.script.flows)
    nodes = sum(len(f.nodes) for f in result.script.flows.values())
    complete = all(c.complete for c in result.coverage)
    if result.errors or not complete:
        gaps = "" if complete else "; a language is incomplete"
        print(f"{len(result.errors)} error(s){gaps}.", file=sys.stderr)
        return 1
    print(f"ok: {flows} flows, {nodes} nodes, {len(result.warnings)} warning(s)")
    return 0


def translations(directory: Path, language: str) -> int:
    from bot.translations_writer import write_translations

    written, missing = write_translations(directory, language)
    where = directory / "locales" / language
    print(f"{written} file(s) in {where}; {missing} line(s) still to translate")
    return 0


def screen(directory: Path, source: Path | None, only: str | None, *, report: bool) -> int:
    from bot.config import load_config
    from bot.screen_cli import main as screen_main

    result = load_script(directory, load_config().cache_dir)
    if result.script is None:
        for diagnostic in result.errors:
            print(diagnostic, file=sys.stderr)
        return 1
    if report:
        from bot.screen_report import evaluate, format_report, held_out, independent

        for title, rows in (
            ("held-out split of the corpus", held_out(result.corpus)),
            ("independent set (tests/data/screen_independent)", independent()),
        ):
            print(format_report(title, evaluate(result.script.screen, rows)))
        return 0
    return screen_main(result.script, source, only, sys.stdout)


def rotate(database: Path | None) -> int:
    """Re-encrypt every stored text from OLD_KEY to NEW_KEY (either may be empty: plain)."""
    import asyncio

    from bot.config import ConfigError, load_config
    from bot.store.crypto import BadKey
    from bot.store.postgres import rotate_key as rotate_postgres
    from bot.store.protocol import StoreError
    from bot.store.sqlite import rotate_key as rotate_sqlite

    try:
        config = load_config()  # OLD_KEY and NEW_KEY are read there, like every setting
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    # DATABASE_URL's PostgreSQL unless a SQLite file is named (stop every replica first).
    on_postgres = database is None and bool(config.database_url)
    path = database or config.database_path
    where = "the PostgreSQL database" if on_postgres else str(path)
    try:
        old, new = config.rotation_ciphers()
    except BadKey as exc:
        print(f"Key problem: {exc}", file=sys.stderr)
        return 2
    try:
        if on_postgres:
            changed = asyncio.run(rotate_postgres(config.database_url, old, new))
        else:
            changed = asyncio.run(rotate_sqlite(path, old, new))
    except StoreError as exc:  # the message never shows a key or a value
        print(f"Database problem: {exc}", file=sys.stderr)
        return 1
    print(f"re-encrypted {changed} value(s) in {where}; now set ENCRYPTION_KEY to NEW_KEY")
    return 0


# Commands that use DATABASE_URL's PostgreSQL when it is set, rather than the SQLite file.
SHARED_DATABASE_COMMANDS = frozenset({"run", "console", "rotate-key"})


def locked(command: str, database: Path | None, run: Callable[[], int]) -> int:
    """`run` while holding the database's one-process lock (bot/store/lockfile.py)."""
    from bot.config import ConfigError, load_config
    from bot.store.lockfile import DatabaseInUse, ProcessLock
    from bot.store.protocol import StoreUnavailable

    if database is None:
        try:
            config = load_config()
        except ConfigError:
            return run()  # the command itself explains the configuration problem
        if config.database_url and command in SHARED_DATABASE_COMMANDS:
            return run()  # PostgreSQL: replicas share it on purpose; no file to guard
        database = config.database_path
    try:
        lock = ProcessLock(database, command)
        lock.acquire()
    except DatabaseInUse as exc:
        print(exc, file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        print(f"Database problem: {exc}", file=sys.stderr)
        return 1
    try:
        return run()
    finally:
        lock.release()


def backup(target: Path, database: Path | None, *, force: bool) -> int:
    """A consistent 0600 copy while the bot may run: no process lock (see backup.py)."""
    from bot.config import ConfigError, load_config
    from bot.store.backup import backup as copy
    from bot.store.protocol import StoreError

    try:
        source = database or load_config().database_path
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    try:
        pages = copy(source, target, force=force)
    except StoreError as exc:
        print(f"Backup problem: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {target} ({pages} pages)")
    return 0


def migrate_to_postgres(database: Path | None, url: str | None) -> int:
    """Copy the SQLite database into an empty PostgreSQL one and verify the row counts."""
    import asyncio

    from bot.config import ConfigError, load_config
    from bot.store.factory import is_postgres_url
    from bot.store.move_to_postgres import MoveError, move
    from bot.store.protocol import StoreError

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    source, target = database or config.database_path, url or config.database_url
    if not is_postgres_url(target):
        print(
            "Give the PostgreSQL database: --to postgresql://... or DATABASE_URL", file=sys.stderr
        )
        return 2
    try:
        moved = asyncio.run(move(source, target))
    except (MoveError, StoreError) as exc:
        print(f"Not moved (PostgreSQL unchanged): {exc}", file=sys.stderr)
        return 1
    for table, rows in moved.tables.items():
        print(f"{table}: {rows} rows")
    print(f"moved {moved.rows} rows from {source}; counts verified. Set DATABASE_URL to use it.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Mend, a trust coach.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="compile the dialogues and print every problem")
    p_check.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIALOGUES)
    p_console = sub.add_parser(
        "console", help="talk to the coach in this terminal, no Telegram needed"
    )
    p_console.add_argument(
        "--lang", default="", help="the language to talk in: en, es, pt-BR, ru (dialogues/locales)"
    )
    p_screen = sub.add_parser(
        "screen", help="run the crisis screen and text checks on one text per line (JSON out)"
    )
    p_screen.add_argument("file", nargs="?", type=Path, default=None, help="default: stdin")
    p_screen.add_argument(
        "--check", default=None, help="run one: crisis, apology, defensiveness, validation, ..."
    )
    p_screen.add_argument("--dialogues", type=Path, default=DEFAULT_DIALOGUES)
    p_screen.add_argument(
        "--report", action="store_true", help="print recall and false alarms on the held-out sets"
    )
    p_words = sub.add_parser(
        "translations",
        help="write or update a language's translation files (keeps every line written)",
    )
    p_words.add_argument("language", help="a code under dialogues/locales, e.g. es or pt-BR")
    p_words.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIALOGUES)
    sub.add_parser("run", help="run the Telegram bot")
    sub.add_parser("new-key", help="print a fresh ENCRYPTION_KEY")
    p_rotate = sub.add_parser(
        "rotate-key", help="re-encrypt the database (bot stopped): OLD_KEY and NEW_KEY env vars"
    )
    p_rotate.add_argument("--database", type=Path, default=None)
    p_backup = sub.add_parser(
        "backup", help="copy the database consistently (0600), even while the bot runs"
    )
    p_backup.add_argument("path", type=Path, help="the new file (refused if it exists)")
    p_backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    p_backup.add_argument("--database", type=Path, default=None)
    p_move = sub.add_parser(
        "migrate-to-postgres",
        help="copy the SQLite database (bot stopped) into an empty PostgreSQL database",
    )
    p_move.add_argument("--database", type=Path, default=None, help="default: DATABASE_PATH")
    p_move.add_argument("--to", default=None, help="postgresql://... (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    if args.command == "new-key":
        from bot.store.crypto import generate_key

        print(generate_key())
        return 0
    if args.command == "rotate-key":
        database = args.database
        return locked("rotate-key", database, lambda: rotate(database))
    if args.command == "migrate-to-postgres":
        source, to = args.database, args.to
        return locked("migrate-to-postgres", source, lambda: migrate_to_postgres(source, to))
    if args.command == "backup":
        return backup(args.path, args.database, force=args.force)
    if args.command == "check":
        return check(args.directory)
    if args.command == "translations":
        return translations(args.directory, args.language)
    if args.command == "screen":
        return screen(args.dialogues, args.file, args.check, report=args.report)
    if args.command == "console":
        from bot.console import main as console_main

        language = args.lang
        return locked("console", None, lambda: console_main(language))
    from bot.telegram.app import main as run_main

    return locked("run", None, run_main)
