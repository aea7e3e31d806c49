"""The CSMS's tables, in SQLAlchemy Core: statements are built from these, with no ORM in the way.

Column names equal the field names of the records in ``kilowatt.csms.store.records``, so a row
maps to a record by name. ``migrations/versions`` creates the same schema by hand, and
``tests/csms/store/test_migrations.py`` fails when the two differ.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "UtcDateTime",
    "charging_limits",
    "charging_profiles",
    "connector_status",
    "frame_log",
    "id_tokens",
    "local_list_entries",
    "local_lists",
    "metadata",
    "meter_samples",
    "notifications",
    "sites",
    "stations",
    "status_history",
    "tariffs",
    "transaction_events",
    "transaction_tariffs",
    "transactions",
    "variables",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC and read back in UTC on every database.

    PostgreSQL keeps the instant (timestamptz). SQLite has no timezone type: SQLAlchemy stores
    the text without the offset, so the value is converted to UTC before the offset is dropped,
    and UTC is attached again when it is read. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC, dropping the offset on SQLite.

        Raises:
            ValueError: ``value`` is naive.
        """
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: a timezone is required")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# 64-bit ids on PostgreSQL, for the tables that grow without bound; on SQLite only INTEGER
# PRIMARY KEY is the rowid alias that autoincrements (and SQLite integers are 64-bit anyway).
_AUTOINCREMENT_ID = BigInteger().with_variant(Integer(), "sqlite")

# Constraint and index names are explicit so that the hand-written migrations can name them too.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

stations = Table(
    "stations",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("security_profile", Integer, nullable=False),
    Column("password_hash", String),
    Column("registration_status", String, nullable=False),
    Column("heartbeat_interval", Integer, nullable=False),
    Column("boot_status", String),
    Column("boot_at", UtcDateTime),
    Column("boot_reason", String),
    Column("vendor_name", String),
    Column("model", String),
    Column("serial_number", String),
    Column("firmware_version", String),
    Column("modem_iccid", String),
    Column("modem_imsi", String),
    Column("last_heartbeat_at", UtcDateTime),
    Column("firmware_status", String),
    Column("created_at", UtcDateTime),
)

