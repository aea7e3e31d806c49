"""E Transactions: assembly by transactionId and seqNo, replays, gaps, energy, baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kilowatt.csms.store import IdTokenRecord
from kilowatt.csms.transactions import TransactionState
from kilowatt.messages import v201

from .conftest import World

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
TOKEN = v201.IdTokenType(id_token="04A2B3C4", type=v201.IdTokenEnumType.ISO14443)


def event(
    seq_no: int,
    kind: str,
    minutes: int,
    wh: float | None,
    *,
    tx: str = "TX-1",
    offline: bool = False,
    context: str = "Sample.Periodic",
    with_token: bool = False,
) -> v201.TransactionEventRequest:
    fields: dict[str, object] = {}
    if wh is not None:
        fields["meter_value"] = [
            v201.MeterValueType(
                timestamp=T0 + timedelta(minutes=minutes),
                sampled_value=[
                    v201.SampledValueType(value=wh, context=v201.ReadingContextEnumType(context)),
                    v201.SampledValueType(
                        value=11.0,
                        measurand=v201.MeasurandEnumType.POWER_ACTIVE_IMPORT,
                        unit_of_measure=v201.UnitOfMeasureType(unit="kW"),
                    ),
                ],
            )
        ]
    if offline:
        fields["offline"] = True
    if with_token:
        fields["id_token"] = TOKEN
    return v201.TransactionEventRequest(
        event_type=v201.TransactionEventEnumType(kind),
        timestamp=T0 + timedelta(minutes=minutes),
        trigger_reason=v201.TriggerReasonEnumType.METER_VALUE_PERIODIC,
        seq_no=seq_no,
        transaction_info=v201.TransactionType(
            transaction_id=tx, charging_state=v201.ChargingStateEnumType.CHARGING
        ),
        evse=v201.EVSEType(id=1, connector_id=1),
        **fields,  # type: ignore[arg-type]
    )


async def test_full_transaction_with_energy(world: World) -> None:
    await world.store.put_id_token(IdTokenRecord("04A2B3C4", "ISO14443"))
    station = await world.station()
    await station.boot()
    started = await station.call(
        event(0, "Started", 0, 1000.0, context="Transaction.Begin", with_token=True)
    )
    assert started.id_token_info.status is v201.AuthorizationStatusEnumType.ACCEPTED
    await station.call(event(1, "Updated", 15, 3750.0))
    await station.call(event(2, "Ended", 30, 6500.0, context="Transaction.End"))
    tx = await world.store.get_transaction("CP-1", "TX-1")
    assert tx is not None
    assert (tx.meter_start_wh, tx.meter_last_wh, tx.energy_wh) == (1000.0, 6500.0, 5500.0)
    assert (tx.started_at, tx.ended_at) == (T0, T0 + timedelta(minutes=30))
    assert (tx.evse_id, tx.connector_id, tx.id_token, tx.last_seq_no) == (1, 1, "04A2B3C4", 2)
    samples = await world.store.meter_samples("CP-1", transaction_id="TX-1")
    assert len(samples) == 6  # two sampled values per event, every one kept


async def test_replayed_events_are_acknowledged_and_stored_once(world: World) -> None:
    station = await world.station()
    await station.boot()
    for request in (event(0, "Started", 0, 100.0), event(1, "Updated", 5, 200.0)):
        await station.call(request)
        await station.call(request)  # a station resending after a lost acknowledgement
    events = await world.store.transaction_events("CP-1", "TX-1")
    assert [e.seq_no for e in events] == [0, 1]
    assert len(await world.store.meter_samples("CP-1", transaction_id="TX-1")) == 4


async def test_replay_after_reconnect_is_stored_once(world: World) -> None:
    first = await world.station()
    await first.boot()
    await first.call(event(0, "Started", 0, 100.0))
    await first.disconnect()
    second = await world.station()
    await second.call(event(0, "Started", 0, 100.0))
    await second.call(event(1, "Ended", 10, 400.0))
    tx = await world.store.get_transaction("CP-1", "TX-1")
    assert tx is not None and tx.energy_wh == 300.0 and tx.event_count == 2


async def test_out_of_order_and_gaps(world: World) -> None:
    station = await world.station()
    await station.boot()
    await station.call(event(3, "Ended", 30, 900.0, offline=True))
    tx = await world.store.get_transaction("CP-1", "TX-1")
    assert tx is not None and tx.started_at is None and tx.ended_at is not None
    await station.call(event(0, "Started", 0, 100.0, offline=True))
    tx = await world.store.get_transaction("CP-1", "TX-1")
    assert tx is not None and tx.seq_nos_missing == (1, 2) and tx.offline
    await station.call(event(2, "Updated", 20, 700.0, offline=True))
    await station.call(event(1, "Updated", 10, 400.0, offline=True))
    tx = await world.store.get_transaction("CP-1", "TX-1")
    assert tx is not None
    assert tx.seq_nos_missing == ()
    assert (tx.started_at, tx.meter_start_wh, tx.meter_last_wh) == (T0, 100.0, 900.0)


async def test_seq_no_restarts_at_zero_for_each_transaction(world: World) -> None:
    """TC_E_53: two transactions, each from seqNo 0."""
    station = await world.station()
    await station.boot()
    for tx in ("A", "B"):
        await station.call(event(0, "Started", 0, 10.0, tx=tx))
        await station.call(event(1, "Ended", 5, 60.0, tx=tx))
    for tx in ("A", "B"):
        record = await world.store.get_transaction("CP-1", tx)
        assert record is not None and record.energy_wh == 50.0


def test_an_offline_zero_is_never_the_baseline() -> None:
    """A station that lost its register offline reports 0 at Transaction.Begin; billing the
    meter's lifetime reading as one session is what this rule prevents."""
    state = TransactionState("CP-1", "TX-1")
    state.apply(event(0, "Started", 0, 0.0, offline=True, context="Transaction.Begin"), T0)
    state.apply(event(1, "Updated", 5, 910_000.0, offline=True), T0)
    state.apply(event(2, "Ended", 10, 910_083.0), T0)
    assert state.record().energy_wh == pytest.approx(83.0)


def test_an_online_zero_is_a_baseline() -> None:
    state = TransactionState("CP-1", "TX-1")
    state.apply(event(0, "Started", 0, 0.0, context="Transaction.Begin"), T0)
    state.apply(event(1, "Ended", 10, 83.0), T0)
    assert state.record().energy_wh == 83.0


@pytest.mark.parametrize(
    ("unit", "multiplier", "value", "wh"),
    [
        ("Wh", 0, 12.5, 12.5),
        ("kWh", 0, 1.5, 1500.0),
        ("Wh", 3, 2.0, 2000.0),
        ("kWh", -1, 10.0, 1000.0),
    ],
)
def test_energy_units(unit: str, multiplier: int, value: float, wh: float) -> None:
    request = v201.TransactionEventRequest(
        event_type=v201.TransactionEventEnumType.UPDATED,
        timestamp=T0,
        trigger_reason=v201.TriggerReasonEnumType.METER_VALUE_PERIODIC,
        seq_no=0,
        transaction_info=v201.TransactionType(transaction_id="T"),
        meter_value=[
            v201.MeterValueType(
                timestamp=T0,
                sampled_value=[
                    v201.SampledValueType(
                        value=value,
                        measurand=v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER,
                        unit_of_measure=v201.UnitOfMeasureType(unit=unit, multiplier=multiplier),
                    )
                ],
            )
        ],
    )
    state = TransactionState("CP", "T")
    state.apply(request, T0)
    assert state.record().meter_last_wh == pytest.approx(wh)
