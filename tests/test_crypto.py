"""Encryption at rest: the cipher, the store's encrypted columns, key rotation."""

from __future__ import annotations

import base64
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.session import Position, Session
from bot.core.turn import (
    ChangeSetting,
    Effect,
    Mark,
    RecordCommitment,
    SaveAnswer,
    SaveJournal,
    Turn,
)
from bot.store import SqliteStore, StoreUnavailable
from bot.store.crypto import (
    PAD_MIN,
    BadKey,
    CannotDecrypt,
    KeyMissing,
    TextCipher,
    generate_key,
    looks_encrypted,
    unseal,
)
from bot.store.sqlite import rotate_key

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KEY = generate_key()
OTHER_KEY = generate_key()


def words() -> str:
    """A person's words, unique to one test, to look for in the raw files."""
    return "I-lied-about-Tuesday-" + os.urandom(8).hex()


def everything(text: str) -> Turn:
    effects: tuple[Effect, ...] = (
        SaveAnswer("what_happened", text),
        SaveJournal("evening", text),
        RecordCommitment(text, f"due {text}"),
    )
    return Turn((), effects, Session(position=Position("apology", "draft", draft=text)))


def files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]


def on_disk(path: Path, text: str) -> bool:
    return any(text.encode() in p.read_bytes() for p in files(path))


async def check_readable(store: SqliteStore, user_id: int, text: str) -> None:
    session = await store.load(user_id, NOW)
    assert session.answers == {"what_happened": text}
    assert session.position is not None and session.position.draft == text
    assert [p.text for p in session.promises] == [text]
    commitments = await store.open_commitments(user_id)
    assert [(c.text, c.due) for c in commitments] == [(text, f"due {text}")]
    doc = await store.export_user(user_id)
    assert doc["journal"][0]["text"] == text  # type: ignore[index]


# -- the cipher --------------------------------------------------------------------------------


def test_round_trip() -> None:
    cipher = TextCipher(KEY)
    for text in ("", "a", "Сэм — я скучаю 💔", "x" * 100_000):
        token = cipher.encrypt(text, "answers.value/1")
        assert token.startswith("v2:") and looks_encrypted(token)
        assert cipher.decrypt(token, "answers.value/1") == text
    # A fresh nonce every time: the same words never give the same stored value.
    assert cipher.encrypt("same", "c") != cipher.encrypt("same", "c")
    raw = base64.urlsafe_b64decode(cipher.encrypt("", "c")[3:])
    assert len(raw) == 12 + PAD_MIN + 16  # nonce, the padded empty text, tag


def test_a_value_is_bound_to_its_place() -> None:
    cipher = TextCipher(KEY)
    token = cipher.encrypt("words", "answers.value/1")
    with pytest.raises(CannotDecrypt):
        cipher.decrypt(token, "answers.value/2")  # copied into another person's row


def test_tampering_is_detected() -> None:
    cipher = TextCipher(KEY)
    token = cipher.encrypt("I will be home by eight", "c")
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    for i in (0, 12, len(raw) - 1):  # the nonce, the ciphertext, the tag
        changed = bytearray(raw)
        changed[i] ^= 0x01
        bad = "v1:" + base64.urlsafe_b64encode(bytes(changed)).decode()
        with pytest.raises(CannotDecrypt, match="altered"):
            cipher.decrypt(bad, "c")
    with pytest.raises(CannotDecrypt, match="altered"):
        cipher.decrypt(token[:-8], "c")  # cut short
    with pytest.raises(CannotDecrypt, match="damaged"):
        cipher.decrypt(token[:-5], "c")  # not even base64 any more


