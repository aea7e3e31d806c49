"""Block L, Firmware management, with a charging station under test: an update from a file the
harness serves, through to Installed (and the reboot it takes), and a download that fails.

The harness serves the firmware file over HTTP on its own host (``serve_files``); a location
whose host is ``invalid`` (a name reserved never to resolve) is one no station can reach."""

from __future__ import annotations

import asyncio
import itertools
import time

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    answer_boot,
    boot_reported,
    connectors,
    expect,
    heartbeat_interval,
    next_id,
    rebooted,
    serve_files,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Status = v201.FirmwareStatusEnumType
UpdateStatus = v201.UpdateFirmwareStatusEnumType
Notification = v201.FirmwareStatusNotificationRequest
STEP = 60.0  # seconds a station may take from one firmware status to the next
POLL = 0.2
FIRMWARE = "/kilowatt-harness-firmware-2.bin"
UNREACHABLE = "http://invalid/kilowatt-harness-firmware-2.bin"
# The statuses of a successful unsigned update, in the order they may come (the optional ones
# may be left out).
ORDER = (
    Status.DOWNLOAD_SCHEDULED,
    Status.DOWNLOADING,
    Status.DOWNLOADED,
    Status.SIGNATURE_VERIFIED,
    Status.INSTALL_SCHEDULED,
    Status.INSTALLING,
    Status.INSTALL_REBOOTING,
    Status.INSTALLED,
)
REQUIRED = (Status.DOWNLOADING, Status.DOWNLOADED, Status.INSTALLING, Status.INSTALLED)
FAILED = (
    Status.DOWNLOAD_FAILED,
    Status.INSTALLATION_FAILED,
    Status.INVALID_SIGNATURE,
    Status.INSTALL_VERIFICATION_FAILED,
)


async def update(ctx: Context, peer: Peer, location: str, request_id: int) -> None:
    answer = await peer.call(
        v201.UpdateFirmwareRequest(
            request_id=request_id,
            retries=0,
            firmware=v201.FirmwareType(location=location, retrieve_date_time=ctx.now()),
        )
    )
    ctx.check(
        answer.status == UpdateStatus.ACCEPTED,
        f"UpdateFirmware from {location}: expected Accepted, got {answer.status}",
    )


def in_order(statuses: list[v201.FirmwareStatusEnumType]) -> bool:
    """Whether the statuses follow ORDER (Downloading may come again, on a retry)."""
    if any(s not in ORDER for s in statuses):
        return False
    places = [ORDER.index(s) for s in statuses]
    again = ORDER.index(Status.DOWNLOADING)
    return all(a < b or a == b == again for a, b in itertools.pairwise(places))


@case(
    "TC_L_01_CS",
    "Update the firmware: downloaded, installed, the station reboots",
    use_cases=("L02",),
    prerequisites="The station is booted and idle; it can download over HTTP from the "
    "harness's host.",
)
async def firmware_installed(ctx: Context) -> None:
    """The harness serves a firmware file over HTTP and asks the station to install it now
    (UpdateFirmware with a requestId and no retries): Accepted. FirmwareStatusNotifications
    follow, each with that requestId, in the order Downloading, Downloaded, Installing,
    Installed (DownloadScheduled, SignatureVerified, InstallScheduled and InstallRebooting may
    come between, in their places), each within a minute of the one before, and no failure.
    When the station reboots to install, it boots again with reason FirmwareUpdate (the
    harness accepts it, keeping its heartbeat interval) and reports its connectors' status;
    Installed then comes after that boot."""
    peer = await ctx.station()
    wanted = await connectors(ctx, peer)
    answer_boot(
        ctx, peer, v201.RegistrationStatusEnumType.ACCEPTED, await heartbeat_interval(ctx, peer)
    )
    request_id = next_id()
    async with serve_files(ctx, {FIRMWARE: b"kilowatt harness firmware\n" * 1024}) as served:
        mark = peer.mark()
        await update(ctx, peer, served.url(FIRMWARE), request_id)
        seen: list[Notification] = []
        rebooted_at: int | None = None  # the number of statuses seen before the reboot
        since = mark
        last = time.monotonic()
        while not seen or seen[-1].status not in (Status.INSTALLED, *FAILED):
            fresh = peer.received(Notification, since)
            if fresh:
                seen += fresh
                since = peer.mark()
                last = time.monotonic()
                continue
            if peer.closed:
                ctx.check(rebooted_at is None, "the station rebooted twice during the update")
                rebooted_at = len(seen)
                peer, boot = await rebooted(ctx, peer, v201.BootReasonEnumType.FIRMWARE_UPDATE)
                await boot_reported(ctx, peer, wanted, since=0)
                version = boot.charging_station.firmware_version
                ctx.note(f"booted after the update with firmware version {version}")
                since = 0
                last = time.monotonic()
                continue
            ctx.check(
                time.monotonic() - last < STEP,
                f"after {[str(n.status) for n in seen]} no further firmware status came "
                f"within {STEP:g} s",
            )
            await asyncio.sleep(POLL)
    statuses = [n.status for n in seen]
    shown = [str(s) for s in statuses]
    ctx.check(
        all(n.request_id == request_id for n in seen),
        f"every FirmwareStatusNotification must carry requestId {request_id}, they carried "
        f"{[n.request_id if n.request_id is not UNSET else None for n in seen]}",
    )
    ctx.check(not set(statuses) & set(FAILED), f"the update failed: {shown}")
    ctx.check(
        all(s in statuses for s in REQUIRED),
        f"expected {[str(s) for s in REQUIRED]} among the statuses, got {shown}",
    )
    ctx.check(in_order(statuses), f"the statuses came out of order: {shown}")
    if rebooted_at is not None:
        ctx.check(
            Status.INSTALLED not in statuses[:rebooted_at],
            f"Installed was reported before the station rebooted into the new firmware: {shown}",
        )
    else:
        ctx.note("the station did not reboot to install")


@case(
    "TC_L_02_CS",
    "Update the firmware from a location that cannot be reached: DownloadFailed",
    use_cases=("L02",),
    prerequisites="The station is booted and idle.",
)
async def firmware_download_failed(ctx: Context) -> None:
    """The harness asks the station to install firmware from a host that does not exist (the
    reserved name invalid), with no retries: Accepted. FirmwareStatusNotifications of that
    requestId follow, ending in DownloadFailed (Downloading, or DownloadScheduled and
    Downloading, before it allowed); nothing is installed and the station does not reboot."""
    peer = await ctx.station()
    request_id = next_id()
    mark = peer.mark()
    await update(ctx, peer, UNREACHABLE, request_id)
    await expect(
        ctx,
        peer,
        Notification,
        f"FirmwareStatusNotification DownloadFailed of request {request_id}",
        since=mark,
        where=lambda r: r.status in (Status.INSTALLED, *FAILED),
        timeout=STEP,
    )
    statuses = [str(n.status) for n in peer.received(Notification, mark)]
    ctx.check(
        statuses[-1] == Status.DOWNLOAD_FAILED
        and all(s in (Status.DOWNLOAD_SCHEDULED, Status.DOWNLOADING) for s in statuses[:-1]),
        f"a download that cannot reach its host: expected Downloading... DownloadFailed, got "
        f"{statuses}",
    )
    ids = {n.request_id for n in peer.received(Notification, mark)}
    ctx.check(ids == {request_id}, f"the notifications must carry requestId {request_id}: {ids}")
    ctx.check(not peer.closed, "the station closed its connection after a failed download")
