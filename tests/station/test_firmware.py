"""Block L on the station: UpdateFirmware and the FirmwareStatusNotifications that follow."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from msgspec import UNSET

from kilowatt.messages import Request, v201
from kilowatt.messages.v201 import (
    FirmwareStatusEnumType as Firmware,
    MessageTriggerEnumType as Message,
    UpdateFirmwareStatusEnumType as UpdateStatus,
)
from kilowatt.rpc.errors import NotSupported
from kilowatt.station.firmware import DOWNLOAD_SECONDS, INSTALL_SECONDS, TRANSACTION_POLL_SECONDS

from .rig import T0, Rig, make_rig

LOCATION = "https://firmware.example/acme-2.0.bin"
STEP = DOWNLOAD_SECONDS + INSTALL_SECONDS


def update(
    request_id: int = 1, location: str = LOCATION, **fields: object
) -> v201.UpdateFirmwareRequest:
    firmware = v201.FirmwareType(
        location=location,
        retrieve_date_time=fields.pop("retrieve", T0),
        **fields,  # type: ignore[arg-type]
    )
    return v201.UpdateFirmwareRequest(request_id=request_id, firmware=firmware)


def statuses(rig: Rig, request_id: int | None = None) -> list[Firmware]:
    return [
        n.status
        for n in rig.of(v201.FirmwareStatusNotificationRequest)
        if request_id is None or n.request_id == request_id
    ]


async def boot(rig: Rig) -> None:
    rig.station.registration = v201.RegistrationStatusEnumType.ACCEPTED
    rig.station.accepted.set()
    await rig.advance(1)


async def test_an_update_runs_through_every_state_reboots_and_keeps_the_version(
    tmp_path: Path,
) -> None:
    rig = make_rig(tmp_path, firmware_version="acme-1.0")
    assert rig.station.firmware.version == "acme-1.0"
    assert (await rig.call(update(7))).status == UpdateStatus.ACCEPTED
    await rig.advance(DOWNLOAD_SECONDS)
    assert statuses(rig) == [Firmware.DOWNLOADING, Firmware.DOWNLOADED, Firmware.INSTALLING]
    await rig.advance(INSTALL_SECONDS)
    assert statuses(rig)[-1] == Firmware.INSTALL_REBOOTING
    assert rig.reboots == [v201.BootReasonEnumType.FIRMWARE_UPDATE]
    assert rig.station.firmware.version == "acme-2.0"
    await rig.advance(5)
    assert Firmware.INSTALLED not in statuses(rig)  # not before the station is back
    await boot(rig)
    assert statuses(rig)[-1] == Firmware.INSTALLED
    assert {n.request_id for n in rig.of(v201.FirmwareStatusNotificationRequest)} == {7}
    rig.close()
    again = make_rig(tmp_path)
    assert again.station.firmware.version == "acme-2.0"
    again.close()


async def test_a_signed_firmware_has_its_signature_verified() -> None:
    rig = make_rig()
    await rig.call(update(signature="c2lnbmF0dXJl"))
    await rig.advance(DOWNLOAD_SECONDS)
    assert statuses(rig) == [
        Firmware.DOWNLOADING,
        Firmware.DOWNLOADED,
        Firmware.SIGNATURE_VERIFIED,
        Firmware.INSTALLING,
    ]


async def test_download_waits_for_the_retrieve_time() -> None:
    rig = make_rig()
    await rig.call(update(retrieve=T0 + timedelta(hours=1)))
    assert statuses(rig) == [Firmware.DOWNLOAD_SCHEDULED]
    await rig.advance(3599)
    assert statuses(rig) == [Firmware.DOWNLOAD_SCHEDULED]
    await rig.advance(1)
    assert statuses(rig) == [Firmware.DOWNLOAD_SCHEDULED, Firmware.DOWNLOADING]


async def test_installing_waits_for_the_install_time() -> None:
    rig = make_rig()
    await rig.call(update(install_date_time=T0 + timedelta(hours=2)))
    await rig.advance(DOWNLOAD_SECONDS)
    assert statuses(rig)[-1] == Firmware.INSTALL_SCHEDULED
    await rig.advance(3600)
    assert statuses(rig)[-1] == Firmware.INSTALL_SCHEDULED
    await rig.advance(3600)
    assert statuses(rig)[-1] == Firmware.INSTALLING


async def test_installing_waits_for_the_transactions_to_end() -> None:
    rig = make_rig()
    rig.start_transaction(1)
    await rig.call(update())
    await rig.advance(DOWNLOAD_SECONDS + 10 * TRANSACTION_POLL_SECONDS)
    assert statuses(rig)[-1] == Firmware.DOWNLOADED
    rig.station.evses[1].transaction = None
    await rig.advance(TRANSACTION_POLL_SECONDS)
    assert statuses(rig)[-1] == Firmware.INSTALLING


async def test_an_unreachable_location_fails_after_the_retries() -> None:
    rig = make_rig()
    request = v201.UpdateFirmwareRequest(
        request_id=2,
        retries=2,
        retry_interval=30,
        firmware=v201.FirmwareType(location="https://invalid/fw.bin", retrieve_date_time=T0),
    )
    await rig.call(request)
    await rig.advance(3 * DOWNLOAD_SECONDS + 2 * 30)
    assert statuses(rig) == [Firmware.DOWNLOADING] * 3 + [Firmware.DOWNLOAD_FAILED]
    assert rig.reboots == []


async def test_a_firmware_that_does_not_install_fails() -> None:
    rig = make_rig()
    await rig.call(update(location="https://install-fails.invalid/fw.bin"))
    await rig.advance(STEP)
    assert statuses(rig)[-2:] == [Firmware.INSTALLING, Firmware.INSTALLATION_FAILED]
    assert rig.reboots == []


async def test_a_new_update_cancels_the_running_one() -> None:
    rig = make_rig()
    await rig.call(update(1))
    await rig.advance(DOWNLOAD_SECONDS / 2)
    assert (await rig.call(update(2))).status == UpdateStatus.ACCEPTED_CANCELED
    await rig.advance(STEP)
    assert statuses(rig, 1) == [Firmware.DOWNLOADING]
    assert statuses(rig, 2)[:3] == [Firmware.DOWNLOADING, Firmware.DOWNLOADED, Firmware.INSTALLING]
    # A finished update is not cancelled by the next.
    failing = make_rig()
    await failing.call(update(1, location="https://invalid/fw.bin"))
    await failing.advance(DOWNLOAD_SECONDS)
    assert (await failing.call(update(2))).status == UpdateStatus.ACCEPTED


async def test_a_location_the_station_cannot_fetch_is_rejected() -> None:
    rig = make_rig()
    assert (await rig.call(update(location="gopher://x/fw.bin"))).status == UpdateStatus.REJECTED
    assert (await rig.call(update(location="https:///fw.bin"))).status == UpdateStatus.REJECTED
    assert rig.sent == []


async def test_a_signing_certificate_that_does_not_parse_is_invalid() -> None:
    rig = make_rig()
    response = await rig.call(update(signing_certificate="not a certificate"))
    assert response.status == UpdateStatus.INVALID_CERTIFICATE
    assert rig.sent == []


async def test_the_trigger_reports_the_last_status_or_idle() -> None:
    rig = make_rig()
    trigger = v201.TriggerMessageRequest(requested_message=Message.FIRMWARE_STATUS_NOTIFICATION)
    assert (await rig.call(trigger)).status == v201.TriggerMessageStatusEnumType.ACCEPTED
    (idle,) = rig.of(v201.FirmwareStatusNotificationRequest)
    assert idle.status == Firmware.IDLE and idle.request_id is UNSET
    await rig.call(update(3))
    await rig.call(trigger)
    last = rig.of(v201.FirmwareStatusNotificationRequest)[-1]
    assert (last.status, last.request_id) == (Firmware.DOWNLOADING, 3)
    await rig.advance(STEP)
    await boot(rig)
    await rig.call(trigger)
    assert rig.of(v201.FirmwareStatusNotificationRequest)[-1].status == Firmware.IDLE


@pytest.mark.parametrize(
    "request_",
    [
        v201.PublishFirmwareRequest(location=LOCATION, checksum="0" * 32, request_id=1),
        v201.UnpublishFirmwareRequest(checksum="0" * 32),
    ],
)
async def test_publishing_is_for_local_controllers(request_: Request[Any]) -> None:
    rig = make_rig()
    with pytest.raises(NotSupported):
        await rig.call(request_)
