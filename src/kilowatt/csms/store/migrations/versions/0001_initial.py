"""The initial schema.

Written by hand and frozen: later changes go into new revisions, never here. Types are spelled
as the database sees them (UtcDateTime is DateTime(timezone=True) underneath).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_AUTOINCREMENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("security_profile", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("registration_status", sa.String(), nullable=False),
        sa.Column("heartbeat_interval", sa.Integer(), nullable=False),
        sa.Column("boot_status", sa.String(), nullable=True),
        sa.Column("boot_at", _TIMESTAMP, nullable=True),
        sa.Column("boot_reason", sa.String(), nullable=True),
        sa.Column("vendor_name", sa.String(), nullable=True),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("serial_number", sa.String(), nullable=True),
        sa.Column("firmware_version", sa.String(), nullable=True),
        sa.Column("modem_iccid", sa.String(), nullable=True),
        sa.Column("modem_imsi", sa.String(), nullable=True),
        sa.Column("last_heartbeat_at", _TIMESTAMP, nullable=True),
        sa.Column("firmware_status", sa.String(), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("station_id", name="pk_stations"),
    )

    op.create_table(
        "connector_status",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("evse_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("connector_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("timestamp", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "station_id", "evse_id", "connector_id", name="pk_connector_status"
        ),
    )

    op.create_table(
        "status_history",
        sa.Column("id", _AUTOINCREMENT_ID, nullable=False),
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("timestamp", _TIMESTAMP, nullable=False),
        sa.Column("received_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_history"),
    )
    op.create_index(
        "ix_status_history_station_id_timestamp", "status_history", ["station_id", "timestamp"]
    )

    op.create_table(
        "id_tokens",
        sa.Column("id_token", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("group_id_token", sa.String(), nullable=True),
        sa.Column("expiry", _TIMESTAMP, nullable=True),
        sa.Column("language1", sa.String(), nullable=True),
        sa.Column("language2", sa.String(), nullable=True),
        sa.Column("personal_message", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id_token", "type", name="pk_id_tokens"),
    )

    op.create_table(
        "transactions",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("transaction_id", sa.String(), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("id_token", sa.String(), nullable=True),
        sa.Column("id_token_type", sa.String(), nullable=True),
        sa.Column("started_at", _TIMESTAMP, nullable=True),
        sa.Column("ended_at", _TIMESTAMP, nullable=True),
        sa.Column("charging_state", sa.String(), nullable=True),
        sa.Column("stopped_reason", sa.String(), nullable=True),
        sa.Column("remote_start_id", sa.Integer(), nullable=True),
        sa.Column("meter_start_wh", sa.Double(), nullable=True),
        sa.Column("meter_last_wh", sa.Double(), nullable=True),
        sa.Column("last_seq_no", sa.Integer(), nullable=True),
        sa.Column("seq_nos_missing", sa.JSON(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("station_id", "transaction_id", name="pk_transactions"),
    )
    op.create_index(
        "ix_transactions_station_id_started_at", "transactions", ["station_id", "started_at"]
    )
    op.create_index(
        "ix_transactions_ended_at_started_at", "transactions", ["ended_at", "started_at"]
    )

    op.create_table(
        "transaction_events",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("transaction_id", sa.String(), nullable=False),
        sa.Column("seq_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("trigger_reason", sa.String(), nullable=False),
        sa.Column("timestamp", _TIMESTAMP, nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "station_id", "transaction_id", "seq_no", name="pk_transaction_events"
        ),
    )

    op.create_table(
        "meter_samples",
        sa.Column("id", _AUTOINCREMENT_ID, nullable=False),
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(), nullable=True),
        sa.Column("timestamp", _TIMESTAMP, nullable=False),
        sa.Column("measurand", sa.String(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("phase", sa.String(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("context", sa.String(), nullable=True),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("multiplier", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_meter_samples"),
    )
    op.create_index(
        "ix_meter_samples_station_id_transaction_id_timestamp",
        "meter_samples",
        ["station_id", "transaction_id", "timestamp"],
    )
    op.create_index(
        "ix_meter_samples_station_id_timestamp", "meter_samples", ["station_id", "timestamp"]
    )

    op.create_table(
        "variables",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=False),
        sa.Column("component_instance", sa.String(), nullable=False),
        sa.Column("evse_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("connector_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("variable", sa.String(), nullable=False),
        sa.Column("variable_instance", sa.String(), nullable=False),
        sa.Column("attribute_type", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("mutability", sa.String(), nullable=True),
        sa.Column("persistent", sa.Boolean(), nullable=True),
        sa.Column("constant", sa.Boolean(), nullable=True),
        sa.Column("characteristics", sa.JSON(), nullable=True),
        sa.Column("updated_at", _TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint(
            "station_id",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            "attribute_type",
            name="pk_variables",
        ),
    )

    op.create_table(
        "notifications",
        sa.Column("id", _AUTOINCREMENT_ID, nullable=False),
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("received_at", _TIMESTAMP, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index(
        "ix_notifications_station_id_action_id", "notifications", ["station_id", "action", "id"]
    )
    op.create_index(
        "ix_notifications_station_id_request_id", "notifications", ["station_id", "request_id"]
    )

    op.create_table(
        "frame_log",
        sa.Column("id", _AUTOINCREMENT_ID, nullable=False),
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("message_type", sa.SmallInteger(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("connection_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_frame_log"),
    )
    op.create_index("ix_frame_log_station_id_id", "frame_log", ["station_id", "id"])


def downgrade() -> None:
    for table in (
        "frame_log",
        "notifications",
        "variables",
        "meter_samples",
        "transaction_events",
        "transactions",
        "id_tokens",
        "status_history",
        "connector_status",
        "stations",
    ):
        # Dropping a table drops its indexes with it, on both databases.
        op.drop_table(table)
