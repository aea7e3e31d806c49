"""Every functional block, station against kilowatt's CSMS over real sockets on 127.0.0.1.

Each test sends the CSMS-initiated request through the CSMS's command bus (as the REST API
does), checks the station's answer, and where the block goes on with station-initiated
messages, checks what the CSMS stored of them.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from kilowatt.messages import Request, v201
from kilowatt.station import firmware, logs
from kilowatt.station.station import Station
from tests.station.test_against_csms import TOKEN, Csms_, csms, running, until

__all__ = ["csms", "running"]  # the fixtures, imported for pytest


async def call(csms: Csms_, request: Request[Any]) -> Any:
    return await asyncio.wait_for(csms.csms.commands.call("CS-1", request), 10)


async def notified(csms: Csms_, action: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until the CSMS stored ``count`` notifications of ``action``; return their
    payloads, oldest first."""
    found: list[Any] = []

    async def enough() -> bool:
        nonlocal found
        found = await csms.store.notifications("CS-1", action=action)
        return len(found) >= count

    await until(enough)
    return [json.loads(notification.payload) for notification in reversed(found)]


async def test_a_clear_cache_and_local_list(csms: Csms_, running: Station) -> None:
    cleared = await call(csms, v201.ClearCacheRequest())
    assert cleared.status == v201.ClearCacheStatusEnumType.ACCEPTED
    sent = await call(
        csms,
        v201.SendLocalListRequest(
            version_number=4,
            update_type=v201.UpdateEnumType.FULL,
            local_authorization_list=[
                v201.AuthorizationData(
                    id_token=TOKEN,
                    id_token_info=v201.IdTokenInfoType(
                        status=v201.AuthorizationStatusEnumType.ACCEPTED
                    ),
                )
            ],
        ),
    )
    assert sent.status == v201.SendLocalListStatusEnumType.ACCEPTED
    version = await call(csms, v201.GetLocalListVersionRequest())
    assert version.version_number == 4
    # Offline, the local list authorizes (C13): the transaction starts and waits in the queue.
    outage = asyncio.create_task(running.go_offline(30))

    async def offline() -> bool:
        return not running.accepted.is_set()

    await until(offline)
    running.plug_in(1)
    assert await running.present_token(1, TOKEN)
    started = next(item.request for item in running.queue)
    assert started.event_type == v201.TransactionEventEnumType.STARTED
    assert started.offline is True
    outage.cancel()


async def test_f_trigger_and_unlock(csms: Csms_, running: Station) -> None:
    heartbeat = await call(
        csms, v201.TriggerMessageRequest(requested_message=v201.MessageTriggerEnumType.HEARTBEAT)
    )
    assert heartbeat.status == v201.TriggerMessageStatusEnumType.ACCEPTED

    async def beat() -> bool:
        session = csms.csms.registry.get("CS-1")
        return session is not None and session.last_heartbeat_at is not None

    await until(beat)
    unlocked = await call(csms, v201.UnlockConnectorRequest(evse_id=1, connector_id=1))
    assert unlocked.status == v201.UnlockStatusEnumType.UNLOCKED
    unknown = await call(csms, v201.UnlockConnectorRequest(evse_id=9, connector_id=1))
    assert unknown.status == v201.UnlockStatusEnumType.UNKNOWN_CONNECTOR


async def test_g_change_availability_shows_in_the_status(csms: Csms_, running: Station) -> None:
    answer = await call(
        csms,
        v201.ChangeAvailabilityRequest(
            operational_status=v201.OperationalStatusEnumType.INOPERATIVE,
            evse=v201.EVSEType(id=1),
        ),
    )
    assert answer.status == v201.ChangeAvailabilityStatusEnumType.ACCEPTED

    async def unavailable() -> bool:
        statuses = await csms.store.connector_statuses("CS-1")
        return [s.status for s in statuses] == ["Unavailable"]

    await until(unavailable)


async def test_h_a_reservation_expires(csms: Csms_, running: Station) -> None:
    answer = await call(
        csms,
        v201.ReserveNowRequest(
            id=3,
            expiry_date_time=running.clock.now() + timedelta(seconds=1),
            id_token=TOKEN,
            evse_id=1,
        ),
    )
    assert answer.status == v201.ReserveNowStatusEnumType.ACCEPTED

    async def reserved() -> bool:
        statuses = await csms.store.connector_statuses("CS-1")
        return [s.status for s in statuses] == ["Reserved"]

    await until(reserved)
    (update,) = await notified(csms, "ReservationStatusUpdate")
    assert update["reservationUpdateStatus"] == "Expired"


async def test_i_cost_updated(csms: Csms_, running: Station) -> None:
    answer = await call(csms, v201.CostUpdatedRequest(total_cost=3.5, transaction_id="tx-9"))
    assert isinstance(answer, v201.CostUpdatedResponse)
    assert running.cost["tx-9"] == 3.5


