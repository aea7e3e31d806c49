"""The databases the store's tests run on: an SQLite file, and PostgreSQL when it is up.

PostgreSQL is reached at ``KILOWATT_TEST_POSTGRES_URL`` (by default
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``, trust authentication). Each test gets a
database of its own, created on that server and dropped after the test, so that runs and tests
never share tables. When the server cannot be reached, the PostgreSQL tests are skipped, unless
``KILOWATT_REQUIRE_SERVICES=1`` (as CI sets it): then they fail, so that CI never skips them
silently.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kilowatt.csms.store.sql import SqlStore, open_store

POSTGRES_URL = os.environ.get(
    "KILOWATT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("KILOWATT_REQUIRE_SERVICES") == "1"


async def _postgres_error() -> str | None:
    """Why PostgreSQL cannot serve the tests, or None when it can."""
    engine = create_async_engine(POSTGRES_URL, poolclass=NullPool, connect_args={"timeout": 5})
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_error() -> str | None:
    """Probed once per session, in a loop of its own (the tests' loops come and go)."""
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(_postgres_error())


async def _admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_error: str | None
) -> AsyncIterator[str]:
    """The URL of an empty database: a file under tmp_path (in a directory the store must
    create), or a PostgreSQL database made for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/data/kilowatt.db"
        return
    if postgres_error is not None:
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {postgres_error}"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} (KILOWATT_REQUIRE_SERVICES=1)")
        pytest.skip(f"{message}; set KILOWATT_REQUIRE_SERVICES=1 to fail instead")
    name = f"kilowatt_test_{uuid.uuid4().hex[:16]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlStore]:
    """An open store on an empty database, closed after the test."""
    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()
