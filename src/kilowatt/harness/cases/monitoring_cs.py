"""Block N, Diagnostics (variable monitoring), with a charging station under test: monitors set,
firing, reported and cleared; the monitoring level and base; monitors of what is not there.

The cases watch EVSE 1's Power (the EVSE component's measured power, a variable a station
monitors) with Periodic monitors, which fire on time whatever the value does, and a Delta
monitor on connector 1's AvailabilityState, which changes when an EV plugs in."""

from __future__ import annotations

import asyncio
import contextlib
import time

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    CONNECTOR,
    EVSE,
    TOLERANCE,
    expect,
    get_value,
    next_id,
    tidy,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Monitor = v201.MonitorEnumType
SetStatus = v201.SetMonitoringStatusEnumType
ClearStatus = v201.ClearMonitoringStatusEnumType
ReportStatus = v201.GenericDeviceModelStatusEnumType
PERIOD = 2  # seconds: the interval of the Periodic monitors set
SEVERITY = 8  # Informational: reported at the default level (9), not at LOW_LEVEL
LOW_LEVEL = 4
POWER = (
    v201.ComponentType(name="EVSE", evse=v201.EVSEType(id=EVSE)),
    v201.VariableType(name="Power"),
)
AVAILABILITY = (
    v201.ComponentType(name="Connector", evse=v201.EVSEType(id=EVSE, connector_id=CONNECTOR)),
    v201.VariableType(name="AvailabilityState"),
)
UNKNOWN_COMPONENT = "HarnessNoSuchComponent"
UNKNOWN_VARIABLE = "HarnessNoSuchVariable"
Place = tuple[v201.ComponentType, v201.VariableType]


def named(place: Place) -> str:
    component, variable = place
    evse = component.evse
    where = "" if evse is UNSET else f"[EVSE {evse.id}]"
    return f"{component.name}{where}.{variable.name}"


async def set_monitor(
    ctx: Context,
    peer: Peer,
    kind: v201.MonitorEnumType,
    value: float,
    place: Place = POWER,
    severity: int = SEVERITY,
) -> int:
    """SetVariableMonitoring of one monitor: Accepted, with the monitor's id."""
    component, variable = place
    answer = await peer.call(
        v201.SetVariableMonitoringRequest(
            set_monitoring_data=[
                v201.SetMonitoringDataType(
                    value=value,
                    type=kind,
                    severity=severity,
                    component=component,
                    variable=variable,
                )
            ]
        )
    )
    results = answer.set_monitoring_result
    ctx.check(len(results) == 1, f"one monitor set, {len(results)} results")
    result = results[0]
    ctx.check(
        result.status == SetStatus.ACCEPTED,
        f"a {kind} monitor on {named(place)}: expected Accepted, got {result.status}",
    )
    ctx.check(result.id is not UNSET, f"the Accepted {kind} monitor came without its id")
    assert result.id is not UNSET
    ctx.check(
        (result.type, result.component.name, result.variable.name)
        == (kind, place[0].name, place[1].name),
        f"the result names {result.type} on {result.component.name}.{result.variable.name}, "
        f"not the monitor set",
    )
    return result.id


async def clear_monitors(
    ctx: Context, peer: Peer, *ids: int
) -> list[v201.ClearMonitoringResultType]:
    answer = await peer.call(v201.ClearVariableMonitoringRequest(id=list(ids)))
    return answer.clear_monitoring_result


async def clear_quietly(ctx: Context, peer: Peer, *ids: int) -> None:
    """Clear monitors a case set (best effort: noted when it does not work)."""
    with contextlib.suppress(Exception):
        await clear_monitors(ctx, peer, *ids)
        return
    ctx.note(f"clearing monitors {ids} did not work")


def events_of(request: v201.NotifyEventRequest, monitor_id: int) -> list[v201.EventDataType]:
    return [e for e in request.event_data if e.variable_monitoring_id == monitor_id]