async def test_k_a_profile_limits_the_power_the_meter_shows(csms: Csms_, running: Station) -> None:
    running.plug_in(1)
    assert await running.present_token(1, TOKEN)
    tx = running.evses[1].transaction
    assert tx is not None
    profile = v201.ChargingProfileType(
        id=1,
        stack_level=0,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.TX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.RELATIVE,
        transaction_id=tx.id,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                charging_rate_unit=v201.ChargingRateUnitEnumType.W,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=0, limit=4000.0)
                ],
            )
        ],
    )
    answer = await call(csms, v201.SetChargingProfileRequest(evse_id=1, charging_profile=profile))
    assert answer.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert running.evses[1].electric.power_w == 4000.0
    composite = await call(
        csms,
        v201.GetCompositeScheduleRequest(
            duration=60, evse_id=1, charging_rate_unit=v201.ChargingRateUnitEnumType.W
        ),
    )
    assert composite.status == v201.GenericStatusEnumType.ACCEPTED
    assert composite.schedule.charging_schedule_period[0].limit == 4000.0

    async def limited_reading() -> bool:
        samples = await csms.store.meter_samples("CS-1", transaction_id=tx.id)
        return any(s.measurand == "Power.Active.Import" and s.value == 4000.0 for s in samples)

    await until(limited_reading)
    events = await csms.store.transaction_events("CS-1", tx.id)
    assert "ChargingRateChanged" in [e.trigger_reason for e in events]


async def test_l_firmware_update_reports_each_step(
    csms: Csms_, running: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(firmware, "DOWNLOAD_SECONDS", 0.2)  # simulated durations, shortened
    monkeypatch.setattr(firmware, "INSTALL_SECONDS", 0.2)
    answer = await call(
        csms,
        v201.UpdateFirmwareRequest(
            request_id=11,
            firmware=v201.FirmwareType(
                location="https://firmware.example/v2.bin",
                retrieve_date_time=running.clock.now(),
            ),
        ),
    )
    assert answer.status == v201.UpdateFirmwareStatusEnumType.ACCEPTED
    reports = await notified(csms, "FirmwareStatusNotification", 3)
    statuses = [n["status"] for n in reports]
    assert statuses[:3] == ["Downloading", "Downloaded", "Installing"]

    async def installed() -> bool:
        found = await csms.store.notifications("CS-1", action="FirmwareStatusNotification")
        return any(json.loads(n.payload)["status"] == "Installed" for n in found)

    await until(installed)  # L01.FR.15: after the reboot into the new firmware
    record = await csms.store.get_station("CS-1")
    assert record is not None and record.boot_reason == "FirmwareUpdate"


async def test_m_certificates_signed_by_the_csms(csms: Csms_, running: Station) -> None:
    answer = await call(
        csms,
        v201.TriggerMessageRequest(
            requested_message=v201.MessageTriggerEnumType.SIGN_CHARGING_STATION_CERTIFICATE
        ),
    )
    assert answer.status == v201.TriggerMessageStatusEnumType.ACCEPTED

    use = v201.CertificateSigningUseEnumType.CHARGING_STATION_CERTIFICATE

    async def signed() -> bool:
        return running.certificates.chain(use) is not None

    await until(signed)
    chain = running.certificates.chain(use)
    assert chain is not None and "BEGIN CERTIFICATE" in chain


async def test_n_logs_and_monitoring_events(
    csms: Csms_, running: Station, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "UPLOAD_SECONDS", 0.2)
    answer = await call(
        csms,
        v201.GetLogRequest(
            log=v201.LogParametersType(remote_location="https://logs.example/upload"),
            log_type=v201.LogEnumType.DIAGNOSTICS_LOG,
            request_id=21,
        ),
    )
    assert answer.status == v201.LogStatusEnumType.ACCEPTED
    reports = await notified(csms, "LogStatusNotification", 2)
    assert [n["status"] for n in reports][-1] == "Uploaded"

    monitor = await call(
        csms,
        v201.SetVariableMonitoringRequest(
            set_monitoring_data=[
                v201.SetMonitoringDataType(
                    value=1.0,
                    type=v201.MonitorEnumType.DELTA,
                    severity=5,
                    component=v201.ComponentType(name="EVSE", evse=v201.EVSEType(id=1)),
                    variable=v201.VariableType(name="AvailabilityState"),
                )
            ]
        ),
    )
    assert monitor.set_monitoring_result[0].status == v201.SetMonitoringStatusEnumType.ACCEPTED


async def test_o_display_messages(csms: Csms_, running: Station) -> None:
    message = v201.MessageInfoType(
        id=5,
        priority=v201.MessagePriorityEnumType.NORMAL_CYCLE,
        message=v201.MessageContentType(
            format=v201.MessageFormatEnumType.UTF8, content="Welcome", language="en"
        ),
    )
    answer = await call(csms, v201.SetDisplayMessageRequest(message=message))
    assert answer.status == v201.DisplayMessageStatusEnumType.ACCEPTED
    listed = await call(csms, v201.GetDisplayMessagesRequest(request_id=31))
    assert listed.status == v201.GetDisplayMessagesStatusEnumType.ACCEPTED
    (report,) = await notified(csms, "NotifyDisplayMessages")
    assert report["messageInfo"][0]["message"]["content"] == "Welcome"
    assert [shown.id for shown in running.display.shown()] == [5]
    cleared = await call(csms, v201.ClearDisplayMessageRequest(id=5))
    assert cleared.status == v201.ClearMessageStatusEnumType.ACCEPTED
    assert running.display.shown() == []
    again = await call(csms, v201.ClearDisplayMessageRequest(id=5))
    assert again.status == v201.ClearMessageStatusEnumType.UNKNOWN
    none_left = await call(csms, v201.GetDisplayMessagesRequest(request_id=32))
    assert none_left.status == v201.GetDisplayMessagesStatusEnumType.UNKNOWN


async def test_p_data_transfer_to_an_unknown_vendor(csms: Csms_, running: Station) -> None:
    answer = await call(csms, v201.DataTransferRequest(vendor_id="org.example"))
    assert answer.status == v201.DataTransferStatusEnumType.UNKNOWN_VENDOR_ID
