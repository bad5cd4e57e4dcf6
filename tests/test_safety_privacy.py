"""Safety first and privacy: crisis interruption, abuse screening, export, delete, logs."""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.engine import step
from bot.core.events import Press, SendText, StartFlow
from bot.core.session import Session, Settings
from bot.core.turn import FlagCrisis, SaveAnswer, Turn
from tests.fakebot import FakeBotApi
from tests.harness import onboard, real_script, running_bot, tap

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()


def press(turn: Turn, label: str, session: Session | None = None) -> Turn:
    for message in turn.messages:
        for button in message.buttons:
            if button.label == label:
                return step(SCRIPT, session or turn.session, Press(button.data), NOW)
    raise AssertionError(f"no {label!r} in {[b.label for m in turn.messages for b in m.buttons]}")


def in_apology(country: str = "") -> Turn:
    session = Session(settings=Settings(country=country), completed=frozenset({"onboarding"}))
    turn = step(SCRIPT, session, StartFlow("apology"), NOW)
    while (
        turn.session.position
        and SCRIPT.flows["apology"].nodes[turn.session.position.node].ask is None
    ):
        first = turn.messages[-1].buttons[0].label
        turn = press(turn, first)
    assert turn.session.position and turn.session.position.flow == "apology"
    return turn


def test_words_of_danger_pause_the_exercise_and_show_help_for_the_country() -> None:
    asking = in_apology(country="GB")
    turn = step(SCRIPT, asking.session, SendText("honestly I don’t want to be alive anymore"), NOW)
    assert FlagCrisis("suicide") in turn.effects
    assert not any(isinstance(e, SaveAnswer) for e in turn.effects)  # the words are not kept
    text = "\n".join(m.text for m in turn.messages)
    assert "<b>United Kingdom</b>" in text and "Samaritans" in text and "&amp;amp;" not in text
    assert turn.session.suspended == asking.session.position
    assert turn.session.position is None
    labels = [b.label for b in turn.messages[-1].buttons]
    assert labels == ["Go back to it", "Leave it for now", "Check on me tomorrow"]
    back = press(turn, "Go back to it")
    assert back.session.position == asking.session.position
    assert back.session.suspended is None


def test_unknown_country_gets_the_international_list() -> None:
    asking = in_apology()
    turn = step(SCRIPT, asking.session, SendText("he hits me when he drinks"), NOW)
    assert FlagCrisis("abuse") in turn.effects
    assert "findahelpline.com" in "\n".join(m.text for m in turn.messages)


def test_idioms_are_answers_not_crises() -> None:
    asking = in_apology()
    turn = step(SCRIPT, asking.session, SendText("She'll kill me when she finds out I forgot"), NOW)
    assert not any(isinstance(e, FlagCrisis) for e in turn.effects)


def test_a_crisis_outside_any_exercise_offers_the_menu() -> None:
    session = Session(completed=frozenset({"onboarding"}))
    turn = step(SCRIPT, session, SendText("i want to kill myself"), NOW)
    assert FlagCrisis("suicide") in turn.effects
    assert [b.label for b in turn.messages[-1].buttons] == ["☰ Menu", "Check on me tomorrow"]


@pytest.mark.parametrize("flow", ["prepare", "our_story"])
def test_fear_in_the_relationship_turns_off_couples_talk(flow: str) -> None:
    session = Session(settings=Settings(safety="flagged"), completed=frozenset({"onboarding"}))
    turn = step(SCRIPT, session, StartFlow(flow), NOW)
    assert "turned off for now" in turn.messages[0].text
    assert turn.session.position is None
    clear = dataclasses.replace(session, settings=Settings(safety="clear"))
    assert step(SCRIPT, clear, StartFlow(flow), NOW).session.position is not None


def test_a_yes_in_the_screening_flags_and_shows_abuse_resources() -> None:
    session = Session(completed=frozenset({"onboarding"}))
    turn = step(SCRIPT, session, StartFlow("safety_screen"), NOW)
    turn = press(turn, "Yes")  # afraid of the partner
    turn = press(turn, "No")
    assert turn.session.settings.safety == "flagged"
    text = "\n".join(m.text for m in turn.messages)
    assert "turned off" in text or "talk" in text
    clear = step(SCRIPT, session, StartFlow("safety_screen"), NOW)
    clear = press(press(clear, "No"), "No")
    assert clear.session.settings.safety == "clear"


async def test_export_sends_markdown_and_json_with_everything(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    db = tmp_path / "m.sqlite3"
    async with running_bot(fake, db):
        user = fake.user(401)
        await onboard(user, name="Robin")
        await user.send_command("/export")
        await fake.wait_until(lambda: len(fake.documents) >= 2, timeout=10)
        docs = {
            str(m.document.filename): bytes(m.document.content or b"")
            for m in fake.documents
            if m.document
        }
        markdown = next(v for k, v in docs.items() if k.endswith(".md")).decode()
        data = json.loads(next(v for k, v in docs.items() if k.endswith(".json")))
        assert "Robin" in markdown and "# Everything Mend stores about you" in markdown
        assert any(a["value"] == "Robin" for a in data["answers"])


async def test_delete_erases_every_row_about_the_person(fake: FakeBotApi, tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite3"
    async with running_bot(fake, db):
        keep, gone = fake.user(402), fake.user(403)
        await onboard(keep, name="Keeper")
        await onboard(gone, name="Leaver")
        await gone.send_command("/delete")
        await tap(gone, "Yes, delete everything")
        await tap(gone, "No, just delete")
        await gone.wait_for(lambda m: "/start" in (m.text or ""))
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            if "user_id" in columns:
                found[table] = conn.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (403,)
                ).fetchone()[0]
        kept = conn.execute("SELECT COUNT(*) FROM users WHERE user_id = 402").fetchone()[0]
    assert found and all(count == 0 for count in found.values()), found
    assert kept == 1


async def test_logs_never_contain_words_answers_payloads_or_the_token(
    fake: FakeBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret_answer = "Zanzibar-secret-answer"
    crisis = "I want to end my life tonight"
    with caplog.at_level(logging.DEBUG):
        async with running_bot(fake, tmp_path / "m.sqlite3"):
            user = fake.user(404)
            await onboard(user, name=secret_answer)
            await user.send_text(crisis)
            await user.wait_for(lambda m: "emergency" in (m.text or ""))
            await user.press_data("v1:garbage-payload-xyz")
            await user.wait_reply(1)
    logged = caplog.text
    assert logged  # something was logged, so the search means something
    for needle in (secret_answer, crisis, "garbage-payload-xyz", fake.token):
        assert needle not in logged
