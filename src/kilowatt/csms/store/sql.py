"""The Store on SQLAlchemy's asyncio engine: SQLite (aiosqlite) or PostgreSQL (asyncpg).

Writes go through group commit. Each write is queued with a future; one writer task takes what
has queued up (after ``flush_interval``, or at once when ``max_batch`` writes wait), applies it
in one transaction with one executemany per statement, commits, and only then resolves the
futures. A thousand stations' MeterValues thus cost one commit, not a thousand. When a batch
fails for a reason that may lie in some of its rows, it is split in halves that are committed
on their own, down to the single write that fails, so that one bad row costs no other station
its data. Logged frames ride along in the same batches without being awaited. An update of a
local authorization list is one write: its deletes and its puts commit together.

Reads go straight to the engine's pool; on SQLite, WAL lets them run beside the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Engine,
    Executable,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    make_url,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    TimeoutError as PoolTimeoutError,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kilowatt.csms.store import tables
from kilowatt.csms.store.api import Store
from kilowatt.csms.store.records import (
    PROFILE_REPORTED_BY_STATION,
    ChargingLimitRecord,
    ChargingProfileRecord,
    ConnectorStatus,
    FrameLogEntry,
    IdTokenRecord,
    LocalList,
    LocalListEntry,
    MeterSample,
    Notification,
    SiteRecord,
    StationRecord,
    StatusChange,
    TariffRecord,
    TransactionEventRecord,
    TransactionRecord,
    TransactionTariffRecord,
    VariableRecord,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["SqlStore", "migrate", "open_store"]

_log = logging.getLogger(__name__)

_MIGRATIONS = "kilowatt.csms.store:migrations"
# Any fixed number, the same in every process that may migrate the same PostgreSQL database.
_PG_MIGRATION_LOCK = 0x6B696C6F
_MIGRATION_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
# An execution option of ours: begin the connection's transactions with BEGIN IMMEDIATE.
_BEGIN_IMMEDIATE = "kilowatt_begin_immediate"

_Row = dict[str, Any]
_T = TypeVar("_T", bound="DataclassInstance")
_DriverRow = tuple[Any, ...]


async def open_store(
    url: str,
    *,
    flush_interval: float = 0.002,
    max_batch: int = 500,
    max_pending_frames: int = 100_000,
) -> SqlStore:
    """Connect to the database, bring its schema to the latest revision, start the writer.

    Args:
        url: ``sqlite+aiosqlite:///path/to/file.db`` (the directory is created if need be) or
            ``postgresql+asyncpg://user@host:port/database``.
        flush_interval: seconds a write may wait for others to share its commit; 0 commits
            whatever has queued up as soon as the writer is free.
        max_batch: the most awaited writes in one transaction, and separately the most logged
            frames; a batch is committed at once when this many wait.
        max_pending_frames: the most logged frames waiting for a commit; beyond it the oldest
            are dropped and counted in ``SqlStore.dropped_frames``.

    Raises:
        ValueError: the URL names another database, an SQLite database in memory, or a limit
            is out of range.
    """
    if flush_interval < 0 or max_batch < 1 or max_pending_frames < 1:
        raise ValueError("flush_interval must be >= 0, max_batch and max_pending_frames >= 1")
    engine = _create_engine(url)
    try:
        await migrate(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlStore(
        engine,
        _create_sync_engine(engine, READERS),
        _create_sync_engine(engine, 1),
        flush_interval=flush_interval,
        max_batch=max_batch,
        max_pending_frames=max_pending_frames,
    )


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database's schema to the latest revision, in one transaction.

    Processes that open the same database at once take turns: the first migrates, the others
    then find the schema at the latest revision.

    Args:
        engine: a SQLite or PostgreSQL engine.
    """
    # Alembic keeps the running migration in module globals: one at a time in this process.
    async with _migration_lock(), engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Take SQLite's write lock at BEGIN: another process's migration waits there, not
            # in a transaction whose first read is outdated once the first one commits.
            await connection.execution_options(**{_BEGIN_IMMEDIATE: True})
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                # Held until the transaction ends.
                await connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            await connection.run_sync(_upgrade)


def _migration_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _MIGRATION_LOCKS.get(loop)
    if lock is None:
        lock = _MIGRATION_LOCKS[loop] = asyncio.Lock()
    return lock


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return create_async_engine(parsed)
    if backend != "sqlite":
        raise ValueError(f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql")
    if not parsed.database or parsed.database == ":memory:":
        # Each pooled connection would see a database of its own.
        raise ValueError("an SQLite store needs a file: sqlite+aiosqlite:///path/to/file.db")
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # A connection waits up to SQLITE_BUSY_TIMEOUT for another's write lock (sqlite3's own
    # default is 5 s): processes started at once wait out the first one's migration, which on
    # a loaded machine took longer than 5 s.
    engine = create_async_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
    event.listen(engine.sync_engine, "connect", _configure_sqlite)
    event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


# Threads that run reads; the writer has one of its own.
READERS = 2


def _create_sync_engine(engine: AsyncEngine, connections: int) -> Engine:
    """The same database through a synchronous driver, for the writer's thread or the readers'.

    A batch or a query then costs one hand-over to a thread, not one per statement through the
    async driver (about 4x less CPU per commit, measured on SQLite). The async engine runs the
    migrations.
    """
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return create_engine(url.set(drivername="postgresql+psycopg"), pool_size=connections)
    sync = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        pool_size=connections,
        # Pooled connections move between the store's threads, one thread at a time.
        connect_args={"check_same_thread": False},
    )
    event.listen(sync, "connect", _configure_sqlite)
    event.listen(sync, "begin", _begin_sqlite)
    return sync