# The latest status of each connector; status_history keeps every change.
connector_status = Table(
    "connector_status",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("evse_id", Integer, primary_key=True, autoincrement=False),
    Column("connector_id", Integer, primary_key=True, autoincrement=False),
    Column("status", String, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
)

status_history = Table(
    "status_history",
    metadata,
    Column("id", _AUTOINCREMENT_ID, primary_key=True),
    Column("station_id", String, nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("status", String, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Index(None, "station_id", "timestamp"),
)

id_tokens = Table(
    "id_tokens",
    metadata,
    Column("id_token", String, primary_key=True),
    Column("type", String, primary_key=True),
    Column("status", String, nullable=False),
    Column("group_id_token", String),
    Column("expiry", UtcDateTime),
    Column("language1", String),
    Column("language2", String),
    Column("personal_message", JSON(none_as_null=True)),
)

# The local authorization lists (D01): per station, the list the CSMS keeps for it (holder
# "csms") and the list as the station holds it, from the updates it accepted (holder "station").
local_lists = Table(
    "local_lists",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("holder", String, primary_key=True),
    Column("version", Integer, nullable=False),
)

local_list_entries = Table(
    "local_list_entries",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("holder", String, primary_key=True),
    Column("id_token", String, primary_key=True),
    Column("type", String, primary_key=True),
    Column("status", String, nullable=False),
    Column("expiry", UtcDateTime),
    Column("group_id_token", String),
    Column("language1", String),
    Column("language2", String),
    Column("personal_message", JSON(none_as_null=True)),
)

transactions = Table(
    "transactions",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("transaction_id", String, primary_key=True),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("id_token", String),
    Column("id_token_type", String),
    Column("started_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("charging_state", String),
    Column("stopped_reason", String),
    Column("remote_start_id", Integer),
    Column("meter_start_wh", Double),
    Column("meter_last_wh", Double),
    Column("last_seq_no", Integer),
    Column("seq_nos_missing", JSON, nullable=False),
    Column("offline", Boolean, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("updated_at", UtcDateTime),
    # A station's transactions, newest first; and the active ones (ended_at IS NULL) of all.
    Index(None, "station_id", "started_at"),
    Index(None, "ended_at", "started_at"),
)

# The primary key is the unique (station, transaction, seqNo) that keeps a replayed event out.
transaction_events = Table(
    "transaction_events",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("transaction_id", String, primary_key=True),
    Column("seq_no", Integer, primary_key=True, autoincrement=False),
    Column("event_type", String, nullable=False),
    Column("trigger_reason", String, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("offline", Boolean, nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

meter_samples = Table(
    "meter_samples",
    metadata,
    Column("id", _AUTOINCREMENT_ID, primary_key=True),
    Column("station_id", String, nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("transaction_id", String),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("measurand", String, nullable=False),
    Column("value", Double, nullable=False),
    Column("phase", String),
    Column("location", String),
    Column("context", String),
    Column("unit", String),
    Column("multiplier", Integer),
    Index(None, "station_id", "transaction_id", "timestamp"),
    Index(None, "station_id", "timestamp"),
)

# Keyed as documented on Store.put_variables; -1 and "" stand for "none" so that the key has
# no NULLs (NULLs are never equal in a primary key).
variables = Table(
    "variables",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("component", String, primary_key=True),
    Column("component_instance", String, primary_key=True),
    Column("evse_id", Integer, primary_key=True, autoincrement=False),
    Column("connector_id", Integer, primary_key=True, autoincrement=False),
    Column("variable", String, primary_key=True),
    Column("variable_instance", String, primary_key=True),
    Column("attribute_type", String, primary_key=True),
    Column("value", Text),
    Column("mutability", String),
    Column("persistent", Boolean),
    Column("constant", Boolean),
    Column("characteristics", JSON(none_as_null=True)),
    Column("updated_at", UtcDateTime),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", _AUTOINCREMENT_ID, primary_key=True),
    Column("station_id", String, nullable=False),
    Column("action", String, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("request_id", Integer),
    # id last, so that "the latest of this station and action" reads the index backwards.
    Index(None, "station_id", "action", "id"),
    Index(None, "station_id", "request_id"),
)

frame_log = Table(
    "frame_log",
    metadata,
    Column("id", _AUTOINCREMENT_ID, primary_key=True),
    Column("station_id", String, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("direction", String, nullable=False),
    Column("message_type", SmallInteger),
    Column("message_id", String),
    Column("action", String),
    Column("text", Text, nullable=False),
    Column("connection_id", String, nullable=False),
    Index(None, "station_id", "id"),
)

# Charging profiles (K01, K09): those the CSMS set and the station accepted (source "csms"),
# and those the station reported (source "station"). The key is the one a station holds a
# profile by, its id (K01.FR.05), per source.
charging_profiles = Table(
    "charging_profiles",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("source", String, primary_key=True),
    Column("profile_id", Integer, primary_key=True, autoincrement=False),
    Column("evse_id", Integer, nullable=False),
    Column("purpose", String, nullable=False),
    Column("stack_level", Integer, nullable=False),
    Column("charging_limit_source", String, nullable=False),
    Column("profile", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("transaction_id", String),
    Column("request_id", Integer),
)

# External charging limits (K12, K13): the latest per station, EVSE (0: the station) and source.
tariffs = Table(
    "tariffs",
    metadata,
    Column("tariff_id", String, primary_key=True),
    Column("tariff", Text, nullable=False),  # an OCPP 2.1 TariffType, as on the wire
    Column("is_default", Boolean, nullable=False),
    Column("station_ids", JSON(none_as_null=True)),
    Column("group_ids", JSON(none_as_null=True)),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("site_ids", JSON(none_as_null=True)),
    Column("evse_ids", JSON(none_as_null=True)),  # "station/evse"
)

# The tariffs in force for a transaction, the first and each change (I12), with their content.
transaction_tariffs = Table(
    "transaction_tariffs",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("transaction_id", String, primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("tariff_id", String, nullable=False),
    Column("tariff", Text, nullable=False),
)

sites = Table(
    "sites",
    metadata,
    Column("site_id", String, primary_key=True),
    Column("document", Text, nullable=False),  # csms/sites.py's document, as JSON text
    Column("updated_at", UtcDateTime, nullable=False),
)

charging_limits = Table(
    "charging_limits",
    metadata,
    Column("station_id", String, primary_key=True),
    Column("evse_id", Integer, primary_key=True, autoincrement=False),
    Column("charging_limit_source", String, primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("is_grid_critical", Boolean),
    Column("schedules", JSON(none_as_null=True)),
)
