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
WORDS = SCRIPT.parse_words  # English


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
    assert PARSERS["pause_days"](text, NOW, bare_places(), WORDS) == Parsed("paused_until", until)


@pytest.mark.parametrize("text", ["forever", "0", "100 days", "four months", "soon"])
def test_pause_lengths_out_of_range_or_unreadable(text: str) -> None:
    assert not isinstance(PARSERS["pause_days"](text, NOW, bare_places(), WORDS), Parsed)


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


@pytest.mark.parametrize(
    ("language", "text", "until"),
    [
        ("es", "dos semanas", "2026-12-15"),
        ("es", "una semana", "2026-12-08"),
        ("es", "10 días", "2026-12-11"),
        ("pt-BR", "duas semanas", "2026-12-15"),
        ("pt-BR", "um mês", "2026-12-31"),
        ("ru", "две недели", "2026-12-15"),
        ("ru", "неделю", "2026-12-08"),
        ("ru", "5 дней", "2026-12-06"),
    ],
)
def test_pause_lengths_in_the_persons_own_language(language: str, text: str, until: str) -> None:
    words = SCRIPT.for_language(language).parse_words
    assert PARSERS["pause_days"](text, NOW, bare_places(), words) == Parsed("paused_until", until)


@pytest.mark.parametrize(
    ("language", "text"), [("es", "23:00 a 7:00"), ("pt-BR", "23h às 7h"), ("ru", "23:00 до 7:00")]
)
def test_quiet_hours_in_the_persons_own_language(language: str, text: str) -> None:
    words = SCRIPT.for_language(language).parse_words
    assert PARSERS["quiet_hours"](text, NOW, bare_places(), words) == Parsed(
        "quiet_hours", "23:00-07:00"
    )


def test_what_could_not_be_read_is_answered_with_examples_in_that_language() -> None:
    from bot.core.setting_parsers import Unparsed

    es = SCRIPT.for_language("es").parse_words
    assert PARSERS["pause_days"]("pronto", NOW, bare_places(), es) == Unparsed(
        ("3", "una semana", "dos semanas")
    )
    for language in ("es", "pt-BR", "ru"):
        examples = SCRIPT.for_language(language).parse_words.examples
        assert set(examples) == {"checkin_time", "quiet_hours", "pause_days", "country"}
        for setting, shown in examples.items():
            if setting in ("pause_days", "quiet_hours", "checkin_time"):
                for example in shown:  # every example offered can itself be read
                    words = SCRIPT.for_language(language).parse_words
                    result = PARSERS[setting](example, NOW, bare_places(), words)
                    assert isinstance(result, Parsed), (language, example)
