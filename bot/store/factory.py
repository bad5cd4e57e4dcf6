"""Which store the bot runs on: SQLite (the default, one file) or PostgreSQL, from the config.

`DATABASE_URL=postgresql://...` picks PostgreSQL (several replicas may share it); empty,
SQLite at `DATABASE_PATH`. The store is built here, not opened: `await store.open()`.
"""

from __future__ import annotations

from bot.config import POSTGRES_SCHEMES, Config
from bot.schedule.shared_pacer import SendBudget
from bot.store.protocol import Store


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


def make_store(config: Config) -> Store:
    """The store the config names; raises BadKey for a malformed ENCRYPTION_KEY."""
    cipher = config.cipher()
    if config.database_url:
        # Imported here: a SQLite-only run never loads asyncpg.
        from bot.store.postgres import PostgresStore

        return PostgresStore(
            config.database_url,
            cipher,
            defaults=config.defaults(),
            max_connections=config.database_pool_size,
        )
    from bot.store.sqlite import SqliteStore

    return SqliteStore(config.database_path, cipher, defaults=config.defaults())


def shared_send_budget(store: Store) -> SendBudget | None:
    """The budget replicas share through the database, or None for a single process."""
    from bot.store.postgres import PostgresStore

    if isinstance(store, PostgresStore):
        from bot.store.postgres_budget import PostgresSendBudget

        return PostgresSendBudget(store)
    return None
