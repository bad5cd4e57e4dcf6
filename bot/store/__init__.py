"""Persistence: the `Store` interface and its SQLite and in-memory implementations."""

from bot.store.memory import MemoryStore
from bot.store.protocol import (
    Commitment,
    SchemaTooNew,
    Store,
    StoreError,
    StoreUnavailable,
)
from bot.store.sqlite import SqliteStore

__all__ = [
    "Commitment",
    "MemoryStore",
    "SchemaTooNew",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
]
