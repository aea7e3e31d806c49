"""Block H on the station: ReserveNow, CancelReservation, expiry, who may use a reserved EVSE."""

from __future__ import annotations

from datetime import timedelta

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    CancelReservationStatusEnumType as CancelStatus,
    ConnectorStatusEnumType as Status,
    ReservationUpdateStatusEnumType as UpdateStatus,
    ReserveNowStatusEnumType as ReserveStatus,
)
from kilowatt.station.evse import Connector

from .rig import T0, Rig, make_rig

TOKEN = v201.IdTokenType(id_token="TAG-1", type=v201.IdTokenEnumType.ISO14443)
OTHER = v201.IdTokenType(id_token="TAG-2", type=v201.IdTokenEnumType.ISO14443)
GROUP = v201.IdTokenType(id_token="GROUP-1", type=v201.IdTokenEnumType.CENTRAL)
EXPIRY = T0 + timedelta(minutes=30)


def reserve(
    reservation_id: int = 1, evse_id: int | None = 1, **fields: object
) -> v201.ReserveNowRequest:
    extra = {"evse_id": evse_id} if evse_id is not None else {}
    return v201.ReserveNowRequest(
        id=reservation_id,
        expiry_date_time=EXPIRY,
        id_token=TOKEN,
        **extra,
        **fields,  # type: ignore[arg-type]
    )


def statuses(rig: Rig, evse_id: int) -> set[Status]:
    evse = rig.station.evses[evse_id]
    return {evse.status(c) for c in evse.connectors.values()}


async def test_reserving_an_available_evse_makes_it_reserved_and_says_so() -> None:
    rig = make_rig()
    rig.online()
    response = await rig.call(reserve())
    assert response.status == ReserveStatus.ACCEPTED
    assert statuses(rig, 1) == {Status.RESERVED}
    notes = rig.of(v201.StatusNotificationRequest)
    assert [(n.evse_id, n.connector_status) for n in notes] == [(1, Status.RESERVED)]


async def test_an_evse_in_use_is_occupied() -> None:
    rig = make_rig()
    rig.station.plug_in(1)
    assert (await rig.call(reserve())).status == ReserveStatus.OCCUPIED


async def test_an_evse_reserved_by_another_reservation_is_occupied() -> None:
    rig = make_rig()
    await rig.call(reserve(1))
    assert (await rig.call(reserve(2))).status == ReserveStatus.OCCUPIED


async def test_a_faulted_evse_is_faulted() -> None:
    rig = make_rig()
    rig.station.set_fault(1, 1, True)
    assert (await rig.call(reserve())).status == ReserveStatus.FAULTED


async def test_an_inoperative_evse_is_unavailable() -> None:
    rig = make_rig()
    rig.station.evses[1].operative = False
    assert (await rig.call(reserve())).status == ReserveStatus.UNAVAILABLE


async def test_unknown_evse_disabled_reservations_and_past_expiry_are_rejected() -> None:
    rig = make_rig()
    assert (await rig.call(reserve(evse_id=9))).status == ReserveStatus.REJECTED
    past = v201.ReserveNowRequest(
        id=1, expiry_date_time=T0 - timedelta(seconds=1), id_token=TOKEN, evse_id=1
    )
    assert (await rig.call(past)).status == ReserveStatus.REJECTED
    rig.set_value("ReservationCtrlr", "Enabled", "false")
    assert (await rig.call(reserve())).status == ReserveStatus.REJECTED
    assert rig.station.evses[1].reservation is None


async def test_without_an_evse_any_free_one_is_reserved_when_non_evse_specific() -> None:
    rig = make_rig(evses=2)
    rig.station.plug_in(1)
    assert (await rig.call(reserve(evse_id=None))).status == ReserveStatus.ACCEPTED
    assert rig.station.evses[1].reservation is None
    assert statuses(rig, 2) == {Status.RESERVED}
    # No free EVSE left: the reason of the one that could not be reserved.
    assert (await rig.call(reserve(2, evse_id=None))).status == ReserveStatus.OCCUPIED


async def test_without_an_evse_and_not_non_evse_specific_it_is_rejected() -> None:
    rig = make_rig()
    rig.set_value("ReservationCtrlr", "NonEvseSpecific", "false")
    assert (await rig.call(reserve(evse_id=None))).status == ReserveStatus.REJECTED


