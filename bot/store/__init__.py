"""Persistence: the `Store` interface and its SQLite and PostgreSQL implementations.

There is no in-memory fake: tests run on SQLite files in a temporary folder (as fast for
what they do, and the very code the bot runs), and on PostgreSQL where the suite must.
"""

from bot.store.crypto import BadKey, CannotDecrypt, KeyMissing, TextCipher, generate_key
from bot.store.protocol import (
    NOT_REPLANNED,
    CheckinState,
    Commitment,
    DueItem,
    NotReplanned,
    SchemaTooNew,
    Store,
    StoreError,
    StoreUnavailable,
)
from bot.store.sqlite import SqliteStore, rotate_key

__all__ = [
    "NOT_REPLANNED",
    "BadKey",
    "CannotDecrypt",
    "CheckinState",
    "Commitment",
    "DueItem",
    "KeyMissing",
    "NotReplanned",
    "SchemaTooNew",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TextCipher",
    "generate_key",
    "rotate_key",
]
