"""Group commit: many callers' writes share a commit, each acknowledged only once committed."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from kilowatt.csms.store import StationRecord
from kilowatt.csms.store.sql import SqlStore, open_store
from tests.csms.store.factories import (
    at,
    change,
    event as transaction_event,
    frame,
    sample,
    station,
    transaction,
)

# Long enough that writes started together always share a batch, short enough for a test.
GATHER = 0.2


@dataclasses.dataclass
class Counted:
    store: SqlStore
    commits: int = 0


OpenCounted = Callable[..., AbstractAsyncContextManager[Counted]]


@pytest.fixture
def open_counted(store_url: str) -> OpenCounted:
    """Open a store with these options and count its commits; close it after."""

    @contextlib.asynccontextmanager
    async def opened(**options: Any) -> AsyncIterator[Counted]:
        store = await open_store(store_url, **options)
        counted = Counted(store)

        def count(_connection: object) -> None:
            counted.commits += 1

        event.listen(store.write_engine, "commit", count)
        try:
            yield counted
        finally:
            await store.close()

    return opened


async def test_concurrent_writers_share_commits_and_are_all_acknowledged(
    open_counted: OpenCounted,
) -> None:
    async with open_counted(flush_interval=GATHER) as counted:
        store = counted.store

        async def station_session(number: int) -> list[bool]:
            station_id = f"CS-{number}"
            await store.put_station(station(station_id))
            new = []
            for seq_no in range(3):
                new.append(
                    await store.record_transaction_event(
                        transaction_event(seq_no, station_id=station_id),
                        transaction(seq_no, station_id=station_id),
                        [sample(seq_no, 1000.0 + seq_no, station_id=station_id)],
                    )
                )
                await store.record_meter_values([sample(seq_no, 1.0, None, station_id)])
            return new

        results = await asyncio.gather(*(station_session(n) for n in range(200)))

        assert results == [[True, True, True]] * 200
        # Seven writes one after the other in each of 200 sessions: seven batches.
        assert counted.commits == 7
        assert len(await store.list_stations()) == 200
        for station_id in ("CS-0", "CS-199"):
            assert await store.get_transaction(station_id, "tx-1") == transaction(
                2, station_id=station_id
            )
            assert len(await store.meter_samples(station_id)) == 6


async def test_a_write_waits_for_company_then_for_its_commit(open_counted: OpenCounted) -> None:
    async with open_counted(flush_interval=GATHER) as counted:
        started = time.monotonic()
        await counted.store.put_station(station())

        assert time.monotonic() - started >= GATHER * 0.9
        assert counted.commits == 1


async def test_a_write_whose_commit_fails_fails(open_counted: OpenCounted) -> None:
    async with open_counted(flush_interval=0) as counted:
        store = counted.store

        def refuse(_connection: object) -> None:
            raise RuntimeError("disk full")

        event.listen(store.write_engine, "commit", refuse)
        with pytest.raises(RuntimeError, match="disk full"):
            await store.put_station(station())
        event.remove(store.write_engine, "commit", refuse)

        assert await store.get_station("CS-1") is None


async def test_a_full_batch_is_committed_without_waiting(open_counted: OpenCounted) -> None:
    async with open_counted(flush_interval=60, max_batch=10) as counted:
        writes = [counted.store.put_station(station(f"CS-{n}")) for n in range(30)]

        await asyncio.wait_for(asyncio.gather(*writes), timeout=30)

        assert counted.commits == 3


async def test_two_events_of_one_transaction_in_one_batch_apply_in_order(
    open_counted: OpenCounted,
) -> None:
    async with open_counted(flush_interval=GATHER) as counted:
        store = counted.store
        first = store.record_transaction_event(
            transaction_event(0), transaction(0), [sample(0, 1000.0)]
        )
        second = store.record_transaction_event(
            transaction_event(1), transaction(1), [sample(1, 1010.0)]
        )

        assert list(await asyncio.gather(first, second)) == [True, True]
        assert counted.commits == 1
        assert await store.get_transaction("CS-1", "tx-1") == transaction(1)
        assert [e.seq_no for e in await store.transaction_events("CS-1", "tx-1")] == [0, 1]
        assert [s.value for s in await store.meter_samples("CS-1")] == [1000.0, 1010.0]


async def test_a_replay_in_the_same_batch_is_stored_once(open_counted: OpenCounted) -> None:
    async with open_counted(flush_interval=GATHER) as counted:
        store = counted.store
        replay = transaction_event(0, payload='{"replayed": true}')
        results = await asyncio.gather(
            store.record_transaction_event(transaction_event(0), transaction(0), [sample(0, 1.0)]),
            store.record_transaction_event(replay, transaction(0, id_token="X"), [sample(0, 2.0)]),
        )

        assert list(results) == [True, False]
        assert counted.commits == 1
        assert await store.transaction_events("CS-1", "tx-1") == [transaction_event(0)]
        assert await store.get_transaction("CS-1", "tx-1") == transaction(0)
        assert [s.value for s in await store.meter_samples("CS-1")] == [1.0]


async def test_puts_and_deletes_of_one_key_in_one_batch_end_as_one_by_one(
    open_counted: OpenCounted,
) -> None:
    async with open_counted(flush_interval=GATHER) as counted:
        store = counted.store
        kept = station("CS-1", model="second")
        results = await asyncio.gather(
            store.put_station(station("CS-1", model="first")),
            store.delete_station("CS-1"),
            store.put_station(kept),
            store.put_station(station("CS-2")),
            store.delete_station("CS-2"),
            store.delete_station("CS-3"),
        )

        assert list(results) == [None, True, None, None, True, False]
        assert counted.commits == 1
        assert await store.list_stations() == [kept]


async def test_statuses_of_one_connector_in_one_batch_keep_the_latest(
    open_counted: OpenCounted,
) -> None:
    async with open_counted(flush_interval=GATHER) as counted:
        store = counted.store
        await asyncio.gather(
            store.record_status(change(1, "Charging", 3)),
            store.record_status(change(1, "Occupied", 2)),
            store.record_status(change(1, "Finishing", 4)),
            store.record_status(change(1, "Available", 1)),
        )

        assert counted.commits == 1
        assert [c.status for c in await store.connector_statuses("CS-1")] == ["Finishing"]
        assert len(await store.status_history("CS-1")) == 4


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(station("CS-bad", registration_status=None), id="refused-by-database"),
        pytest.param(station("CS-bad", boot_at=at(0).replace(tzinfo=None)), id="naive-datetime"),
    ],
)
async def test_a_bad_write_fails_alone(open_counted: OpenCounted, bad: StationRecord) -> None:
    async with open_counted(flush_interval=GATHER) as counted:
        store = counted.store
        good = [station(f"CS-{n}") for n in range(7)]
        store.log_frame(frame(1))
        store.log_frame(frame(2, at_ms=2**63))  # out of range on both databases
        store.log_frame(frame(3))
        writes: list[Coroutine[Any, Any, object]] = [
            *(store.put_station(record) for record in good[:3]),
            store.put_station(bad),
            store.record_transaction_event(transaction_event(0), transaction(0), [sample(0, 1.0)]),
            *(store.put_station(record) for record in good[3:]),
        ]

        results: list[object] = await asyncio.gather(*writes, return_exceptions=True)
        await store.flush()

        assert isinstance(results.pop(3), Exception)
        assert results == [None, None, None, True, None, None, None, None]
        assert counted.commits > 1
        assert await store.list_stations() == good
        assert await store.get_transaction("CS-1", "tx-1") == transaction(0)
        assert [f.message_id for f in await store.frames("CS-1")] == ["m1", "m3"]
        assert store.dropped_frames == 1


async def test_close_commits_the_frames_still_queued(store_url: str) -> None:
    store = await open_store(store_url, flush_interval=60)
    for number in range(1200):  # more than two batches of frames
        store.log_frame(frame(number))

    started = time.monotonic()
    await store.close()

    assert time.monotonic() - started < 30
    reopened = await open_store(store_url)
    try:
        logged = await reopened.frames("CS-1", limit=5000)
    finally:
        await reopened.close()
    assert [f.message_id for f in logged] == [f"m{n}" for n in range(1200)]


async def test_flush_waits_for_the_frames_logged_before(store: SqlStore) -> None:
    for number in range(1200):
        store.log_frame(frame(number))

    await store.flush()

    assert len(await store.frames("CS-1", limit=5000)) == 1200


async def test_beyond_the_bound_the_oldest_frames_are_dropped_and_counted(
    store_url: str,
) -> None:
    store = await open_store(store_url, max_pending_frames=10)
    try:
        for number in range(15):
            store.log_frame(frame(number))
        await store.flush()

        assert store.dropped_frames == 5
        logged = [f.message_id for f in await store.frames("CS-1")]
        assert logged == [f"m{n}" for n in range(5, 15)]
    finally:
        await store.close()


async def test_after_close_writes_raise_and_frames_are_dropped(store_url: str) -> None:
    store = await open_store(store_url)
    await store.close()

    with pytest.raises(RuntimeError, match="closed"):
        await store.put_station(station())
    with pytest.raises(RuntimeError, match="closed"):
        await store.flush()
    store.log_frame(frame(1))
    assert store.dropped_frames == 1
    await store.close()  # a second close does nothing more


async def test_a_cancelled_close_does_not_stop_the_writer(store_url: str) -> None:
    store = await open_store(store_url, flush_interval=60)
    for number in range(10):
        store.log_frame(frame(number))
    closing = asyncio.ensure_future(store.close())
    await asyncio.sleep(0)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    await store.close()

    reopened = await open_store(store_url)
    try:
        assert len(await reopened.frames("CS-1")) == 10
    finally:
        await reopened.close()


@pytest.mark.parametrize(
    "options", [{"flush_interval": -1}, {"max_batch": 0}, {"max_pending_frames": 0}]
)
async def test_limits_out_of_range_are_refused(options: dict[str, float], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be"):
        await open_store(f"sqlite+aiosqlite:///{tmp_path}/x.db", **options)  # type: ignore[arg-type]