def test_the_wrong_key_raises_clearly() -> None:
    token = TextCipher(KEY).encrypt("words", "c")
    with pytest.raises(CannotDecrypt, match="ENCRYPTION_KEY is not the key") as caught:
        TextCipher(OTHER_KEY).decrypt(token, "c")
    assert isinstance(caught.value, StoreUnavailable)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not a key!", "not urlsafe base64"),
        ("abc+/def", "not urlsafe base64"),
        (base64.urlsafe_b64encode(bytes(range(16))).decode(), "decodes to 16 bytes"),
        (base64.urlsafe_b64encode(bytes(range(33))).decode(), "decodes to 33 bytes"),
        ("A", "not valid base64"),
    ],
)
def test_a_malformed_key_raises_bad_key(key: str, message: str) -> None:
    with pytest.raises(BadKey, match=message) as caught:
        TextCipher(key)
    assert "python -m bot new-key" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    if key.strip():
        assert key not in str(caught.value)


def test_generated_keys() -> None:
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) == 44
        TextCipher(key)
        TextCipher(key.rstrip("="))  # padding is optional
        TextCipher(f"  {key}\n")  # as pasted into a .env file
    assert KEY not in repr(TextCipher(KEY))


def test_plain_words_that_look_like_a_prefix_stay_plain() -> None:
    for text in ("v1:", "v1: call her first", "v1:abc", "v1:" + "A" * 39 + "!"):
        assert not looks_encrypted(text)
        assert unseal(None, text, "c") == text


def test_an_encrypted_value_without_a_key_raises() -> None:
    token = TextCipher(KEY).encrypt("words", "c")
    with pytest.raises(KeyMissing, match="this database is encrypted: set ENCRYPTION_KEY"):
        unseal(None, token, "c")


# -- the store ---------------------------------------------------------------------------------


async def test_nothing_of_the_words_is_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    text = words()
    async with SqliteStore(path, TextCipher(KEY)) as store:
        await store.commit(1, everything(text), NOW)
        await check_readable(store, 1, text)
        assert files(path) and not on_disk(path, text)
        assert not on_disk(path, text[10:30])
    assert not on_disk(path, text)
    with sqlite3.connect(path) as conn:
        stored = conn.execute(
            "SELECT value FROM answers UNION ALL SELECT text FROM journal"
            " UNION ALL SELECT text FROM commitments UNION ALL SELECT due FROM commitments"
            " UNION ALL SELECT state FROM sessions"
        ).fetchall()
    conn.close()
    assert len(stored) == 5 and all(looks_encrypted(v) for (v,) in stored)
    async with SqliteStore(path, TextCipher(KEY)) as store:
        await check_readable(store, 1, text)


