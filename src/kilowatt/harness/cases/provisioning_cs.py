"""Block B, Provisioning, with a charging station under test: its boot (Accepted, Pending),
the heartbeat interval of the boot answer, variables, the base report, and resets."""

from __future__ import annotations

import asyncio
import contextlib
import time

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    EVSE,
    QUIET,
    TOLERANCE,
    answer_boot,
    boot_reported,
    connectors,
    ended,
    expect,
    get_value,
    heartbeat_interval,
    present,
    rebooted,
    report,
    restore,
    started,
    tidy,
    token,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import Request, v201

__all__: list[str] = []

Registration = v201.RegistrationStatusEnumType
GetStatus = v201.GetVariableStatusEnumType
SetStatus = v201.SetVariableStatusEnumType
HEARTBEAT = 2  # seconds: the short interval B_03 gives, to see it followed
READ_ONLY = ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables")  # required, ReadOnly


@case(
    "TC_B_01_CS",
    "Cold boot: Accepted, then the status of every connector",
    use_cases=("B01",),
    prerequisites="The station is booted; the driver can reboot it.",
)
async def cold_boot_accepted(ctx: Context) -> None:
    """The harness learns the station's connectors from its full inventory report, then has
    the station rebooted. On its new connection the station's first request is a
    BootNotification; the harness accepts it (keeping the heartbeat interval the station
    has). The station then reports the status of each of its connectors with
    StatusNotification."""
    peer = await ctx.station()
    wanted = await connectors(ctx, peer)
    answer_boot(ctx, peer, Registration.ACCEPTED, await heartbeat_interval(ctx, peer))
    await ctx.act("reboot")
    peer, _ = await rebooted(ctx, peer)
    await boot_reported(ctx, peer, wanted, since=0)


@case(
    "TC_B_02_CS",
    "Cold boot: Pending, then Accepted on a triggered boot",
    use_cases=("B02", "F06"),
    requirements=("B02.FR.05",),
    prerequisites="The station is booted; the driver can reboot it.",
)
async def cold_boot_pending(ctx: Context) -> None:
    """The harness has the station rebooted and answers its BootNotification Pending with a
    retry interval of a minute. For a while the station sends nothing: no second
    BootNotification before the interval, no StatusNotification, Heartbeat or other request.
    The harness then triggers a BootNotification (TriggerMessage, Accepted), accepts it, and
    the station reports its connectors' status."""
    peer = await ctx.station()
    wanted = await connectors(ctx, peer)
    interval = await heartbeat_interval(ctx, peer)
    answer_boot(ctx, peer, Registration.PENDING, 60)
    await ctx.act("reboot")
    peer, _ = await rebooted(ctx, peer)
    accepted = False
    try:
        await asyncio.sleep(QUIET)
        sent = peer.received(Request)
        answer_boot(ctx, peer, Registration.ACCEPTED, interval)
        mark = peer.mark()
        trigger = await peer.call(
            v201.TriggerMessageRequest(
                requested_message=v201.MessageTriggerEnumType.BOOT_NOTIFICATION
            )
        )
        ctx.check(
            trigger.status == v201.TriggerMessageStatusEnumType.ACCEPTED,
            "TriggerMessage(BootNotification) while Pending: expected Accepted, got "
            f"{trigger.status}",
        )
        await expect(ctx, peer, v201.BootNotificationRequest, "the triggered boot", since=mark)
        accepted = True
        await boot_reported(ctx, peer, wanted, since=mark)
        ctx.check(
            len(sent) == 1,
            "while Pending (retry in 60 s) the station must send nothing more, it sent "
            + ", ".join(r.ACTION for r in sent[1:]),
        )
    finally:
        if not accepted:  # not left Pending for the next case: booted again, Accepted
            with contextlib.suppress(Exception):
                await ctx.act("reboot")
                peer, _ = await rebooted(ctx, peer)
                await boot_reported(ctx, peer, wanted, since=0)


@case(
    "TC_B_03_CS",
    "Heartbeats at the interval of the boot answer",
    use_cases=("B01", "G02"),
    prerequisites="The station is booted; the driver can reboot it.",
)
async def heartbeat_interval_followed(ctx: Context) -> None:
    """The harness has the station rebooted and accepts its boot with a heartbeat interval of
    2 s. A Heartbeat comes within the interval (and a little tolerance) after the boot, and
    the next one about an interval after it: neither late nor early. The harness then sets
    OCPPCommCtrlr.HeartbeatInterval back to what it was."""
    peer = await ctx.station()
    before = await heartbeat_interval(ctx, peer)
    answer_boot(ctx, peer, Registration.ACCEPTED, HEARTBEAT)
    await ctx.act("reboot")
    peer, _ = await rebooted(ctx, peer)
    try:
        booted = time.monotonic()
        first = await expect(
            ctx,
            peer,
            v201.HeartbeatRequest,
            f"a Heartbeat {HEARTBEAT} s after the boot",
            timeout=HEARTBEAT + TOLERANCE,
        )
        at = time.monotonic()
        await expect(
            ctx,
            peer,
            v201.HeartbeatRequest,
            f"the next Heartbeat {HEARTBEAT} s after the first",
            where=lambda r: r is not first,
            timeout=HEARTBEAT + TOLERANCE,
        )
        gap = time.monotonic() - at
        ctx.note(f"first heartbeat {at - booted:.2f} s after the boot, the next {gap:.2f} s later")
        ctx.check(
            gap >= HEARTBEAT - 0.5,
            f"the heartbeats come every {gap:.2f} s, faster than the {HEARTBEAT} s interval",
        )
    finally:
        await restore(ctx, peer, "OCPPCommCtrlr", "HeartbeatInterval", str(before))


