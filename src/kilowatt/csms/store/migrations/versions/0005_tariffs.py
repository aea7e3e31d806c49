"""Tariffs: an OCPP 2.1 TariffType each, and to whom it applies.

Written by hand and frozen, as 0001.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "tariffs",
        sa.Column("tariff_id", sa.String(), nullable=False),
        sa.Column("tariff", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("station_ids", sa.JSON(), nullable=True),
        sa.Column("group_ids", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tariff_id", name="pk_tariffs"),
    )


def downgrade() -> None:
    op.drop_table("tariffs")
