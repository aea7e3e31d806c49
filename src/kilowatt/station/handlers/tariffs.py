"""Block I, OCPP 2.1 local cost calculation: the tariffs the CSMS sets on the station (the state
is in station/tariffs.py)."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v21
from kilowatt.station.station import Station

__all__ = ["change_transaction_tariff", "clear_tariffs", "get_tariffs", "set_default_tariff"]


def _max_elements(station: Station) -> int:
    return station.int_var("TariffCostCtrlr", "MaxElements", "Tariff")


async def set_default_tariff(
    request: v21.SetDefaultTariffRequest, station: Station
) -> v21.SetDefaultTariffResponse:
    """I07: Accepted, or why not: Rejected (an unknown EVSE), DuplicateTariffId,
    TooManyElements."""
    tariff = request.tariff
    status, reason = station.tariffs.set_default(
        request.evse_id, tariff, station.evses.keys(), max_elements=_max_elements(station)
    )
    if status == v21.TariffSetStatusEnumType.ACCEPTED:
        station.save_tariffs()
        station.log.append(f"default tariff {tariff.tariff_id} for EVSE {request.evse_id}")
    return v21.SetDefaultTariffResponse(
        status=status,
        status_info=v21.StatusInfoType(reason_code=reason) if reason is not None else UNSET,
    )


async def get_tariffs(request: v21.GetTariffsRequest, station: Station) -> v21.GetTariffsResponse:
    """I10: the tariffs held for the EVSE (every one for evseId 0); NoTariff when there are none,
    Rejected for an unknown EVSE."""
    if request.evse_id != 0 and request.evse_id not in station.evses:
        return v21.GetTariffsResponse(
            status=v21.TariffGetStatusEnumType.REJECTED,
            status_info=v21.StatusInfoType(reason_code="UnknownEvse"),
        )
    assignments = station.tariffs.assignments(request.evse_id)
    if not assignments:
        return v21.GetTariffsResponse(status=v21.TariffGetStatusEnumType.NO_TARIFF)
    return v21.GetTariffsResponse(
        status=v21.TariffGetStatusEnumType.ACCEPTED, tariff_assignments=assignments
    )


async def clear_tariffs(
    request: v21.ClearTariffsRequest, station: Station
) -> v21.ClearTariffsResponse:
    """I11: remove default tariffs, by id and/or EVSE; one result per tariff, NoTariff for an id
    the station does not hold."""
    results = station.tariffs.clear(
        request.tariff_ids if request.tariff_ids is not UNSET else None,
        request.evse_id if request.evse_id is not UNSET else None,
    )
    cleared = [
        result.tariff_id
        for result in results
        if result.status == v21.TariffClearStatusEnumType.ACCEPTED and result.tariff_id is not UNSET
    ]
    if cleared:
        station.save_tariffs()
        station.log.append(f"tariffs cleared: {', '.join(cleared)}")
    return v21.ClearTariffsResponse(clear_tariffs_result=results)


async def change_transaction_tariff(
    request: v21.ChangeTransactionTariffRequest, station: Station
) -> v21.ChangeTransactionTariffResponse:
    """I12: the running transaction is priced by the new tariff from now on; TxNotFound,
    NoCurrencyChange or TooManyElements when not."""
    transaction_id = request.transaction_id
    if not any(tx.id == transaction_id for tx in station.transactions()):
        # Running on the station, not only in the book: an ended one may linger there.
        return v21.ChangeTransactionTariffResponse(
            status=v21.TariffChangeStatusEnumType.TX_NOT_FOUND
        )
    at = station.clock.now()
    status = station.tariffs.change(
        transaction_id, request.tariff, at, max_elements=_max_elements(station)
    )
    if status == v21.TariffChangeStatusEnumType.ACCEPTED:
        station.save_tariffs()
        station.log.append(f"{transaction_id}: tariff changed to {request.tariff.tariff_id}")
        station.tariff_changed(transaction_id, at)
    return v21.ChangeTransactionTariffResponse(status=status)
