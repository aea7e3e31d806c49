#!/usr/bin/env python3
"""Cost of an acknowledged TransactionEvent and of a logged frame, under N concurrent writers.

    .venv/bin/python bench/store.py [--writers 1,10,100,1000] [--seconds S] [--samples K]
                                    [--frames F] [--flush-interval SECONDS]
                                    [--backends sqlite,postgresql] [--postgres-url URL]

For each database and each N, N tasks play N stations:

- events: for S seconds, each awaits ``record_transaction_event`` (an Updated event with K
  meter samples, as a TransactionEvent handler does before it answers), then sends the next;
- frames: together they log F frames with ``log_frame``, each yielding to the loop after each
  frame, then ``flush`` waits until every frame logged is committed (F stays below the queue's
  bound, so none is dropped unless the store fails).

A figure is the wall time divided by the number of events (frames) done: the cost per message
of the whole store under that load, commits included. "per commit" is how many events shared
a commit. SQLite runs on a file in a temporary directory; PostgreSQL on a database created for
the run on ``--postgres-url`` and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kilowatt.csms.store import (
    FrameLogEntry,
    MeterSample,
    TransactionEventRecord,
    TransactionRecord,
)
from kilowatt.csms.store.sql import SqlStore, open_store

T0 = datetime(2025, 6, 1, tzinfo=UTC)
MEASURANDS = [
    ("Energy.Active.Import.Register", "Wh", None),
    ("Power.Active.Import", "W", None),
    ("Current.Import", "A", "L1"),
    ("Current.Import", "A", "L2"),
    ("Current.Import", "A", "L3"),
    ("Voltage", "V", "L1-N"),
    ("Voltage", "V", "L2-N"),
    ("Voltage", "V", "L3-N"),
    ("SoC", "Percent", None),
    ("Frequency", "Hz", None),
]
PAYLOAD = '{"eventType":"Updated","timestamp":"2025-06-01T00:00:00Z","triggerReason":"MeterValuePeriodic","seqNo":1,"transactionInfo":{"transactionId":"tx"},"meterValue":[]}'  # noqa: E501
TEXT = '[2,"19223201","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2025-06-01T00:00:00Z","sampledValue":[{"value":12345.6}]}]}]'  # noqa: E501


@dataclass
class Figures:
    done: int = 0
    seconds: float = 0.0
    commits: int = 0
    dropped: int = 0

    @property
    def microseconds_each(self) -> float:
        return self.seconds / self.done * 1e6 if self.done else float("nan")


def transaction_event(
    station_id: str, seq_no: int, samples: int
) -> tuple[TransactionEventRecord, TransactionRecord, list[MeterSample]]:
    at = T0 + timedelta(seconds=seq_no)
    record = TransactionEventRecord(
        station_id, "tx", seq_no, "Updated", "MeterValuePeriodic", at, False, PAYLOAD, at
    )
    transaction = TransactionRecord(
        station_id,
        "tx",
        evse_id=1,
        connector_id=1,
        id_token="04A2B3C4",
        id_token_type="ISO14443",
        started_at=T0,
        charging_state="Charging",
        meter_start_wh=0.0,
        meter_last_wh=float(seq_no),
        last_seq_no=seq_no,
        event_count=seq_no + 1,
        updated_at=at,
    )
    sampled = [
        MeterSample(station_id, 1, "tx", at, measurand, float(seq_no), phase, unit=unit)
        for measurand, unit, phase in MEASURANDS[:samples]
    ]
    return record, transaction, sampled


async def run_writers(
    writers: int, seconds: float, write: Callable[[int, int], Awaitable[None]]
) -> int:
    """Run ``write(writer, n)`` in a loop in each of ``writers`` tasks for ``seconds``."""
    deadline = time.monotonic() + seconds

    async def writer(number: int) -> int:
        done = 0
        while time.monotonic() < deadline:
            await write(number, done)
            done += 1
        return done

    return sum(await asyncio.gather(*(writer(n) for n in range(writers))))


async def bench_events(store: SqlStore, writers: int, seconds: float, samples: int) -> Figures:
    async def write(number: int, seq_no: int) -> None:
        new = await store.record_transaction_event(
            *transaction_event(f"EV-{number}", seq_no, samples)
        )
        assert new

    return await measured(store, lambda: run_writers(writers, seconds, write))


async def bench_frames(store: SqlStore, writers: int, frames: int) -> Figures:
    each = max(1, frames // writers)

    async def writer(number: int) -> None:
        station_id = f"FR-{number}"
        for sequence in range(each):
            entry = FrameLogEntry(station_id, sequence, "in", 2, str(sequence), "MeterValues", TEXT)
            store.log_frame(entry)
            await asyncio.sleep(0)

    async def log_all() -> int:
        await asyncio.gather(*(writer(n) for n in range(writers)))
        await store.flush()
        return each * writers

    dropped = store.dropped_frames
    figures = await measured(store, log_all)
    figures.dropped = store.dropped_frames - dropped
    return figures


async def measured(store: SqlStore, work: Callable[[], Awaitable[int]]) -> Figures:
    figures = Figures()

    def count(_connection: object) -> None:
        figures.commits += 1

    event.listen(store.write_engine, "commit", count)
    started = time.perf_counter()
    figures.done = await work()
    figures.seconds = time.perf_counter() - started
    event.remove(store.write_engine, "commit", count)
    return figures


@asynccontextmanager
async def database(backend: str, postgres_url: str) -> AsyncIterator[str]:
    """The URL of an empty database of this backend, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        return
    name = f"kilowatt_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(postgres_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", default="1,10,100,1000")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--samples", type=int, default=4, choices=range(len(MEASURANDS) + 1))
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--flush-interval", type=float, default=0.005)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()

    print(
        f"flush_interval {args.flush_interval * 1000:g} ms, {args.samples} samples per event, "
        f"{args.seconds:g} s per figure"
    )
    print(
        f"{'database':<11}{'writers':>8}{'µs/event':>11}{'events/s':>10}{'per commit':>12}"
        f"{'µs/frame':>11}{'frames/s':>10}{'dropped':>9}"
    )
    for backend in args.backends.split(","):
        for writers in (int(n) for n in args.writers.split(",")):
            async with database(backend, args.postgres_url) as url:
                store = await open_store(url, flush_interval=args.flush_interval)
                try:
                    events = await bench_events(store, writers, args.seconds, args.samples)
                    frames = await bench_frames(store, writers, args.frames)
                finally:
                    await store.close()
            print(
                f"{backend:<11}{writers:>8}{events.microseconds_each:>11.1f}"
                f"{events.done / events.seconds:>10.0f}{events.done / events.commits:>12.1f}"
                f"{frames.microseconds_each:>11.2f}{frames.done / frames.seconds:>10.0f}"
                f"{frames.dropped:>9}"
            )


if __name__ == "__main__":
    asyncio.run(main())
