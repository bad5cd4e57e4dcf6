"""The check-in's promise buttons: an empty box until kept, a ticked one after, "none of
them today", and a gentle step towards telling the partner when one that matters broke."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.core.events import StartFlow
from bot.core.session import Promise, Session
from bot.core.turn import KeepPromise, Mark
from tests.harness import real_script
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()
LEDGER = (Promise(1, "Home by seven"), Promise(2, "Phone on the table after dinner"))


def at_promises(promises: tuple[Promise, ...] = LEDGER) -> Person:
    session = Session(completed=frozenset({"onboarding"}), started_at=NOW, promises=promises)
    p = Person(SCRIPT, session)
    p.send(StartFlow("checkin"))
    p.tap("Steady")
    assert p.at() == ("checkin", "promises") or "Tap each one you kept" in p.text()
    return p


def test_unticked_and_ticked_look_different() -> None:
    p = at_promises()
    assert p.labels()[:2] == ["☐ Home by seven", "☐ Phone on the table after dinner"]
    assert "None of them today" in p.labels()
    turn = p.tap("☐ Home by seven")
    assert KeepPromise(1, "2026-11-29") in turn.effects
    assert p.labels()[:2] == ["☑ Home by seven", "☐ Phone on the table after dinner"]
    assert "None of them today" not in p.labels()  # one was kept: not "none"


def test_tapping_a_ticked_promise_again_changes_nothing() -> None:
    p = at_promises()
    p.tap("☐ Home by seven")
    turn = p.tap("☑ Home by seven")
    assert turn.effects == ()
    assert "earlier step" not in p.text()  # not treated as a stale button


def test_none_of_them_today_leads_to_telling_the_partner_yourself() -> None:
    p = at_promises()
    p.tap("None of them today")
    assert "information, not a verdict" in p.text()
    p.tap("Yes, one that matters")
    assert "tell them yourself" in p.text()
    turn = p.tap("I'll tell them")
    assert Mark("broken_promise_told") in turn.effects
    assert p.at() is None or p.at() != ("checkin", "tell_them")


def test_a_promise_kept_earlier_today_shows_ticked() -> None:
    kept = (dataclasses.replace(LEDGER[0], kept_today=True), LEDGER[1])
    p = at_promises(kept)
    assert p.labels()[:2] == ["☑ Home by seven", "☐ Phone on the table after dinner"]


def test_a_second_check_in_on_the_same_day_brings_another_thought() -> None:
    thoughts = SCRIPT.libraries["thoughts"]
    p = Person(SCRIPT, Session(completed=frozenset({"onboarding"}), started_at=NOW))
    seen = []
    for _ in range(3):
        p.send(StartFlow("checkin"))
        p.tap("Steady")
        p.tap("Not now")  # no promise ledger yet
        seen.append(next(t for t in thoughts if t in p.text()))
    assert len(set(seen)) == 3
