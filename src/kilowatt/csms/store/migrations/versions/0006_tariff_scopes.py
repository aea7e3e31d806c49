"""Tariffs may also apply to sites and to single EVSEs.

Written by hand and frozen, as 0001.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("tariffs") as table:
        table.add_column(sa.Column("site_ids", sa.JSON(), nullable=True))
        table.add_column(sa.Column("evse_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tariffs") as table:
        table.drop_column("evse_ids")
        table.drop_column("site_ids")