SQLITE_BUSY_TIMEOUT = 60.0  # seconds


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL: readers do not block the writer nor the writer them. synchronous=FULL: a station is
    # told its TransactionEvent is stored only once the commit is on disk, power cut included;
    # group commit pays the sync once per batch, not per message.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
    # The sqlite3 module opens transactions itself, and not before DDL: SQLAlchemy's recipe
    # hands that to _begin_sqlite, so that a migration is one transaction as on PostgreSQL.
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_BEGIN_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# -- the queue of writes --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rows:
    """Rows for insert or upsert statements; the write's result is None."""

    statements: tuple[tuple[_Statement, Sequence[_Row] | Sequence[_DriverRow]], ...]


@dataclass(frozen=True, slots=True)
class _Delete:
    """A delete whose result is whether it deleted anything."""

    statement: Delete


@dataclass(frozen=True, slots=True)
class _Event:
    """A TransactionEvent; its result is whether it was new (and its other rows written)."""

    key: tuple[str, str, int]
    event: _Row
    transaction: _Row
    samples: Sequence[_DriverRow]


@dataclass(frozen=True, slots=True)
class _Replace:
    """Rows deleted, then rows put: the deletes run at the write's place in the batch, after
    what is staged before it; the puts are staged after them. The write's result is None."""

    deletes: tuple[tuple[Executable, Sequence[_Row]], ...]
    puts: tuple[tuple[Executable, Sequence[_Row]], ...]


_Write = _Rows | _Delete | _Event | _Replace
_NOTHING = _Rows(())  # a write that only waits for its batch's commit


@dataclass(frozen=True, slots=True)
class _Pending:
    write: _Write
    future: asyncio.Future[Any] | None  # None: a logged frame, which nobody awaits


class _Fields(Generic[_T]):
    """The columns of a record type: a record to a row and a row to a record, by name."""

    def __init__(self, record_type: type[_T], *, exclude: Iterable[str] = ()) -> None:
        names = tuple(f.name for f in fields(record_type) if f.name not in exclude)
        self.names = names
        self._get = attrgetter(*names)
        self._record_type = record_type

    def row(self, record: _T) -> _Row:
        return dict(zip(self.names, self._get(record), strict=True))

    def record(self, row: Mapping[str, Any]) -> _T:
        return self._record_type(**row)

    def columns(self, table: Table) -> list[ColumnElement[Any]]:
        return [table.c[name] for name in self.names]


class _DriverInsert(Generic[_T]):
    """An INSERT of records handed to the driver's executemany as tuples, bypassing SQLAlchemy.

    For the tables every message writes to (the frame log, meter samples): SQLAlchemy's
    per-row parameter processing cost more than the database's insert. The values are the
    records' own, except UtcDateTime columns, converted as UtcDateTime would: UTC text in
    SQLAlchemy's SQLite format (so that its reads and comparisons see the same), an aware
    datetime on PostgreSQL.
    """

    def __init__(
        self, table: Table, record_type: type[_T], dialect: str, *, exclude: Iterable[str] = ()
    ) -> None:
        names = _Fields(record_type, exclude=exclude).names
        marker = "?" if dialect == "sqlite" else "%s"
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join(marker for _ in names)})"
        )
        self._get = attrgetter(*names)
        self._convert = _utc_text if dialect == "sqlite" else _utc_aware
        self._datetimes = [
            index
            for index, name in enumerate(names)
            if isinstance(table.c[name].type, tables.UtcDateTime)
        ]

    def row(self, record: _T) -> _DriverRow:
        values: tuple[Any, ...] = self._get(record)
        if not self._datetimes:
            return values
        converted = list(values)
        for index in self._datetimes:
            if converted[index] is not None:
                converted[index] = self._convert(converted[index])
        return tuple(converted)


def _utc_aware(value: datetime) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: a timezone is required")
    return value


