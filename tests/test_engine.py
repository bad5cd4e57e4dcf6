"""Engine transitions: every node kind, stale presses, cancel, text where buttons are expected."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.core import buttons
from bot.core.engine import MAX_ANSWER_CHARS, show_current, step
from bot.core.events import Cancel, Hello, NotText, Press, SendText, ShowMenu, StartFlow
from bot.core.model import Script
from bot.core.session import Position, Session
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    ScheduleFollowUp,
)
from tests.person import NOW as PERSON_NOW
from tests.person import Person
from tests.scripts import demo_script

NOW = PERSON_NOW


@pytest.fixture(scope="module")
def script() -> Script:
    return demo_script()


def test_hello_starts_onboarding_for_a_new_person(script: Script) -> None:
    w = Person(script)
    w.send(Hello())
    assert w.at() == ("onboarding", "hi")
    w.tap("Go on")
    assert w.session.position is None
    assert "onboarding" in w.session.completed
    assert CompleteFlow("onboarding") in w.turn.effects  # type: ignore[union-attr]
    assert w.labels() == ["☰ Menu"]


def test_hello_after_onboarding_opens_the_menu_or_resumes(script: Script) -> None:
    w = Person(script, Session(completed=frozenset({"onboarding"})))
    w.send(Hello())
    assert w.at() == ("menu", "pick")
    w.tap("Demo")
    w.send(Hello())
    assert w.at() == ("demo", "pick")
    assert "Welcome back" in w.text()


def test_message_nodes_run_on_to_the_next_waiting_node(script: Script) -> None:
    w = Person(script)
    turn = w.send(StartFlow("demo"))
    assert [m.text for m in turn.messages] == ["Intro <b>bold</b>.", "Choose."]
    assert w.at() == ("demo", "pick")


def test_free_text_answer_is_saved_escaped_and_its_effects_produced(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Write")
    turn = w.send(SendText("  I lied to you <b>about money</b> & more  "))
    value = "I lied to you <b>about money</b> & more"
    assert SaveAnswer("demo.what", value) in turn.effects
    assert "You wrote: I lied to you &lt;b&gt;about money&lt;/b&gt; &amp; more" in w.text()
    assert SaveJournal("demo", f"Demo: {value}") in turn.effects
    assert RecordCommitment(f"Promise about {value}", "tomorrow") in turn.effects
    assert ScheduleFollowUp("demo", NOW + timedelta(days=3)) in turn.effects
    assert w.session.answers["demo.what"] == value
    assert w.session.position is None  # ended: "Done."


def keep_if_asked(w: Person) -> None:
    """A one-word answer is "thin" for the apology check: keep it as written."""
    if "Keep this version" in w.labels():
        w.tap("Keep this version")


def test_branch_on_answer_and_on_setting(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Write")
    w.send(SendText("secret"))
    keep_if_asked(w)
    assert "A secret." in w.text()
    w = Person(script, Session(settings=dataclasses.replace(Session().settings, discreet=True)))
    w.send(StartFlow("demo"))
    w.tap("Write")
    w.send(SendText("something else"))
    keep_if_asked(w)
    assert "Quiet mode." in w.text()
    w = Person(script, Session(settings=dataclasses.replace(Session().settings, discreet=False)))
    w.send(StartFlow("demo"))
    w.tap("Write")
    w.send(SendText("something else"))
    keep_if_asked(w)
    assert "Quiet mode." not in w.text() and "Done." in w.text()


def test_choice_effects_change_settings(script: Script) -> None:
    w = Person(script, Session(settings=dataclasses.replace(Session().settings, discreet=False)))
    w.send(StartFlow("demo"))
    turn = w.tap("Quiet")
    assert ChangeSetting("discreet", True) in turn.effects
    assert w.session.settings.discreet is True


def test_call_runs_another_flow_and_comes_back(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Call helper")
    assert w.at() == ("helper", "note")
    assert w.session.position and w.session.position.stack[0].node == "after_call"
    w.send(SendText("bring flowers"))
    assert "Helper done." in w.text()
    assert "note: bring flowers." in w.text()
    assert w.session.completed >= {"helper", "demo"}


def test_optional_question_can_be_skipped_and_fallback_shows(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Call helper")
    w.tap("Skip")
    assert "note: nothing." in w.text()


def test_text_where_buttons_are_expected_gets_a_hint_and_the_buttons_again(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    turn = w.send(SendText("hello?"))
    assert "tap one of the buttons" in turn.messages[0].text
    assert w.labels() == ["Write", "Call helper", "Quiet"]
    assert w.at() == ("demo", "pick")
    assert turn.effects == ()


def test_stale_press_is_reported_not_applied(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    old = w.turn
    w.tap("Write")
    assert w.at() == ("demo", "what")
    write_button = old.messages[-1].buttons[0]  # type: ignore[union-attr]
    turn = w.send(Press(write_button.data))
    assert "earlier step" in turn.messages[0].text
    assert w.at() == ("demo", "what")
    assert turn.effects == ()


def test_press_from_an_older_script_version_is_stale(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    data = buttons.ButtonCode("zzzzzz", "demo", "pick", "0").encode()
    turn = w.send(Press(data))
    assert "earlier step" in turn.messages[0].text
    assert w.at() == ("demo", "pick")


@pytest.mark.parametrize("data", ["", "garbage", "\x00\xff", "a:b:c", "x" * 200, "v:demo:pick:99"])
def test_garbage_callback_data_never_raises(script: Script, data: str) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    turn = w.send(Press(data))
    assert w.at() == ("demo", "pick")
    assert turn.effects == ()


def test_out_of_range_choice_on_the_current_node_is_stale(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    data = buttons.ButtonCode(script.version, "demo", "pick", "7").encode()
    turn = w.send(Press(data))
    assert "earlier step" in turn.messages[0].text


def test_cancel_and_menu_work_from_anywhere(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Write")
    turn = w.send(Cancel())
    assert w.session.position is None
    assert "Stopped" in turn.messages[0].text
    w.send(StartFlow("demo"))
    w.tap("Call helper")
    w.send(ShowMenu())
    assert w.at() == ("menu", "pick")
    assert w.session.position and w.session.position.stack == ()


def test_a_text_check_gives_feedback_and_offers_revise_or_keep(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Write")
    turn = w.send(SendText("I'm sorry if you were hurt"))
    assert not any(isinstance(e, SaveAnswer) for e in turn.effects)
    assert w.session.position and w.session.position.draft == "I'm sorry if you were hurt"
    assert "sorry if" in w.text().lower()
    assert w.labels() == ["Let me rewrite it", "Keep this version"]
    w.tap("Let me rewrite it")
    assert w.at() == ("demo", "what") and w.session.position.draft is None
    w.send(SendText("I'm sorry if it hurt"))
    turn = w.tap("Keep this version")
    assert SaveAnswer("demo.what", "I'm sorry if it hurt") in turn.effects


def test_a_new_text_while_feedback_is_shown_is_a_new_attempt(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Write")
    w.send(SendText("I'm sorry if you were hurt"))
    turn = w.send(SendText("I lied to you, and it was my choice."))
    assert SaveAnswer("demo.what", "I lied to you, and it was my choice.") in turn.effects


def test_empty_overlong_and_non_text_answers_keep_the_question(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Write")
    for event in (SendText("   "), SendText("x" * (MAX_ANSWER_CHARS + 1)), NotText()):
        turn = w.send(event)
        assert w.at() == ("demo", "what")
        assert turn.effects == ()
        assert turn.messages[-1].text == "What happened?"


def test_idle_text_points_to_the_menu(script: Script) -> None:
    w = Person(script, Session(completed=frozenset({"onboarding"})))
    turn = w.send(SendText("hello"))
    assert turn.messages[-1].buttons[0].label == "☰ Menu"
    w.tap("☰ Menu")
    assert w.at() == ("menu", "pick")


def test_a_position_that_no_longer_exists_resets_to_the_menu_gracefully(script: Script) -> None:
    gone = Session(position=Position("demo", "removed_node"), completed=frozenset({"onboarding"}))
    turn = step(script, gone, Hello(), NOW)
    assert "updated" in turn.messages[0].text
    assert turn.session.position is None or turn.session.position.flow == "menu"
    turn = step(script, Session(position=Position("no_flow", "x")), SendText("hi"), NOW)
    assert turn.session.position is None


def test_show_current_changes_nothing(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    turn = show_current(script, w.session, NOW)
    assert turn.session == w.session
    assert turn.effects == ()
    assert [b.label for b in turn.messages[-1].buttons] == ["Write", "Call helper", "Quiet"]


def test_every_button_fits_telegrams_64_bytes(script: Script) -> None:
    w = Person(script)
    w.send(StartFlow("demo"))
    for turn_buttons in (b for m in w.turn.messages for b in m.buttons):  # type: ignore[union-attr]
        assert len(turn_buttons.data.encode()) <= 64


def test_showing_a_step_again_does_not_repeat_its_effects(script: Script) -> None:
    w = Person(script, Session(settings=dataclasses.replace(Session().settings, discreet=False)))
    w.send(StartFlow("demo"))
    w.tap("Quiet")  # quiet node has no effects, but the choice did: check the stored ones
    w = Person(script)
    w.send(StartFlow("demo"))
    w.tap("Write")
    w.send(SendText("I lied about where I was."))  # echo node: journal, commitment, follow-up
    w.send(StartFlow("demo"))
    w.tap("Call helper")
    for event in (Hello(), NotText(), SendText("")):
        turn = w.send(event)
        assert turn.effects == (), event


def test_skipping_an_optional_question_clears_an_earlier_answer(script: Script) -> None:
    w = Person(script, Session(answers={"helper.note": "an old note"}))
    w.send(StartFlow("demo"))
    w.tap("Call helper")
    turn = w.tap("Skip")
    assert SaveAnswer("helper.note", "") in turn.effects
    assert "note: nothing." in w.text()
