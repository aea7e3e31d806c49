"""Local authorization lists (D01): the list the CSMS keeps for each station, and the list as
the station holds it, from the updates it accepted.

Written by hand and frozen, as 0001.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "local_lists",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "holder", name="pk_local_lists"),
    )

    op.create_table(
        "local_list_entries",
        sa.Column("station_id", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("id_token", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("expiry", sa.DateTime(timezone=True), nullable=True),
        sa.Column("group_id_token", sa.String(), nullable=True),
        sa.Column("language1", sa.String(), nullable=True),
        sa.Column("language2", sa.String(), nullable=True),
        sa.Column("personal_message", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint(
            "station_id", "holder", "id_token", "type", name="pk_local_list_entries"
        ),
    )


def downgrade() -> None:
    op.drop_table("local_list_entries")
    op.drop_table("local_lists")
