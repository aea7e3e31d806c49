"""Installing (K01.FR.05), clearing (K10) and selecting (K09) installed profiles."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kilowatt.messages.v201 import (
    ChargingLimitSourceEnumType,
    ChargingProfileCriterionType,
    ClearChargingProfileStatusEnumType,
)
from kilowatt.smartcharging import InstalledProfile, clear, install, select
from tests.smartcharging.builders import Purpose, profile

ACCEPTED = ClearChargingProfileStatusEnumType.ACCEPTED
UNKNOWN = ClearChargingProfileStatusEnumType.UNKNOWN
MAX = Purpose.CHARGING_STATION_MAX_PROFILE
TX_DEFAULT = Purpose.TX_DEFAULT_PROFILE

STATION_MAX = InstalledProfile(profile=profile(1, purpose=MAX, stack_level=0), evse_id=0)
DEFAULT_ALL = InstalledProfile(profile=profile(2, stack_level=1), evse_id=0)
DEFAULT_ONE = InstalledProfile(profile=profile(3, stack_level=2), evse_id=1)
DEFAULT_TWO = InstalledProfile(profile=profile(4, stack_level=2), evse_id=2)
EXTERNAL = InstalledProfile(
    profile=profile(5, purpose=Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS),
    evse_id=0,
    source=ChargingLimitSourceEnumType.EMS,
)
INSTALLED = (STATION_MAX, DEFAULT_ALL, DEFAULT_ONE, DEFAULT_TWO, EXTERNAL)


def ids(entries: tuple[InstalledProfile, ...]) -> list[int]:
    return [entry.profile.id for entry in entries]


def test_install_adds_a_new_id() -> None:
    new = profile(9)

    result = install(INSTALLED, new, 2)

    assert result == (*INSTALLED, InstalledProfile(profile=new, evse_id=2))


def test_install_replaces_the_same_id_even_on_another_evse() -> None:
    replacement = profile(3, stack_level=5)

    result = install(INSTALLED, replacement, 2)

    assert ids(result) == [1, 2, 4, 5, 3]
    assert result[-1] == InstalledProfile(profile=replacement, evse_id=2)


@dataclass(frozen=True)
class ClearCase:
    name: str
    remaining: list[int]
    status: ClearChargingProfileStatusEnumType
    profile_id: int | None = None
    evse_id: int | None = None
    purpose: Purpose | None = None
    stack_level: int | None = None


CLEAR_CASES = [
    ClearCase("by id", [1, 2, 4, 5], ACCEPTED, profile_id=3),
    ClearCase("by an unknown id", [1, 2, 3, 4, 5], UNKNOWN, profile_id=99),
    ClearCase("by id, other criteria ignored", [1, 2, 4, 5], ACCEPTED, profile_id=3, evse_id=2),
    ClearCase("by EVSE 0: the station's own", [3, 4], ACCEPTED, evse_id=0),
    ClearCase("by EVSE", [1, 2, 4, 5], ACCEPTED, evse_id=1),
    ClearCase("by purpose", [1, 5], ACCEPTED, purpose=TX_DEFAULT),
    ClearCase("by stack level", [1, 2, 5], ACCEPTED, stack_level=2),
    ClearCase(
        "by purpose and stack level", [1, 3, 4, 5], ACCEPTED, purpose=TX_DEFAULT, stack_level=1
    ),
    ClearCase("by criteria nothing matches", [1, 2, 3, 4, 5], UNKNOWN, purpose=MAX, stack_level=2),
    ClearCase("everything", [], ACCEPTED),
]


@pytest.mark.parametrize("case", CLEAR_CASES, ids=[case.name for case in CLEAR_CASES])
def test_clear(case: ClearCase) -> None:
    result = clear(
        INSTALLED,
        profile_id=case.profile_id,
        evse_id=case.evse_id,
        purpose=case.purpose,
        stack_level=case.stack_level,
    )

    assert (ids(result.remaining), result.status) == (case.remaining, case.status)


def test_clearing_nothing_installed_is_unknown() -> None:
    assert clear(()).status == UNKNOWN


SELECT_CASES = [
    ("no criteria: all", ChargingProfileCriterionType(), None, [1, 2, 3, 4, 5]),
    ("EVSE 0: the station's own", ChargingProfileCriterionType(), 0, [1, 2, 5]),
    ("one EVSE", ChargingProfileCriterionType(), 2, [4]),
    (
        "by purpose",
        ChargingProfileCriterionType(charging_profile_purpose=TX_DEFAULT),
        None,
        [2, 3, 4],
    ),
    ("by stack level", ChargingProfileCriterionType(stack_level=2), None, [3, 4]),
    ("by ids", ChargingProfileCriterionType(charging_profile_id=[1, 4, 77]), None, [1, 4]),
    (
        "by source",
        ChargingProfileCriterionType(charging_limit_source=[ChargingLimitSourceEnumType.EMS]),
        None,
        [5],
    ),
    (
        "by criteria together",
        ChargingProfileCriterionType(charging_profile_purpose=TX_DEFAULT, stack_level=2),
        1,
        [3],
    ),
    ("nothing matches", ChargingProfileCriterionType(stack_level=7), None, []),
]


@pytest.mark.parametrize(
    ("criteria", "evse_id", "selected"),
    [case[1:] for case in SELECT_CASES],
    ids=[case[0] for case in SELECT_CASES],
)
def test_select(
    criteria: ChargingProfileCriterionType, evse_id: int | None, selected: list[int]
) -> None:
    assert ids(select(INSTALLED, criteria, evse_id)) == selected
