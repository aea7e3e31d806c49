"""Block L, firmware updates (L01 secure, L02 non-secure), simulated on the station's clock.

One update runs at a time. It goes through the states of FirmwareStatusNotification, telling the
CSMS each one it enters (L01.FR.01), with the request's id (L01.FR.10/20): DownloadScheduled
until retrieveDateTime (L01.FR.13), Downloading, Downloaded, SignatureVerified when signed,
InstallScheduled until installDateTime (L01.FR.16), Installing once no transaction runs
(L01.FR.06), InstallRebooting (L01.FR.15), then the reboot and Installed after the station is
accepted again (L01.FR.28). The new version is persisted and reported in the
next BootNotification (``version``).

Simulated failures, by the location's host: ``invalid`` cannot be downloaded (DownloadFailed,
after the request's retries); ``install-fails.invalid`` downloads but does not install
(InstallationFailed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec
from cryptography import x509
from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    FirmwareStatusEnumType as FirmwareStatus,
    MessageTriggerEnumType as Message,
    UpdateFirmwareStatusEnumType as UpdateStatus,
)

if TYPE_CHECKING:
    from kilowatt.station.evse import Evse
    from kilowatt.station.station import Station

__all__ = [
    "DOWNLOAD_SECONDS",
    "INSTALL_SECONDS",
    "TRANSACTION_POLL_SECONDS",
    "Firmware",
    "version_of",
]

DOWNLOAD_SECONDS = 10.0
INSTALL_SECONDS = 20.0
TRANSACTION_POLL_SECONDS = 5.0  # how often a waiting install looks for the transactions' end
UNREACHABLE_HOST = "invalid"
UNINSTALLABLE_HOST = "install-fails.invalid"
# The states after which nothing more happens: a new update cancels nothing (L01.FR.24).
FINISHED = frozenset(
    {
        FirmwareStatus.IDLE,
        FirmwareStatus.INSTALLED,
        FirmwareStatus.DOWNLOAD_FAILED,
        FirmwareStatus.INSTALLATION_FAILED,
        FirmwareStatus.INVALID_SIGNATURE,
        FirmwareStatus.INSTALL_VERIFICATION_FAILED,
    }
)


@dataclass
class _Update:
    request: v201.UpdateFirmwareRequest
    status: FirmwareStatus = FirmwareStatus.IDLE


class _Stored(msgspec.Struct):
    version: str


class Firmware:
    """The firmware the station runs, and the update in progress if any."""

    def __init__(self, station: Station) -> None:
        self._station = station
        stored = station._read("firmware.json")
        self.version = (
            msgspec.json.decode(stored, type=_Stored).version
            if stored is not None
            else station.config.shape.firmware_version
        )
        self._update: _Update | None = None
        station.triggers[Message.FIRMWARE_STATUS_NOTIFICATION] = self._trigger

    @property
    def status(self) -> FirmwareStatus:
        update = self._update
        return update.status if update is not None else FirmwareStatus.IDLE

    def update(self, request: v201.UpdateFirmwareRequest) -> UpdateStatus:
        """L01/L02: start an update; a running one is cancelled (L01.FR.24: AcceptedCanceled)."""
        location = urlsplit(request.firmware.location)
        protocols = self._station.list_var("OCPPCommCtrlr", "FileTransferProtocols")
        if location.scheme.upper() not in protocols or not location.hostname:
            return UpdateStatus.REJECTED
        certificate = request.firmware.signing_certificate
        if certificate is not UNSET:
            try:
                x509.load_pem_x509_certificate(certificate.encode())
            except ValueError:
                return UpdateStatus.INVALID_CERTIFICATE  # L01.FR.21/22
        running = self._update is not None and self._update.status not in FINISHED
        update = _Update(request)
        self._update = update  # the cancelled one sees it is no longer current and stops
        self._station.spawn(self._run(update))
        return UpdateStatus.ACCEPTED_CANCELED if running else UpdateStatus.ACCEPTED

    async def _run(self, update: _Update) -> None:
        station = self._station
        request = update.request
        firmware = request.firmware
        host = urlsplit(firmware.location).hostname
        if firmware.retrieve_date_time > station.clock.now():
            if not await self._enter(update, FirmwareStatus.DOWNLOAD_SCHEDULED):
                return
            await self._until(firmware.retrieve_date_time)
        attempts = 1 + (request.retries if request.retries is not UNSET else 0)
        retry_interval = request.retry_interval if request.retry_interval is not UNSET else 0
        for attempt in range(attempts):
            if attempt:
                await station.clock.sleep(float(retry_interval))
            if not await self._enter(update, FirmwareStatus.DOWNLOADING):
                return
            await station.clock.sleep(DOWNLOAD_SECONDS)
            if host != UNREACHABLE_HOST:
                break
        else:
            await self._enter(update, FirmwareStatus.DOWNLOAD_FAILED)  # L01.FR.30
            return
        if not await self._enter(update, FirmwareStatus.DOWNLOADED):
            return
        # L01.FR.04: a signed firmware's signature is verified before installing.
        if firmware.signature is not UNSET and not await self._enter(
            update, FirmwareStatus.SIGNATURE_VERIFIED
        ):
            return
        if firmware.install_date_time is not UNSET and firmware.install_date_time > (
            station.clock.now()
        ):
            if not await self._enter(update, FirmwareStatus.INSTALL_SCHEDULED):
                return
            await self._until(firmware.install_date_time)
        # L01.FR.06: installing waits for the transactions in progress to end.
        while station.transactions():
            await station.clock.sleep(TRANSACTION_POLL_SECONDS)
            if self._update is not update:
                return
        if not await self._enter(update, FirmwareStatus.INSTALLING):
            return
        await station.clock.sleep(INSTALL_SECONDS)
        if host == UNINSTALLABLE_HOST:
            await self._enter(update, FirmwareStatus.INSTALLATION_FAILED)
            return
        if not await self._enter(update, FirmwareStatus.INSTALL_REBOOTING):
            return
        self.version = version_of(firmware.location)
        station._save("firmware.json", msgspec.json.encode(_Stored(self.version)))
        await station.reboot(v201.BootReasonEnumType.FIRMWARE_UPDATE)
        # L01.FR.28: Installed once the new firmware runs, after the boot.
        while not (
            station.accepted.is_set()
            and station.registration == v201.RegistrationStatusEnumType.ACCEPTED
        ):
            await station.clock.sleep(1.0)
        await self._enter(update, FirmwareStatus.INSTALLED)

    async def _enter(self, update: _Update, status: FirmwareStatus) -> bool:
        """Move to ``status`` and tell the CSMS; False when the update was superseded."""
        if self._update is not update:
            return False
        update.status = status
        await self._station.send(
            v201.FirmwareStatusNotificationRequest(
                status=status, request_id=update.request.request_id
            )
        )
        return self._update is update

    async def _until(self, moment: datetime) -> None:
        clock = self._station.clock
        await clock.sleep((moment - clock.now()).total_seconds())

    def _trigger(self, evses: list[Evse]) -> None:
        """F06: the last status sent, with its requestId (L01.FR.26); Idle when none was, or
        after Installed (L01.FR.25)."""
        update = self._update
        if update is None or update.status in (FirmwareStatus.IDLE, FirmwareStatus.INSTALLED):
            request = v201.FirmwareStatusNotificationRequest(status=FirmwareStatus.IDLE)
        else:
            request = v201.FirmwareStatusNotificationRequest(
                status=update.status, request_id=update.request.request_id
            )
        self._station.spawn(self._station.send(request))


def version_of(location: str) -> str:
    """The version a firmware file brings: its file name without the extension."""
    name = urlsplit(location).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name or location
