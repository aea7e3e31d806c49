"""Block N, Diagnostics (logs and customer information), with a charging station under test: a
log uploaded to the harness, an upload that cannot succeed, one upload replacing another, and
what the station holds about a customer.

The harness serves HTTP on its own host for the uploads (``serve_files``); a location whose
host is ``invalid`` (a name reserved never to resolve) is one no station can reach."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import expect, next_id, serve_files, token
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

LogStatus = v201.LogStatusEnumType
Upload = v201.UploadLogStatusEnumType
Notification = v201.LogStatusNotificationRequest
CustomerStatus = v201.CustomerInformationStatusEnumType
UPLOAD_WAIT = 60.0  # seconds an upload may take
UNREACHABLE = "http://invalid/harness-logs"
FINAL = (Upload.UPLOADED, Upload.UPLOAD_FAILURE)


async def get_log(
    ctx: Context, peer: Peer, location: str, request_id: int, *, retries: int | None = None
) -> v201.GetLogResponse:
    return await peer.call(
        v201.GetLogRequest(
            log=v201.LogParametersType(remote_location=location),
            log_type=v201.LogEnumType.DIAGNOSTICS_LOG,
            request_id=request_id,
            retries=retries if retries is not None else UNSET,
        )
    )


async def upload_ends(
    ctx: Context, peer: Peer, request_id: int, *, since: int
) -> list[v201.UploadLogStatusEnumType]:
    """The statuses the station reports for the upload ``request_id`` after ``since``, up to
    Uploaded or UploadFailure; every LogStatusNotification meanwhile must name a request."""
    await expect(
        ctx,
        peer,
        Notification,
        f"LogStatusNotification Uploaded or UploadFailure of request {request_id}",
        since=since,
        where=lambda r: r.request_id == request_id and r.status in FINAL,
        timeout=UPLOAD_WAIT,
    )
    notifications = peer.received(Notification, since)
    anonymous = [str(n.status) for n in notifications if n.request_id is UNSET]
    ctx.check(
        not anonymous,
        f"LogStatusNotification {anonymous} without requestId during upload {request_id}",
    )
    return [n.status for n in notifications if n.request_id == request_id]


@case(
    "TC_N_10_CS",
    "Get the diagnostics log: Uploading, then Uploaded",
    use_cases=("N01",),
    prerequisites="The station is booted; it can upload over HTTP to the harness's host.",
)
async def get_log_uploaded(ctx: Context) -> None:
    """The harness asks for the diagnostics log to be uploaded to an HTTP location it serves
    (GetLog with a requestId): Accepted, with the name of the file. LogStatusNotifications of
    that requestId follow: Uploading, then Uploaded, and nothing else (no UploadFailure)."""
    peer = await ctx.station()
    request_id = next_id()
    async with serve_files(ctx, {}) as served:
        mark = peer.mark()
        answer = await get_log(ctx, peer, served.url("/logs"), request_id)
        ctx.check(
            answer.status == LogStatus.ACCEPTED,
            f"GetLog to the harness's server: expected Accepted, got {answer.status}",
        )
        ctx.check(
            answer.filename is not UNSET and bool(answer.filename),
            "an Accepted GetLog must give the name of the file it uploads",
        )
        statuses = await upload_ends(ctx, peer, request_id, since=mark)
    ctx.check(
        statuses == [Upload.UPLOADING, Upload.UPLOADED],
        f"the upload's statuses: expected Uploading, Uploaded; got {[str(s) for s in statuses]}",
    )


@case(
    "TC_N_11_CS",
    "Get the log to a location that cannot be reached: UploadFailure",
    use_cases=("N01",),
    prerequisites="The station is booted.",
)
async def get_log_unreachable(ctx: Context) -> None:
    """The harness asks for the diagnostics log to be uploaded to a host that does not exist
    (the reserved name invalid), with no retries: Accepted. LogStatusNotifications of that
    requestId follow, ending in UploadFailure (Uploading before it allowed), never Uploaded."""
    peer = await ctx.station()
    request_id = next_id()
    mark = peer.mark()
    answer = await get_log(ctx, peer, UNREACHABLE, request_id, retries=0)
    ctx.check(
        answer.status == LogStatus.ACCEPTED,
        f"GetLog to {UNREACHABLE}: expected Accepted, got {answer.status}",
    )
    statuses = await upload_ends(ctx, peer, request_id, since=mark)
    ctx.check(
        statuses[-1] == Upload.UPLOAD_FAILURE and all(s == Upload.UPLOADING for s in statuses[:-1]),
        f"an upload that cannot reach its host: expected Uploading... then UploadFailure, got "
        f"{[str(s) for s in statuses]}",
    )


@case(
    "TC_N_12_CS",
    "A second GetLog during an upload cancels the first",
    use_cases=("N01",),
    requirements=("N01.FR.12",),
    prerequisites="The station is booted; it can upload over HTTP to the harness's host.",
)
async def get_log_replaced(ctx: Context) -> None:
    """The harness asks for a log upload and, once the station reports it Uploading, for
    another one with a new requestId. The second is answered AcceptedCanceled; the first is
    reported AcceptedCanceled (LogStatusNotification with its requestId) and never Uploaded;
    the second goes on to Uploaded."""
    peer = await ctx.station()
    first_id, second_id = next_id(), next_id()
    async with serve_files(ctx, {}) as served:
        mark = peer.mark()
        first = await get_log(ctx, peer, served.url("/logs/1"), first_id)
        ctx.check(
            first.status == LogStatus.ACCEPTED,
            f"the first GetLog: expected Accepted, got {first.status}",
        )
        await expect(
            ctx,
            peer,
            Notification,
            f"LogStatusNotification Uploading of request {first_id}",
            since=mark,
            where=lambda r: r.request_id == first_id and r.status == Upload.UPLOADING,
        )
        uploading = peer.received(Notification, mark)
        ctx.check(
            all(n.status not in FINAL for n in uploading if n.request_id == first_id),
            "the first upload ended before the harness could replace it: the case cannot tell",
        )
        second = await get_log(ctx, peer, served.url("/logs/2"), second_id)
        ctx.check(
            second.status == LogStatus.ACCEPTED_CANCELED,
            f"GetLog while an upload runs: expected AcceptedCanceled, got {second.status}",
        )
        await expect(
            ctx,
            peer,
            Notification,
            f"LogStatusNotification AcceptedCanceled of the first request {first_id}",
            since=mark,
            where=lambda r: r.request_id == first_id and r.status == Upload.ACCEPTED_CANCELED,
        )
        statuses = await upload_ends(ctx, peer, second_id, since=mark)
    ctx.check(
        statuses[-1] == Upload.UPLOADED,
        f"the second upload: expected it Uploaded, got {[str(s) for s in statuses]}",
    )
    firsts = [n.status for n in peer.received(Notification, mark) if n.request_id == first_id]
    ctx.check(
        Upload.UPLOADED not in firsts,
        f"the cancelled first upload was reported {[str(s) for s in firsts]}",
    )


@case(
    "TC_N_13_CS",
    "Customer information of a card; a request naming no customer",
    use_cases=("N09",),
    prerequisites="The station is booted.",
)
async def customer_information(ctx: Context) -> None:
    """The harness asks what the station holds about a card (CustomerInformation with the
    idToken, report true, clear false, a requestId): Accepted. NotifyCustomerInformation parts
    of that requestId follow, numbered 0, 1, 2... in the order they come, the last one without
    tbc. Asked the same without naming any customer (no idToken, customer identifier or
    certificate), the station answers Invalid."""
    peer = await ctx.station()
    request_id = next_id()
    mark = peer.mark()
    answer = await peer.call(
        v201.CustomerInformationRequest(
            request_id=request_id, report=True, clear=False, id_token=token("HARNESSN13")
        )
    )
    ctx.check(
        answer.status == CustomerStatus.ACCEPTED,
        f"CustomerInformation of a card: expected Accepted, got {answer.status}",
    )
    parts: list[v201.NotifyCustomerInformationRequest] = []
    while not parts or parts[-1].tbc is True:
        parts.append(
            await expect(
                ctx,
                peer,
                v201.NotifyCustomerInformationRequest,
                f"NotifyCustomerInformation part {len(parts) + 1} of request {request_id}",
                since=mark,
                where=lambda r: r.request_id == request_id and all(r is not p for p in parts),
            )
        )
    numbers = [part.seq_no for part in parts]
    ctx.check(
        numbers == list(range(len(parts))),
        f"the parts' seqNo must be 0, 1, 2... in order, were {numbers}",
    )
    nobody = await peer.call(
        v201.CustomerInformationRequest(request_id=next_id(), report=True, clear=False)
    )
    ctx.check(
        nobody.status == CustomerStatus.INVALID,
        f"CustomerInformation naming no customer: expected Invalid, got {nobody.status}",
    )
