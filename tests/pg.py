"""PostgreSQL for the store tests: a throwaway database per test on a real server.

The server is `MEND_TEST_POSTGRES_URL` (default: the local one, trust auth). `.ci/run`
starts a cluster of its own when none answers on 5432 and points this variable at it.
Where no server answers, the PostgreSQL tests skip, saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.core.session import Settings
from bot.store.crypto import TextCipher
from bot.store.postgres import PostgresStore

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_unreachable: str | None = None  # why the server did not answer, once known


def server_url() -> str:
    return os.environ.get("MEND_TEST_POSTGRES_URL", "").strip() or DEFAULT_URL


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def _admin() -> Any:
    """A connection to the server's maintenance database, or a skip saying why not."""
    global _unreachable
    url = server_url()
    if _unreachable is not None:
        pytest.skip(_unreachable)
    try:
        return await asyncpg.connect(url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        parts = urlsplit(url)
        _unreachable = (
            f"no PostgreSQL server answers at {parts.hostname}:{parts.port or 5432} "
            f"({type(exc).__name__}); set MEND_TEST_POSTGRES_URL, or run .ci/run, which "
            "starts one"
        )
        pytest.skip(_unreachable)


@asynccontextmanager
async def throwaway_database() -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards (a unique name: safe in
    parallel runs and on a server used for other things)."""
    name = f"mend_test_{uuid.uuid4().hex[:16]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(server_url(), name)
    finally:
        admin = await _admin()
        try:
            # FORCE: a pool the test left open must not keep the database.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def postgres_store(
    cipher: TextCipher | None = None, defaults: Settings | None = None
) -> AsyncIterator[PostgresStore]:
    """An open PostgresStore on a throwaway database."""
    async with throwaway_database() as url:
        store = PostgresStore(url, cipher, defaults=defaults)
        await store.open()
        try:
            yield store
        finally:
            await store.close()
