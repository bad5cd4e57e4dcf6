"""Encryption at rest of a person's words: AES-256-GCM from `cryptography`.

A value is stored as text, ``"v2:" + urlsafe_b64(nonce + ciphertext)``: a fresh random 12-byte
nonce per value, and GCM's 16-byte tag at the end of the ciphertext, so any change to the
stored value (or decrypting it with another key) is detected, never silently misread. The
prefix names the format, so a database may hold plain values from before encryption was
turned on, and `rotate_key` (in `bot.store.sqlite`) can tell what to re-encrypt. "v2" pads
the text before encrypting (a length prefix, then zeros up to a bucket of at least
`PAD_MIN` bytes), so the length of a stored value no longer tells which button was pressed;
"v1" values (unpadded, from before) are still read.

Names that the database must group by (completed flows, marks, crisis kinds, the safety
flag) cannot take a random nonce: they are *coded* instead, deterministically, with
AES-SIV under a key derived from ENCRYPTION_KEY (``"c1:" + urlsafe_b64``), so equal names
give equal codes for one person and column, and nothing readable is left at rest.

Each value is also bound to where it is stored (`context`, e.g. "answers.value/42": the
column and the person), as GCM's associated data: a value copied into another person's row
does not decrypt.

The key is 32 random bytes, written as urlsafe base64 (`generate_key()`, or
``python -m bot new-key``), given to the bot as ENCRYPTION_KEY. Nothing here logs, and no
message or repr ever shows the key or a value.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.store.protocol import StoreError, StoreUnavailable

PREFIX = "v2:"
PREFIXES = ("v1:", PREFIX)  # every format still read
CODE_PREFIX = "c1:"
PAD_MIN = 128  # bytes: every short answer (a button's) looks the same length at rest
PAD_STEP = 64
_LENGTH_BYTES = 4
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
HOW_TO_GENERATE = "generate one with `python -m bot new-key`"

_B64 = re.compile(r"[A-Za-z0-9_-]*={0,2}")
# The shortest token: "v1:" and the base64 of a nonce and a tag (an empty text).
_MIN_TOKEN = len(PREFIX) + 4 * ((NONCE_BYTES + TAG_BYTES + 2) // 3)


class BadKey(StoreError, ValueError):
    """ENCRYPTION_KEY is not a key: the message says what is wrong and how to make one."""


class KeyMissing(StoreUnavailable):
    """The database holds encrypted values, but no key was given."""


class CannotDecrypt(StoreUnavailable):
    """A stored value does not decrypt: another key, or the value was altered."""


def generate_key() -> str:
    """A new random key, as ENCRYPTION_KEY wants it (44 characters of urlsafe base64)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def parse_key(text: str) -> bytes:
    """The 32 key bytes of an ENCRYPTION_KEY string; BadKey (never echoing it) otherwise."""
    text = text.strip()
    if not text:
        raise BadKey(f"ENCRYPTION_KEY is empty: {HOW_TO_GENERATE}")
    if not _B64.fullmatch(text):
        raise BadKey(
            "ENCRYPTION_KEY is not urlsafe base64 (only letters, digits, '-', '_' and '=' "
            f"padding): {HOW_TO_GENERATE}"
        )
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise BadKey(f"ENCRYPTION_KEY is not valid base64: {HOW_TO_GENERATE}") from None
    if len(raw) != KEY_BYTES:
        raise BadKey(
            f"ENCRYPTION_KEY decodes to {len(raw)} bytes, but a key is {KEY_BYTES} random bytes "
            f"(44 characters of urlsafe base64): {HOW_TO_GENERATE}"
        )
    return raw


def looks_encrypted(value: str) -> bool:
    """Whether a stored value is a token of this module (and not a person's plain words).

    A plain value is taken for a token only if it also starts with "v1:" followed by
    nothing but base64, at least as long as an empty value's token.
    """
    return (
        value.startswith(PREFIXES)
        and len(value) >= _MIN_TOKEN
        and _B64.fullmatch(value, len(PREFIX)) is not None
    )


class TextCipher:
    """Encrypts and decrypts text values with one ENCRYPTION_KEY."""

    __slots__ = ("_aead", "_siv")

    def __init__(self, key: str) -> None:
        raw = parse_key(key)
        self._aead = AESGCM(raw)
        names_key = HKDF(SHA256(), 64, salt=None, info=b"mend: coded names").derive(raw)
        self._siv = AESSIV(names_key)

    def __repr__(self) -> str:
        return "TextCipher(<key hidden>)"

    def encrypt(self, text: str, context: str = "") -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, _pad(text.encode("utf-8")), context.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def code(self, name: str, context: str) -> str:
        """The same code for the same name and context: a name the database groups by."""
        sealed = self._siv.encrypt(name.encode("utf-8"), [context.encode("utf-8")])
        return CODE_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def uncode(self, value: str, context: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(value[len(CODE_PREFIX) :])
            return self._siv.decrypt(raw, [context.encode("utf-8")]).decode("utf-8")
        except (binascii.Error, ValueError, InvalidTag):
            raise CannotDecrypt(
                "cannot decode a stored name: ENCRYPTION_KEY is not the key this database "
                "was written with, or the value was altered"
            ) from None

    def decrypt(self, token: str, context: str = "") -> str:
        if not looks_encrypted(token):
            raise CannotDecrypt("a stored value is damaged: it is not an encrypted value")
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
        except (binascii.Error, ValueError):
            raise CannotDecrypt("a stored value is damaged: it is not valid base64") from None
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, sealed, context.encode("utf-8"))
        except InvalidTag:
            raise CannotDecrypt(
                "cannot decrypt a stored value: ENCRYPTION_KEY is not the key this database "
                "was encrypted with, or the stored value was altered"
            ) from None
        if token.startswith(PREFIX):
            plain = _unpad(plain)
        return plain.decode("utf-8")


def _pad(data: bytes) -> bytes:
    size = len(data) + _LENGTH_BYTES
    bucket = max(PAD_MIN, -(-size // PAD_STEP) * PAD_STEP)
    return len(data).to_bytes(_LENGTH_BYTES, "big") + data + bytes(bucket - size)


def _unpad(data: bytes) -> bytes:
    length = int.from_bytes(data[:_LENGTH_BYTES], "big")
    if length > len(data) - _LENGTH_BYTES:
        raise CannotDecrypt("a stored value is damaged: its padding does not fit")
    return data[_LENGTH_BYTES : _LENGTH_BYTES + length]


def seal(cipher: TextCipher | None, text: str, context: str) -> str:
    """The value to store: encrypted when there is a cipher, else the text as it is."""
    return text if cipher is None else cipher.encrypt(text, context)


def unseal(cipher: TextCipher | None, value: str, context: str) -> str:
    """The text of a stored value, encrypted or plain (from before encryption was on)."""
    if not looks_encrypted(value):
        return value
    if cipher is None:
        raise KeyMissing("this database is encrypted: set ENCRYPTION_KEY")
    return cipher.decrypt(value, context)


def code(cipher: TextCipher | None, name: str, context: str) -> str:
    """The name to store: coded when there is a cipher (and the name is not empty)."""
    return name if cipher is None or not name else cipher.code(name, context)


def uncode(cipher: TextCipher | None, value: str, context: str) -> str:
    """The name behind a stored value, coded or plain (from before encryption was on)."""
    if not value.startswith(CODE_PREFIX):
        return value
    if cipher is None:
        raise KeyMissing("this database is encrypted: set ENCRYPTION_KEY")
    return cipher.uncode(value, context)
