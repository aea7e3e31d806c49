"""Smart charging (K): the charging profiles the CSMS set and those the stations reported, and
the external charging limits the stations reported.

Written by hand and frozen, as 0001.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "charging_profiles",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("profile_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("stack_level", sa.Integer(), nullable=False),
        sa.Column("charging_limit_source", sa.String(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transaction_id", sa.String(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("station_id", "source", "profile_id", name="pk_charging_profiles"),
    )

    op.create_table(
        "charging_limits",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("evse_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("charging_limit_source", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_grid_critical", sa.Boolean(), nullable=True),
        sa.Column("schedules", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint(
            "station_id", "evse_id", "charging_limit_source", name="pk_charging_limits"
        ),
    )


def downgrade() -> None:
    op.drop_table("charging_limits")
    op.drop_table("charging_profiles")
