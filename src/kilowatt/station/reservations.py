"""Block H, reservations: which EVSE is kept for which id token, until when.

A reservation lives on the EVSE it holds (``Evse.reservation``), so the connector statuses show
Reserved from the EVSE alone. A reservation without an evseId (H01.FR.18) holds the first free
EVSE with a matching connector: the station keeps that one available for the token. Each
reservation has a timer on the station's clock; at expiry the EVSE is freed and the CSMS told
(H01: ReservationStatusUpdate Expired). A reservation used by its token ends silently: the
TransactionEvent that follows carries its id (``consume``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    CancelReservationStatusEnumType as CancelStatus,
    ConnectorStatusEnumType as ConnectorStatus,
    ReservationUpdateStatusEnumType as UpdateStatus,
    ReserveNowStatusEnumType as ReserveStatus,
)
from kilowatt.station.evse import Evse, Reservation

if TYPE_CHECKING:
    from kilowatt.station.station import Station

__all__ = ["Reservations"]


class Reservations:
    def __init__(self, station: Station) -> None:
        self._station = station
        self._unspecified: set[int] = set()  # ids of reservations that named no EVSE

    def held(self) -> dict[int, Reservation]:
        """Reservation id -> reservation, for every EVSE that holds one."""
        return {
            evse.reservation.id: evse.reservation
            for evse in self._station.evses.values()
            if evse.reservation is not None
        }

    def reserve(self, request: v201.ReserveNowRequest) -> ReserveStatus:
        """H01: reserve the requested EVSE (or any suitable one) for the request's token."""
        station = self._station
        if not (
            station.bool_var("ReservationCtrlr", "Enabled")
            and station.bool_var("ReservationCtrlr", "Available")
        ):
            return ReserveStatus.REJECTED  # H01.FR.01: not configured to accept reservations
        if request.expiry_date_time <= station.clock.now():
            return ReserveStatus.REJECTED
        connector_type = (
            str(request.connector_type) if request.connector_type is not UNSET else None
        )
        # H01.FR.02: a reservation with the same id is replaced; its EVSE counts as free.
        replaced = self._holder(request.id)
        if request.evse_id is UNSET:
            if not station.bool_var("ReservationCtrlr", "NonEvseSpecific"):
                return ReserveStatus.REJECTED  # H01.FR.19
            verdicts = {
                evse.id: self._verdict(evse, connector_type, request.id)
                for evse in station.evses.values()
            }
            free = [evse_id for evse_id, v in verdicts.items() if v == ReserveStatus.ACCEPTED]
            if not free:
                return _worst(list(verdicts.values()))
            target = station.evses[free[0]]
        else:
            evse = station.evses.get(request.evse_id)
            if evse is None:
                return ReserveStatus.REJECTED
            verdict = self._verdict(evse, connector_type, request.id)
            if verdict != ReserveStatus.ACCEPTED:
                return verdict
            target = evse
        if request.evse_id is UNSET:
            self._unspecified.add(request.id)
        else:
            self._unspecified.discard(request.id)
        if replaced is not None and replaced is not target:
            replaced.reservation = None
            station.statuses_changed(replaced)
        reservation = Reservation(
            id=request.id,
            id_token=request.id_token,
            expires_at=request.expiry_date_time,
            group_id_token=request.group_id_token if request.group_id_token is not UNSET else None,
            connector_type=connector_type,
        )
        target.reservation = reservation
        station.statuses_changed(target)  # H01: its connectors become Reserved
        station.spawn(self._expire(target, reservation))
        return ReserveStatus.ACCEPTED

    def _verdict(self, evse: Evse, connector_type: str | None, replacing: int) -> ReserveStatus:
        """What reserving this EVSE would answer (H01.FR.11-14; the connectorType must match)."""
        connectors = [
            c
            for c in evse.connectors.values()
            if connector_type is None or c.connector_type == connector_type
        ]
        if not connectors:
            return ReserveStatus.REJECTED  # no connector of the requested type
        held_by_other = evse.reservation is not None and evse.reservation.id != replacing
        if (
            evse.plugged is not None
            or evse.transaction is not None
            or evse.authorized is not None
            or held_by_other
        ):
            return ReserveStatus.OCCUPIED
        statuses = {_free_status(evse, c.faulted, c.operative) for c in connectors}
        if ConnectorStatus.AVAILABLE in statuses:
            return ReserveStatus.ACCEPTED
        if ConnectorStatus.FAULTED in statuses:
            return ReserveStatus.FAULTED
        return ReserveStatus.UNAVAILABLE

    def cancel(self, reservation_id: int) -> CancelStatus:
        """H02: free the EVSE the reservation holds; Rejected for an unknown id (H02.FR.02)."""
        evse = self._holder(reservation_id)
        if evse is None:
            return CancelStatus.REJECTED
        evse.reservation = None
        self._station.statuses_changed(evse)  # H02.FR.04: its connectors Available again
        return CancelStatus.ACCEPTED

    def allows(
        self, evse: Evse, token: v201.IdTokenType, group: v201.IdTokenType | None = None
    ) -> bool:
        """H03: may ``token`` (of ``group``, from its IdTokenInfo) charge at ``evse``?

        A reserved EVSE serves only the reserved token, or a token of the reservation's
        groupIdToken (H03); a free EVSE serves anyone.
        """
        reservation = evse.reservation
        if reservation is None:
            return True
        if _same(reservation.id_token, token):
            return True
        return (
            group is not None
            and reservation.group_id_token is not None
            and _same(reservation.group_id_token, group)
        )

    def consume(
        self, evse: Evse, token: v201.IdTokenType, group: v201.IdTokenType | None = None
    ) -> int | None:
        """H03: the token is authorized at ``evse``: end its reservation, and return its id for
        the TransactionEvent's reservationId (H03); None when it used none.

        The reservation may be on another EVSE when it named none (H01.FR.18): that one is
        freed. No ReservationStatusUpdate is sent for a used reservation.
        """
        station = self._station
        holders = [evse] + [e for e in station.evses.values() if e is not evse]
        for holder in holders:
            reservation = holder.reservation
            if reservation is None or not self.allows(holder, token, group):
                continue
            if holder is not evse and reservation.id not in self._unspecified:
                continue  # it reserved that EVSE by name: only that one serves it
            holder.reservation = None
            station.statuses_changed(holder)
            return reservation.id
        return None

    def evse_changed(self, evse: Evse) -> None:
        """A reserved EVSE that became Faulted or Unavailable loses its reservation; the CSMS
        is told it was Removed (H01, TC_H_20)."""
        reservation = evse.reservation
        if reservation is None or evse.plugged is not None:
            return
        statuses = {evse.status(c) for c in evse.connectors.values()}
        if statuses <= {ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE}:
            evse.reservation = None
            self._station.spawn(self._tell(reservation.id, UpdateStatus.REMOVED))

    def _holder(self, reservation_id: int) -> Evse | None:
        for evse in self._station.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                return evse
        return None

    async def _expire(self, evse: Evse, reservation: Reservation) -> None:
        station = self._station
        wait = (reservation.expires_at - station.clock.now()).total_seconds()
        await station.clock.sleep(wait)
        if evse.reservation is not reservation:
            return  # used, cancelled or replaced meanwhile
        evse.reservation = None
        station.statuses_changed(evse)
        await self._tell(reservation.id, UpdateStatus.EXPIRED)

    async def _tell(self, reservation_id: int, status: UpdateStatus) -> None:
        await self._station.send(
            v201.ReservationStatusUpdateRequest(
                reservation_id=reservation_id, reservation_update_status=status
            )
        )


def _free_status(evse: Evse, faulted: bool, operative: bool) -> ConnectorStatus:
    if faulted:
        return ConnectorStatus.FAULTED
    if not (evse.operative and operative):
        return ConnectorStatus.UNAVAILABLE
    return ConnectorStatus.AVAILABLE


def _worst(verdicts: list[ReserveStatus]) -> ReserveStatus:
    """No EVSE can be reserved: the answer that explains the most useful one."""
    for status in (ReserveStatus.OCCUPIED, ReserveStatus.FAULTED, ReserveStatus.UNAVAILABLE):
        if status in verdicts:
            return status
    return ReserveStatus.REJECTED


def _same(a: v201.IdTokenType, b: v201.IdTokenType) -> bool:
    return (a.id_token, a.type) == (b.id_token, b.type)
