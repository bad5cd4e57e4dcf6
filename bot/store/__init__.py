"""Persistence: the `Store` interface and its SQLite and in-memory implementations."""

from bot.store.crypto import BadKey, CannotDecrypt, KeyMissing, TextCipher, generate_key
from bot.store.memory import MemoryStore
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
    "MemoryStore",
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
