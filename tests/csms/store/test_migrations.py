"""The hand-written migrations build exactly the schema of tables.py, and run at open."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from kilowatt.csms.store import LocalList, tables
from kilowatt.csms.store.sql import SqlStore, open_store
from tests.csms.store.factories import station


def config(connection: sa.Connection | None = None) -> Config:
    made = Config()
    made.set_main_option("script_location", "kilowatt.csms.store:migrations")
    made.attributes["connection"] = connection
    return made


def differences(connection: sa.Connection, metadata: sa.MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def mutated_metadata() -> sa.MetaData:
    """tables.metadata with a type and a nullability changed, and an index added."""
    metadata = sa.MetaData(naming_convention=tables.metadata.naming_convention)
    for table in tables.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["meter_samples"].c.value.type = sa.Integer()
    metadata.tables["stations"].c.model.nullable = False
    sa.Index("ix_frame_log_at_ms", metadata.tables["frame_log"].c.at_ms)
    return metadata


async def test_the_migrated_schema_is_the_schema_of_tables_py(store: SqlStore) -> None:
    async with store.engine.connect() as connection:
        assert await connection.run_sync(differences, tables.metadata) == []
        # The comparison sees a difference when there is one.
        found = await connection.run_sync(differences, mutated_metadata())
    kinds = sorted(d[0] if isinstance(d, tuple) else d[0][0] for d in found)
    assert kinds == ["add_index", "modify_nullable", "modify_type"]


async def test_the_migrated_primary_keys_are_those_of_tables_py(store: SqlStore) -> None:
    # compare_metadata does not compare primary keys, and the upserts depend on them.
    def primary_keys(connection: sa.Connection) -> dict[str, list[str]]:
        inspector = sa.inspect(connection)
        return {
            name: inspector.get_pk_constraint(name)["constrained_columns"]
            for name in tables.metadata.tables
        }

    async with store.engine.connect() as connection:
        migrated = await connection.run_sync(primary_keys)
    assert migrated == {
        name: [column.name for column in table.primary_key]
        for name, table in tables.metadata.tables.items()
    }


async def test_the_database_is_at_the_head_revision(store: SqlStore) -> None:
    head = ScriptDirectory.from_config(config()).get_current_head()
    async with store.engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    assert head == current == "0007"


async def test_a_database_at_0001_is_upgraded_keeping_its_data(store_url: str) -> None:
    def downgrade_to_0001(connection: sa.Connection) -> list[str]:
        command.downgrade(config(connection), "0001")
        return sa.inspect(connection).get_table_names()

    store = await open_store(store_url)
    async with store.engine.begin() as connection:
        left = await connection.run_sync(downgrade_to_0001)
    await store.put_station(station())
    await store.close()
    assert "stations" in left and "local_lists" not in left

    store = await open_store(store_url)
    try:
        assert await store.get_station("CS-1") == station()
        await store.put_local_list("CS-1", 1, [], full=True)
        assert await store.local_list("CS-1") == LocalList("CS-1", 1)
    finally:
        await store.close()


async def test_reopening_keeps_the_data(store_url: str) -> None:
    store = await open_store(store_url)
    await store.put_station(station())
    await store.close()

    store = await open_store(store_url)
    try:
        assert await store.get_station("CS-1") == station()
    finally:
        await store.close()


async def test_stores_opened_at_once_migrate_once(store_url: str) -> None:
    stores = await asyncio.gather(open_store(store_url), open_store(store_url))
    try:
        await stores[0].put_station(station())
        assert await stores[1].get_station("CS-1") == station()
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_downgrade_drops_every_table(store: SqlStore) -> None:
    def downgrade(connection: sa.Connection) -> list[str]:
        command.downgrade(config(connection), "base")
        return sa.inspect(connection).get_table_names()

    async with store.engine.begin() as connection:
        left = await connection.run_sync(downgrade)
    assert left == ["alembic_version"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite+aiosqlite:///:memory:", "needs a file"),
        ("sqlite+aiosqlite://", "needs a file"),
        ("mysql+aiomysql://root@localhost/kilowatt", "unsupported database 'mysql'"),
    ],
)
async def test_other_databases_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await open_store(url)


async def test_the_sqlite_directory_is_made(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "kilowatt.db"
    store = await open_store(f"sqlite+aiosqlite:///{path}")
    await store.close()
    assert path.is_file()


async def test_processes_started_at_once_migrate_once(store_url: str) -> None:
    script = (
        "import asyncio, sys\n"
        "from kilowatt.csms.store.sql import open_store\n"
        "async def main():\n"
        "    store = await open_store(sys.argv[1])\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, store_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    errors = [(await process.communicate())[1].decode() for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], errors
