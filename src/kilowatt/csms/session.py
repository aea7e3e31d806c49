"""One station's live connection: its boot state, its transactions in progress, its socket."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from kilowatt.csms.store.records import StationRecord
from kilowatt.csms.transactions import TransactionState
from kilowatt.messages import v201
from kilowatt.rpc.errors import SecurityError

if TYPE_CHECKING:
    from kilowatt.transport.connection import Connection

__all__ = ["StationSession"]

ACCEPTED = "Accepted"
PENDING = "Pending"


class StationSession:
    """The CSMS's side of one connection of one station.

    Args:
        station: the station as stored when it connected.
        connection_id: unique per connection (reconnects get a new one).
        connected_at: wall-clock time of the upgrade.
        subprotocol: the OCPP version negotiated, e.g. "ocpp2.0.1".
        remote: the peer's address.
    """

    def __init__(
        self,
        station: StationRecord,
        connection_id: str,
        connected_at: datetime,
        subprotocol: str,
        remote: str,
    ) -> None:
        self.station = station
        self.connection_id = connection_id
        self.connected_at = connected_at
        self.subprotocol = subprotocol
        self.remote = remote
        self.connection: Connection | None = None
        self.last_heartbeat_at: datetime | None = None
        # B02/B03: while Pending, the station may send what the CSMS asked for (NotifyReport
        # after GetBaseReport/GetReport, the message a TriggerMessage requested).
        self._allowed_while_pending: set[str] = set()
        self.transactions: dict[str, TransactionState] = {}
        self.transaction_locks: dict[str, asyncio.Lock] = {}

    @property
    def station_id(self) -> str:
        return self.station.station_id

    def update_station(self, **changes: object) -> StationRecord:
        self.station = replace(self.station, **changes)  # type: ignore[arg-type]
        return self.station

    def allow_while_pending(self, action: str) -> None:
        self._allowed_while_pending.add(action)

    def check_allowed(self, request: object) -> None:
        """B02.FR.09, B03.FR.07: until its boot is Accepted a station may only boot.

        The answer last given to its BootNotification counts, as stored: a reconnect is not a
        reboot, so a station Accepted before stays Accepted.

        Raises:
            SecurityError: the station is not Accepted and the CALL was not asked for.
        """
        status = self.station.boot_status
        if status == ACCEPTED or isinstance(request, v201.BootNotificationRequest):
            return
        action = getattr(request, "ACTION", "")
        if status == PENDING and action in self._allowed_while_pending:
            return
        if status is None:
            raise SecurityError(f"{action} refused: the station has not sent a BootNotification")
        raise SecurityError(f"{action} refused: the station's registration is {status}")

    def lock_for(self, transaction_id: str) -> asyncio.Lock:
        lock = self.transaction_locks.get(transaction_id)
        if lock is None:
            lock = self.transaction_locks[transaction_id] = asyncio.Lock()
        return lock
