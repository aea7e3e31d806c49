"""What the cases for a charging station under test share: waiting for the station's requests
with a message that says what did not come, reading and writing its variables, its report and
its connectors, its reboots, its transactions, and putting it back to idle after a case.

The harness is the station's CSMS here. It knows the station only from the wire: its
connectors come from its device model's report, its transactions from its TransactionEvents.
Every case uses EVSE 1 (a station has at least one) and connector 1 of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, TypeVar

from msgspec import UNSET

from kilowatt.harness.case import CheckFailed
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import Request, v201

__all__ = [
    "CONNECTOR",
    "EVSE",
    "QUIET",
    "TOLERANCE",
    "answer_boot",
    "back_online",
    "boot_reported",
    "connectors",
    "ended",
    "expect",
    "get_value",
    "go_offline",
    "heartbeat_interval",
    "next_id",
    "present",
    "rebooted",
    "report",
    "restore",
    "set_value",
    "started",
    "statuses",
    "tidy",
    "token",
    "transaction_events",
]

Q = TypeVar("Q", bound=Request[Any])

EVSE = 1  # the EVSE the cases use
CONNECTOR = 1  # and its connector
QUIET = 2.0  # seconds a case watches for something that must not happen
TOLERANCE = 2.0  # seconds a periodic message may come late (network, scheduling)
SETTLE = 0.5  # seconds a station has after its post-boot status reports to finish booting

Event = v201.TransactionEventRequest
EventType = v201.TransactionEventEnumType

_ids = itertools.count(random.randrange(1, 1_000_000))


def next_id() -> int:
    """A fresh requestId or remoteStartId for this run."""
    return next(_ids)


def token(name: str) -> v201.IdTokenType:
    """The harness's idToken ``name`` (a card)."""
    return v201.IdTokenType(id_token=name, type=v201.IdTokenEnumType.ISO14443)


async def present(ctx: Context, card: v201.IdTokenType, evse_id: int = EVSE) -> None:
    """The driver presents ``card`` at the EVSE."""
    await ctx.act("present_token", evse_id=evse_id, id_token=card.id_token, type=card.type.value)


async def expect(
    ctx: Context,
    peer: Peer,
    request_type: type[Q],
    what: str,
    *,
    since: int = 0,
    where: Callable[[Q], bool] = lambda _: True,
    timeout: float | None = None,
) -> Q:
    """The station's first ``request_type`` after ``since`` that ``where`` accepts; the case
    fails, saying ``what`` was awaited, if none comes within ``timeout`` (the step timeout)."""
    seconds = ctx.timeout if timeout is None else timeout
    try:
        return await peer.next(request_type, since=since, where=where, timeout=seconds)
    except TimeoutError:
        raise CheckFailed(f"{what} did not come within {seconds:g} s") from None


# -- variables and reports ------------------------------------------------------------------


async def get_value(
    ctx: Context, peer: Peer, component: str, variable: str, instance: str | None = None
) -> str | None:
    """A variable's Actual value, None unless the station gives it (Accepted)."""
    answer = await peer.call(
        v201.GetVariablesRequest(
            get_variable_data=[
                v201.GetVariableDataType(
                    component=v201.ComponentType(name=component),
                    variable=v201.VariableType(name=variable, instance=instance or UNSET),
                )
            ]
        )
    )
    for result in answer.get_variable_result:
        if (
            result.attribute_status == v201.GetVariableStatusEnumType.ACCEPTED
            and result.attribute_value is not UNSET
        ):
            return result.attribute_value
    return None


async def set_value(
    ctx: Context,
    peer: Peer,
    component: str,
    variable: str,
    value: str,
    instance: str | None = None,
) -> v201.SetVariableStatusEnumType:
    """Set a variable's Actual value; the station's status for it."""
    answer = await peer.call(
        v201.SetVariablesRequest(
            set_variable_data=[
                v201.SetVariableDataType(
                    attribute_value=value,
                    component=v201.ComponentType(name=component),
                    variable=v201.VariableType(name=variable, instance=instance or UNSET),
                )
            ]
        )
    )
    ctx.check(
        len(answer.set_variable_result) == 1,
        f"SetVariables of one variable: {len(answer.set_variable_result)} results",
    )
    return answer.set_variable_result[0].attribute_status


async def restore(
    ctx: Context, peer: Peer, component: str, variable: str, value: str | None
) -> None:
    """Set a variable back to the value it had before the case (best effort, noted when it
    does not work: the case's outcome is its own checks')."""
    if value is None:
        return
    try:
        status = await set_value(ctx, peer, component, variable, value)
    except Exception as error:
        ctx.note(f"restoring {component}.{variable} {value}: {type(error).__name__}: {error}")
        return
    if status != v201.SetVariableStatusEnumType.ACCEPTED:
        ctx.note(f"restoring {component}.{variable} {value}: {status}")


async def heartbeat_interval(ctx: Context, peer: Peer) -> int:
    """The station's OCPPCommCtrlr.HeartbeatInterval (300 when it gives none), for the boot
    answers of cases that make it reboot: its interval stays what it was."""
    value = await get_value(ctx, peer, "OCPPCommCtrlr", "HeartbeatInterval")
    try:
        return int(value) if value is not None and int(value) > 0 else 300
    except ValueError:
        return 300