@case(
    "TC_B_06_CS",
    "Get variables: a known variable, and one of an unknown component",
    use_cases=("B06",),
    requirements=("B06.FR.01", "B06.FR.02", "B06.FR.06"),
    prerequisites="The station is booted.",
)
async def get_variables(ctx: Context) -> None:
    """The harness asks in one GetVariables for OCPPCommCtrlr.HeartbeatInterval and for a
    variable of a component no station has. The first result is Accepted with a whole number
    of seconds as value; the second is UnknownComponent with no value. Each result names the
    component and variable it is about."""
    peer = await ctx.station()
    unknown = "HarnessNoSuchComponent"
    answer = await peer.call(
        v201.GetVariablesRequest(
            get_variable_data=[
                v201.GetVariableDataType(
                    component=v201.ComponentType(name="OCPPCommCtrlr"),
                    variable=v201.VariableType(name="HeartbeatInterval"),
                ),
                v201.GetVariableDataType(
                    component=v201.ComponentType(name=unknown),
                    variable=v201.VariableType(name="HeartbeatInterval"),
                ),
            ]
        )
    )
    results = {r.component.name: r for r in answer.get_variable_result}
    ctx.check(
        set(results) == {"OCPPCommCtrlr", unknown} and len(answer.get_variable_result) == 2,
        f"expected a result for each of the two variables asked, got {sorted(results)}",
    )
    known = results["OCPPCommCtrlr"]
    ctx.check(
        known.attribute_status == GetStatus.ACCEPTED,
        f"OCPPCommCtrlr.HeartbeatInterval: expected Accepted, got {known.attribute_status}",
    )
    value = known.attribute_value
    ctx.check(
        value is not UNSET and value.isdigit(),
        f"OCPPCommCtrlr.HeartbeatInterval: expected a number of seconds, got {value!r}",
    )
    missing = results[unknown]
    ctx.check(
        missing.attribute_status == GetStatus.UNKNOWN_COMPONENT,
        f"{unknown}: expected UnknownComponent, got {missing.attribute_status}",
    )
    ctx.check(missing.attribute_value is UNSET, f"{unknown}: a value was given for it")


@case(
    "TC_B_11_CS",
    "Set variables: a writable one is Accepted, a read-only one Rejected",
    use_cases=("B05",),
    requirements=("B05.FR.01", "B05.FR.02"),
    prerequisites="The station is booted.",
)
async def set_variables(ctx: Context) -> None:
    """The harness sets OCPPCommCtrlr.HeartbeatInterval to another value and, in the same
    SetVariables, the read-only DeviceDataCtrlr.ItemsPerMessage (GetVariables) to the value
    it has. The first is Accepted and reads back as set; the second is Rejected and keeps its
    value. The harness then sets the heartbeat interval back."""
    peer = await ctx.station()
    before = await heartbeat_interval(ctx, peer)
    component, variable, instance = READ_ONLY
    fixed = await get_value(ctx, peer, component, variable, instance)
    ctx.check(fixed is not None, f"prerequisite: {component}.{variable}[{instance}] is readable")
    assert fixed is not None
    changed = str(before + 7)
    try:
        answer = await peer.call(
            v201.SetVariablesRequest(
                set_variable_data=[
                    v201.SetVariableDataType(
                        attribute_value=changed,
                        component=v201.ComponentType(name="OCPPCommCtrlr"),
                        variable=v201.VariableType(name="HeartbeatInterval"),
                    ),
                    v201.SetVariableDataType(
                        attribute_value=fixed,
                        component=v201.ComponentType(name=component),
                        variable=v201.VariableType(name=variable, instance=instance),
                    ),
                ]
            )
        )
        results = {r.component.name: r.attribute_status for r in answer.set_variable_result}
        ctx.check(
            len(answer.set_variable_result) == 2 and set(results) == {"OCPPCommCtrlr", component},
            f"expected a result for each of the two variables set, got {sorted(results)}",
        )
        ctx.check(
            results["OCPPCommCtrlr"] == SetStatus.ACCEPTED,
            f"HeartbeatInterval: expected Accepted, got {results['OCPPCommCtrlr']}",
        )
        ctx.check(
            results[component] == SetStatus.REJECTED,
            f"{component}.{variable} is read-only: expected Rejected, got {results[component]}",
        )
        now = await get_value(ctx, peer, "OCPPCommCtrlr", "HeartbeatInterval")
        ctx.check(now == changed, f"HeartbeatInterval reads {now!r} after it was set {changed}")
        kept = await get_value(ctx, peer, component, variable, instance)
        ctx.check(kept == fixed, f"{component}.{variable} changed from {fixed} to {kept}")
    finally:
        await restore(ctx, peer, "OCPPCommCtrlr", "HeartbeatInterval", str(before))