async def test_an_encrypted_database_needs_its_key(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    async with SqliteStore(path, TextCipher(KEY)) as store:
        await store.commit(1, everything(words()), NOW)
    with pytest.raises(KeyMissing, match="this database is encrypted: set ENCRYPTION_KEY"):
        await SqliteStore(path).open()
    with pytest.raises(CannotDecrypt, match="ENCRYPTION_KEY is not the key"):
        await SqliteStore(path, TextCipher(OTHER_KEY)).open()


async def test_a_tampered_value_in_the_database_raises(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    async with SqliteStore(path, TextCipher(KEY)) as store:
        await store.commit(1, everything("words"), NOW)
        with sqlite3.connect(path) as conn:
            (value,) = conn.execute("SELECT value FROM answers").fetchone()
            forged = value[:-6] + ("AAAAAA" if value[-6:] != "AAAAAA" else "BBBBBB")
            conn.execute("UPDATE answers SET value = ?", (forged,))
        conn.close()
        with pytest.raises(CannotDecrypt):
            await store.load(1, NOW)
        with pytest.raises(CannotDecrypt):
            await store.export_user(1)


async def test_a_stolen_value_does_not_decrypt_for_another_person(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    async with SqliteStore(path, TextCipher(KEY)) as store:
        await store.commit(1, everything("one's words"), NOW)
        await store.commit(2, everything("two's words"), NOW)
        with sqlite3.connect(path) as conn:
            conn.execute(
                "UPDATE answers SET value = (SELECT value FROM answers WHERE user_id = 1)"
                " WHERE user_id = 2"
            )
        conn.close()
        with pytest.raises(CannotDecrypt):
            await store.load(2, NOW)


async def test_plain_values_stay_readable_when_encryption_is_turned_on(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    before, after = words(), words()
    async with SqliteStore(path) as store:
        await store.commit(1, everything(before), NOW)
    assert on_disk(path, before)
    async with SqliteStore(path, TextCipher(KEY)) as store:
        await check_readable(store, 1, before)
        await store.commit(2, everything(after), NOW)
        await check_readable(store, 2, after)
    assert not on_disk(path, after)


# -- rotation ----------------------------------------------------------------------------------


async def test_rotate_old_key_to_new(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    texts = {1: words(), 2: words()}
    async with SqliteStore(path, TextCipher(KEY)) as store:
        for user_id, text in texts.items():
            await store.commit(user_id, everything(text), NOW)
        await store.commit(3, Turn((), (), Session()), NOW)  # a session state only
    # Per person: answer, journal, commitment text and due, state; and person 3's state.
    assert await rotate_key(path, TextCipher(KEY), TextCipher(OTHER_KEY)) == 11
    with pytest.raises(CannotDecrypt):
        await SqliteStore(path, TextCipher(KEY)).open()
    async with SqliteStore(path, TextCipher(OTHER_KEY)) as store:
        for user_id, text in texts.items():
            await check_readable(store, user_id, text)
    # Running it again is harmless: everything is under the new key already.
    assert await rotate_key(path, TextCipher(KEY), TextCipher(OTHER_KEY)) == 0


async def test_rotate_plain_to_encrypted_and_back(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    text = words()
    async with SqliteStore(path) as store:
        await store.commit(1, everything(text), NOW)
        await store.commit(1, Turn((), (SaveAnswer("other", "plain"),), Session()), NOW)
    assert on_disk(path, text)
    assert await rotate_key(path, None, TextCipher(KEY)) == 6
    assert not on_disk(path, text)  # overwritten (secure_delete) and out of the WAL
    with pytest.raises(KeyMissing):
        await SqliteStore(path).open()
    async with SqliteStore(path, TextCipher(KEY)) as store:
        session = await store.load(1, NOW)
        assert session.answers == {"what_happened": text, "other": "plain"}
    assert await rotate_key(path, None, TextCipher(KEY)) == 0
    # And back to plain (new None): readable without a key.
    assert await rotate_key(path, TextCipher(KEY), None) == 6
    async with SqliteStore(path) as store:
        assert (await store.load(1, NOW)).answers == {"what_happened": text, "other": "plain"}


async def test_rotate_with_a_wrong_key_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mend.sqlite3"
    async with SqliteStore(path, TextCipher(KEY)) as store:
        await store.commit(1, everything("words"), NOW)
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT * FROM answers").fetchall()
    conn.close()
    third = TextCipher(generate_key())
    with pytest.raises(CannotDecrypt, match="neither the old nor the new key"):
        await rotate_key(path, TextCipher(OTHER_KEY), third)
    with pytest.raises(CannotDecrypt):
        await rotate_key(path, None, third)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM answers").fetchall() == before
    conn.close()
    async with SqliteStore(path, TextCipher(KEY)) as store:
        assert (await store.load(1, NOW)).answers == {"what_happened": "words"}


async def test_encrypting_a_plain_database_twice_is_harmless_for_coded_names(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mend.sqlite3"
    async with SqliteStore(path) as store:
        flagged = (ChangeSetting("safety", "flagged"), Mark("debrief_danger"))
        await store.commit(1, Turn((), flagged, Session()), NOW)
    first = await rotate_key(path, None, TextCipher(KEY))
    assert first >= 2  # the flag and the mark, coded now
    assert await rotate_key(path, None, TextCipher(KEY)) == 0  # a second run changes nothing
    async with SqliteStore(path, TextCipher(KEY)) as store:
        assert (await store.load(1, NOW)).settings.safety == "flagged"
