"""Id tokens are read from memory after the first read; a write through the store shows at once."""

from __future__ import annotations

from sqlalchemy import update

from kilowatt.csms.store import IdTokenRecord, tables
from kilowatt.csms.store.sql import SqlStore


async def _status_behind_the_stores_back(store: SqlStore, status: str) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(update(tables.id_tokens).values(status=status))


async def test_a_read_is_served_from_memory(store: SqlStore) -> None:
    await store.put_id_token(IdTokenRecord("T", "ISO14443", status="Accepted"))
    assert (await store.get_id_token("T", "ISO14443")) is not None
    await _status_behind_the_stores_back(store, "Blocked")
    cached = await store.get_id_token("T", "ISO14443")
    assert cached is not None and cached.status == "Accepted"


async def test_writes_through_the_store_take_effect_at_once(store: SqlStore) -> None:
    assert await store.get_id_token("T", "ISO14443") is None  # an unknown token is cached too
    await store.put_id_token(IdTokenRecord("T", "ISO14443", status="Accepted"))
    found = await store.get_id_token("T", "ISO14443")
    assert found is not None and found.status == "Accepted"
    await store.put_id_token(IdTokenRecord("T", "ISO14443", status="Blocked"))
    found = await store.get_id_token("T", "ISO14443")
    assert found is not None and found.status == "Blocked"
    assert await store.delete_id_token("T", "ISO14443")
    assert await store.get_id_token("T", "ISO14443") is None