async def event_of(
    ctx: Context, peer: Peer, monitor_id: int, what: str, *, since: int, timeout: float
) -> v201.EventDataType:
    """The first event of the monitor in a NotifyEvent after ``since``."""
    request = await expect(
        ctx,
        peer,
        v201.NotifyEventRequest,
        what,
        since=since,
        where=lambda r: bool(events_of(r, monitor_id)),
        timeout=timeout,
    )
    return events_of(request, monitor_id)[0]


def silent(peer: Peer, monitor_id: int, since: int) -> bool:
    """No event of the monitor came after ``since``."""
    return not any(events_of(r, monitor_id) for r in peer.received(v201.NotifyEventRequest, since))


async def monitoring_report(
    ctx: Context,
    peer: Peer,
    place: Place,
    criteria: list[v201.MonitoringCriterionEnumType] | None = None,
) -> tuple[v201.GenericDeviceModelStatusEnumType, list[v201.VariableMonitoringType]]:
    """GetMonitoringReport of one variable: the answer, and when Accepted the monitors its
    NotifyMonitoringReport parts list for that variable (up to the part without tbc)."""
    component, variable = place
    request_id = next_id()
    mark = peer.mark()
    answer = await peer.call(
        v201.GetMonitoringReportRequest(
            request_id=request_id,
            component_variable=[v201.ComponentVariableType(component=component, variable=variable)],
            monitoring_criteria=criteria if criteria else UNSET,
        )
    )
    parts: list[v201.NotifyMonitoringReportRequest] = []
    if answer.status != ReportStatus.ACCEPTED:
        return answer.status, []
    while not parts or parts[-1].tbc is True:
        parts.append(
            await expect(
                ctx,
                peer,
                v201.NotifyMonitoringReportRequest,
                f"NotifyMonitoringReport part {len(parts) + 1} of request {request_id}",
                since=mark,
                where=lambda r: r.request_id == request_id and all(r is not p for p in parts),
            )
        )
    return answer.status, [
        monitor
        for part in parts
        for data in (part.monitor if part.monitor is not UNSET else [])
        if (data.component.name, data.variable.name) == (component.name, variable.name)
        for monitor in data.variable_monitoring
    ]


@case(
    "TC_N_01_CS",
    "A Periodic monitor fires on time, and stops once cleared",
    use_cases=("N04", "N06", "N08"),
    prerequisites="The station is booted; EVSE 1's Power supports monitoring.",
)
async def periodic_monitor(ctx: Context) -> None:
    """The harness sets a Periodic monitor on EVSE 1's Power with an interval of 2 s
    (SetVariableMonitoring): Accepted, with the monitor's id, naming the monitor set. A
    NotifyEvent with an event of that monitor (trigger Periodic, EVSE 1's Power) comes within
    the interval (and a little tolerance), and another one about an interval later, not
    sooner. The harness clears the monitor (ClearVariableMonitoring): Accepted for its id.
    No event of it comes for twice the interval after that, and clearing it again is answered
    NotFound."""
    peer = await ctx.station()
    mark = peer.mark()
    monitor_id = await set_monitor(ctx, peer, Monitor.PERIODIC, PERIOD)
    cleared = False
    try:
        first = await event_of(
            ctx,
            peer,
            monitor_id,
            f"an event of Periodic monitor {monitor_id} ({PERIOD} s)",
            since=mark,
            timeout=PERIOD + TOLERANCE,
        )
        at = time.monotonic()
        ctx.check(
            first.trigger == v201.EventTriggerEnumType.PERIODIC,
            f"an event of a Periodic monitor: expected trigger Periodic, got {first.trigger}",
        )
        ctx.check(
            (first.component.name, first.variable.name) == ("EVSE", "Power")
            and first.component.evse is not UNSET
            and first.component.evse.id == EVSE,
            f"the event is about {first.component.name}.{first.variable.name}, not EVSE "
            f"{EVSE}'s Power",
        )
        later = peer.mark()
        await event_of(
            ctx,
            peer,
            monitor_id,
            f"the next event of Periodic monitor {monitor_id}",
            since=later,
            timeout=PERIOD + TOLERANCE,
        )
        gap = time.monotonic() - at
        ctx.note(f"Periodic events {gap:.2f} s apart")
        ctx.check(gap >= PERIOD - 0.5, f"Periodic events {gap:.2f} s apart, not every {PERIOD} s")
        results = await clear_monitors(ctx, peer, monitor_id)
        statuses = {r.id: r.status for r in results}
        ctx.check(
            statuses.get(monitor_id) == ClearStatus.ACCEPTED and len(results) == 1,
            f"clearing monitor {monitor_id}: expected one result Accepted, got {statuses}",
        )
        cleared = True
        after = peer.mark()
        await asyncio.sleep(2 * PERIOD + TOLERANCE)
        ctx.check(
            silent(peer, monitor_id, after),
            f"monitor {monitor_id} was cleared, yet it fired again",
        )
        again = await clear_monitors(ctx, peer, monitor_id)
        statuses = {r.id: r.status for r in again}
        ctx.check(
            statuses.get(monitor_id) == ClearStatus.NOT_FOUND,
            f"clearing monitor {monitor_id} a second time: expected NotFound, got {statuses}",
        )
    finally:
        if not cleared:
            await clear_quietly(ctx, peer, monitor_id)