async def report(
    ctx: Context, peer: Peer, base: v201.ReportBaseEnumType
) -> list[v201.NotifyReportRequest]:
    """GetBaseReport: Accepted, then the NotifyReport parts of its requestId, the last one
    with tbc false (B07), in the order they came."""
    request_id = next_id()
    mark = peer.mark()
    answer = await peer.call(v201.GetBaseReportRequest(request_id=request_id, report_base=base))
    ctx.check(
        answer.status == v201.GenericDeviceModelStatusEnumType.ACCEPTED,
        f"GetBaseReport {base}: expected Accepted, got {answer.status}",
    )
    parts: list[v201.NotifyReportRequest] = []
    while not parts or parts[-1].tbc is True:
        parts.append(
            await expect(
                ctx,
                peer,
                v201.NotifyReportRequest,
                f"NotifyReport part {len(parts) + 1} of request {request_id} ({base})",
                since=mark,
                where=lambda r: r.request_id == request_id and all(r is not p for p in parts),
            )
        )
    return parts


async def connectors(ctx: Context, peer: Peer) -> set[tuple[int, int]]:
    """The station's connectors as (EVSE id, connector id): its device model's Connector
    components (the full inventory); EVSE 1's connector 1 if it names none."""
    found: set[tuple[int, int]] = set()
    for part in await report(ctx, peer, v201.ReportBaseEnumType.FULL_INVENTORY):
        for data in part.report_data or []:
            evse = data.component.evse
            if (
                data.component.name == "Connector"
                and evse is not UNSET
                and evse.connector_id is not UNSET
            ):
                found.add((evse.id, evse.connector_id))
    if not found:
        ctx.note("the report names no Connector component: connector 1 of EVSE 1 is assumed")
        found.add((EVSE, CONNECTOR))
    return found


# -- boots -----------------------------------------------------------------------------------


def answer_boot(
    ctx: Context, peer: Peer, status: v201.RegistrationStatusEnumType, interval: int
) -> None:
    """Answer the station's BootNotifications so from now on (on this connection and the
    one after a reboot, until the case ends)."""
    peer.answer(
        v201.BootNotificationRequest,
        lambda _: v201.BootNotificationResponse(
            current_time=ctx.now(), interval=interval, status=status
        ),
    )


async def rebooted(
    ctx: Context, before: Peer, reason: v201.BootReasonEnumType | None = None
) -> tuple[Peer, v201.BootNotificationRequest]:
    """After the station was made to reboot: its old connection closed, its new one, and the
    BootNotification that is the first request on it (with ``reason``, if given)."""
    ctx.check(
        await before.wait_closed(ctx.timeout),
        f"the station kept its connection open {ctx.timeout:g} s after it was to reboot",
    )
    peer = await ctx.station(after=before)
    boot = await expect(ctx, peer, v201.BootNotificationRequest, "a BootNotification")
    first = peer.received(Request)[0]
    ctx.check(
        first is boot,
        f"the first request after reconnecting must be BootNotification, was {first.ACTION}",
    )
    if reason is not None:
        ctx.check(boot.reason == reason, f"boot reason: expected {reason}, got {boot.reason}")
    return peer, boot


async def statuses(
    ctx: Context,
    peer: Peer,
    wanted: Iterable[tuple[int, int]],
    *,
    since: int,
    status: v201.ConnectorStatusEnumType | None = None,
) -> dict[tuple[int, int], v201.StatusNotificationRequest]:
    """A StatusNotification (with ``status``, if given) for each of these connectors after
    ``since``."""
    found: dict[tuple[int, int], v201.StatusNotificationRequest] = {}
    for evse_id, connector_id in sorted(wanted):
        what = f"StatusNotification of EVSE {evse_id} connector {connector_id}"
        if status is not None:
            what += f" {status}"
        found[(evse_id, connector_id)] = await expect(
            ctx,
            peer,
            v201.StatusNotificationRequest,
            what,
            since=since,
            where=_of_connector(evse_id, connector_id, status),
        )
    return found


async def boot_reported(
    ctx: Context, peer: Peer, wanted: Iterable[tuple[int, int]], *, since: int
) -> None:
    """After an Accepted boot: a StatusNotification of each connector, then a moment for the
    station to finish booting before the case goes on (a station may count itself online
    only once these reports are answered)."""
    await statuses(ctx, peer, wanted, since=since)
    await asyncio.sleep(SETTLE)


def _of_connector(
    evse_id: int, connector_id: int, status: v201.ConnectorStatusEnumType | None
) -> Callable[[v201.StatusNotificationRequest], bool]:
    def matches(request: v201.StatusNotificationRequest) -> bool:
        return (request.evse_id, request.connector_id) == (evse_id, connector_id) and (
            status is None or request.connector_status == status
        )

    return matches


# -- transactions ----------------------------------------------------------------------------


def transaction_events(peer: Peer, transaction_id: str, since: int = 0) -> list[Event]:
    """The TransactionEvents of one transaction received after ``since``, in order."""
    return [
        event
        for event in peer.received(Event, since)
        if event.transaction_info.transaction_id == transaction_id
    ]


