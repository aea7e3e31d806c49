"""kill -9 of the CSMS in the middle of a stream of TransactionEvents loses nothing acknowledged.

Stations stream events; the CSMS process is killed without warning; it is started again on the
same database; the stations reconnect and resend every event not acknowledged, as OCPP's offline
queue does (E12). Every acknowledged event must be in the database exactly once, and at the end
every event sent must be there exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from kilowatt.transport.client import ConnectError, connect

STATIONS = 20
EVENTS = 40  # per station: Started, Updated..., Ended
PASSWORD = "crash-test-password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _start(data_dir: Path, ocpp_port: int, api_port: int) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KILOWATT_OCPP_HOST": "127.0.0.1",
        "KILOWATT_OCPP_PORT": str(ocpp_port),
        "KILOWATT_API_PORT": str(api_port),
        "KILOWATT_DATA_DIR": str(data_dir),
        "KILOWATT_AUTO_REGISTER": "true",
        "KILOWATT_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kilowatt", "csms", env=env, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while b"OCPP listening on" not in await process.stdout.readline():
            assert process.returncode is None, "the CSMS stopped at start-up"
    return process


def _event(station: int, seq: int) -> str:
    kind = "Started" if seq == 0 else "Ended" if seq == EVENTS - 1 else "Updated"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    payload = {
        "eventType": kind,
        "timestamp": now,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": f"TX-{station}"},
        "meterValue": [{"timestamp": now, "sampledValue": [{"value": 1000.0 + 10 * seq}]}],
    }
    return json.dumps([2, f"{station}-{seq}", "TransactionEvent", payload])


async def _stream(url: str, station: int, acknowledged: set[int]) -> None:
    """Send the station's events from the first unacknowledged one; stop on connection loss."""
    station_id = f"CRASH-{station}"
    try:
        ws = await connect(url, station_id, password=PASSWORD, ping_interval=None)
    except (ConnectError, OSError):
        return
    try:
        boot = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
        await ws.send(json.dumps([2, "boot", "BootNotification", boot]))
        await ws.recv()
        for seq in range(EVENTS):
            if seq in acknowledged:
                continue
            await ws.send(_event(station, seq))
            answer = json.loads(await ws.recv())
            if answer[0] == 3:
                acknowledged.add(seq)
    except Exception:  # the CSMS died under us: what was acknowledged stays acknowledged
        return
    finally:
        await ws.close()


def _stored(database: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(database) as db:
        return list(db.execute("select station_id, transaction_id, seq_no from transaction_events"))


async def test_kill_9_loses_no_acknowledged_event(tmp_path: Path) -> None:
    ocpp_port, api_port = _free_port(), _free_port()
    url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
    acknowledged: list[set[int]] = [set() for _ in range(STATIONS)]

    process = await _start(tmp_path, ocpp_port, api_port)
    streams = [asyncio.create_task(_stream(url, i, acknowledged[i])) for i in range(STATIONS)]
    # Kill it mid-stream: once about a third of the events are acknowledged.
    async with asyncio.timeout(60):
        while sum(map(len, acknowledged)) < STATIONS * EVENTS // 3:
            await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    await asyncio.gather(*streams)
    before_restart = [set(a) for a in acknowledged]
    assert 0 < sum(map(len, before_restart)) < STATIONS * EVENTS

    database = tmp_path / "kilowatt.db"
    stored = _stored(database)
    assert len(stored) == len(set(stored)), "an event is stored twice"
    for i, acked in enumerate(before_restart):
        kept = {seq for sid, _, seq in stored if sid == f"CRASH-{i}"}
        assert acked <= kept, f"station {i} lost acknowledged events {sorted(acked - kept)}"

    process = await _start(tmp_path, ocpp_port, api_port)
    try:
        await asyncio.gather(*(_stream(url, i, acknowledged[i]) for i in range(STATIONS)))
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    stored = _stored(database)
    assert len(stored) == len(set(stored))
    assert len(stored) == STATIONS * EVENTS
    assert all(len(a) == EVENTS for a in acknowledged)
