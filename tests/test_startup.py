"""`python -m bot run` as `make run` starts it: refusals with clear words, then real polling."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.fakebot import FakeBotApi
from tests.scripts import FIXTURES, ROOT, fixture_sources


def run_bot(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=os.environ | {"TELEGRAM_BOT_TOKEN": ""} | env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_without_a_token_it_explains_how_to_get_one(tmp_path: Path) -> None:
    result = run_bot({"DATABASE_PATH": str(tmp_path / "x.sqlite3")})
    assert result.returncode == 2
    assert "BotFather" in result.stderr
    assert ".env" in result.stderr and "make console" in result.stderr


def test_broken_dialogues_refuse_to_start_with_the_compilers_words(tmp_path: Path) -> None:
    for path, text in fixture_sources("unknown_next.yaml", "yaml_syntax.yaml").items():
        (tmp_path / Path(path).name).write_text(text)
    result = run_bot({"TELEGRAM_BOT_TOKEN": "1:x", "DIALOGUES_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"{tmp_path / 'unknown_next.yaml'}:8: error:" in result.stderr
    assert f"{tmp_path / 'yaml_syntax.yaml'}:8: error: YAML syntax" in result.stderr
    assert "will not start" in result.stderr
    assert FIXTURES.exists()


def test_a_database_from_a_newer_version_refuses_to_start(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    result = run_bot({"TELEGRAM_BOT_TOKEN": "1:x", "DATABASE_PATH": str(db)})
    assert result.returncode == 1
    assert "newer" in result.stderr.lower()


def test_an_unwritable_database_location_is_a_clear_error() -> None:
    # /proc refuses new files even to root: a stand-in for a read-only disk.
    result = run_bot({"TELEGRAM_BOT_TOKEN": "1:x", "DATABASE_PATH": "/proc/mend/m.sqlite3"})
    assert result.returncode == 1
    assert "Database problem" in result.stderr
    assert "Traceback" not in result.stderr


async def test_make_run_with_a_token_polls_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with FakeBotApi() as fake:
        env = os.environ | {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(tmp_path / "run.sqlite3"),
            "LOG_LEVEL": "INFO",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_until(lambda: bool(fake.calls_to("getUpdates")), timeout=30)
            user = fake.user(301)
            await user.send_command("/help")
            replies = await user.wait_reply(1, timeout=15)
            assert "Mend walks you through" in (replies[0].text or "")
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
        _, err = await proc.communicate()
        assert code == 0
        log = err.decode()
        assert "long polling" in log
        assert fake.token not in log  # the token never reaches the logs