async def started(ctx: Context, peer: Peer, *, since: int, why: str) -> Event:
    """The TransactionEvent Started after ``since`` (``why``: what should have started it)."""
    return await expect(
        ctx,
        peer,
        Event,
        f"a TransactionEvent Started ({why})",
        since=since,
        where=lambda e: e.event_type == EventType.STARTED,
    )


async def ended(ctx: Context, peer: Peer, transaction_id: str, *, why: str) -> Event:
    """The TransactionEvent Ended of the transaction (``why``: what should have ended it)."""
    return await expect(
        ctx,
        peer,
        Event,
        f"the TransactionEvent Ended of transaction {transaction_id} ({why})",
        where=_ending(transaction_id),
    )


def _ending(transaction_id: str) -> Callable[[Event], bool]:
    def matches(event: Event) -> bool:
        return (
            event.event_type == EventType.ENDED
            and event.transaction_info.transaction_id == transaction_id
        )

    return matches


async def tidy(ctx: Context, peer: Peer, since: int) -> None:
    """Leave the station idle for the next case: the EV of EVSE 1 unplugged, and every
    transaction ``peer`` saw start after ``since`` ended, with RequestStopTransaction if
    unplugging did not end it. Best effort: what does not work is noted, not failed (the case
    has its own checks)."""
    try:
        await ctx.act("unplug", evse_id=EVSE)
        events = peer.received(Event, since)
        open_ids = {e.transaction_info.transaction_id for e in events} - {
            e.transaction_info.transaction_id for e in events if e.event_type == EventType.ENDED
        }
        for transaction_id in sorted(open_ids):
            with contextlib.suppress(TimeoutError):
                await peer.next(
                    Event, since=since, timeout=ctx.timeout, where=_ending(transaction_id)
                )
                continue
            ctx.note(f"tidy: transaction {transaction_id} did not end on unplugging; stopping it")
            await peer.call(v201.RequestStopTransactionRequest(transaction_id=transaction_id))
    except Exception as error:  # the case's outcome is its own checks'
        ctx.note(f"tidy: {type(error).__name__}: {error}")


# -- files the station fetches or uploads (firmware, logs) -----------------------------------

__all__ += ["Served", "serve_files"]


@dataclasses.dataclass
class Served:
    """The harness's HTTP server for files: ``url(path)`` is where the station finds them (on
    the host the harness listens on for the station); ``requests`` what it asked, as
    (method, path, bytes of body received)."""

    base: str
    requests: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"


@contextlib.asynccontextmanager
async def serve_files(ctx: Context, files: dict[str, bytes]) -> AsyncIterator[Served]:
    """A plain HTTP server on the harness's host while the block runs: GET of one of
    ``files`` (by path, e.g. "/fw.bin") gives it, PUT or POST (an upload) is taken with 200,
    anything else is 404. One request per connection."""
    host = ctx.target.host if ctx.target.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    served = Served("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(ctx.timeout):
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, path = [*head[0].split(" "), "", ""][:2]
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length" and value.strip().isdigit():
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
            served.requests.append((method, path, len(body)))
            content = files.get(path.split("?")[0]) if method in ("GET", "HEAD") else b""
            status = "200 OK" if content is not None or method in ("PUT", "POST") else "404"
            payload = content if content is not None and method == "GET" else b""
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Length: {len(content or b'')}\r\n"
                "Connection: close\r\n\r\n".encode("latin-1")
                + payload
            )
            await writer.drain()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, 0)
    port = server.sockets[0].getsockname()[1]
    served.base = f"http://{host}:{port}"
    try:
        yield served
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)
        if served.requests:
            ctx.note("HTTP requests of the station: " + ", ".join(map(str, served.requests)))


# -- outages ---------------------------------------------------------------------------------


async def go_offline(ctx: Context, peer: Peer, seconds: float) -> asyncio.Task[Any]:
    """The driver takes the station off the network for ``seconds`` (``go_offline``, run
    alongside the case: a driver may return at once or when the outage ends); the case goes
    on once the station's connection ``peer`` has closed. The task is the driver's action, for
    ``back_online``."""
    outage = asyncio.create_task(ctx.act("go_offline", seconds=seconds))
    closed = await peer.wait_closed(ctx.timeout)
    if outage.done() and not outage.cancelled() and outage.exception() is not None:
        await outage  # the driver could not: its error
    ctx.check(
        closed,
        f"the station kept its connection open {ctx.timeout:g} s after it went offline",
    )
    return outage


async def back_online(
    ctx: Context, before: Peer, outage: asyncio.Task[Any], seconds: float
) -> Peer:
    """After ``go_offline``: the driver's action done, the station's new connection (another
    than ``before``), waiting the rest of the outage and then up to the step timeout."""
    started = time.monotonic()
    await outage
    deadline = started + seconds + ctx.timeout
    while True:
        try:
            return await ctx.station(after=before)
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise CheckFailed(
                    f"the station did not connect again within {ctx.timeout:g} s of the end "
                    f"of its {seconds:g} s outage"
                ) from None
