"""Records for the store's tests, with every field set unless a test says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kilowatt.csms.store import (
    FrameLogEntry,
    MeterSample,
    Notification,
    StationRecord,
    StatusChange,
    TransactionEventRecord,
    TransactionRecord,
)

T0 = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def station(station_id: str = "CS-1", **changes: Any) -> StationRecord:
    fields: dict[str, Any] = {
        "security_profile": 2,
        "password_hash": "pbkdf2$x",
        "registration_status": "Accepted",
        "heartbeat_interval": 60,
        "boot_status": "Accepted",
        "boot_at": at(1),
        "boot_reason": "PowerUp",
        "vendor_name": "kilowatt",
        "model": "KW-22",
        "serial_number": "KW-0000001",
        "firmware_version": "1.4.2",
        "modem_iccid": "89440000000000000001",
        "modem_imsi": "262010000000001",
        "last_heartbeat_at": at(2),
        "firmware_status": "Installed",
        "created_at": at(0),
    }
    return StationRecord(station_id, **{**fields, **changes})


def event(
    seq_no: int, transaction_id: str = "tx-1", station_id: str = "CS-1", **changes: Any
) -> TransactionEventRecord:
    fields: dict[str, Any] = {
        "event_type": "Started" if seq_no == 0 else "Updated",
        "trigger_reason": "MeterValuePeriodic",
        "timestamp": at(seq_no),
        "offline": False,
        "payload": f'{{"seqNo": {seq_no}}}',
        "received_at": at(seq_no + 0.5),
    }
    return TransactionEventRecord(station_id, transaction_id, seq_no, **{**fields, **changes})


def transaction(
    seq_no: int, transaction_id: str = "tx-1", station_id: str = "CS-1", **changes: Any
) -> TransactionRecord:
    """The transaction as it stands after its event ``seq_no``."""
    fields: dict[str, Any] = {
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "04A2B3C4",
        "id_token_type": "ISO14443",
        "started_at": at(0),
        "charging_state": "Charging",
        "remote_start_id": 7,
        "meter_start_wh": 1000.0,
        "meter_last_wh": 1000.0 + 10 * seq_no,
        "last_seq_no": seq_no,
        "seq_nos_missing": (),
        "event_count": seq_no + 1,
        "updated_at": at(seq_no + 0.5),
    }
    return TransactionRecord(station_id, transaction_id, **{**fields, **changes})


def sample(
    seconds: float,
    value: float,
    transaction_id: str | None = "tx-1",
    station_id: str = "CS-1",
    **changes: Any,
) -> MeterSample:
    fields: dict[str, Any] = {
        "evse_id": 1,
        "measurand": "Energy.Active.Import.Register",
        "phase": None,
        "location": "Outlet",
        "context": "Sample.Periodic",
        "unit": "Wh",
        "multiplier": 0,
    }
    return MeterSample(
        station_id,
        transaction_id=transaction_id,
        timestamp=at(seconds),
        value=value,
        **{**fields, **changes},
    )


def change(connector_id: int, status: str, seconds: float, evse_id: int = 1) -> StatusChange:
    return StatusChange("CS-1", evse_id, connector_id, status, at(seconds), at(seconds + 0.1))


def notification(
    action: str, request_id: int | None = None, station_id: str = "CS-1", seconds: float = 0
) -> Notification:
    return Notification(station_id, action, at(seconds), f'{{"n": {seconds}}}', request_id)


def frame(
    number: int, station_id: str = "CS-1", direction: str = "in", at_ms: int | None = None
) -> FrameLogEntry:
    return FrameLogEntry(
        station_id=station_id,
        at_ms=1_748_779_200_000 + number if at_ms is None else at_ms,
        direction=direction,
        message_type=2,
        message_id=f"m{number}",
        action="Heartbeat",
        text=f'[2,"m{number}","Heartbeat",{{}}]',
        connection_id="c1",
    )
