"""A copy button on a finished pocket card or apology, and protect_content on messages
that quote the person's own words (a setting, on by default)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.events import StartFlow
from bot.core.session import Session
from tests.fakebot import FakeBotApi
from tests.harness import onboard, real_script, running_bot, tap
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()
REFLECT = "What I'm hearing is that you felt invisible for months, is that right?"


def pocket_card(answers: dict[str, str]) -> Person:
    session = Session(
        completed=frozenset({"onboarding", "listen"}), started_at=NOW, answers=answers
    )
    p = Person(SCRIPT, session)
    p.send(StartFlow("prepare"))
    p.tap("Now")
    p.tap("Listen to their pain")
    for _ in range(6):
        if "Pocket card" in p.text():
            return p
        p.tap(p.labels()[0])
    raise AssertionError(p.text())


def test_the_pocket_card_has_a_copy_button_with_the_card_alone() -> None:
    p = pocket_card({"listen.reflect": REFLECT})
    assert p.turn is not None
    card = next(m for m in p.turn.messages if "Pocket card" in m.text)
    copies = [b.copy for b in card.buttons if b.copy is not None]
    assert len(copies) == 1
    copied = copies[0]
    assert copied is not None and copied.startswith("Pocket card: listen")
    assert REFLECT in copied and "<" not in copied and "Pin it" not in copied
    assert card.private  # it quotes their own reflect-back


def test_a_card_without_their_words_is_not_marked_private() -> None:
    p = pocket_card({})
    assert p.turn is not None
    card = next(m for m in p.turn.messages if "Pocket card" in m.text)
    assert not card.private


async def test_telegram_gets_copy_text_and_protect_content(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(701)
        await onboard(user, name="Robin")
        await user.send_command("/prepare")
        await tap(user, "Now")
        await tap(user, "Listen to their pain")
        await tap(user, "Got it")
        card = await user.wait_for(lambda m: "Pocket card" in (m.text or ""), timeout=10)
        rows = (card.reply_markup or {}).get("inline_keyboard", [])
        assert any("copy_text" in b for row in rows for b in row)
        # The onboarding's "Thank you, Robin." quotes their own name.
        thanks = await user.wait_for(lambda m: "Thank you, Robin." in (m.text or ""))
        assert thanks.params.get("protect_content") in (True, "true", "True")
        assert not card.params.get("protect_content")  # nothing of theirs on it yet


def test_turning_protection_off_in_settings_sends_quotes_unprotected() -> None:
    p = pocket_card({"listen.reflect": REFLECT})
    p.send(StartFlow("settings"))
    assert "Protect messages that quote you: on" in p.text()
    p.tap("Protect quoted words")
    p.tap("Protection off")
    assert "sent protected: <b>off</b>" in p.text()
    assert p.session.settings.protect is False
    p.send(StartFlow("prepare"))
    p.tap("Now")
    p.tap("Listen to their pain")
    for _ in range(6):
        if "Pocket card" in p.text():
            break
        p.tap(p.labels()[0])
    assert p.turn is not None
    card = next(m for m in p.turn.messages if "Pocket card" in m.text)
    assert REFLECT in card.text and not card.private  # their choice, kept
