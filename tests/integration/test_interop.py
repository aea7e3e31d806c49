"""Other implementations against kilowatt's CSMS: the PyPI ocpp package, and test-ocpp."""

from __future__ import annotations

import asyncio
import base64
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import websockets
from ocpp.v201 import ChargePoint, call

from kilowatt.clock import SystemClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.config import Settings
from kilowatt.csms.store import IdTokenRecord, StationRecord
from kilowatt.csms.store.sql import SqlStore, open_store
from kilowatt.transport.server import Listener, StationServer

PASSWORD = "interop-password-16"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, SqlStore]]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    await store.put_station(StationRecord("PEER-1", password_hash=hash_password(PASSWORD)))
    await store.put_id_token(IdTokenRecord("DEADBEEF", "ISO14443"))
    csms = Csms(Settings(data_dir=str(tmp_path)), store, SystemClock())
    server = StationServer([Listener("ws", "127.0.0.1")], SUBPROTOCOLS, csms.admit, csms.serve)
    async with server:
        yield f"ws://127.0.0.1:{server.port('ws')}/ocpp", store
    await store.close()


async def test_a_station_built_on_the_ocpp_package(served: tuple[str, SqlStore]) -> None:
    url, store = served
    auth = base64.b64encode(f"PEER-1:{PASSWORD}".encode()).decode()
    async with websockets.connect(
        f"{url}/PEER-1",
        subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Basic {auth}"},
    ) as ws:
        station = ChargePoint("PEER-1", ws)
        runner = asyncio.create_task(station.start())
        boot = await station.call(
            call.BootNotification(
                charging_station={"model": "Peer", "vendor_name": "ocpp"}, reason="PowerUp"
            )
        )
        assert boot.status == "Accepted"
        token = {"id_token": "DEADBEEF", "type": "ISO14443"}
        authorized = await station.call(call.Authorize(id_token=token))
        assert authorized.id_token_info["status"] == "Accepted"
        now = datetime.now(UTC).isoformat()
        for seq, (kind, wh) in enumerate([("Started", 100), ("Updated", 900), ("Ended", 1600)]):
            await station.call(
                call.TransactionEvent(
                    event_type=kind,
                    timestamp=now,
                    trigger_reason="MeterValuePeriodic",
                    seq_no=seq,
                    transaction_info={"transaction_id": "OCPP-TX"},
                    id_token=token,
                    meter_value=[{"timestamp": now, "sampled_value": [{"value": wh}]}],
                )
            )
        runner.cancel()
    tx = await store.get_transaction("PEER-1", "OCPP-TX")
    assert tx is not None and tx.energy_wh == 1500


async def _test_ocpp(url: str, password: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("test-ocpp")),
        url,
        "PEER-1",
        "--ocpp",
        "2.0.1",
        "--password",
        password,
        "--timeout",
        "10",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_test_ocpp_tool_succeeds_on_profile_1_and_fails_on_a_wrong_password(
    served: tuple[str, SqlStore],
) -> None:
    url, _ = served
    code, output = await _test_ocpp(url, PASSWORD)
    assert code == 0 and "BootNotification status: Accepted" in output, output
    code, output = await _test_ocpp(url, "not-the-password")
    assert code != 0 and "HTTP 401" in output, output