@case(
    "TC_N_02_CS",
    "The monitoring report lists a monitor set, by variable and by kind",
    use_cases=("N02", "N04"),
    prerequisites="The station is booted; EVSE 1's Power supports monitoring.",
)
async def monitoring_report_lists(ctx: Context) -> None:
    """The harness sets an UpperThreshold monitor on EVSE 1's Power (Accepted, with its id),
    then asks for the monitoring report of that variable (GetMonitoringReport): Accepted, and
    NotifyMonitoringReport parts of the request's id follow, the last without tbc, listing the
    monitor under EVSE 1's Power with its type, value and severity. Asked for the same
    variable's Periodic monitors only, the station does not list it (EmptyResultSet, or a
    report without it). (The monitor is then cleared.)"""
    peer = await ctx.station()
    threshold = 1000.0
    monitor_id = await set_monitor(ctx, peer, Monitor.UPPER_THRESHOLD, threshold)
    try:
        status, listed = await monitoring_report(ctx, peer, POWER)
        ctx.check(
            status == ReportStatus.ACCEPTED,
            f"GetMonitoringReport of a monitored variable: expected Accepted, got {status}",
        )
        ours = [m for m in listed if m.id == monitor_id]
        ctx.check(
            len(ours) == 1,
            f"the report of EVSE {EVSE}'s Power must list monitor {monitor_id} once, listed "
            f"{[m.id for m in listed]}",
        )
        got = ours[0]
        ctx.check(
            (got.type, got.value, got.severity) == (Monitor.UPPER_THRESHOLD, threshold, SEVERITY),
            f"monitor {monitor_id} is reported as {got.type} {got.value} severity "
            f"{got.severity}, set as UpperThreshold {threshold} severity {SEVERITY}",
        )
        status, listed = await monitoring_report(
            ctx, peer, POWER, [v201.MonitoringCriterionEnumType.PERIODIC_MONITORING]
        )
        ctx.check(
            status in (ReportStatus.ACCEPTED, ReportStatus.EMPTY_RESULT_SET),
            f"GetMonitoringReport of Periodic monitors: expected EmptyResultSet or Accepted, "
            f"got {status}",
        )
        ctx.check(
            all(m.id != monitor_id for m in listed),
            f"asked for Periodic monitors only, the report lists threshold monitor {monitor_id}",
        )
    finally:
        await clear_quietly(ctx, peer, monitor_id)


