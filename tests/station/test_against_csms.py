"""The station against kilowatt's CSMS over real sockets on 127.0.0.1: boot, authorize, a full
transaction with meter values and energy, remote start/stop, variables, reset, offline queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kilowatt.clock import SystemClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.config import Settings
from kilowatt.csms.pki import CertificateAuthority
from kilowatt.csms.store import IdTokenRecord, StationRecord
from kilowatt.csms.store.sql import SqlStore, open_store
from kilowatt.messages import v201
from kilowatt.station.station import Station
from kilowatt.transport.server import Listener, StationServer
from tests.station.live import running_station
from tests.station.test_security import ca

PASSWORD = "correct-horse-battery"
TOKEN = v201.IdTokenType(id_token="TAG-1", type=v201.IdTokenEnumType.ISO14443)


@dataclass
class Csms_:
    csms: Csms
    store: SqlStore
    server: StationServer

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port('ws')}/ocpp"


@pytest.fixture
async def csms(tmp_path: Path) -> AsyncIterator[Csms_]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    settings = Settings(data_dir=str(tmp_path), call_timeout=5.0)
    root, root_key = ca("kilowatt test CA")
    csms = Csms(
        settings, store, SystemClock(), certificate_authority=CertificateAuthority(root, root_key)
    )
    server = StationServer([Listener("ws", "127.0.0.1")], SUBPROTOCOLS, csms.admit, csms.serve)
    await store.put_station(
        StationRecord("CS-1", security_profile=1, password_hash=hash_password(PASSWORD))
    )
    await store.put_id_token(IdTokenRecord("TAG-1", "ISO14443"))
    async with server:
        yield Csms_(csms, store, server)
    csms.close()
    await store.close()


@pytest.fixture
async def running(csms: Csms_, tmp_path: Path) -> AsyncIterator[Station]:
    async with running_station(csms.url, tmp_path / "station", password=PASSWORD) as station:
        yield station


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def test_boot_reports_the_station_and_its_connectors(csms: Csms_, running: Station) -> None:
    async def booted() -> bool:
        record = await csms.store.get_station("CS-1")
        statuses = await csms.store.connector_statuses("CS-1")
        return record is not None and record.model == "sim" and len(statuses) == 1

    await until(booted)
    (status,) = await csms.store.connector_statuses("CS-1")
    assert status.status == "Available"


async def test_a_transaction_with_meter_values_and_energy(csms: Csms_, running: Station) -> None:
    running.plug_in(1)
    assert await running.present_token(1, TOKEN)
    tx = running.evses[1].transaction
    assert tx is not None
    await asyncio.sleep(2.5)  # two TxUpdatedInterval samples
    running.unplug(1)

    async def ended() -> bool:
        record = await csms.store.get_transaction("CS-1", tx.id)
        return record is not None and record.ended_at is not None

    await until(ended)
    record = await csms.store.get_transaction("CS-1", tx.id)
    assert record is not None
    assert record.id_token == "TAG-1"
    assert record.stopped_reason == "EVDisconnected"
    assert record.seq_nos_missing == ()
    assert record.meter_last_wh is not None and record.meter_start_wh is not None
    assert record.meter_last_wh > record.meter_start_wh  # 11 kW for ~2.5 s: about 7.6 Wh
    events = await csms.store.transaction_events("CS-1", tx.id)
    assert [(e.event_type, e.trigger_reason) for e in events[:2]] == [
        ("Started", "Authorized"),
        ("Updated", "ChargingStateChanged"),
    ]
    assert events[-1].event_type == "Ended"
    assert [e.seq_no for e in events] == list(range(len(events)))
    assert len(running.queue) == 0


async def test_an_unknown_token_is_refused(csms: Csms_, running: Station) -> None:
    running.plug_in(1)
    stranger = v201.IdTokenType(id_token="NOBODY", type=v201.IdTokenEnumType.ISO14443)
    assert not await running.present_token(1, stranger)
    assert running.evses[1].transaction is None


async def test_remote_start_and_stop(csms: Csms_, running: Station) -> None:
    running.plug_in(1)
    started = await csms.csms.commands.call(
        "CS-1", v201.RequestStartTransactionRequest(id_token=TOKEN, remote_start_id=7, evse_id=1)
    )
    assert started.status == v201.RequestStartStopStatusEnumType.ACCEPTED

    async def running_tx() -> bool:
        return running.evses[1].transaction is not None

    await until(running_tx)
    tx = running.evses[1].transaction
    assert tx is not None and tx.remote_start_id == 7
    stopped = await csms.csms.commands.call(
        "CS-1", v201.RequestStopTransactionRequest(transaction_id=tx.id)
    )
    assert stopped.status == v201.RequestStartStopStatusEnumType.ACCEPTED

    async def ended() -> bool:
        record = await csms.store.get_transaction("CS-1", tx.id)
        return record is not None and record.ended_at is not None

    await until(ended)
    record = await csms.store.get_transaction("CS-1", tx.id)
    assert record is not None
    assert (record.remote_start_id, record.stopped_reason) == (7, "Remote")
    events = await csms.store.transaction_events("CS-1", tx.id)
    assert (events[0].event_type, events[0].trigger_reason) == ("Started", "RemoteStart")
    # Stopping an unknown transaction is refused.
    again = await csms.csms.commands.call(
        "CS-1", v201.RequestStopTransactionRequest(transaction_id=tx.id)
    )
    assert again.status == v201.RequestStartStopStatusEnumType.REJECTED


async def test_variables_and_base_report(csms: Csms_, running: Station) -> None:
    heartbeat = v201.ComponentType(name="OCPPCommCtrlr")
    interval = v201.VariableType(name="HeartbeatInterval")
    set_ = await csms.csms.commands.call(
        "CS-1",
        v201.SetVariablesRequest(
            set_variable_data=[
                v201.SetVariableDataType(
                    attribute_value="42", component=heartbeat, variable=interval
                )
            ]
        ),
    )
    assert set_.set_variable_result[0].attribute_status == v201.SetVariableStatusEnumType.ACCEPTED
    got = await csms.csms.commands.call(
        "CS-1",
        v201.GetVariablesRequest(
            get_variable_data=[v201.GetVariableDataType(component=heartbeat, variable=interval)]
        ),
    )
    assert got.get_variable_result[0].attribute_value == "42"
    assert running.int_var("OCPPCommCtrlr", "HeartbeatInterval") == 42

    report = await csms.csms.commands.call(
        "CS-1",
        v201.GetBaseReportRequest(request_id=5, report_base=v201.ReportBaseEnumType.FULL_INVENTORY),
    )
    assert report.status == v201.GenericDeviceModelStatusEnumType.ACCEPTED

    async def stored() -> bool:
        variables = await csms.store.variables("CS-1")
        return any(v.variable == "HeartbeatInterval" and v.value == "42" for v in variables)

    await until(stored)


async def test_reset_reboots_and_boots_again(csms: Csms_, running: Station) -> None:
    answer = await csms.csms.commands.call(
        "CS-1", v201.ResetRequest(type=v201.ResetEnumType.IMMEDIATE)
    )
    assert answer.status == v201.ResetStatusEnumType.ACCEPTED

    async def rebooted() -> bool:
        record = await csms.store.get_station("CS-1")
        return record is not None and record.boot_reason == "RemoteReset"

    await until(rebooted)
    await asyncio.wait_for(running.accepted.wait(), 10)


async def test_events_queued_offline_arrive_in_order_flagged_offline(
    csms: Csms_, running: Station
) -> None:
    running.plug_in(1)
    assert await running.present_token(1, TOKEN)
    tx = running.evses[1].transaction
    assert tx is not None
    backoff = await csms.csms.commands.call(
        "CS-1",
        v201.SetVariablesRequest(
            set_variable_data=[
                v201.SetVariableDataType(
                    attribute_value="2",
                    component=v201.ComponentType(name="OCPPCommCtrlr"),
                    variable=v201.VariableType(name="RetryBackOffWaitMinimum"),
                )
            ]
        ),
    )
    assert backoff.set_variable_result[0].attribute_status == "Accepted"
    connection = running.connection
    assert connection is not None
    await connection.close()  # the link drops; the station reconnects after its back-off

    async def offline() -> bool:
        return not running.accepted.is_set()

    await until(offline)
    running.unplug(1)  # ends the transaction while offline
    assert len(running.queue) >= 1

    async def ended() -> bool:
        record = await csms.store.get_transaction("CS-1", tx.id)
        return record is not None and record.ended_at is not None

    await until(ended)
    events = await csms.store.transaction_events("CS-1", tx.id)
    assert [e.seq_no for e in events] == list(range(len(events)))
    assert events[-1].event_type == "Ended"
    assert events[-1].offline
    assert not events[0].offline