@case(
    "TC_B_15_CS",
    "Get base report: the full inventory in consecutive parts",
    use_cases=("B07",),
    prerequisites="The station is booted.",
)
async def base_report(ctx: Context) -> None:
    """The harness asks for the full inventory (GetBaseReport, Accepted). NotifyReport parts
    of that requestId follow, numbered 0, 1, 2... in the order they come, each but the last
    saying more is to come (tbc) and the last not; none comes after the last. Together they
    describe variables, among them OCPPCommCtrlr.HeartbeatInterval."""
    peer = await ctx.station()
    mark = peer.mark()
    parts = await report(ctx, peer, v201.ReportBaseEnumType.FULL_INVENTORY)
    await asyncio.sleep(QUIET)  # a part after the one that said it was the last?
    every = [
        r
        for r in peer.received(v201.NotifyReportRequest, mark)
        if r.request_id == parts[0].request_id
    ]
    ctx.check(
        len(every) == len(parts),
        f"{len(every) - len(parts)} NotifyReport part(s) came after the one with tbc false",
    )
    numbers = [part.seq_no for part in parts]
    ctx.check(
        numbers == list(range(len(parts))),
        f"the parts' seqNo must be 0, 1, 2... in order, were {numbers}",
    )
    continued = [part.tbc is True for part in parts]
    ctx.check(
        continued == [True] * (len(parts) - 1) + [False],
        f"tbc must be true on every part but the last, was {continued}",
    )
    named = {
        (data.component.name, data.variable.name)
        for part in parts
        for data in (part.report_data or [])
    }
    ctx.check(
        ("OCPPCommCtrlr", "HeartbeatInterval") in named,
        f"the full inventory ({len(named)} variables) lacks OCPPCommCtrlr.HeartbeatInterval",
    )


@case(
    "TC_B_20_CS",
    "Reset OnIdle of an idle station: it reboots",
    use_cases=("B11",),
    prerequisites="The station is booted and idle.",
)
async def reset_on_idle(ctx: Context) -> None:
    """The harness asks an idle station to reset when idle. It answers Accepted, closes its
    connection, connects again and boots with reason RemoteReset; accepted, it reports its
    connectors' status."""
    await _reset(ctx, v201.ResetEnumType.ON_IDLE)


@case(
    "TC_B_21_CS",
    "Reset Immediate during a transaction: it ends, then the station reboots",
    use_cases=("B12",),
    prerequisites="The station is booted and idle; the driver can plug in and present a card.",
)
async def reset_immediate_in_transaction(ctx: Context) -> None:
    """An EV is plugged in at EVSE 1 and a card presented: a transaction starts. The harness
    asks for an Immediate reset: Accepted. The transaction ends (TransactionEvent Ended,
    stoppedReason ImmediateReset, before or after the reboot), the station closes its
    connection, connects again and boots with reason RemoteReset. (The EV is then unplugged.)
    """
    peer = await ctx.station()
    mark = peer.mark()
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        card = token("HARNESSB21")
        await present(ctx, card)
        start = await started(ctx, peer, since=mark, why="EV plugged in, card presented")
        transaction_id = start.transaction_info.transaction_id
        old = peer
        peer, _ = await _reset(ctx, v201.ResetEnumType.IMMEDIATE)
        mark = 0
        end = next(
            (
                e
                for e in old.received(v201.TransactionEventRequest)
                if e.event_type == v201.TransactionEventEnumType.ENDED
                and e.transaction_info.transaction_id == transaction_id
            ),
            None,
        )
        if end is None:
            end = await ended(ctx, peer, transaction_id, why="Immediate reset")
        reason = end.transaction_info.stopped_reason
        ctx.check(
            reason == v201.ReasonEnumType.IMMEDIATE_RESET,
            f"the transaction ended with stoppedReason {reason}, not ImmediateReset",
        )
    finally:
        await tidy(ctx, peer, mark)


async def _reset(
    ctx: Context, kind: v201.ResetEnumType
) -> tuple[Peer, v201.BootNotificationRequest]:
    peer = await ctx.station()
    wanted = await connectors(ctx, peer)
    answer_boot(ctx, peer, Registration.ACCEPTED, await heartbeat_interval(ctx, peer))
    answer = await peer.call(v201.ResetRequest(type=kind))
    ctx.check(
        answer.status == v201.ResetStatusEnumType.ACCEPTED,
        f"Reset {kind}: expected Accepted, got {answer.status}",
    )
    peer, boot = await rebooted(ctx, peer, v201.BootReasonEnumType.REMOTE_RESET)
    await boot_reported(ctx, peer, wanted, since=0)
    return peer, boot