@case(
    "TC_N_03_CS",
    "Monitors on a component or a variable the station does not have",
    use_cases=("N04",),
    requirements=("N04.FR.03", "N04.FR.04"),
    prerequisites="The station is booted.",
)
async def unknown_monitors(ctx: Context) -> None:
    """The harness sets, in one SetVariableMonitoring, a Delta monitor on a variable of a
    component no station has, and one on a variable EVSE 1 does not have. The results come in
    the order asked: UnknownComponent for the first, UnknownVariable for the second, neither
    with a monitor id."""
    peer = await ctx.station()
    evse = v201.ComponentType(name="EVSE", evse=v201.EVSEType(id=EVSE))
    asked = [
        (v201.ComponentType(name=UNKNOWN_COMPONENT), v201.VariableType(name="Power")),
        (evse, v201.VariableType(name=UNKNOWN_VARIABLE)),
    ]
    answer = await peer.call(
        v201.SetVariableMonitoringRequest(
            set_monitoring_data=[
                v201.SetMonitoringDataType(
                    value=1, type=Monitor.DELTA, severity=SEVERITY, component=c, variable=v
                )
                for c, v in asked
            ]
        )
    )
    results = answer.set_monitoring_result
    ctx.check(len(results) == 2, f"two monitors asked, {len(results)} results")
    got = [(r.component.name, r.variable.name, r.status) for r in results]
    expected = [
        (UNKNOWN_COMPONENT, "Power", SetStatus.UNKNOWN_COMPONENT),
        ("EVSE", UNKNOWN_VARIABLE, SetStatus.UNKNOWN_VARIABLE),
    ]
    ctx.check(got == expected, f"expected {expected}, got {got}")
    ids = [r.id for r in results if r.id is not UNSET]
    try:
        ctx.check(not ids, f"monitors that could not be set were given ids {ids}")
    finally:
        if ids:
            await clear_quietly(ctx, peer, *[i for i in ids if isinstance(i, int)])


@case(
    "TC_N_04_CS",
    "The monitoring level holds back events of a lower severity",
    use_cases=("N05", "N08"),
    prerequisites="The station is booted; EVSE 1's Power supports monitoring.",
)
async def monitoring_level(ctx: Context) -> None:
    """The harness sets a Periodic monitor of severity 8 (Informational) on EVSE 1's Power,
    every 2 s: it fires. The harness sets the monitoring level to 4 (SetMonitoringLevel):
    Accepted, and for twice the interval no event of the monitor comes. The level set back to
    what it was (MonitoringCtrlr.ActiveMonitoringLevel, 9 if the station does not say):
    Accepted, and the monitor fires again. (The monitor is then cleared.)"""
    peer = await ctx.station()
    value = await get_value(ctx, peer, "MonitoringCtrlr", "ActiveMonitoringLevel")
    level = int(value) if value is not None and value.isdigit() else 9
    if level < SEVERITY:
        ctx.note(f"ActiveMonitoringLevel was {level}: it is set to 9 for the case")
        level = 9
    mark = peer.mark()
    monitor_id = await set_monitor(ctx, peer, Monitor.PERIODIC, PERIOD)
    lowered = False
    try:
        await event_of(
            ctx,
            peer,
            monitor_id,
            f"an event of monitor {monitor_id}",
            since=mark,
            timeout=PERIOD + TOLERANCE,
        )
        answer = await peer.call(v201.SetMonitoringLevelRequest(severity=LOW_LEVEL))
        ctx.check(
            answer.status == v201.GenericStatusEnumType.ACCEPTED,
            f"SetMonitoringLevel {LOW_LEVEL}: expected Accepted, got {answer.status}",
        )
        lowered = True
        quiet = peer.mark()
        await asyncio.sleep(2 * PERIOD + TOLERANCE)
        ctx.check(
            silent(peer, monitor_id, quiet),
            f"at monitoring level {LOW_LEVEL} the station reported monitor {monitor_id} of "
            f"severity {SEVERITY}",
        )
        answer = await peer.call(v201.SetMonitoringLevelRequest(severity=level))
        ctx.check(
            answer.status == v201.GenericStatusEnumType.ACCEPTED,
            f"SetMonitoringLevel {level}: expected Accepted, got {answer.status}",
        )
        lowered = False
        back = peer.mark()
        await event_of(
            ctx,
            peer,
            monitor_id,
            f"an event of monitor {monitor_id} at level {level}",
            since=back,
            timeout=PERIOD + TOLERANCE,
        )
    finally:
        if lowered:
            with contextlib.suppress(Exception):
                await peer.call(v201.SetMonitoringLevelRequest(severity=level))
        await clear_quietly(ctx, peer, monitor_id)


