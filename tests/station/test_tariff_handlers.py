"""OCPP 2.1 local cost calculation on the station: SetDefaultTariff (I07), GetTariffs (I10),
ClearTariffs (I11) and ChangeTransactionTariff (I12), handled on a Station without a connection."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from msgspec import UNSET

from kilowatt.messages import v21
from kilowatt.messages.v21 import (
    TariffChangeStatusEnumType as ChangeStatus,
    TariffClearStatusEnumType as ClearStatus,
    TariffGetStatusEnumType as GetStatus,
    TariffKindEnumType as Kind,
    TariffSetStatusEnumType as SetStatus,
)
from kilowatt.station.handlers import tariffs

from .rig import ROUTER, T0, make_rig


def tariff(
    tariff_id: str = "T1", *, currency: str = "EUR", energy_prices: int = 1
) -> v21.TariffType:
    return v21.TariffType(
        tariff_id=tariff_id,
        currency=currency,
        energy=v21.TariffEnergyType(
            prices=[v21.TariffEnergyPriceType(price_kwh=0.30) for _ in range(energy_prices)]
        ),
    )


def set_default(evse_id: int = 1, **fields: object) -> v21.SetDefaultTariffRequest:
    return v21.SetDefaultTariffRequest(evse_id=evse_id, tariff=tariff(**fields))  # type: ignore[arg-type]


def test_the_four_requests_are_routed_to_these_handlers() -> None:
    routes = {
        v21.SetDefaultTariffRequest: tariffs.set_default_tariff,
        v21.GetTariffsRequest: tariffs.get_tariffs,
        v21.ClearTariffsRequest: tariffs.clear_tariffs,
        v21.ChangeTransactionTariffRequest: tariffs.change_transaction_tariff,
    }
    for request_type, handler in routes.items():
        assert request_type in ROUTER.routed
        assert ROUTER._handlers[request_type] is handler


# -- SetDefaultTariff (I07) --------------------------------------------------------------------


async def test_a_default_tariff_is_held_logged_and_kept_over_a_restart(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    response = await tariffs.set_default_tariff(set_default(1), rig.station)
    assert response == v21.SetDefaultTariffResponse(status=SetStatus.ACCEPTED)
    assert rig.station.tariffs.default_for(1, T0) == tariff()
    assert rig.station.log[-1] == "default tariff T1 for EVSE 1"
    rig.close()

    again = make_rig(tmp_path)
    assert again.station.tariffs.default_for(1, T0) == tariff()
    again.close()


async def test_an_unknown_evse_is_rejected_with_the_reason() -> None:
    rig = make_rig(evses=2)
    response = await tariffs.set_default_tariff(set_default(3), rig.station)
    assert response == v21.SetDefaultTariffResponse(
        status=SetStatus.REJECTED, status_info=v21.StatusInfoType(reason_code="UnknownEvse")
    )
    assert (await tariffs.set_default_tariff(set_default(2), rig.station)).status == (
        SetStatus.ACCEPTED
    )
    assert rig.station.log == ["default tariff T1 for EVSE 2"]


async def test_another_tariff_under_a_held_id_is_a_duplicate() -> None:
    rig = make_rig()
    await tariffs.set_default_tariff(set_default(1), rig.station)
    response = await tariffs.set_default_tariff(set_default(1, currency="USD"), rig.station)
    assert response.status == SetStatus.DUPLICATE_TARIFF_ID
    assert len(rig.station.log) == 1


async def test_the_station_allows_max_elements_price_elements_per_tariff() -> None:
    rig = make_rig()
    assert rig.station.int_var("TariffCostCtrlr", "MaxElements", "Tariff") == 20
    too_many = await tariffs.set_default_tariff(set_default(1, energy_prices=21), rig.station)
    assert too_many.status == SetStatus.TOO_MANY_ELEMENTS
    enough = await tariffs.set_default_tariff(set_default(1, energy_prices=20), rig.station)
    assert enough.status == SetStatus.ACCEPTED


# -- GetTariffs (I10) --------------------------------------------------------------------------


async def test_no_tariffs_is_no_tariff() -> None:
    rig = make_rig()
    response = await tariffs.get_tariffs(v21.GetTariffsRequest(evse_id=0), rig.station)
    assert response == v21.GetTariffsResponse(status=GetStatus.NO_TARIFF)


async def test_the_tariffs_of_an_evse_are_reported() -> None:
    rig = make_rig(evses=2)
    await tariffs.set_default_tariff(set_default(0, tariff_id="ALL"), rig.station)
    await tariffs.set_default_tariff(set_default(2, tariff_id="TWO"), rig.station)
    response = await tariffs.get_tariffs(v21.GetTariffsRequest(evse_id=1), rig.station)
    assert response == v21.GetTariffsResponse(
        status=GetStatus.ACCEPTED,
        tariff_assignments=[
            v21.TariffAssignmentType(tariff_id="ALL", tariff_kind=Kind.DEFAULT_TARIFF, evse_ids=[0])
        ],
    )
    every = await tariffs.get_tariffs(v21.GetTariffsRequest(evse_id=0), rig.station)
    assert every.tariff_assignments is not UNSET
    assert [a.tariff_id for a in every.tariff_assignments] == ["ALL", "TWO"]


async def test_tariffs_of_an_unknown_evse_are_rejected() -> None:
    rig = make_rig()
    response = await tariffs.get_tariffs(v21.GetTariffsRequest(evse_id=2), rig.station)
    assert response == v21.GetTariffsResponse(
        status=GetStatus.REJECTED, status_info=v21.StatusInfoType(reason_code="UnknownEvse")
    )


# -- ClearTariffs (I11) ------------------------------------------------------------------------


async def test_cleared_tariffs_are_gone_logged_and_stay_gone_after_a_restart(
    tmp_path: Path,
) -> None:
    rig = make_rig(tmp_path)
    await tariffs.set_default_tariff(set_default(1, tariff_id="A"), rig.station)
    await tariffs.set_default_tariff(set_default(1, tariff_id="B"), rig.station)
    response = await tariffs.clear_tariffs(
        v21.ClearTariffsRequest(tariff_ids=["A", "X"]), rig.station
    )
    assert response == v21.ClearTariffsResponse(
        clear_tariffs_result=[
            v21.ClearTariffsResultType(tariff_id="A", status=ClearStatus.ACCEPTED),
            v21.ClearTariffsResultType(tariff_id="X", status=ClearStatus.NO_TARIFF),
        ]
    )
    assert rig.station.log[-1] == "tariffs cleared: A"
    rig.close()

    again = make_rig(tmp_path)
    assert [t.tariff_id for t in again.station.tariffs.offered(1, T0)] == ["B"]
    again.close()


async def test_clearing_an_evse_with_nothing_is_no_tariff_and_not_logged() -> None:
    rig = make_rig()
    await tariffs.set_default_tariff(set_default(1), rig.station)
    response = await tariffs.clear_tariffs(v21.ClearTariffsRequest(evse_id=0), rig.station)
    assert response == v21.ClearTariffsResponse(
        clear_tariffs_result=[v21.ClearTariffsResultType(status=ClearStatus.NO_TARIFF)]
    )
    assert rig.station.log == ["default tariff T1 for EVSE 1"]
    everything = await tariffs.clear_tariffs(v21.ClearTariffsRequest(), rig.station)
    assert [r.status for r in everything.clear_tariffs_result] == [ClearStatus.ACCEPTED]


# -- ChangeTransactionTariff (I12) -------------------------------------------------------------


def change(transaction_id: str = "tx-1", **fields: object) -> v21.ChangeTransactionTariffRequest:
    return v21.ChangeTransactionTariffRequest(
        transaction_id=transaction_id,
        tariff=tariff("T2", **fields),  # type: ignore[arg-type]
    )


async def test_the_tariff_of_a_running_transaction_changes_from_now_on(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.start_transaction(1, "tx-1")
    rig.station.tariffs.start_transaction("tx-1", tariff(), T0)
    await rig.clock.advance(600)
    response = await tariffs.change_transaction_tariff(change(), rig.station)
    assert response == v21.ChangeTransactionTariffResponse(status=ChangeStatus.ACCEPTED)
    changed_at = T0 + timedelta(seconds=600)
    assert rig.station.tariffs.changes("tx-1") == (tariff(), [(changed_at, tariff("T2"))])
    assert rig.station.log[-1] == "tx-1: tariff changed to T2"
    rig.close()

    again = make_rig(tmp_path)
    assert again.station.tariffs.changes("tx-1") == (tariff(), [(changed_at, tariff("T2"))])
    again.close()


async def test_a_transaction_the_station_does_not_run_is_not_found() -> None:
    rig = make_rig()
    rig.station.tariffs.start_transaction("tx-1", tariff(), T0)  # ended, not yet forgotten
    response = await tariffs.change_transaction_tariff(change(), rig.station)
    assert response.status == ChangeStatus.TX_NOT_FOUND
    assert rig.station.tariffs.changes("tx-1") == (tariff(), [])
    assert rig.station.log == []


async def test_a_running_transaction_without_a_tariff_is_not_found() -> None:
    rig = make_rig()
    rig.start_transaction(1, "tx-1")
    response = await tariffs.change_transaction_tariff(change(), rig.station)
    assert response.status == ChangeStatus.TX_NOT_FOUND


async def test_a_refused_change_is_answered_and_not_recorded() -> None:
    rig = make_rig()
    rig.start_transaction(1, "tx-1")
    rig.station.tariffs.start_transaction("tx-1", tariff(), T0)
    other_currency = await tariffs.change_transaction_tariff(change(currency="USD"), rig.station)
    assert other_currency.status == ChangeStatus.NO_CURRENCY_CHANGE
    too_many = await tariffs.change_transaction_tariff(change(energy_prices=21), rig.station)
    assert too_many.status == ChangeStatus.TOO_MANY_ELEMENTS
    assert rig.station.tariffs.changes("tx-1") == (tariff(), [])
    assert rig.station.log == []
