"""Block N, log uploads (N01 GetLog), simulated on the station's clock.

One upload runs at a time; a new request cancels the one in progress (N01.FR.12). Each upload
is reported with its requestId (N01.FR.07): Uploading, then Uploaded or, after the request's
retries, UploadFailure (N01.FR.10). A location whose host is ``invalid`` cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    LogStatusEnumType as LogStatus,
    MessageTriggerEnumType as Message,
    UploadLogStatusEnumType as UploadStatus,
)

if TYPE_CHECKING:
    from kilowatt.station.evse import Evse
    from kilowatt.station.station import Station

__all__ = ["UPLOAD_SECONDS", "Logs"]

UPLOAD_SECONDS = 5.0
UNREACHABLE_HOST = "invalid"
FINISHED = frozenset({UploadStatus.UPLOADED, UploadStatus.UPLOAD_FAILURE})


@dataclass
class _Upload:
    request: v201.GetLogRequest
    status: UploadStatus = UploadStatus.IDLE


class Logs:
    def __init__(self, station: Station) -> None:
        self._station = station
        self._upload: _Upload | None = None
        station.triggers[Message.LOG_STATUS_NOTIFICATION] = self._trigger

    def get_log(self, request: v201.GetLogRequest) -> tuple[LogStatus, str | None]:
        """N01: start uploading the log; the status and the name of the file to upload."""
        location = urlsplit(request.log.remote_location)
        protocols = self._station.list_var("OCPPCommCtrlr", "FileTransferProtocols")
        if location.scheme.upper() not in protocols or not location.hostname:
            return LogStatus.REJECTED, None
        previous = self._upload
        upload = _Upload(request)
        self._upload = upload
        self._station.spawn(self._run(upload, previous))
        stamp = self._station.clock.now().strftime("%Y%m%dT%H%M%SZ")
        filename = f"{self._station.config.station_id}-{request.log_type}-{stamp}.log"
        if previous is not None and previous.status not in FINISHED:
            return LogStatus.ACCEPTED_CANCELED, filename  # N01.FR.12
        return LogStatus.ACCEPTED, filename

    async def _run(self, upload: _Upload, previous: _Upload | None) -> None:
        station = self._station
        if previous is not None and previous.status not in FINISHED:
            previous.status = UploadStatus.ACCEPTED_CANCELED
            await self._tell(previous)
        request = upload.request
        host = urlsplit(request.log.remote_location).hostname
        attempts = 1 + (request.retries if request.retries is not UNSET else 0)
        retry_interval = request.retry_interval if request.retry_interval is not UNSET else 0
        for attempt in range(attempts):
            if attempt:
                await station.clock.sleep(float(retry_interval))
            if not await self._enter(upload, UploadStatus.UPLOADING):
                return
            await station.clock.sleep(UPLOAD_SECONDS)
            if host != UNREACHABLE_HOST:
                await self._enter(upload, UploadStatus.UPLOADED)
                return
        await self._enter(upload, UploadStatus.UPLOAD_FAILURE)  # N01.FR.10: after every retry

    async def _enter(self, upload: _Upload, status: UploadStatus) -> bool:
        """Move to ``status`` and tell the CSMS; False when the upload was cancelled."""
        if self._upload is not upload:
            return False
        upload.status = status
        await self._tell(upload)
        return self._upload is upload

    async def _tell(self, upload: _Upload) -> None:
        await self._station.send(
            v201.LogStatusNotificationRequest(
                status=upload.status, request_id=upload.request.request_id
            )
        )

    def _trigger(self, evses: list[Evse]) -> None:
        """F06: Uploading with its requestId while an upload runs, else Idle (N01.FR.13)."""
        upload = self._upload
        if upload is not None and upload.status == UploadStatus.UPLOADING:
            request = v201.LogStatusNotificationRequest(
                status=UploadStatus.UPLOADING, request_id=upload.request.request_id
            )
        else:
            request = v201.LogStatusNotificationRequest(status=UploadStatus.IDLE)
        self._station.spawn(self._station.send(request))
