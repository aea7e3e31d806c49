"""The EVSE's state machines, as tables.

Two tables, read top to bottom:

- ``CONNECTOR_STATUS``: a connector's status (what StatusNotification reports) from the facts
  about it. The first row whose facts hold wins, so priority is the row order: a fault hides
  everything, an inoperative connector is Unavailable even with a cable in it, a plugged cable
  makes it Occupied, a reservation makes a free one Reserved.
- ``CHARGING``: the transaction's chargingState (what TransactionEvent reports) as transitions
  on the events of the EV and the EVSE. A pair not in the table leaves the state unchanged.
"""

from __future__ import annotations

from enum import StrEnum

from kilowatt.messages.v201 import ChargingStateEnumType, ConnectorStatusEnumType

__all__ = [
    "CHARGING",
    "CONNECTOR_STATUS",
    "ChargingEvent",
    "charging_state_after",
    "connector_status",
]

Status = ConnectorStatusEnumType
State = ChargingStateEnumType
_: None = None  # matches any value

# (faulted, operative, occupied, reserved) -> status
CONNECTOR_STATUS: tuple[tuple[tuple[bool | None, ...], Status], ...] = (
    ((True, _, _, _), Status.FAULTED),
    ((False, False, _, _), Status.UNAVAILABLE),
    ((False, True, True, _), Status.OCCUPIED),
    ((False, True, False, True), Status.RESERVED),
    ((False, True, False, False), Status.AVAILABLE),
)


def connector_status(*, faulted: bool, operative: bool, occupied: bool, reserved: bool) -> Status:
    facts = (faulted, operative, occupied, reserved)
    for pattern, status in CONNECTOR_STATUS:
        if all(want is None or want == fact for want, fact in zip(pattern, facts, strict=True)):
            return status
    raise AssertionError(f"CONNECTOR_STATUS misses {facts}")  # the table covers every case


class ChargingEvent(StrEnum):
    PLUGGED = "plugged"  # the EV's cable is in
    UNPLUGGED = "unplugged"
    ENERGY_OFFERED = "energy_offered"  # authorized, operative, and a limit above zero
    ENERGY_WITHHELD = "energy_withheld"  # the EVSE stops offering: limit 0, deauthorized...
    EV_DRAWS = "ev_draws"  # the EV takes power
    EV_PAUSES = "ev_pauses"  # the EV stops taking power (full, or its own choice)


E = ChargingEvent
# (state, event) -> next state
CHARGING: dict[tuple[State, ChargingEvent], State] = {
    (State.IDLE, E.PLUGGED): State.EV_CONNECTED,
    (State.EV_CONNECTED, E.ENERGY_OFFERED): State.SUSPENDED_EV,
    (State.EV_CONNECTED, E.EV_DRAWS): State.CHARGING,
    (State.SUSPENDED_EV, E.EV_DRAWS): State.CHARGING,
    (State.SUSPENDED_EV, E.ENERGY_WITHHELD): State.SUSPENDED_EVSE,
    (State.CHARGING, E.EV_PAUSES): State.SUSPENDED_EV,
    (State.CHARGING, E.ENERGY_WITHHELD): State.SUSPENDED_EVSE,
    (State.SUSPENDED_EVSE, E.ENERGY_OFFERED): State.SUSPENDED_EV,
    (State.EV_CONNECTED, E.UNPLUGGED): State.IDLE,
    (State.SUSPENDED_EV, E.UNPLUGGED): State.IDLE,
    (State.SUSPENDED_EVSE, E.UNPLUGGED): State.IDLE,
    (State.CHARGING, E.UNPLUGGED): State.IDLE,
}


def charging_state_after(state: State, event: ChargingEvent) -> State:
    return CHARGING.get((state, event), state)