def _utc_text(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME format, microseconds always written: its bound parameters
    # compare as text with these.
    naive = _utc_aware(value).astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(sep=" ", timespec="microseconds")


_Statement = Executable | _DriverInsert[Any]


# How long an id token read from the database is served from memory, and how many are kept.
ID_TOKEN_TTL = 30.0
ID_TOKEN_CACHE_SIZE = 100_000

_STATION = _Fields(StationRecord)
_CONNECTOR = _Fields(ConnectorStatus)
_STATUS_CHANGE = _Fields(StatusChange)
_ID_TOKEN = _Fields(IdTokenRecord)
_LOCAL_LIST_ENTRY = _Fields(LocalListEntry)
_TRANSACTION = _Fields(TransactionRecord)
_EVENT = _Fields(TransactionEventRecord)
_SAMPLE = _Fields(MeterSample)
_VARIABLE = _Fields(VariableRecord)
_NOTIFICATION = _Fields(Notification)
_NEW_NOTIFICATION = _Fields(Notification, exclude=("id",))
_FRAME = _Fields(FrameLogEntry)
_CHARGING_PROFILE = _Fields(ChargingProfileRecord)
_CHARGING_LIMIT = _Fields(ChargingLimitRecord)
_SITE = _Fields(SiteRecord)
_TARIFF = _Fields(TariffRecord)
_TRANSACTION_TARIFF = _Fields(TransactionTariffRecord)


def _transaction_row(transaction: TransactionRecord) -> _Row:
    row = _TRANSACTION.row(transaction)
    row["seq_nos_missing"] = list(transaction.seq_nos_missing)
    return row


def _transaction_record(row: Mapping[str, Any]) -> TransactionRecord:
    return TransactionRecord(**{**row, "seq_nos_missing": tuple(row["seq_nos_missing"])})


# The holders of a station's two local lists (tables.local_lists).
_KEPT_BY_CSMS = "csms"
_HELD_BY_STATION = "station"


def _may_lie_in_rows(error: Exception) -> bool:
    """Whether a failed batch is worth splitting: not when the database itself failed."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return False
    return not isinstance(error, OperationalError | InterfaceError | PoolTimeoutError | OSError)


class SqlStore(Store):
    """The Store on an AsyncEngine; make it with ``open_store``.

    Every write raises RuntimeError once ``close`` has begun. A write whose caller is cancelled
    while it waits may still be committed. ``dropped_frames`` counts the logged frames that
    were never written: dropped because too many waited, logged after ``close``, or refused by
    the database.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        read_engine: Engine,
        write_engine: Engine,
        *,
        flush_interval: float,
        max_batch: int,
        max_pending_frames: int,
    ) -> None:
        self._engine = engine
        self._read_engine = read_engine
        self._read_threads = ThreadPoolExecutor(READERS, thread_name_prefix="kilowatt-read")
        self._write_engine = write_engine
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="kilowatt-store")
        self._write_engine_disposed = False
        self._loop = asyncio.get_running_loop()
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._writes: deque[_Pending] = deque()
        self._id_tokens: dict[tuple[str, str], tuple[IdTokenRecord | None, float]] = {}
        self._id_token_writes = 0
        self._frames: deque[FrameLogEntry] = deque(maxlen=max_pending_frames)
        self._first_queued_at = 0.0
        self._wakeup = asyncio.Event()
        self._closing = False
        self.dropped_frames = 0
        # Frames leave the queue in the order logged, so "every frame logged before" is a count.
        self._frames_logged = 0
        self._frames_settled = 0

        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

        def upsert(table: Table, where: ColumnElement[bool] | None = None) -> Executable:
            statement = insert(table)
            keys = [column.name for column in table.primary_key]
            replaced = {c.name: statement.excluded[c.name] for c in table.c if not c.primary_key}
            return statement.on_conflict_do_update(index_elements=keys, set_=replaced, where=where)

        self._upsert_station = upsert(tables.stations)
        self._upsert_id_token = upsert(tables.id_tokens)
        self._upsert_transaction = upsert(tables.transactions)
        self._upsert_variable = upsert(tables.variables)
        self._upsert_local_list = upsert(tables.local_lists)
        self._upsert_local_list_entry = upsert(tables.local_list_entries)
        self._upsert_charging_profile = upsert(tables.charging_profiles)
        self._upsert_charging_limit = upsert(tables.charging_limits)
        self._upsert_site = upsert(tables.sites)
        self._upsert_transaction_tariff = upsert(tables.transaction_tariffs)
        self._upsert_tariff = upsert(tables.tariffs)
        profiles = tables.charging_profiles
        # K09: the reported profiles of an EVSE that an earlier report (requestId) left.
        self._delete_older_reports = delete(profiles).where(
            profiles.c.station_id == bindparam("station_id"),
            profiles.c.source == bindparam("source"),
            profiles.c.evse_id == bindparam("evse_id"),
            or_(
                profiles.c.request_id.is_(None),
                profiles.c.request_id != bindparam("request_id"),
            ),
        )
        entries = tables.local_list_entries
        of_list = and_(
            entries.c.station_id == bindparam("station_id"),
            entries.c.holder == bindparam("holder"),
        )
        self._delete_local_list_entries = delete(entries).where(of_list)
        self._delete_local_list_entry = delete(entries).where(
            of_list,
            entries.c.id_token == bindparam("id_token"),
            entries.c.type == bindparam("type"),
        )
        connector = insert(tables.connector_status)
        # A status sent late (queued while offline) must not hide one sent after it.
        self._upsert_connector = upsert(
            tables.connector_status,
            where=connector.excluded.timestamp >= tables.connector_status.c.timestamp,
        )
        events = tables.transaction_events
        self._insert_new_events = (
            insert(events)
            .on_conflict_do_nothing(index_elements=[c.name for c in events.primary_key])
            .returning(events.c.station_id, events.c.transaction_id, events.c.seq_no)
        )
        self._insert_status_change = tables.status_history.insert()
        dialect = engine.dialect.name
        self._insert_samples = _DriverInsert(tables.meter_samples, MeterSample, dialect)
        self._insert_notification = tables.notifications.insert()
        self._insert_frame = _DriverInsert(
            tables.frame_log, FrameLogEntry, dialect, exclude=("id",)
        )

        self._writer = self._loop.create_task(self._run(), name="store writer")

    @property
    def engine(self) -> AsyncEngine:
        """The engine the store reads through (for health checks and tests)."""
        return self._engine

    @property
    def write_engine(self) -> Engine:
        """The synchronous engine the writer thread commits batches with."""
        return self._write_engine

    async def close(self) -> None:
        """Commit everything queued (frames included), stop the writer, dispose the engine."""
        if not self._closing:
            self._closing = True
            self._wakeup.set()
        # Shielded: a cancelled close must not cancel the writer in the middle of a batch.
        await asyncio.shield(self._writer)
        if not self._write_engine_disposed:
            self._write_engine_disposed = True
            await self._loop.run_in_executor(self._write_thread, self._write_engine.dispose)
            self._write_thread.shutdown()
            await self._loop.run_in_executor(self._read_threads, self._read_engine.dispose)
            self._read_threads.shutdown()
        await self._engine.dispose()

    async def flush(self) -> None:
        """Return once every write queued before the call, logged frames included, is committed
        (or has failed).

        Raises:
            RuntimeError: the store is closed.
        """
        frames_logged = self._frames_logged
        await self._submit(_NOTHING)
        while self._frames_settled < frames_logged:
            await self._submit(_NOTHING)

    # -- stations ------------------------------------------------------------------------------

    async def get_station(self, station_id: str) -> StationRecord | None:
        table = tables.stations
        query = select(*_STATION.columns(table)).where(table.c.station_id == station_id)
        return await self._one(query, _STATION.record)

    async def list_stations(self, *, offset: int = 0, limit: int = 1000) -> list[StationRecord]:
        table = tables.stations
        query = select(*_STATION.columns(table)).order_by(table.c.station_id)
        return await self._all(query.offset(offset).limit(limit), _STATION.record)

    async def put_station(self, station: StationRecord) -> None:
        await self._submit(_Rows(((self._upsert_station, [_STATION.row(station)]),)))

    async def delete_station(self, station_id: str) -> bool:
        table = tables.stations
        deleted: bool = await self._submit(
            _Delete(delete(table).where(table.c.station_id == station_id))
        )
        return deleted

    # -- connectors ----------------------------------------------------------------------------

    async def record_status(self, change: StatusChange) -> None:
        row = _STATUS_CHANGE.row(change)
        connector = {name: row[name] for name in _CONNECTOR.names}
        await self._submit(
            _Rows(((self._insert_status_change, [row]), (self._upsert_connector, [connector])))
        )

    async def connector_statuses(self, station_id: str) -> list[ConnectorStatus]:
        table = tables.connector_status
        query = (
            select(*_CONNECTOR.columns(table))
            .where(table.c.station_id == station_id)
            .order_by(table.c.evse_id, table.c.connector_id)
        )
        return await self._all(query, _CONNECTOR.record)

    async def status_history(self, station_id: str, *, limit: int = 100) -> list[StatusChange]:
        table = tables.status_history
        query = (
            select(*_STATUS_CHANGE.columns(table))
            .where(table.c.station_id == station_id)
            .order_by(table.c.timestamp.desc(), table.c.id.desc())
            .limit(limit)
        )
        return await self._all(query, _STATUS_CHANGE.record)

    # -- id tokens -----------------------------------------------------------------------------

    async def get_id_token(self, id_token: str, type_: str) -> IdTokenRecord | None:
        # Every Authorize and every TransactionEvent with a token reads one: served from memory
        # for ID_TOKEN_TTL seconds (unknown tokens too). A write through this store takes
        # effect at once; one made by another process sharing the database, within the TTL.
        key = (id_token, type_)
        cached = self._id_tokens.get(key)
        if cached is not None and self._loop.time() < cached[1]:
            return cached[0]
        generation = self._id_token_writes
        table = tables.id_tokens
        query = select(*_ID_TOKEN.columns(table)).where(
            table.c.id_token == id_token, table.c.type == type_
        )
        record = await self._one(query, _ID_TOKEN.record)
        if generation == self._id_token_writes:  # no write began or ended during the read
            if len(self._id_tokens) >= ID_TOKEN_CACHE_SIZE:
                self._id_tokens.clear()
            self._id_tokens[key] = (record, self._loop.time() + ID_TOKEN_TTL)
        return record

    async def list_id_tokens(self, *, offset: int = 0, limit: int = 1000) -> list[IdTokenRecord]:
        table = tables.id_tokens
        query = select(*_ID_TOKEN.columns(table)).order_by(table.c.id_token, table.c.type)
        return await self._all(query.offset(offset).limit(limit), _ID_TOKEN.record)

    async def put_id_token(self, token: IdTokenRecord) -> None:
        key = (token.id_token, token.type)
        self._forget_id_token(key)
        try:
            await self._submit(_Rows(((self._upsert_id_token, [_ID_TOKEN.row(token)]),)))
        finally:
            self._forget_id_token(key)

    async def delete_id_token(self, id_token: str, type_: str) -> bool:
        table = tables.id_tokens
        statement = delete(table).where(table.c.id_token == id_token, table.c.type == type_)
        self._forget_id_token((id_token, type_))
        try:
            deleted: bool = await self._submit(_Delete(statement))
        finally:
            self._forget_id_token((id_token, type_))
        return deleted

    def _forget_id_token(self, key: tuple[str, str]) -> None:
        self._id_token_writes += 1
        self._id_tokens.pop(key, None)

    # -- local authorization lists -------------------------------------------------------------

    async def local_list(self, station_id: str) -> LocalList | None:
        return await self._local_list(station_id, _KEPT_BY_CSMS)

    async def put_local_list(
        self, station_id: str, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> None:
        await self._put_local_list(station_id, _KEPT_BY_CSMS, version, entries, full=full)

    async def accepted_local_list(self, station_id: str) -> LocalList | None:
        return await self._local_list(station_id, _HELD_BY_STATION)

    async def put_accepted_local_list(
        self, station_id: str, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> None:
        await self._put_local_list(station_id, _HELD_BY_STATION, version, entries, full=full)

    async def _local_list(self, station_id: str, holder: str) -> LocalList | None:
        # One statement, so that the version and the entries are of the same commit.
        lists, entries = tables.local_lists, tables.local_list_entries
        query = (
            select(lists.c.version, *_LOCAL_LIST_ENTRY.columns(entries))
            .select_from(
                lists.outerjoin(
                    entries,
                    and_(
                        entries.c.station_id == lists.c.station_id,
                        entries.c.holder == lists.c.holder,
                    ),
                )
            )
            .where(lists.c.station_id == station_id, lists.c.holder == holder)
            .order_by(entries.c.id_token, entries.c.type)
        )
        rows = await self._read(query)
        if not rows:
            return None
        found = tuple(
            _LOCAL_LIST_ENTRY.record({name: row[name] for name in _LOCAL_LIST_ENTRY.names})
            for row in rows
            if row["id_token"] is not None  # the outer join's row of an empty list
        )
        return LocalList(station_id, rows[0]["version"], found)

    async def _put_local_list(
        self,
        station_id: str,
        holder: str,
        version: int,
        entries: Sequence[LocalListEntry],
        *,
        full: bool,
    ) -> None:
        counted = Counter(entry.key for entry in entries)
        twice = next((key for key, count in counted.items() if count > 1), None)
        if twice is not None:
            raise ValueError(f"id token {twice[0]!r} of type {twice[1]!r} is twice in the update")
        of_list = {"station_id": station_id, "holder": holder}
        if full:
            if any(entry.status is None for entry in entries):
                raise ValueError("every entry of a Full update needs a status")
            deletes = [of_list]
            statement = self._delete_local_list_entries
        else:
            # D01.FR.17: an entry without a status removes the token.
            deletes = [
                {**of_list, "id_token": entry.id_token, "type": entry.type}
                for entry in entries
                if entry.status is None
            ]
            statement = self._delete_local_list_entry
        puts = [
            {**of_list, **_LOCAL_LIST_ENTRY.row(entry)}
            for entry in entries
            if entry.status is not None
        ]
        await self._submit(
            _Replace(
                deletes=((statement, deletes),),
                puts=(
                    (self._upsert_local_list, [{**of_list, "version": version}]),
                    (self._upsert_local_list_entry, puts),
                ),
            )
        )

    # -- transactions --------------------------------------------------------------------------

    async def get_transaction(
        self, station_id: str, transaction_id: str
    ) -> TransactionRecord | None:
        table = tables.transactions
        query = select(*_TRANSACTION.columns(table)).where(
            table.c.station_id == station_id, table.c.transaction_id == transaction_id
        )
        return await self._one(query, _transaction_record)

    async def list_transactions(
        self,
        *,
        station_id: str | None = None,
        active: bool | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[TransactionRecord]:
        table = tables.transactions
        query = select(*_TRANSACTION.columns(table))
        if station_id is not None:
            query = query.where(table.c.station_id == station_id)
        if active is not None:
            ended = table.c.ended_at
            query = query.where(ended.is_(None) if active else ended.is_not(None))
        query = query.order_by(
            table.c.started_at.desc().nulls_last(), table.c.station_id, table.c.transaction_id
        )
        return await self._all(query.offset(offset).limit(limit), _transaction_record)

    async def record_transaction_event(
        self,
        event: TransactionEventRecord,
        transaction: TransactionRecord,
        samples: Sequence[MeterSample],
    ) -> bool:
        key = (event.station_id, event.transaction_id, event.seq_no)
        if (transaction.station_id, transaction.transaction_id) != key[:2]:
            raise ValueError(f"the event of {key[:2]} comes with the transaction of another")
        new: bool = await self._submit(
            _Event(
                key,
                _EVENT.row(event),
                _transaction_row(transaction),
                [self._insert_samples.row(sample) for sample in samples],
            )
        )
        return new

    async def transaction_events(
        self, station_id: str, transaction_id: str
    ) -> list[TransactionEventRecord]:
        table = tables.transaction_events
        query = (
            select(*_EVENT.columns(table))
            .where(table.c.station_id == station_id, table.c.transaction_id == transaction_id)
            .order_by(table.c.seq_no)
        )
        return await self._all(query, _EVENT.record)

    # -- meter values --------------------------------------------------------------------------

    async def record_meter_values(self, samples: Sequence[MeterSample]) -> None:
        if samples:
            rows = [self._insert_samples.row(sample) for sample in samples]
            await self._submit(_Rows(((self._insert_samples, rows),)))

    async def meter_samples(
        self,
        station_id: str,
        *,
        transaction_id: str | None = None,
        since: datetime | None = None,
        limit: int = 10000,
    ) -> list[MeterSample]:
        table = tables.meter_samples
        query = select(*_SAMPLE.columns(table)).where(table.c.station_id == station_id)
        if transaction_id is not None:
            query = query.where(table.c.transaction_id == transaction_id)
        if since is not None:
            query = query.where(table.c.timestamp >= since)
        query = query.order_by(table.c.timestamp, table.c.id).limit(limit)
        return await self._all(query, _SAMPLE.record)

    # -- device model --------------------------------------------------------------------------

    async def put_variables(self, variables: Sequence[VariableRecord]) -> None:
        if variables:
            rows = [_VARIABLE.row(variable) for variable in variables]
            await self._submit(_Rows(((self._upsert_variable, rows),)))

    async def variables(self, station_id: str) -> list[VariableRecord]:
        table = tables.variables
        query = (
            select(*_VARIABLE.columns(table))
            .where(table.c.station_id == station_id)
            .order_by(*table.primary_key.columns)
        )
        return await self._all(query, _VARIABLE.record)

    # -- smart charging --------------------------------------------------------------------------

    async def charging_profiles(
        self, station_id: str, *, evse_id: int | None = None, source: str | None = None
    ) -> list[ChargingProfileRecord]:
        table = tables.charging_profiles
        query = select(*_CHARGING_PROFILE.columns(table)).where(table.c.station_id == station_id)
        if evse_id is not None:
            query = query.where(table.c.evse_id == evse_id)
        if source is not None:
            query = query.where(table.c.source == source)
        query = query.order_by(
            table.c.source, table.c.evse_id, table.c.stack_level, table.c.profile_id
        )
        return await self._all(query, _CHARGING_PROFILE.record)

    async def put_charging_profile(self, profile: ChargingProfileRecord) -> None:
        row = _CHARGING_PROFILE.row(profile)
        await self._submit(_Rows(((self._upsert_charging_profile, [row]),)))

    async def delete_charging_profiles(
        self, station_id: str, source: str, profile_ids: Sequence[int]
    ) -> bool:
        if not profile_ids:
            return False
        table = tables.charging_profiles
        statement = delete(table).where(
            table.c.station_id == station_id,
            table.c.source == source,
            table.c.profile_id.in_(sorted(set(profile_ids))),
        )
        deleted: bool = await self._submit(_Delete(statement))
        return deleted

    async def replace_reported_charging_profiles(
        self,
        station_id: str,
        evse_id: int,
        request_id: int,
        profiles: Sequence[ChargingProfileRecord],
    ) -> None:
        key = (station_id, PROFILE_REPORTED_BY_STATION, evse_id, request_id)
        for profile in profiles:
            if (profile.station_id, profile.source, profile.evse_id, profile.request_id) != key:
                raise ValueError(
                    f"profile {profile.profile_id} is not one reported by {station_id} for "
                    f"EVSE {evse_id} in request {request_id}"
                )
        of_report = {
            "station_id": station_id,
            "source": PROFILE_REPORTED_BY_STATION,
            "evse_id": evse_id,
            "request_id": request_id,
        }
        await self._submit(
            _Replace(
                deletes=((self._delete_older_reports, [of_report]),),
                puts=(
                    (
                        self._upsert_charging_profile,
                        [_CHARGING_PROFILE.row(profile) for profile in profiles],
                    ),
                ),
            )
        )

    async def charging_limits(self, station_id: str) -> list[ChargingLimitRecord]:
        table = tables.charging_limits
        query = (
            select(*_CHARGING_LIMIT.columns(table))
            .where(table.c.station_id == station_id)
            .order_by(table.c.evse_id, table.c.charging_limit_source)
        )
        return await self._all(query, _CHARGING_LIMIT.record)

    async def put_charging_limit(self, limit: ChargingLimitRecord) -> None:
        row = _CHARGING_LIMIT.row(limit)
        await self._submit(_Rows(((self._upsert_charging_limit, [row]),)))

    async def delete_charging_limit(self, station_id: str, evse_id: int, source: str) -> bool:
        table = tables.charging_limits
        statement = delete(table).where(
            table.c.station_id == station_id,
            table.c.evse_id == evse_id,
            table.c.charging_limit_source == source,
        )
        deleted: bool = await self._submit(_Delete(statement))
        return deleted

    # -- tariffs -------------------------------------------------------------------------------

    async def tariffs(self) -> list[TariffRecord]:
        table = tables.tariffs
        query = select(*_TARIFF.columns(table)).order_by(table.c.tariff_id)
        return await self._all(query, _TARIFF.record)

    async def put_tariff(self, tariff: TariffRecord) -> None:
        await self._submit(_Rows(((self._upsert_tariff, [_TARIFF.row(tariff)]),)))

    async def delete_tariff(self, tariff_id: str) -> bool:
        table = tables.tariffs
        statement = delete(table).where(table.c.tariff_id == tariff_id)
        deleted: bool = await self._submit(_Delete(statement))
        return deleted

    async def transaction_tariffs(
        self, station_id: str, transaction_id: str
    ) -> list[TransactionTariffRecord]:
        table = tables.transaction_tariffs
        query = (
            select(*_TRANSACTION_TARIFF.columns(table))
            .where(table.c.station_id == station_id, table.c.transaction_id == transaction_id)
            .order_by(table.c.position)
        )
        return await self._all(query, _TRANSACTION_TARIFF.record)

    async def put_transaction_tariff(self, record: TransactionTariffRecord) -> None:
        rows = [_TRANSACTION_TARIFF.row(record)]
        await self._submit(_Rows(((self._upsert_transaction_tariff, rows),)))

    # -- sites ---------------------------------------------------------------------------------

    async def sites(self) -> list[SiteRecord]:
        table = tables.sites
        query = select(*_SITE.columns(table)).order_by(table.c.site_id)
        return await self._all(query, _SITE.record)

    async def put_site(self, site: SiteRecord) -> None:
        await self._submit(_Rows(((self._upsert_site, [_SITE.row(site)]),)))

    async def delete_site(self, site_id: str) -> bool:
        table = tables.sites
        deleted: bool = await self._submit(_Delete(delete(table).where(table.c.site_id == site_id)))
        return deleted

    # -- everything else a station reports -----------------------------------------------------

    async def record_notification(self, notification: Notification) -> None:
        row = _NEW_NOTIFICATION.row(notification)
        await self._submit(_Rows(((self._insert_notification, [row]),)))

    async def notifications(
        self,
        station_id: str,
        *,
        action: str | None = None,
        request_id: int | None = None,
        limit: int = 100,
    ) -> list[Notification]:
        table = tables.notifications
        query = select(*_NOTIFICATION.columns(table)).where(table.c.station_id == station_id)
        if action is not None:
            query = query.where(table.c.action == action)
        if request_id is not None:
            query = query.where(table.c.request_id == request_id)
        query = query.order_by(table.c.id.desc()).limit(limit)
        return await self._all(query, _NOTIFICATION.record)

    # -- the message log -----------------------------------------------------------------------

    def log_frame(self, entry: FrameLogEntry) -> None:
        if self._closing:
            self.dropped_frames += 1
            return
        if len(self._frames) == self._frames.maxlen:
            # The deque drops its oldest to make room.
            self.dropped_frames += 1
            self._frames_settled += 1
        self._frames_logged += 1
        self._queued(self._frames, entry)

    async def frames(
        self, station_id: str, *, since_ms: int | None = None, limit: int = 1000
    ) -> list[FrameLogEntry]:
        table = tables.frame_log
        query = select(*_FRAME.columns(table)).where(table.c.station_id == station_id)
        if since_ms is not None:
            query = query.where(table.c.at_ms >= since_ms)
        query = query.order_by(table.c.id).limit(limit)
        return await self._all(query, _FRAME.record)

    # -- reads ---------------------------------------------------------------------------------

    async def _read(self, query: Select[Any]) -> list[RowMapping]:
        # On the reader threads through the synchronous driver, like the writer: one hand-over
        # per query instead of several through the async driver (see _create_sync_engine).
        return await self._loop.run_in_executor(self._read_threads, self._read_sync, query)

    def _read_sync(self, query: Select[Any]) -> list[RowMapping]:
        with self._read_engine.connect() as connection:
            return list(connection.execute(query).mappings().all())

    async def _all(self, query: Select[Any], make: Callable[[Mapping[str, Any]], _T]) -> list[_T]:
        # RowMapping is typed with Any keys; its keys are the column names, strings.
        return [make(cast("Mapping[str, Any]", row)) for row in await self._read(query)]

    async def _one(self, query: Select[Any], make: Callable[[Mapping[str, Any]], _T]) -> _T | None:
        found = await self._all(query, make)
        return found[0] if found else None

    # -- group commit --------------------------------------------------------------------------

    async def _submit(self, write: _Write) -> Any:
        """Queue a write and wait until its batch is committed; return the write's result.

        Raises:
            RuntimeError: the store is closed.
        """
        if self._closing or self._writer.done():
            raise RuntimeError("the store is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._queued(self._writes, _Pending(write, future))
        return await future

    def _queued(self, queue: deque[Any], item: Any) -> None:
        if not self._writes and not self._frames:
            self._first_queued_at = self._loop.time()
            self._wakeup.set()
        queue.append(item)
        if len(queue) >= self._max_batch:
            self._wakeup.set()

    async def _run(self) -> None:
        while self._writes or self._frames or not self._closing:
            if not self._writes and not self._frames:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._gather()
            await self._commit(self._take())

    async def _gather(self) -> None:
        """Wait until the oldest queued item has waited flush_interval, a batch is full, or the
        store closes."""
        while not self._closing and max(len(self._writes), len(self._frames)) < self._max_batch:
            delay = self._first_queued_at + self._flush_interval - self._loop.time()
            if delay <= 0:
                return
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()

    def _take(self) -> list[_Pending]:
        batch = [self._writes.popleft() for _ in range(min(self._max_batch, len(self._writes)))]
        for _ in range(min(self._max_batch, len(self._frames))):
            row = self._insert_frame.row(self._frames.popleft())
            batch.append(_Pending(_Rows(((self._insert_frame, [row]),)), None))
        return batch

    async def _commit(self, batch: list[_Pending]) -> None:
        """Apply a batch in one transaction and resolve its futures once it is committed.

        When it fails, and the cause may lie in some of its writes, commit each half on its
        own, in order: only the writes that fail by themselves fail.
        """
        writes = [pending.write for pending in batch]
        try:
            results = await self._loop.run_in_executor(self._write_thread, self._apply, writes)
        except Exception as error:  # the writer must survive anything, and report it
            if len(batch) > 1 and _may_lie_in_rows(error):
                middle = len(batch) // 2
                await self._commit(batch[:middle])
                await self._commit(batch[middle:])
            else:
                self._fail(batch, error)
            return
        for pending, result in zip(batch, results, strict=True):
            if pending.future is None:
                self._frames_settled += 1
            elif not pending.future.done():
                pending.future.set_result(result)

    def _fail(self, batch: list[_Pending], error: Exception) -> None:
        frames = 0
        for pending in batch:
            if pending.future is None:
                frames += 1
            elif not pending.future.done():
                pending.future.set_exception(error)
        if frames:
            self.dropped_frames += frames
            self._frames_settled += frames
            _log.error("%d logged frames not written: %s", frames, error)

    def _apply(self, writes: list[_Write]) -> list[Any]:
        """In the writer's thread: commit the writes of a batch in one transaction."""
        with self._write_engine.begin() as connection:
            return self._apply_in(connection, writes)

    def _apply_in(self, connection: Connection, writes: list[_Write]) -> list[Any]:
        """Execute the writes of a batch, one executemany per statement; return their results.

        A delete, and the deletes of a replacement, run on their own, after what is staged
        before them, so that a put, a delete and a put of the same key in one batch end as they
        would one by one.
        """
        results: list[Any] = [None] * len(writes)
        staged: dict[_Statement, list[Any]] = {}
        events: dict[int, _Event] = {}
        for index, write in enumerate(writes):
            if isinstance(write, _Rows):
                for statement, rows in write.statements:
                    staged.setdefault(statement, []).extend(rows)
            elif isinstance(write, _Event):
                events[index] = write
            elif isinstance(write, _Replace):
                self._execute(connection, staged, events, results)
                for statement, rows in write.deletes:
                    if rows:
                        connection.execute(statement, rows)
                for statement, rows in write.puts:
                    staged.setdefault(statement, []).extend(rows)
            else:
                self._execute(connection, staged, events, results)
                deleted = connection.execute(write.statement)
                results[index] = deleted.rowcount > 0
        self._execute(connection, staged, events, results)
        return results

    def _execute(
        self,
        connection: Connection,
        staged: dict[_Statement, list[Any]],
        events: dict[int, _Event],
        results: list[Any],
    ) -> None:
        """Execute and clear what is staged, the TransactionEvents first.

        The events are inserted in one statement that skips the keys stored already and returns
        the keys it inserted; only those events' transactions and samples are then staged, in
        the order of the events. Of two events with one key in a batch, the first is new.
        """
        if events:
            rows = [write.event for write in events.values()]
            inserted = connection.execute(self._insert_new_events, rows)
            new_keys = {tuple(key) for key in inserted}
            for index, write in events.items():
                new = write.key in new_keys
                results[index] = new
                if new:
                    new_keys.discard(write.key)
                    staged.setdefault(self._upsert_transaction, []).append(write.transaction)
                    staged.setdefault(self._insert_samples, []).extend(write.samples)
            events.clear()
        for statement, rows in staged.items():
            if not rows:
                continue
            if isinstance(statement, _DriverInsert):
                connection.exec_driver_sql(statement.sql, rows)
            else:
                connection.execute(statement, rows)
        staged.clear()
