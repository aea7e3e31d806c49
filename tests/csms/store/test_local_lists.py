"""The local authorization lists of SqlStore (D01), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta, timezone
from typing import Any

import pytest

from kilowatt.csms.store import LocalList, LocalListEntry
from kilowatt.csms.store.sql import SqlStore
from tests.csms.store.factories import at


def entry(id_token: str, status: str | None = "Accepted", **changes: Any) -> LocalListEntry:
    return LocalListEntry(id_token, changes.pop("type", "ISO14443"), status, **changes)


FULL_ENTRY = entry(
    "T01",
    "Blocked",
    type="Central",
    expiry=at(3600).astimezone(timezone(timedelta(hours=2))),
    group_id_token="FLEET",
    language1="en",
    language2="de",
    personal_message={"format": "UTF8", "language": "en", "content": "Hello"},
)


async def test_a_station_without_a_list_has_none(store: SqlStore) -> None:
    assert await store.local_list("CS-1") is None
    assert await store.accepted_local_list("CS-1") is None


async def test_a_full_update_replaces_the_list_and_its_version(store: SqlStore) -> None:
    await store.put_local_list("CS-1", 3, [entry("T02"), FULL_ENTRY, entry("T03")], full=True)

    stored = await store.local_list("CS-1")

    assert stored == LocalList("CS-1", 3, (FULL_ENTRY, entry("T02"), entry("T03")))
    assert stored is not None and stored.entries[0].expiry == at(3600)

    await store.put_local_list("CS-1", 4, [entry("T04", "Expired")], full=True)
    assert await store.local_list("CS-1") == LocalList("CS-1", 4, (entry("T04", "Expired"),))


async def test_an_empty_full_update_keeps_a_version_and_no_entries(store: SqlStore) -> None:
    await store.put_local_list("CS-1", 2, [entry("T01")], full=True)
    await store.put_local_list("CS-1", 5, [], full=True)
    assert await store.local_list("CS-1") == LocalList("CS-1", 5, ())


async def test_a_differential_update_puts_and_removes_entries(store: SqlStore) -> None:
    await store.put_local_list("CS-1", 1, [entry("T01"), entry("T02"), entry("T03")], full=True)

    await store.put_local_list(
        "CS-1",
        2,
        # D01.FR.16: added or replaced; D01.FR.17: removed (no status); unknown: no effect.
        [entry("T04"), entry("T02", "Blocked"), entry("T03", None), entry("T09", None)],
        full=False,
    )

    assert await store.local_list("CS-1") == LocalList(
        "CS-1", 2, (entry("T01"), entry("T02", "Blocked"), entry("T04"))
    )


async def test_a_token_is_keyed_with_its_type(store: SqlStore) -> None:
    card, central = entry("T01"), entry("T01", type="Central", status="Blocked")
    await store.put_local_list("CS-1", 1, [card, central], full=True)
    await store.put_local_list("CS-1", 2, [entry("T01", None, type="Central")], full=False)
    assert await store.local_list("CS-1") == LocalList("CS-1", 2, (card,))


async def test_the_csms_copy_and_the_station_copy_are_apart(store: SqlStore) -> None:
    await store.put_local_list("CS-1", 7, [entry("T01"), entry("T02")], full=True)
    await store.put_local_list("CS-2", 1, [entry("T09")], full=True)
    await store.put_accepted_local_list("CS-1", 6, [entry("T01", "Blocked")], full=True)
    await store.put_accepted_local_list("CS-1", 7, [entry("T03")], full=False)

    assert await store.local_list("CS-1") == LocalList("CS-1", 7, (entry("T01"), entry("T02")))
    assert await store.accepted_local_list("CS-1") == LocalList(
        "CS-1", 7, (entry("T01", "Blocked"), entry("T03"))
    )
    assert await store.local_list("CS-2") == LocalList("CS-2", 1, (entry("T09"),))
    assert await store.accepted_local_list("CS-2") is None

    await store.put_local_list("CS-1", 8, [], full=True)
    accepted = await store.accepted_local_list("CS-1")
    assert accepted is not None and len(accepted.entries) == 2


@pytest.mark.parametrize(
    ("entries", "full", "message"),
    [
        ([entry("T01"), entry("T01", "Blocked")], True, "'T01' of type 'ISO14443' is twice"),
        ([entry("T01", None), entry("T01")], False, "is twice"),
        ([entry("T01"), entry("T02", None)], True, "every entry of a Full update needs a status"),
    ],
)
async def test_an_invalid_update_is_refused_and_changes_nothing(
    store: SqlStore, entries: list[LocalListEntry], full: bool, message: str
) -> None:
    await store.put_local_list("CS-1", 1, [entry("T05")], full=True)
    with pytest.raises(ValueError, match=message):
        await store.put_local_list("CS-1", 2, entries, full=full)
    assert await store.local_list("CS-1") == LocalList("CS-1", 1, (entry("T05"),))


async def test_updates_sharing_a_batch_apply_in_their_order(store: SqlStore) -> None:
    # Submitted together, they share a commit: each deletes only after the ones before it.
    await asyncio.gather(
        store.put_local_list("CS-1", 1, [entry("T01"), entry("T02")], full=True),
        store.put_local_list("CS-1", 2, [entry("T01", None), entry("T03")], full=False),
        store.put_local_list("CS-1", 3, [entry("T01", "Blocked")], full=False),
        store.put_accepted_local_list("CS-1", 1, [entry("T01")], full=True),
        store.put_local_list("CS-1", 4, [entry("T02", None)], full=False),
    )
    assert await store.local_list("CS-1") == LocalList(
        "CS-1", 4, (entry("T01", "Blocked"), entry("T03"))
    )
    assert await store.accepted_local_list("CS-1") == LocalList("CS-1", 1, (entry("T01"),))


async def test_a_failed_update_leaves_the_other_writes_of_its_batch(store: SqlStore) -> None:
    naive = dataclasses.replace(entry("T02"), expiry=at(0).replace(tzinfo=None))
    results = await asyncio.gather(
        store.put_local_list("CS-1", 1, [entry("T01")], full=True),
        store.put_local_list("CS-2", 1, [naive], full=True),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], Exception) and "naive datetime" in str(results[1])
    assert await store.local_list("CS-1") == LocalList("CS-1", 1, (entry("T01"),))
    assert await store.local_list("CS-2") is None
