"""Typing a city where the time-zone buttons are shown is an answer, onboarding confirms
the zone, and "did you mean" suggestions are buttons. The buttons are one flow,
zone_picker, which onboarding and settings both call."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.events import SendText, StartFlow
from bot.core.session import Session
from bot.core.turn import ChangeSetting
from tests.harness import real_script
from tests.person import Person

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
SCRIPT = real_script()


def at_zone(flow: str) -> Person:
    p = Person(SCRIPT, Session(completed=frozenset({"onboarding"}), started_at=NOW))
    p.send(StartFlow(flow))
    for _ in range(20):
        if p.at() == ("zone_picker", "zone"):
            pos = p.session.position
            assert pos is not None and pos.stack[-1].flow == flow, pos  # called from `flow`
            return p
        labels = p.labels()
        if "Time zone" in labels:
            p.tap("Time zone")
            continue
        pos = p.session.position
        assert pos is not None, p.text()
        if SCRIPT.flows[pos.flow].nodes[pos.node].ask is not None:
            p.send(SendText("Sam"))
        else:
            p.tap("No" if "No" in labels else labels[0])
    raise AssertionError(f"no zone question; at {p.at()}")


def test_typing_a_city_at_the_zone_buttons_sets_it_and_onboarding_confirms() -> None:
    p = at_zone("onboarding")
    turn = p.send(SendText("Lisbon"))
    assert ChangeSetting("timezone", "Europe/Lisbon") in turn.effects
    assert "Time zone set: <b>Europe/Lisbon</b>" in p.text()
    assert "tap one of the buttons" not in p.text().lower()


def test_the_same_in_settings() -> None:
    p = at_zone("settings")
    turn = p.send(SendText("Tokyo"))
    assert ChangeSetting("timezone", "Asia/Tokyo") in turn.effects


def test_did_you_mean_suggestions_are_buttons() -> None:
    p = at_zone("onboarding")
    p.send(SendText("Berlim"))
    assert "Did you mean" in p.text()
    suggestion = next(label for label in p.labels() if "Berlin" in label)
    turn = p.tap(suggestion)
    assert any(isinstance(e, ChangeSetting) and e.name == "timezone" for e in turn.effects)
    assert "Time zone set" in p.text()


def test_both_flows_show_the_same_shortcuts() -> None:
    assert at_zone("onboarding").labels() == at_zone("settings").labels()


def test_a_city_only_tzdata_names_and_an_alias_only_places_yaml_names() -> None:
    p = at_zone("settings")
    turn = p.send(SendText("Kathmandu"))
    assert ChangeSetting("timezone", "Asia/Kathmandu") in turn.effects
    assert "Your time zone: <b>Asia/Kathmandu</b>" in p.text()
    p = at_zone("onboarding")
    turn = p.send(SendText("NYC"))
    assert ChangeSetting("timezone", "America/New_York") in turn.effects
    assert "Time zone set: <b>America/New_York</b>" in p.text()


def test_a_shortcut_returns_to_the_calling_flow() -> None:
    p = at_zone("settings")
    practices = p.session.completed & SCRIPT.practices
    turn = p.tap("India")
    assert ChangeSetting("timezone", "Asia/Kolkata") in turn.effects
    assert p.at() == ("settings", "zone_saved")
    # Picking a zone is not a practice finished.
    assert p.session.completed & SCRIPT.practices == practices
