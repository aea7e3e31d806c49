"""Every Store method of SqlStore, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kilowatt.csms.store import (
    ConnectorStatus,
    IdTokenRecord,
    TransactionRecord,
    VariableRecord,
)
from kilowatt.csms.store.sql import SqlStore
from tests.csms.store.factories import (
    at,
    change,
    event,
    frame,
    notification,
    sample,
    station,
    transaction,
)

# -- stations ------------------------------------------------------------------------------------


async def test_a_station_is_stored_whole_and_replaced_whole(store: SqlStore) -> None:
    assert await store.get_station("CS-1") is None
    first = station()
    await store.put_station(first)
    assert await store.get_station("CS-1") == first

    second = dataclasses.replace(first, registration_status="Pending", password_hash=None)
    await store.put_station(second)
    assert await store.get_station("CS-1") == second


async def test_stations_are_listed_by_id_a_page_at_a_time(store: SqlStore) -> None:
    for name in ["CS-3", "CS-1", "CS-5", "CS-2", "CS-4"]:
        await store.put_station(station(name))

    page = await store.list_stations(offset=1, limit=3)

    assert [s.station_id for s in page] == ["CS-2", "CS-3", "CS-4"]
    assert len(await store.list_stations()) == 5


async def test_delete_station_says_whether_there_was_one(store: SqlStore) -> None:
    await store.put_station(station("CS-1"))
    await store.put_station(station("CS-2"))

    assert await store.delete_station("CS-1") is True
    assert await store.delete_station("CS-1") is False
    assert await store.get_station("CS-1") is None
    assert await store.get_station("CS-2") is not None


async def test_datetimes_come_back_timezone_aware_in_utc(store: SqlStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 14, 30, 0, 5, tzinfo=plus_two)
    await store.put_station(station(boot_at=local, created_at=None))

    stored = await store.get_station("CS-1")

    assert stored is not None
    assert stored.boot_at == local
    assert stored.boot_at is not None and stored.boot_at.tzinfo is UTC
    assert stored.boot_at.hour == 12 and stored.boot_at.microsecond == 5
    assert stored.created_at is None


async def test_a_naive_datetime_is_refused(store: SqlStore) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await store.put_station(station(boot_at=datetime(2025, 6, 1, 12)))
    assert await store.get_station("CS-1") is None


# -- connectors ----------------------------------------------------------------------------------


async def test_status_changes_keep_history_and_the_latest_per_connector(store: SqlStore) -> None:
    changes = [
        change(1, "Available", 0),
        change(2, "Available", 1),
        change(1, "Occupied", 2),
        change(1, "Reserved", 3, evse_id=2),
        change(1, "Faulted", 4),
    ]
    for item in changes:
        await store.record_status(item)
    await store.record_status(dataclasses.replace(change(1, "Available", 0), station_id="CS-2"))

    assert await store.connector_statuses("CS-1") == [
        ConnectorStatus("CS-1", 1, 1, "Faulted", at(4)),
        ConnectorStatus("CS-1", 1, 2, "Available", at(1)),
        ConnectorStatus("CS-1", 2, 1, "Reserved", at(3)),
    ]
    assert await store.status_history("CS-1") == changes[::-1]
    assert await store.status_history("CS-1", limit=2) == changes[:2:-1]


async def test_a_status_sent_late_stays_out_of_the_latest(store: SqlStore) -> None:
    await store.record_status(change(1, "Occupied", 10))
    await store.record_status(change(1, "Available", 5))  # queued while offline, sent after

    assert [c.status for c in await store.connector_statuses("CS-1")] == ["Occupied"]
    assert [c.status for c in await store.status_history("CS-1")] == ["Occupied", "Available"]


# -- id tokens -----------------------------------------------------------------------------------


async def test_id_tokens_are_keyed_by_token_and_type(store: SqlStore) -> None:
    card = IdTokenRecord(
        "04A2B3C4",
        "ISO14443",
        status="Accepted",
        group_id_token="FLEET",
        expiry=at(3600),
        language1="en",
        language2="de",
        personal_message={"format": "UTF8", "content": "Welcome", "language": "en"},
    )
    same_number = IdTokenRecord("04A2B3C4", "Central", status="Blocked")
    await store.put_id_token(card)
    await store.put_id_token(same_number)

    assert await store.get_id_token("04A2B3C4", "ISO14443") == card
    assert await store.get_id_token("04A2B3C4", "Central") == same_number
    assert await store.get_id_token("04A2B3C4", "eMAID") is None

    expired = dataclasses.replace(card, status="Expired", personal_message=None)
    await store.put_id_token(expired)
    assert await store.get_id_token("04A2B3C4", "ISO14443") == expired


async def test_id_tokens_are_listed_and_deleted(store: SqlStore) -> None:
    for token, type_ in [("B", "Central"), ("A", "ISO14443"), ("A", "Central"), ("C", "Local")]:
        await store.put_id_token(IdTokenRecord(token, type_))

    listed = [(t.id_token, t.type) for t in await store.list_id_tokens(offset=1, limit=2)]
    assert listed == [("A", "ISO14443"), ("B", "Central")]

    assert await store.delete_id_token("A", "Central") is True
    assert await store.delete_id_token("A", "Central") is False
    assert [(t.id_token, t.type) for t in await store.list_id_tokens()] == [
        ("A", "ISO14443"),
        ("B", "Central"),
        ("C", "Local"),
    ]


# -- transactions --------------------------------------------------------------------------------


async def test_a_transaction_event_stores_event_transaction_and_samples(store: SqlStore) -> None:
    started = transaction(0, seq_nos_missing=(3, 5), offline=True)
    samples = [sample(0, 1000.0), sample(0, 11.0, measurand="Power.Active.Import", unit="W")]

    assert await store.record_transaction_event(event(0), started, samples) is True

    assert await store.get_transaction("CS-1", "tx-1") == started
    assert await store.transaction_events("CS-1", "tx-1") == [event(0)]
    assert await store.meter_samples("CS-1", transaction_id="tx-1") == samples
    assert await store.get_transaction("CS-1", "tx-2") is None


async def test_each_event_replaces_the_transaction(store: SqlStore) -> None:
    await store.record_transaction_event(event(0), transaction(0), [sample(0, 1000.0)])
    ended = transaction(1, ended_at=at(1), stopped_reason="Local", charging_state="Idle")
    await store.record_transaction_event(event(1, event_type="Ended"), ended, [sample(1, 1010.0)])

    stored = await store.get_transaction("CS-1", "tx-1")

    assert stored == ended
    assert stored is not None and stored.energy_wh == 10.0
    assert [e.seq_no for e in await store.transaction_events("CS-1", "tx-1")] == [0, 1]


async def test_a_replayed_event_is_stored_once(store: SqlStore) -> None:
    await store.record_transaction_event(event(0), transaction(0), [sample(0, 1000.0)])
    replay = event(0, payload='{"replayed": true}', received_at=at(99))

    new = await store.record_transaction_event(replay, transaction(0, id_token="other"), [])
    also_new = await store.record_transaction_event(replay, transaction(0), [sample(0, 5.0)])

    assert (new, also_new) == (False, False)
    assert await store.transaction_events("CS-1", "tx-1") == [event(0)]
    assert await store.get_transaction("CS-1", "tx-1") == transaction(0)
    assert await store.meter_samples("CS-1") == [sample(0, 1000.0)]


async def test_the_same_seq_no_of_another_transaction_is_new(store: SqlStore) -> None:
    assert await store.record_transaction_event(event(0), transaction(0), [])
    assert await store.record_transaction_event(event(0, "tx-2"), transaction(0, "tx-2"), [])
    assert await store.record_transaction_event(
        event(0, station_id="CS-2"), transaction(0, station_id="CS-2"), []
    )


async def test_an_event_and_the_transaction_of_another_are_refused(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="another"):
        await store.record_transaction_event(event(0), transaction(0, "tx-2"), [])
    assert await store.transaction_events("CS-1", "tx-1") == []


async def test_transactions_are_listed_newest_first_by_station_and_state(
    store: SqlStore,
) -> None:
    await store.record_transaction_event(
        event(0, "a"), transaction(0, "a", started_at=at(10), ended_at=at(20)), []
    )
    await store.record_transaction_event(event(0, "b"), transaction(0, "b", started_at=at(30)), [])
    await store.record_transaction_event(
        event(0, "c", "CS-2"), transaction(0, "c", "CS-2", started_at=at(40)), []
    )
    await store.record_transaction_event(
        event(0, "d"), transaction(0, "d", started_at=None, ended_at=at(5)), []
    )

    def ids(found: list[TransactionRecord]) -> list[str]:
        return [t.transaction_id for t in found]

    assert ids(await store.list_transactions()) == ["c", "b", "a", "d"]
    assert ids(await store.list_transactions(station_id="CS-1")) == ["b", "a", "d"]
    assert ids(await store.list_transactions(active=True)) == ["c", "b"]
    assert ids(await store.list_transactions(station_id="CS-1", active=False)) == ["a", "d"]
    assert ids(await store.list_transactions(offset=1, limit=2)) == ["b", "a"]


# -- meter values --------------------------------------------------------------------------------


async def test_meter_samples_come_oldest_first_filtered(store: SqlStore) -> None:
    late = sample(20, 1020.0)
    early = sample(10, 1010.0, phase="L1", multiplier=None, location=None)
    outside = sample(15, 230.0, transaction_id=None, measurand="Voltage", unit="V")
    other_station = sample(10, 1.0, station_id="CS-2")
    await store.record_meter_values([late, early, outside, other_station])
    await store.record_meter_values([])

    assert await store.meter_samples("CS-1") == [early, outside, late]
    assert await store.meter_samples("CS-1", transaction_id="tx-1") == [early, late]
    assert await store.meter_samples("CS-1", since=at(15)) == [outside, late]
    since_in_paris = at(15).astimezone(timezone(timedelta(hours=2)))
    assert await store.meter_samples("CS-1", since=since_in_paris, limit=1) == [outside]


# -- device model --------------------------------------------------------------------------------


async def test_variables_are_replaced_by_their_whole_key(store: SqlStore) -> None:
    interval = VariableRecord(
        "CS-1",
        "OCPPCommCtrlr",
        "HeartbeatInterval",
        value="300",
        mutability="ReadWrite",
        persistent=True,
        constant=False,
        characteristics={"dataType": "integer", "supportsMonitoring": True, "unit": "s"},
        updated_at=at(0),
    )
    target = dataclasses.replace(interval, attribute_type="Target", value="60")
    connector = VariableRecord(
        "CS-1", "Connector", "Available", evse_id=1, connector_id=1, value="true"
    )
    instance = dataclasses.replace(connector, component_instance="A", variable_instance="x")
    elsewhere = dataclasses.replace(interval, station_id="CS-2")
    await store.put_variables([interval, target, connector, instance, elsewhere])
    await store.put_variables([])

    changed = dataclasses.replace(interval, value="120", persistent=None, characteristics=None)
    await store.put_variables([changed])

    assert await store.variables("CS-1") == [connector, instance, changed, target]
    assert await store.variables("CS-2") == [elsewhere]


# -- notifications -------------------------------------------------------------------------------


async def test_notifications_come_newest_first_filtered(store: SqlStore) -> None:
    await store.record_notification(notification("SecurityEventNotification", seconds=1))
    await store.record_notification(notification("NotifyReport", request_id=7, seconds=2))
    await store.record_notification(notification("NotifyReport", request_id=8, seconds=3))
    await store.record_notification(notification("NotifyReport", request_id=7, seconds=4))
    await store.record_notification(notification("NotifyReport", station_id="CS-2"))

    found = await store.notifications("CS-1")

    assert [n.payload for n in found] == ['{"n": 4}', '{"n": 3}', '{"n": 2}', '{"n": 1}']
    assert all(n.id is not None for n in found)
    assert found[0] == dataclasses.replace(
        notification("NotifyReport", 7, seconds=4), id=found[0].id
    )
    report = await store.notifications("CS-1", action="NotifyReport", request_id=7)
    assert [n.payload for n in report] == ['{"n": 4}', '{"n": 2}']
    assert len(await store.notifications("CS-1", action="NotifyReport", limit=1)) == 1
    assert await store.notifications("CS-1", action="BootNotification") == []


# -- the message log -----------------------------------------------------------------------------


async def test_frames_are_read_back_in_the_order_logged(store: SqlStore) -> None:
    entries = [frame(n, direction="in" if n % 2 else "out") for n in range(10)]
    for entry in entries:
        store.log_frame(entry)
    store.log_frame(frame(3, station_id="CS-2"))
    await store.flush()

    found = await store.frames("CS-1")

    assert [dataclasses.replace(f, id=None) for f in found] == entries
    ids = [f.id or 0 for f in found]
    assert 0 not in ids and ids == sorted(ids)
    since = await store.frames("CS-1", since_ms=entries[4].at_ms, limit=3)
    assert [f.message_id for f in since] == ["m4", "m5", "m6"]
