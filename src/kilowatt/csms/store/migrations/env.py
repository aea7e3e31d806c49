"""Alembic's environment for the store: migrates the connection that ``migrate`` passes in.

There is no alembic.ini and no offline (SQL script) mode: ``kilowatt.csms.store.sql.migrate``
builds the Config in code and hands over a connection, already in a transaction, in
``config.attributes``; that transaction is the caller's to commit.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kilowatt.csms.store.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run the store's migrations through kilowatt.csms.store.sql.migrate")

context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
