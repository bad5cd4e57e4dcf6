"""The console shell: onboarding end to end in a real process, and resume after SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.console import render, to_event, to_plain
from bot.core.events import Command, Press, SendText
from bot.core.turn import Button, OutMessage
from tests.harness import real_script
from tests.scripts import ROOT


def console(db: Path, *args: str) -> subprocess.Popen[bytes]:
    env = os.environ | {"DATABASE_PATH": str(db), "TELEGRAM_BOT_TOKEN": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "console", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


class Terminal:
    """Types into a running console and reads its screen, prompt by prompt."""

    def __init__(self, db: Path, *args: str) -> None:
        self.proc = console(db, *args)
        self.screen = b""
        os.set_blocking(self.proc.stdout.fileno(), False)  # type: ignore[union-attr]

    def read_until_prompt(self, timeout: float = 20.0) -> str:
        start = len(self.screen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self.proc.stdout.read()  # type: ignore[union-attr]
            if chunk:
                self.screen += chunk
                if self.screen.endswith(b"> "):
                    return self.screen[start:].decode()
            elif self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise TimeoutError(self.screen[start:].decode())

    def type(self, line: str) -> str:
        self.proc.stdin.write(line.encode() + b"\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return self.read_until_prompt()


def option(screen: str, label: str) -> str:
    """The number the console shows before the option whose label starts with `label`."""
    found = re.search(rf"^\s*(\d+)\) {re.escape(label)}", screen, re.M)
    assert found is not None, f"no option {label!r} in:\n{screen}"
    return found.group(1)


def test_console_plays_onboarding_end_to_end(tmp_path: Path) -> None:
    term = Terminal(tmp_path / "c.sqlite3")
    try:
        screen = term.read_until_prompt()
        assert "I'm Mend" in screen and "1) I understand" in screen
        assert "1) Yes, that's fine" in term.type("1")
        assert "I'll write to you in English" in term.type("1")
        assert "It was just discovered" in term.type("1")
        assert "What should I call you?" in term.type("2")
        screen = term.type("Sam")
        assert "Thank you, Sam." in screen and "Is your partner willing to try?" in screen
        assert "Are you ever afraid of your partner?" in term.type("1")
        assert "when you're angry?" in term.type("2")
        screen = term.type("2")
        assert "Which time zone" in screen
        screen = term.type(option(screen, "Type my city"))
        screen = term.type("Berlim")  # a typo gets close matches and the question again
        assert "Berlin" in screen
        screen = term.type("Berlin")
        assert "1) 08:00" in screen
        screen = term.type("3")
        assert "1) Yes, keep it discreet" in screen
        screen = term.type("1")
        assert "You're set up" in screen and "Europe/Berlin" in screen
        assert "What would you like to do?" in term.type("/menu")
        term.proc.stdin.close()  # type: ignore[union-attr]
        assert term.proc.wait(timeout=20) == 0
    finally:
        term.proc.kill()


def test_resume_after_the_process_is_killed_mid_flow(tmp_path: Path) -> None:
    db = tmp_path / "k.sqlite3"
    term = Terminal(db)
    try:
        term.read_until_prompt()
        term.type("1")
        term.type("1")
        term.type("1")  # the language is right
        assert "What should I call you?" in term.type("2")
        term.proc.send_signal(signal.SIGKILL)
        term.proc.wait(timeout=10)
    finally:
        term.proc.kill()
    again = Terminal(db)
    try:
        screen = again.read_until_prompt()
        assert "Welcome back" in screen
        assert "What should I call you?" in screen
        assert "Thank you, Robin." in again.type("Robin")
    finally:
        again.proc.kill()


def test_rendering_numbers_buttons_and_strips_markup() -> None:
    text, shown = render((OutMessage("<b>Hi</b> &amp; welcome", (Button("Go", "a:b:c:0"),)),))
    assert "Hi & welcome" in text and "1) Go" in text
    assert to_event("1", shown) == Press("a:b:c:0")
    assert to_event("2", shown) == SendText("2")
    assert to_event("/menu", shown) == Command("menu")
    assert to_event("/CANCEL", shown) == Command("cancel")
    assert to_event("/now I can't go on", shown) == Command("now", "I can't go on")
    assert to_plain("a &lt;b&gt;") == "a <b>"


def test_rendering_folds_at_words_and_numbers_each_button_once() -> None:
    long = "Trust is rebuilt slowly, " * 8 + "one 12,345-step day at a time."
    text, shown = render(
        (
            OutMessage(
                long,
                (Button("1. Listen without defending", "a:b:c:0"), Button("Copy", "", copy="card")),
            ),
        ),
        width=40,
    )
    lines = text.splitlines()
    assert all(len(line) <= 40 for line in lines if not line.startswith("  "))
    assert all(word in long.split() for line in lines[:-3] for word in line.split())
    assert "  1) Listen without defending" in lines and "1) 1." not in text
    assert [b.label for b in shown] == ["1. Listen without defending"]  # no copy button here


def test_the_console_talks_in_the_language_lang_names(tmp_path: Path) -> None:
    es = real_script().for_language("es")
    welcome = es.flows["welcome"]
    first = welcome.nodes[welcome.start].say
    assert first is not None
    opening = to_plain(first.render({})).split("\n")[0][:30]
    term = Terminal(tmp_path / "l.sqlite3", "--lang", "es")
    try:
        screen = term.read_until_prompt()
        assert screen.count(opening) == 1, screen  # once: choosing the language says nothing
        term.type("1")
        assert "<b>" not in (screen := term.type("1")) and "Español" in screen
        term.proc.stdin.close()  # type: ignore[union-attr]
        assert term.proc.wait(timeout=20) == 0
    finally:
        term.proc.kill()
