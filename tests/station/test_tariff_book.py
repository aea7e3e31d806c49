"""The station's tariffs (OCPP 2.1 I07-I12) as pure state: default, driver and transaction
tariffs, what GetTariffs reports, what ClearTariffs removes, and persistence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kilowatt.messages import CustomData, v21
from kilowatt.messages.v21 import (
    TariffChangeStatusEnumType as ChangeStatus,
    TariffClearStatusEnumType as ClearStatus,
    TariffKindEnumType as Kind,
    TariffSetStatusEnumType as SetStatus,
)
from kilowatt.station.tariffs import TariffBook

T0 = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
EVSES = (1, 2)
LIMIT = 20


def tariff(
    tariff_id: str = "T1",
    price_kwh: float = 0.30,
    *,
    currency: str = "EUR",
    valid_from: datetime | None = None,
    energy_prices: int = 1,
) -> v21.TariffType:
    return v21.TariffType(
        tariff_id=tariff_id,
        currency=currency,
        energy=v21.TariffEnergyType(
            prices=[v21.TariffEnergyPriceType(price_kwh=price_kwh) for _ in range(energy_prices)]
        ),
        **({"valid_from": valid_from} if valid_from is not None else {}),  # type: ignore[arg-type]
    )


def book_with(*defaults: tuple[int, v21.TariffType]) -> TariffBook:
    book = TariffBook()
    for evse_id, each in defaults:
        assert book.set_default(evse_id, each, EVSES, max_elements=LIMIT) == (
            SetStatus.ACCEPTED,
            None,
        )
    return book


def ids(tariffs: list[v21.TariffType]) -> list[str]:
    return [t.tariff_id for t in tariffs]


# -- SetDefaultTariff (I07) --------------------------------------------------------------------


def test_a_default_tariff_is_accepted_for_a_known_evse_and_applies_there() -> None:
    book = TariffBook()
    assert book.set_default(1, tariff(), EVSES, max_elements=LIMIT) == (SetStatus.ACCEPTED, None)
    assert book.default_for(1, T0) == tariff()
    assert book.default_for(2, T0) is None


def test_an_unknown_evse_is_rejected_with_a_reason_and_evse_0_is_always_known() -> None:
    book = TariffBook()
    assert book.set_default(3, tariff(), EVSES, max_elements=LIMIT) == (
        SetStatus.REJECTED,
        "UnknownEvse",
    )
    assert book.assignments(0) == []
    assert book.set_default(0, tariff(), (), max_elements=LIMIT) == (SetStatus.ACCEPTED, None)


def test_a_tariff_id_held_with_other_content_is_a_duplicate() -> None:
    book = book_with((1, tariff("T1", 0.30)))
    status, _ = book.set_default(2, tariff("T1", 0.40), EVSES, max_elements=LIMIT)
    assert status == SetStatus.DUPLICATE_TARIFF_ID
    assert book.default_for(2, T0) is None


def test_a_tariff_id_held_as_a_driver_tariff_is_a_duplicate_too() -> None:
    book = TariffBook()
    book.set_driver_tariff("TAG-1", tariff("T1", 0.25))
    status, _ = book.set_default(1, tariff("T1", 0.40), EVSES, max_elements=LIMIT)
    assert status == SetStatus.DUPLICATE_TARIFF_ID


def test_setting_the_same_tariff_again_is_accepted_and_changes_nothing() -> None:
    book = book_with((1, tariff("T1")), (1, tariff("T2")))
    assert book.set_default(1, tariff("T1"), EVSES, max_elements=LIMIT) == (
        SetStatus.ACCEPTED,
        None,
    )
    # Still T2 that was set last, and T1 is held once.
    assert book.default_for(1, T0) == tariff("T2")
    assert ids(book.offered(1, T0)) == ["T1", "T2"]
    assert book.to_json() == book_with((1, tariff("T1")), (1, tariff("T2"))).to_json()


def test_the_same_tariff_may_be_set_for_several_evses() -> None:
    book = book_with((1, tariff()), (2, tariff()))
    assert book.default_for(2, T0) == tariff()
    [assignment] = book.assignments(0)
    assert assignment.evse_ids == [1, 2]


def test_every_price_element_counts_against_the_limit() -> None:
    fixed = v21.TariffFixedType(prices=[v21.TariffFixedPriceType(price_fixed=1.0)])
    minute = v21.TariffTimeType(prices=[v21.TariffTimePriceType(price_minute=0.1)])
    full = v21.TariffType(
        tariff_id="T1",
        currency="EUR",
        energy=v21.TariffEnergyType(prices=[v21.TariffEnergyPriceType(price_kwh=0.3)]),
        charging_time=minute,
        idle_time=minute,
        fixed_fee=fixed,
        reservation_time=minute,
        reservation_fixed=fixed,
    )
    book = TariffBook()
    assert book.set_default(1, full, EVSES, max_elements=5) == (SetStatus.TOO_MANY_ELEMENTS, None)
    assert book.default_for(1, T0) is None
    assert book.set_default(1, full, EVSES, max_elements=6) == (SetStatus.ACCEPTED, None)


def test_several_prices_of_one_kind_count_one_each() -> None:
    book = TariffBook()
    many = tariff(energy_prices=3)
    assert book.set_default(1, many, EVSES, max_elements=2)[0] == SetStatus.TOO_MANY_ELEMENTS
    assert book.set_default(1, many, EVSES, max_elements=3)[0] == SetStatus.ACCEPTED


# -- which default tariff applies ------------------------------------------------------------


def test_the_evse_s_own_default_tariff_comes_before_the_one_for_every_evse() -> None:
    book = book_with((0, tariff("ALL")), (1, tariff("OWN")))
    assert book.default_for(1, T0) == tariff("OWN")
    assert book.default_for(2, T0) == tariff("ALL")


def test_a_later_valid_from_supersedes_the_price_before_it_once_it_is_reached() -> None:
    change_at = T0 + timedelta(hours=1)
    book = book_with((1, tariff("NEW", 0.40, valid_from=change_at)), (1, tariff("OLD")))
    assert book.default_for(1, T0) == tariff("OLD")
    assert book.default_for(1, change_at) == tariff("NEW", 0.40, valid_from=change_at)


def test_the_latest_valid_from_in_force_wins_whatever_the_order_they_were_set_in() -> None:
    first, second = T0 - timedelta(days=2), T0 - timedelta(days=1)
    book = book_with((1, tariff("B", valid_from=second)), (1, tariff("A", valid_from=first)))
    assert book.default_for(1, T0) == tariff("B", valid_from=second)


def test_among_equal_valid_froms_the_tariff_set_last_wins() -> None:
    book = book_with((1, tariff("A")), (1, tariff("B")))
    assert book.default_for(1, T0) == tariff("B")


def test_an_evse_whose_own_tariffs_are_all_ahead_falls_back_to_the_one_for_every_evse() -> None:
    ahead = T0 + timedelta(hours=1)
    book = book_with((1, tariff("LATER", valid_from=ahead)), (0, tariff("ALL")))
    assert book.default_for(1, T0) == tariff("ALL")
    assert book.default_for(1, ahead) == tariff("LATER", valid_from=ahead)


def test_the_offer_is_every_tariff_in_force_own_first_each_id_once() -> None:
    ahead = T0 + timedelta(hours=1)
    book = book_with(
        (0, tariff("ALL")),
        (1, tariff("OWN")),
        (1, tariff("LATER", valid_from=ahead)),
        (2, tariff("OTHER")),
        (0, tariff("OWN")),
    )
    assert ids(book.offered(1, T0)) == ["OWN", "ALL"]
    assert ids(book.offered(1, ahead)) == ["OWN", "LATER", "ALL"]
    assert ids(book.offered(2, T0)) == ["OTHER", "ALL", "OWN"]


# -- driver tariffs and the choice at the start (I08) ----------------------------------------


def test_a_driver_tariff_is_kept_per_id_token() -> None:
    book = TariffBook()
    book.set_driver_tariff("TAG-1", tariff("D1"))
    assert book.driver_tariff("TAG-1") == tariff("D1")
    assert book.driver_tariff("TAG-2") is None
    book.set_driver_tariff("TAG-1", tariff("D2"))
    assert book.driver_tariff("TAG-1") == tariff("D2")


def test_the_driver_s_choice_of_an_offered_tariff_is_taken() -> None:
    book = book_with((1, tariff("CHEAP")), (1, tariff("FAST")))
    book.set_driver_tariff("TAG-1", tariff("D1"))
    assert book.choose(1, "TAG-1", "CHEAP", T0) == tariff("CHEAP")
    assert book.choose(1, None, "CHEAP", T0) == tariff("CHEAP")


def test_the_driver_may_choose_the_driver_tariff() -> None:
    book = book_with((1, tariff("CHEAP")))
    book.set_driver_tariff("TAG-1", tariff("D1"))
    assert book.choose(1, "TAG-1", "D1", T0) == tariff("D1")


def test_a_choice_not_offered_here_leaves_the_driver_tariff() -> None:
    ahead = T0 + timedelta(hours=1)
    book = book_with((2, tariff("ELSEWHERE")), (1, tariff("LATER", valid_from=ahead)))
    book.set_driver_tariff("TAG-1", tariff("D1"))
    assert book.choose(1, "TAG-1", "ELSEWHERE", T0) == tariff("D1")
    assert book.choose(1, "TAG-1", "LATER", T0) == tariff("D1")
    assert book.choose(1, "TAG-1", None, T0) == tariff("D1")


def test_without_a_driver_tariff_the_default_tariff_applies() -> None:
    book = book_with((1, tariff("A")), (1, tariff("B")))
    book.set_driver_tariff("TAG-2", tariff("D2"))
    assert book.choose(1, "TAG-1", "UNKNOWN", T0) == tariff("B")
    assert book.choose(1, None, None, T0) == tariff("B")
    assert book.choose(2, None, None, T0) is None


# -- transaction tariffs (I12) ---------------------------------------------------------------


def test_a_transaction_starts_with_its_tariff_and_no_changes() -> None:
    book = TariffBook()
    book.start_transaction("tx-1", tariff("T1"), T0)
    assert book.changes("tx-1") == (tariff("T1"), [])


def test_a_change_is_recorded_with_the_time_it_takes_effect() -> None:
    book = TariffBook()
    book.start_transaction("tx-1", tariff("T1"), T0)
    later = T0 + timedelta(minutes=10)
    assert book.change("tx-1", tariff("T2", 0.5), later, max_elements=LIMIT) == (
        ChangeStatus.ACCEPTED
    )
    then = later + timedelta(minutes=5)
    assert book.change("tx-1", tariff("T3", 0.6), then, max_elements=LIMIT) == ChangeStatus.ACCEPTED
    assert book.changes("tx-1") == (
        tariff("T1"),
        [(later, tariff("T2", 0.5)), (then, tariff("T3", 0.6))],
    )


def test_changing_the_tariff_of_an_unknown_transaction_is_tx_not_found() -> None:
    book = TariffBook()
    book.start_transaction("tx-1", tariff(), T0)
    assert book.change("tx-2", tariff("T2"), T0, max_elements=LIMIT) == ChangeStatus.TX_NOT_FOUND


def test_a_change_may_not_change_the_currency_whatever_its_case() -> None:
    book = TariffBook()
    book.start_transaction("tx-1", tariff(currency="EUR"), T0)
    usd = tariff("T2", currency="USD")
    assert book.change("tx-1", usd, T0, max_elements=LIMIT) == ChangeStatus.NO_CURRENCY_CHANGE
    lower = tariff("T3", currency="eur")
    assert book.change("tx-1", lower, T0, max_elements=LIMIT) == ChangeStatus.ACCEPTED
    assert book.changes("tx-1") == (tariff(currency="EUR"), [(T0, lower)])


def test_a_change_with_too_many_elements_is_refused() -> None:
    book = TariffBook()
    book.start_transaction("tx-1", tariff(), T0)
    many = tariff("T2", energy_prices=3)
    assert book.change("tx-1", many, T0, max_elements=2) == ChangeStatus.TOO_MANY_ELEMENTS
    assert book.changes("tx-1") == (tariff(), [])


def test_an_ended_transaction_is_forgotten() -> None:
    book = TariffBook()
    book.start_transaction("tx-1", tariff(), T0)
    book.end_transaction("tx-1")
    assert book.change("tx-1", tariff("T2"), T0, max_elements=LIMIT) == ChangeStatus.TX_NOT_FOUND
    with pytest.raises(KeyError):
        book.changes("tx-1")


# -- GetTariffs (I10) ------------------------------------------------------------------------


def test_evse_0_reports_every_tariff_held_once_with_where_it_applies() -> None:
    ahead = T0 + timedelta(hours=1)
    book = book_with(
        (1, tariff("OWN")),
        (0, tariff("OWN")),
        (2, tariff("LATER", valid_from=ahead)),
    )
    book.set_driver_tariff("TAG-1", tariff("D1"))
    book.set_driver_tariff("TAG-2", tariff("D1"))
    assert book.assignments(0) == [
        v21.TariffAssignmentType(tariff_id="OWN", tariff_kind=Kind.DEFAULT_TARIFF, evse_ids=[0, 1]),
        v21.TariffAssignmentType(
            tariff_id="LATER", tariff_kind=Kind.DEFAULT_TARIFF, valid_from=ahead, evse_ids=[2]
        ),
        v21.TariffAssignmentType(
            tariff_id="D1", tariff_kind=Kind.DRIVER_TARIFF, id_tokens=["TAG-1", "TAG-2"]
        ),
    ]


def test_an_evse_s_report_has_its_own_tariffs_and_those_for_every_evse() -> None:
    book = book_with((1, tariff("OWN")), (0, tariff("ALL")), (2, tariff("OTHER")))
    book.set_driver_tariff("TAG-1", tariff("D1"))
    assert [(a.tariff_id, a.evse_ids) for a in book.assignments(1)] == [
        ("OWN", [1]),
        ("ALL", [0]),
    ]
    assert [a.tariff_id for a in book.assignments(2)] == ["ALL", "OTHER"]


def test_a_default_tariff_a_driver_was_given_too_is_reported_once_as_default() -> None:
    book = book_with((1, tariff("T1")))
    book.set_driver_tariff("TAG-1", tariff("T1"))
    assert book.assignments(0) == [
        v21.TariffAssignmentType(
            tariff_id="T1", tariff_kind=Kind.DEFAULT_TARIFF, evse_ids=[1], id_tokens=["TAG-1"]
        )
    ]


# -- ClearTariffs (I11) ----------------------------------------------------------------------


def accepted(tariff_id: str) -> v21.ClearTariffsResultType:
    return v21.ClearTariffsResultType(tariff_id=tariff_id, status=ClearStatus.ACCEPTED)


def no_tariff(tariff_id: str) -> v21.ClearTariffsResultType:
    return v21.ClearTariffsResultType(tariff_id=tariff_id, status=ClearStatus.NO_TARIFF)


def test_clearing_everything_removes_every_default_tariff_once_each() -> None:
    book = book_with((1, tariff("A")), (2, tariff("A")), (0, tariff("B")))
    assert book.clear(None, None) == [accepted("A"), accepted("B")]
    assert book.assignments(0) == []


def test_clearing_by_id_removes_only_those() -> None:
    book = book_with((1, tariff("A")), (1, tariff("B")))
    assert book.clear(["A"], None) == [accepted("A")]
    assert ids(book.offered(1, T0)) == ["B"]


def test_an_id_not_held_is_no_tariff() -> None:
    book = book_with((1, tariff("A")))
    assert book.clear(["X", "A"], None) == [no_tariff("X"), accepted("A")]


def test_clearing_nothing_without_ids_is_a_single_no_tariff() -> None:
    book = book_with((1, tariff("A")))
    assert book.clear(None, 2) == [v21.ClearTariffsResultType(status=ClearStatus.NO_TARIFF)]
    assert book.default_for(1, T0) == tariff("A")


def test_clearing_for_an_evse_leaves_the_other_evses_tariffs() -> None:
    book = book_with((1, tariff("A")), (2, tariff("A")), (0, tariff("B")))
    assert book.clear(None, 1) == [accepted("A")]
    assert book.default_for(2, T0) == tariff("A")
    assert book.default_for(1, T0) == tariff("B")
    assert book.clear(["B"], 2) == [no_tariff("B")]
    assert book.clear(["B"], 0) == [accepted("B")]


def test_running_transactions_and_driver_tariffs_keep_their_tariffs() -> None:
    book = book_with((1, tariff("A")))
    book.set_driver_tariff("TAG-1", tariff("D1"))
    book.start_transaction("tx-1", tariff("A"), T0)
    assert book.clear(None, None) == [accepted("A")]
    assert book.clear(["D1"], None) == [no_tariff("D1")]
    assert book.changes("tx-1") == (tariff("A"), [])
    assert book.driver_tariff("TAG-1") == tariff("D1")


# -- persistence -----------------------------------------------------------------------------


def test_everything_survives_a_round_trip_through_json() -> None:
    ahead = T0 + timedelta(hours=1)
    described = v21.TariffType(
        tariff_id="D1",
        currency="EUR",
        description=[
            v21.MessageContentType(
                format=v21.MessageFormatEnumType.UTF8, content="0,25 €/kWh", language="de"
            )
        ],
        custom_data=CustomData("acme", {"plan": "gold"}),
    )
    book = book_with((1, tariff("A")), (1, tariff("B")), (0, tariff("L", valid_from=ahead)))
    book.set_driver_tariff("TAG-1", described)
    book.start_transaction("tx-1", tariff("A"), T0)
    book.change("tx-1", tariff("C", 0.5), ahead, max_elements=LIMIT)

    loaded = TariffBook.from_json(book.to_json())

    assert loaded.default_for(1, T0) == tariff("B")  # the order they were set in is kept
    assert loaded.default_for(2, ahead) == tariff("L", valid_from=ahead)
    assert loaded.driver_tariff("TAG-1") == described
    assert loaded.changes("tx-1") == (tariff("A"), [(ahead, tariff("C", 0.5))])
    assert loaded.assignments(0) == book.assignments(0)
    assert loaded.to_json() == book.to_json()


def test_an_empty_book_round_trips_empty() -> None:
    loaded = TariffBook.from_json(TariffBook().to_json().decode())
    assert loaded.assignments(0) == []
    assert loaded.choose(1, "TAG-1", None, T0) is None
