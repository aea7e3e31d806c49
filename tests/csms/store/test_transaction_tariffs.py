"""The tariffs in force for a transaction (I12), in SqlStore on SQLite and PostgreSQL."""

from __future__ import annotations

from kilowatt.csms.store import TransactionTariffRecord
from kilowatt.csms.store.sql import SqlStore
from tests.csms.store.factories import at


async def test_a_transactions_tariffs_come_back_by_position_and_stay_its_own(
    store: SqlStore,
) -> None:
    change = TransactionTariffRecord("CS1", "tx1", 1, at(30), "night", '{"tariffId":"night"}')
    first = TransactionTariffRecord("CS1", "tx1", 0, at(0), "day", '{"tariffId":"day"}')
    other = TransactionTariffRecord("CS1", "tx2", 0, at(5), "day", '{"tariffId":"day"}')
    for record in (change, first, other):
        await store.put_transaction_tariff(record)
    assert await store.transaction_tariffs("CS1", "tx1") == [first, change]
    assert await store.transaction_tariffs("CS1", "tx2") == [other]
    assert await store.transaction_tariffs("CS2", "tx1") == []


async def test_a_position_put_again_is_replaced(store: SqlStore) -> None:
    await store.put_transaction_tariff(TransactionTariffRecord("CS1", "tx", 0, at(0), "a", "{}"))
    replaced = TransactionTariffRecord("CS1", "tx", 0, at(1), "b", '{"tariffId":"b"}')
    await store.put_transaction_tariff(replaced)
    assert await store.transaction_tariffs("CS1", "tx") == [replaced]