@case(
    "TC_N_05_CS",
    "Monitoring base HardWiredOnly clears the custom monitors; All is accepted",
    use_cases=("N03",),
    prerequisites="The station is booted; EVSE 1's Power supports monitoring.",
)
async def monitoring_base(ctx: Context) -> None:
    """The harness sets a Periodic monitor on EVSE 1's Power (a custom monitor, Accepted),
    then sets the monitoring base to HardWiredOnly (SetMonitoringBase): Accepted. The custom
    monitor is gone: the monitoring report of the variable does not list it, and no event of
    it comes for twice its interval. The harness sets the base back to All: Accepted."""
    peer = await ctx.station()
    monitor_id = await set_monitor(ctx, peer, Monitor.PERIODIC, PERIOD)
    try:
        answer = await peer.call(
            v201.SetMonitoringBaseRequest(
                monitoring_base=v201.MonitoringBaseEnumType.HARD_WIRED_ONLY
            )
        )
        ctx.check(
            answer.status == ReportStatus.ACCEPTED,
            f"SetMonitoringBase HardWiredOnly: expected Accepted, got {answer.status}",
        )
        quiet = peer.mark()
        status, listed = await monitoring_report(ctx, peer, POWER)
        ctx.check(
            all(m.id != monitor_id for m in listed),
            f"after HardWiredOnly the report ({status}) still lists custom monitor {monitor_id}",
        )
        await asyncio.sleep(2 * PERIOD + TOLERANCE)
        ctx.check(
            silent(peer, monitor_id, quiet),
            f"after HardWiredOnly custom monitor {monitor_id} still fired",
        )
    finally:
        answer = await peer.call(
            v201.SetMonitoringBaseRequest(monitoring_base=v201.MonitoringBaseEnumType.ALL)
        )
        await clear_quietly(ctx, peer, monitor_id)
    ctx.check(
        answer.status == ReportStatus.ACCEPTED,
        f"SetMonitoringBase All: expected Accepted, got {answer.status}",
    )


@case(
    "TC_N_06_CS",
    "A Delta monitor on a connector's availability fires when an EV plugs in",
    use_cases=("N04", "N07"),
    prerequisites="The station is idle; the connector's AvailabilityState supports monitoring; "
    "the driver can plug in and unplug.",
)
async def delta_monitor(ctx: Context) -> None:
    """The harness sets a Delta monitor on the AvailabilityState of connector 1 of EVSE 1
    (Accepted, with its id). An EV is plugged in there: the connector becomes Occupied, and a
    NotifyEvent comes with an event of the monitor (trigger Delta, the connector's
    AvailabilityState, its new value Occupied). (The EV is then unplugged, and the monitor
    cleared.)"""
    peer = await ctx.station()
    monitor_id = await set_monitor(ctx, peer, Monitor.DELTA, 1, AVAILABILITY)
    mark = peer.mark()
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await expect(
            ctx,
            peer,
            v201.StatusNotificationRequest,
            f"StatusNotification Occupied of EVSE {EVSE} connector {CONNECTOR}",
            since=mark,
            where=lambda r: (
                (r.evse_id, r.connector_id, r.connector_status)
                == (EVSE, CONNECTOR, v201.ConnectorStatusEnumType.OCCUPIED)
            ),
        )
        event = await event_of(
            ctx,
            peer,
            monitor_id,
            f"an event of Delta monitor {monitor_id} on {named(AVAILABILITY)}",
            since=mark,
            timeout=ctx.timeout,
        )
        ctx.check(
            event.trigger == v201.EventTriggerEnumType.DELTA,
            f"an event of a Delta monitor: expected trigger Delta, got {event.trigger}",
        )
        ctx.check(
            event.actual_value == "Occupied",
            f"the connector became Occupied, the event says {event.actual_value!r}",
        )
    finally:
        await tidy(ctx, peer, mark)
        await clear_quietly(ctx, peer, monitor_id)