async def test_the_connector_type_must_match() -> None:
    rig = make_rig(evses=2)
    rig.station.evses[2].connectors[1] = Connector(1, v201.ConnectorEnumType.C_CCS2)
    ccs = reserve(evse_id=None, connector_type=v201.ConnectorEnumType.C_CCS2)
    assert (await rig.call(ccs)).status == ReserveStatus.ACCEPTED
    assert rig.station.evses[2].reservation is not None
    assert rig.station.evses[1].reservation is None
    chademo = reserve(2, evse_id=1, connector_type=v201.ConnectorEnumType.C_CCS2)
    assert (await rig.call(chademo)).status == ReserveStatus.REJECTED


async def test_the_same_id_replaces_the_reservation() -> None:
    rig = make_rig(evses=2)
    await rig.call(reserve(7, evse_id=1))
    assert (await rig.call(reserve(7, evse_id=2))).status == ReserveStatus.ACCEPTED
    assert rig.station.evses[1].reservation is None
    assert rig.station.evses[2].reservation is not None
    assert list(rig.station.reservations.held()) == [7]


async def test_cancel_frees_the_evse_or_is_rejected_for_an_unknown_id() -> None:
    rig = make_rig()
    rig.online()
    await rig.call(reserve(3))
    response = await rig.call(v201.CancelReservationRequest(reservation_id=3))
    assert response.status == CancelStatus.ACCEPTED
    assert statuses(rig, 1) == {Status.AVAILABLE}
    notes = rig.of(v201.StatusNotificationRequest)
    assert [n.connector_status for n in notes] == [Status.RESERVED, Status.AVAILABLE]
    again = await rig.call(v201.CancelReservationRequest(reservation_id=3))
    assert again.status == CancelStatus.REJECTED


async def test_at_expiry_the_csms_is_told_and_the_evse_is_available() -> None:
    rig = make_rig()
    rig.online()
    await rig.call(reserve(4))
    await rig.advance(29 * 60)
    assert rig.of(v201.ReservationStatusUpdateRequest) == []
    await rig.advance(60)
    (update,) = rig.of(v201.ReservationStatusUpdateRequest)
    assert (update.reservation_id, update.reservation_update_status) == (4, UpdateStatus.EXPIRED)
    assert statuses(rig, 1) == {Status.AVAILABLE}
    assert rig.of(v201.StatusNotificationRequest)[-1].connector_status == Status.AVAILABLE


async def test_only_the_reserved_token_or_its_group_may_use_the_evse() -> None:
    rig = make_rig(evses=2)
    await rig.call(reserve(1, group_id_token=GROUP))
    reservations = rig.station.reservations
    evse, free = rig.station.evses[1], rig.station.evses[2]
    assert reservations.allows(evse, TOKEN)
    assert not reservations.allows(evse, OTHER)
    assert not reservations.allows(evse, OTHER, OTHER)
    assert reservations.allows(evse, OTHER, GROUP)
    assert reservations.allows(free, OTHER)


async def test_a_used_reservation_ends_silently_and_gives_its_id() -> None:
    rig = make_rig()
    rig.online()
    await rig.call(reserve(5))
    evse = rig.station.evses[1]
    assert rig.station.reservations.consume(evse, OTHER) is None
    assert rig.station.reservations.consume(evse, TOKEN) == 5
    assert evse.reservation is None
    await rig.advance(3600)
    assert rig.of(v201.ReservationStatusUpdateRequest) == []


async def test_a_reservation_for_any_evse_is_used_at_whichever_the_token_takes() -> None:
    rig = make_rig(evses=2)
    await rig.call(reserve(6, evse_id=None))
    held, other = rig.station.evses[1], rig.station.evses[2]
    assert held.reservation is not None
    assert rig.station.reservations.consume(other, TOKEN) == 6
    assert held.reservation is None


async def test_a_reservation_for_a_named_evse_is_not_used_elsewhere() -> None:
    rig = make_rig(evses=2)
    await rig.call(reserve(8, evse_id=1))
    assert rig.station.reservations.consume(rig.station.evses[2], TOKEN) is None
    assert rig.station.evses[1].reservation is not None


async def test_a_reserved_evse_that_faults_loses_its_reservation() -> None:
    rig = make_rig()
    await rig.call(reserve(9))
    evse = rig.station.evses[1]
    rig.station.reservations.evse_changed(evse)
    assert evse.reservation is not None  # still usable: nothing happens
    rig.station.set_fault(1, 1, True)
    rig.station.reservations.evse_changed(evse)
    await rig.advance(0)
    assert evse.reservation is None
    (update,) = rig.of(v201.ReservationStatusUpdateRequest)
    assert (update.reservation_id, update.reservation_update_status) == (9, UpdateStatus.REMOVED)
