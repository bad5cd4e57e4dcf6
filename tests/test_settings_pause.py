"""Pausing check-ins: duration buttons, words as well as numbers, and a friendly date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.events import SendText, StartFlow
from bot.core.places import bare_places
from bot.core.session import Session
from bot.core.setting_parsers import PARSERS, Parsed
from bot.core.turn import ChangeSetting
from tests.harness import real_script
from tests.person import Person

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # a Tuesday
SCRIPT = real_script()


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("7", "2026-12-08"),
        ("7 days", "2026-12-08"),
        ("a week", "2026-12-08"),
        ("two weeks", "2026-12-15"),
        ("a fortnight", "2026-12-15"),
        ("3 weeks", "2026-12-22"),
        ("a month", "2026-12-31"),
    ],
)
def test_pause_lengths_in_words_or_numbers(text: str, until: str) -> None:
    assert PARSERS["pause_days"](text, NOW, bare_places()) == Parsed("paused_until", until)


@pytest.mark.parametrize("text", ["forever", "0", "100 days", "four months", "soon"])
def test_pause_lengths_out_of_range_or_unreadable(text: str) -> None:
    assert not isinstance(PARSERS["pause_days"](text, NOW, bare_places()), Parsed)


def settings_person() -> Person:
    p = Person(SCRIPT, Session(completed=frozenset({"onboarding"}), started_at=NOW), now=NOW)
    p.send(StartFlow("settings"))
    return p


def test_a_week_button_pauses_and_shows_a_friendly_date() -> None:
    p = settings_person()
    p.tap(next(label for label in p.labels() if label.startswith("Pause")))
    assert p.labels()[:4] == ["3 days", "A week", "Two weeks", "A month"]
    turn = p.tap("A week")
    assert ChangeSetting("paused_until", "2026-12-08") in turn.effects
    assert "Tuesday, 8 December 2026" in p.text() and "2026-12-08" not in p.text()


def test_another_length_accepts_words() -> None:
    p = settings_person()
    p.tap(next(label for label in p.labels() if label.startswith("Pause")))
    p.tap("Another length")
    turn = p.send(SendText("three weeks"))
    assert ChangeSetting("paused_until", "2026-12-22") in turn.effects
