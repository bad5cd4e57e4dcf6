"""Under "afraid of my partner", nothing suggests a face-to-face talk: /now gives a
safety-first card, the menu does not offer the practices that are off, and no old or
forged button opens them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.events import Press, ShowMenu, StartFlow
from bot.core.session import Session, Settings
from tests.fakebot import FakeBotApi
from tests.harness import real_script, running_bot, tap
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()
COUPLES_TALK = sorted(f.id for f in SCRIPT.flows.values() if f.couples_talk)


def person(safety: str) -> Person:
    return Person(
        SCRIPT,
        Session(
            settings=Settings(safety=safety), completed=frozenset({"onboarding"}), started_at=NOW
        ),
    )


def test_couples_talk_flows_are_the_ones_expected() -> None:
    assert COUPLES_TALK == ["our_story", "prepare"]


def test_now_under_the_fear_flag_is_safety_first() -> None:
    p = person("flagged")
    p.send(StartFlow("hurting_now"))
    text = p.text()
    assert "Your safety comes first" in text and "findahelpline.com" in text
    assert "go to them" not in text.lower().replace("don't have to go to them", "")
    assert p.labels() == ["Show me the safety steps", "I'm safe for now"]


def test_now_without_the_flag_is_the_usual_card() -> None:
    p = person("clear")
    p.send(StartFlow("hurting_now"))
    assert "Then go to them" in p.text()


@pytest.mark.parametrize("safety", ["flagged", "clear"])
def test_the_menu_offers_only_what_is_on(safety: str) -> None:
    p = person(safety)
    p.send(ShowMenu())
    home = p.labels()
    p.tap("All practices")
    practices = p.labels()
    offered = "I'm about to talk to my partner" in home, "4. How we got here" in practices
    assert offered == ((False, False) if safety == "flagged" else (True, True))


def test_an_old_menu_button_for_a_practice_that_is_off_says_why() -> None:
    p = person("clear")
    p.send(ShowMenu())
    turn = p.turn
    assert turn is not None
    old = next(b.data for m in turn.messages for b in m.buttons if "talk to my partner" in b.label)
    p.session = dataclasses.replace(p.session, settings=Settings(safety="flagged"))
    p.send(Press(old))
    assert "turned off for now" in p.text()
    assert p.at() == ("menu", "home")  # still at the menu; nothing started


@pytest.mark.parametrize("flow", ["prepare", "our_story", "delete", "onboarding", "listen"])
def test_a_forged_open_starts_nothing_that_does_not_arrive_by_schedule(flow: str) -> None:
    p = person("flagged")
    p.send(ShowMenu())
    before = p.at()
    p.send(Press(f"{SCRIPT.version}:{flow}::open"))
    assert p.at() == before  # shown again where they were, nothing started


def test_an_open_button_still_opens_a_scheduled_check_in() -> None:
    p = person("flagged")
    p.send(Press(f"{SCRIPT.version}:checkin::open"))
    assert p.at() is not None and p.at()[0] == "checkin"  # type: ignore[index]


def test_now_from_the_menu_does_not_offer_to_go_back_to_the_menu() -> None:
    p = person("clear")
    p.send(ShowMenu())
    p.send(StartFlow("hurting_now"))
    p.tap("Done — no check-in")
    assert "go back to" not in p.text().lower()
    assert p.labels() == ["☰ Menu"]


async def test_the_fear_flag_end_to_end(fake: FakeBotApi, db: Path) -> None:
    async with running_bot(fake, db):
        user = fake.user(801)
        await user.send_command("/start")
        for label in ("I understand", "Yes, that's fine", "That's right", "We're working on it"):
            await tap(user, label)
        await user.wait_for(lambda m: "What should I call you?" in (m.text or ""))
        await user.send_text("Sam")
        await tap(user, "Yes")  # is the partner willing
        await tap(user, "Yes")  # afraid of the partner?
        await user.wait_for(lambda m: "afraid of what you might do" in (m.text or ""))
        await tap(user, "No")
        await user.send_command("/now")
        card = await user.wait_for(lambda m: "Your safety comes first" in (m.text or ""))
        assert "Then go to them" not in (card.text or "")
        await user.send_command("/menu")
        home = await user.wait_for(lambda m: "What would you like to do?" in (m.text or ""))
        assert "I'm about to talk to my partner" not in home.button_labels
        await user.send_command("/prepare")
        off = await user.wait_for(lambda m: "turned off for now" in (m.text or ""))
        assert off.message_id > home.message_id
