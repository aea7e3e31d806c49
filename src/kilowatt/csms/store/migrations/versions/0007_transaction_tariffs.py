"""The tariffs in force for each transaction: the first and every change (I12).

Written by hand and frozen, as 0001.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "transaction_tariffs",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("transaction_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tariff_id", sa.String(), nullable=False),
        sa.Column("tariff", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "station_id", "transaction_id", "position", name="pk_transaction_tariffs"
        ),
    )


def downgrade() -> None:
    op.drop_table("transaction_tariffs")
