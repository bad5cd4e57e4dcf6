"""With a key, what the database stores says nothing readable about what a person went
through: crisis kinds, completed flows, marks, follow-ups and the safety flag are coded, and
encrypted answers are padded so their length does not tell which button was pressed."""

from __future__ import annotations

import base64
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.session import Session
from bot.core.turn import (
    ChangeSetting,
    CompleteFlow,
    FlagCrisis,
    Mark,
    SaveAnswer,
    ScheduleFollowUp,
    Turn,
)
from bot.store import SqliteStore
from bot.store.crypto import CannotDecrypt, TextCipher, generate_key
from bot.store.sqlite import rotate_key

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REVEALING = ("safety_followup", "debrief_danger", "self_harm", "flagged", "beyond_repair")


def revealing_turn() -> Turn:
    effects = (
        FlagCrisis("self_harm"),
        Mark("debrief_danger"),
        CompleteFlow("beyond_repair"),
        CompleteFlow("beyond_repair"),
        ScheduleFollowUp("safety_followup", NOW - timedelta(minutes=1)),
        ChangeSetting("safety", "flagged"),
        SaveAnswer("onboarding.consent", "yes"),
        SaveAnswer("debrief.how", "It went badly and I want to leave"),
    )
    return Turn((), effects, Session())


def raw_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


async def test_revealing_names_are_not_readable_at_rest(tmp_path: Path) -> None:
    path = tmp_path / "mend.db"
    async with SqliteStore(path, TextCipher(generate_key())) as store:
        assert await store.commit(5, revealing_turn(), NOW)
        session = await store.load(5, NOW)
        assert session.settings.safety == "flagged"
        assert "beyond_repair" in session.completed
        assert session.facts["progress.debrief_danger"] == "1"
        doc = await store.export_user(5)
        flags, completions = doc["crisis_flags"], doc["completions"]
        assert isinstance(flags, list) and isinstance(completions, list)
        assert [f["kind"] for f in flags] == ["self_harm"]
        assert [c["flow"] for c in completions] == ["beyond_repair"] * 2
        [due] = await store.claim_due(NOW, 10, timedelta(minutes=5))
        assert due.flow == "safety_followup"
    raw = raw_bytes(path)
    for name in REVEALING:
        assert name.encode() not in raw, name


async def test_without_a_key_names_stay_plain(tmp_path: Path) -> None:
    path = tmp_path / "mend.db"
    async with SqliteStore(path) as store:
        assert await store.commit(5, revealing_turn(), NOW)
    assert b"debrief_danger" in raw_bytes(path)


def test_padding_hides_which_short_answer_was_given() -> None:
    cipher = TextCipher(generate_key())
    answers = ("yes", "no", "We're working on it", "Not for us", "I'm not safe")
    lengths = {len(cipher.encrypt(a, "answers.value/1")) for a in answers}
    assert len(lengths) == 1
    assert cipher.decrypt(cipher.encrypt("yes", "c"), "c") == "yes"
    long_one = cipher.encrypt("x" * 1000, "c")
    assert cipher.decrypt(long_one, "c") == "x" * 1000
    assert len(long_one) > len(cipher.encrypt("yes", "c"))


def test_v1_values_from_before_padding_are_still_read() -> None:
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = generate_key()
    raw_key = base64.urlsafe_b64decode(key)
    nonce = os.urandom(12)
    sealed = AESGCM(raw_key).encrypt(nonce, b"old words", b"answers.value/1")
    token = "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()
    assert TextCipher(key).decrypt(token, "answers.value/1") == "old words"


def test_codes_are_deterministic_bound_and_keyed() -> None:
    key = generate_key()
    a, b = TextCipher(key), TextCipher(key)
    assert a.code("debrief_danger", "marks.name/1") == b.code("debrief_danger", "marks.name/1")
    assert a.code("debrief_danger", "marks.name/1") != a.code("debrief_danger", "marks.name/2")
    token = a.code("x", "marks.name/1")
    assert a.uncode(token, "marks.name/1") == "x"
    with pytest.raises(CannotDecrypt):
        TextCipher(generate_key()).uncode(token, "marks.name/1")


async def test_rotating_the_key_recodes_names(tmp_path: Path) -> None:
    path = tmp_path / "mend.db"
    old, new = TextCipher(generate_key()), TextCipher(generate_key())
    async with SqliteStore(path, old) as store:
        assert await store.commit(5, revealing_turn(), NOW)
    assert await rotate_key(path, old, new) > 0
    async with SqliteStore(path, new) as store:
        session = await store.load(5, NOW)
        assert session.settings.safety == "flagged"
        assert "beyond_repair" in session.completed
    with sqlite3.connect(path) as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM crisis_flags")]
    assert kinds and all(k.startswith("c1:") for k in kinds)
    assert new.uncode(kinds[0], "crisis_flags.kind/5") == "self_harm"
