"""Variable monitoring at run time (block N): when monitors fire, the station says so.

The trigger logic is ``kilowatt.devicemodel``'s; this feeds it what happens on the station:

- the attributes a SetVariables changed (a ``station.change_listeners`` entry);
- a measured value of the hardware changing (``set_measured``, which the simulator calls);
- the time, for Periodic and PeriodicClockAligned monitors (``follow_monitors``);

and sends the events it returns as NotifyEvent (N07, N08), split over messages with seqNo and
tbc. An event that cannot be sent (offline, refused) is kept if its severity is at or below
MonitoringCtrlr.OfflineQueuingSeverity and sent when ``follow_monitors`` starts again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from kilowatt.devicemodel import (
    Change,
    ComponentKey,
    DeviceModel,
    VariableKey,
    check_monitors,
    due,
    periodic_events,
    update_actual,
)
from kilowatt.devicemodel.splitting import split_items
from kilowatt.messages import v201
from kilowatt.station.tasks import first_of

if TYPE_CHECKING:
    from kilowatt.station.station import Station

__all__ = ["StationMonitors", "follow_monitors", "set_measured"]

MONITORING = "MonitoringCtrlr"
# NotifyEvent has no ItemsPerMessage variable of its own: these keep a message reasonable.
EVENTS_PER_MESSAGE = 100
BYTES_PER_MESSAGE = 65000
# A due time this close counts as reached: the clock's float seconds round to microseconds.
_SLACK = timedelta(milliseconds=1)


class StationMonitors:
    """The station's side of monitoring: sends the events, keeps those it could not send.

    Constructed once per station (``Station.__init__``); it registers itself as a listener of
    SetVariables changes.
    """

    def __init__(self, station: Station) -> None:
        self._station = station
        # Set when the monitors may be due at another time: follow_monitors looks again.
        self.changed = asyncio.Event()
        self.pending: list[v201.EventDataType] = []  # kept while offline, oldest first
        station.change_listeners.append(self._variables_changed)

    def enabled(self) -> bool:
        model = self._station.model
        if model.definition(MONITORING, "Enabled") is None:
            return True
        return model.bool_value(MONITORING, "Enabled")

    def transactions(self) -> dict[int, str]:
        return {
            evse.id: evse.transaction.id
            for evse in self._station.evses.values()
            if evse.transaction is not None
        }

    def adopt(self, model: DeviceModel, events: Sequence[v201.EventDataType]) -> None:
        """Take the model the trigger logic returned and send its events."""
        before = self._station.model
        self._station.set_model(model)
        if events and self.enabled():
            severities = {
                monitor.id: monitor.severity for monitor in before.monitoring.active.values()
            }
            self._station.spawn(self._deliver(list(events), severities))

    def evaluate(self, changes: Sequence[Change] | None = None) -> None:
        """Run the threshold and delta monitors on ``changes`` (None: on every variable)."""
        station = self._station
        model, events = check_monitors(
            station.model, station.clock.now(), changes, self.transactions()
        )
        self.adopt(model, events)

    def _variables_changed(self, changes: list[Change]) -> None:
        self.evaluate(changes)

    def wake(self) -> None:
        self.changed.set()

    async def _deliver(self, events: list[v201.EventDataType], severities: dict[int, int]) -> None:
        unsent = await self._send(events)
        if not unsent:
            return
        model = self._station.model
        level = model.int_value(MONITORING, "OfflineQueuingSeverity")
        for event in unsent:
            monitor_id = event.variable_monitoring_id
            severity = severities.get(monitor_id) if isinstance(monitor_id, int) else None
            if severity is not None and severity <= level:
                self.pending.append(event)

    async def _send(self, events: list[v201.EventDataType]) -> list[v201.EventDataType]:
        """Send ``events`` as NotifyEvent messages; the events of those not answered."""
        generated_at = self._station.clock.now()

        def build(
            chunk: list[v201.EventDataType], seq_no: int, tbc: bool
        ) -> v201.NotifyEventRequest:
            return v201.NotifyEventRequest(
                generated_at=generated_at, seq_no=seq_no, tbc=tbc, event_data=chunk
            )

        unsent: list[v201.EventDataType] = []
        for message in split_items(events, build, EVENTS_PER_MESSAGE, BYTES_PER_MESSAGE):
            if await self._station.send(message) is None:
                unsent.extend(message.event_data)
        return unsent

    async def flush(self) -> None:
        """Send the events kept while offline; keep them again if that fails too."""
        if not self.pending:
            return
        events, self.pending = self.pending, []
        self.pending = await self._send(events) + self.pending


def set_measured(
    station: Station, component: ComponentKey | str, variable: VariableKey | str, value: str
) -> None:
    """The hardware measured ``value`` for a variable's Actual attribute (e.g. EVSE 1's Power,
    ``ComponentKey("EVSE", evse=1)``, ``"Power"``); its monitors fire as they should.

    Raises:
        KeyError: the model has no such variable.
        ValueError: the value does not fit the variable (a Power above its maximum).
    """
    monitors = station.monitors
    model, events = update_actual(
        station.model, component, variable, value, station.clock.now(), monitors.transactions()
    )
    monitors.adopt(model, events)


async def follow_monitors(station: Station) -> None:
    """Send what was kept while offline, evaluate every monitor once (a threshold crossed or
    cleared while the station was away, N07.FR.14), then fire the periodic monitors on time.

    Run it while the station is connected; it returns only when cancelled.
    """
    monitors = station.monitors
    clock = station.clock
    await monitors.flush()
    monitors.evaluate()
    while True:
        monitors.changed.clear()
        now = clock.now()
        when = due(station.model, now)
        if when is not None and when <= now + _SLACK:
            model, events = periodic_events(station.model, max(now, when), monitors.transactions())
            monitors.adopt(model, events)
            continue
        if when is None:
            await monitors.changed.wait()
        else:
            await first_of(clock.sleep((when - now).total_seconds()), monitors.changed.wait())
