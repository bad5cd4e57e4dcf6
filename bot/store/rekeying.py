"""One stored value moved from one key (or plain) to another (or plain), for key rotation
on every store: a sealed value is opened and sealed again, a coded name uncoded and coded
again, and a value already under the new key is left alone (so a second run is harmless).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from bot.store.crypto import (
    CannotDecrypt,
    KeyMissing,
    TextCipher,
    code,
    looks_encrypted,
    seal,
    uncode,
)

UNCHANGED = "check the keys given; nothing was changed"


def _open_sealed(old: TextCipher | None, value: str, context: str) -> str:
    if not looks_encrypted(value):
        return value  # plain, from before encryption was on
    if old is None:
        raise CannotDecrypt("no old key given")
    return old.decrypt(value, context)


@dataclass(frozen=True)
class Kind:
    """How one kind of protected value is read and written again."""

    open: Callable[[TextCipher | None, str, str], str]  # its text under the old key
    check: Callable[[TextCipher, str, str], str]  # raises CannotDecrypt unless under this key
    write: Callable[[TextCipher | None, str, str], str]  # stored under the new key
    neither: str  # the error when neither key reads it


SEALED = Kind(
    _open_sealed,
    TextCipher.decrypt,
    seal,
    f"a stored value decrypts with neither the old nor the new key: {UNCHANGED}",
)


def _open_coded(old: TextCipher | None, value: str, context: str) -> str:
    try:
        return uncode(old, value, context)
    except KeyMissing:  # coded, no old key: perhaps already under the new one (a second run)
        raise CannotDecrypt("no old key given") from None


CODED = Kind(
    _open_coded,
    TextCipher.uncode,
    code,
    f"a stored name decodes with neither the old nor the new key: {UNCHANGED}",
)


def rewrite(
    kind: Kind, old: TextCipher | None, new: TextCipher | None, value: str, context: str
) -> str:
    """`value` as stored under `new`: opened with `old`, or left as it is if already new."""
    try:
        plain = kind.open(old, value, context)
    except CannotDecrypt:
        if new is not None:
            with suppress(CannotDecrypt):
                kind.check(new, value, context)
                return value  # already under the new key
        raise CannotDecrypt(kind.neither) from None
    return kind.write(new, plain, context)
