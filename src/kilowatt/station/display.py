"""Block O, display messages: what the CSMS asked the station to show, and what it shows now.

Messages are kept by id (a new one with a known id replaces it, O06) and persisted. A message is
shown between its startDateTime and endDateTime, in its state when it names one, and during its
transaction when it names one; once past its end, or once its transaction ended, it is dropped.
The simulator reads ``shown()``: the messages on the display now, the most urgent first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    ConnectorStatusEnumType as ConnectorStatus,
    DisplayMessageStatusEnumType as DisplayStatus,
    MessagePriorityEnumType as Priority,
    MessageStateEnumType as State,
)

if TYPE_CHECKING:
    from kilowatt.station.station import Station

__all__ = ["DisplayMessages"]

STORE = "display_messages.json"
URGENCY = {Priority.ALWAYS_FRONT: 0, Priority.IN_FRONT: 1, Priority.NORMAL_CYCLE: 2}
CONTROLLER = "DisplayMessageCtrlr"


class DisplayMessages:
    def __init__(self, station: Station) -> None:
        self._station = station
        stored = station._read(STORE)
        self._messages: dict[int, v201.MessageInfoType] = (
            {m.id: m for m in msgspec.json.decode(stored, type=list[v201.MessageInfoType])}
            if stored is not None
            else {}
        )

    def set(self, message: v201.MessageInfoType) -> DisplayStatus:
        """O01/O02/O06: check the message against what the display supports, then keep it."""
        station = self._station
        if not (
            station.bool_var(CONTROLLER, "Enabled") and station.bool_var(CONTROLLER, "Available")
        ):
            return DisplayStatus.REJECTED
        if message.message.format not in station.list_var(CONTROLLER, "SupportedFormats"):
            return DisplayStatus.NOT_SUPPORTED_MESSAGE_FORMAT
        if message.priority not in station.list_var(CONTROLLER, "SupportedPriorities"):
            return DisplayStatus.NOT_SUPPORTED_PRIORITY
        if message.transaction_id is not UNSET:
            if message.transaction_id not in {tx.id for tx in station.transactions()}:
                return DisplayStatus.UNKNOWN_TRANSACTION  # O02
            # A transaction's message is shown while it charges: no other state applies.
            if message.state is not UNSET and message.state != State.CHARGING:
                return DisplayStatus.NOT_SUPPORTED_STATE
        if len(message.message.content) > station.int_var(CONTROLLER, "PersonalMessageSize"):
            return DisplayStatus.REJECTED
        self._prune()
        if message.id not in self._messages and self._full():
            return DisplayStatus.REJECTED  # no room for one more message
        self._messages[message.id] = message  # O06: a known id is replaced
        self._changed()
        return DisplayStatus.ACCEPTED

    def select(
        self,
        ids: list[int] | None,
        priority: Priority | None,
        state: State | None,
    ) -> list[v201.MessageInfoType]:
        """O03/O04: the kept messages matching every criterion given."""
        self._prune()
        return [
            m
            for m in self._messages.values()
            if (ids is None or m.id in ids)
            and (priority is None or m.priority == priority)
            and (state is None or (m.state is not UNSET and m.state == state))
        ]

    def clear(self, message_id: int) -> bool:
        """O05: remove a message; False when there is none with that id."""
        if self._messages.pop(message_id, None) is None:
            return False
        self._changed()
        return True

    def shown(self) -> list[v201.MessageInfoType]:
        """The messages the display shows now, AlwaysFront first, then InFront, NormalCycle."""
        self._prune()
        now = self._station.clock.now()
        state = self._state()
        visible = [
            m
            for m in self._messages.values()
            if (m.start_date_time is UNSET or m.start_date_time <= now)
            and (m.state is UNSET or m.state == state)
        ]
        return sorted(visible, key=lambda m: URGENCY[m.priority])

    def _state(self) -> State:
        """The station's state, as MessageStateEnumType names them."""
        station = self._station
        evses = list(station.evses.values())
        statuses = {e.status(c) for e in evses for c in e.connectors.values()}
        if ConnectorStatus.FAULTED in statuses:
            return State.FAULTED
        if station.transactions():
            return State.CHARGING
        if statuses <= {ConnectorStatus.UNAVAILABLE}:
            return State.UNAVAILABLE
        return State.IDLE

    def _prune(self) -> None:
        """Drop the messages past their endDateTime and those of ended transactions."""
        now = self._station.clock.now()
        running = {tx.id for tx in self._station.transactions()}
        stale = [
            m.id
            for m in self._messages.values()
            if (m.end_date_time is not UNSET and m.end_date_time <= now)
            or (m.transaction_id is not UNSET and m.transaction_id not in running)
        ]
        for message_id in stale:
            del self._messages[message_id]
        if stale:
            self._changed()

    def _full(self) -> bool:
        """DisplayMessageCtrlr.DisplayMessages' maxLimit is how many messages fit."""
        definition = self._station.model.definition(CONTROLLER, "DisplayMessages")
        limit = definition.characteristics.max_limit if definition is not None else None
        return limit is not None and len(self._messages) >= limit

    def _changed(self) -> None:
        station = self._station
        station._save(STORE, msgspec.json.encode(list(self._messages.values())))
        station.set_actual(CONTROLLER, "DisplayMessages", str(len(self._messages)))
