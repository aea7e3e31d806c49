"""K01 profile validation: each rule once broken and once kept."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

import pytest

from kilowatt.messages.v201 import (
    ChargingProfileType,
    ChargingSchedulePeriodType,
    StatusInfoType,
)
from kilowatt.smartcharging import (
    ACCEPTED,
    EvseLimits,
    InstalledProfile,
    Rejected,
    StationLimits,
    validate_profile,
    validate_start_transaction_profile,
    validation,
)
from tests.smartcharging.builders import T0, Kind, Purpose, Recurrency, Unit, at, profile

STATION = StationLimits(evses={1: EvseLimits(), 2: EvseLimits()}, profile_stack_level=10)
NOW = T0
MAX = Purpose.CHARGING_STATION_MAX_PROFILE
EXTERNAL = Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
TX = Purpose.TX_PROFILE
TX_DEFAULT = Purpose.TX_DEFAULT_PROFILE


@dataclass(frozen=True)
class Case:
    name: str
    profile: ChargingProfileType
    rejected_by: str | None  # the requirement broken, None when accepted
    reason_code: str | None = None
    evse_id: int = 1
    installed: tuple[InstalledProfile, ...] = ()
    active_transactions: dict[int, str] = field(default_factory=dict)
    station: StationLimits = STATION


def on(evse_id: int, *profiles: ChargingProfileType) -> tuple[InstalledProfile, ...]:
    return tuple(InstalledProfile(profile=p, evse_id=evse_id) for p in profiles)


def phases(number_phases: int | None, phase_to_use: int | None) -> ChargingProfileType:
    period = ChargingSchedulePeriodType(start_period=0, limit=16.0)
    if number_phases is not None:
        period = ChargingSchedulePeriodType(start_period=0, limit=16.0, number_phases=number_phases)
    if phase_to_use is not None:
        period = ChargingSchedulePeriodType(
            start_period=0, limit=16.0, number_phases=number_phases or 3, phase_to_use=phase_to_use
        )
    return profile(schedule_periods=[period])


SWITCHING = StationLimits(evses={1: EvseLimits()}, ac_phase_switching_supported=True)
TX_RUNNING = {1: "T1"}

CASES = [
    # K01.FR.22
    Case(
        "ExternalConstraints from the CSMS",
        profile(purpose=EXTERNAL),
        "K01.FR.22",
        "InvalidProfile",
    ),
    Case("a TxDefaultProfile from the CSMS", profile(purpose=TX_DEFAULT), None),
    # K01.FR.28
    Case("unknown EVSE", profile(), "K01.FR.28", "UnknownEvse", evse_id=9),
    Case("known EVSE", profile(), None, evse_id=2),
    Case("EVSE 0 is the station", profile(), None, evse_id=0),
    # K04.FR.03
    Case(
        "ChargingStationMaxProfile on an EVSE", profile(purpose=MAX), "K04.FR.03", "InvalidProfile"
    ),
    Case("ChargingStationMaxProfile on EVSE 0", profile(purpose=MAX), None, evse_id=0),
    # K01.FR.38
    Case(
        "Relative ChargingStationMaxProfile",
        profile(purpose=MAX, kind=Kind.RELATIVE),
        "K01.FR.38",
        "InvalidProfile",
        evse_id=0,
    ),
    Case(
        "Recurring ChargingStationMaxProfile",
        profile(purpose=MAX, kind=Kind.RECURRING, recurrency=Recurrency.DAILY),
        None,
        evse_id=0,
    ),
    # K01.FR.16
    Case(
        "TxProfile on EVSE 0",
        profile(purpose=TX, transaction_id="T1"),
        "K01.FR.16",
        "InvalidProfile",
        evse_id=0,
        active_transactions=TX_RUNNING,
    ),
    Case(
        "TxProfile on the EVSE of its transaction",
        profile(purpose=TX, transaction_id="T1"),
        None,
        active_transactions=TX_RUNNING,
    ),
    # SmartChargingCtrlr.ProfileStackLevel
    Case(
        "stackLevel above ProfileStackLevel",
        profile(stack_level=11),
        "SmartChargingCtrlr.ProfileStackLevel",
        "InvalidStackLevel",
    ),
    Case(
        "negative stackLevel",
        profile(stack_level=-1),
        "SmartChargingCtrlr.ProfileStackLevel",
        "InvalidStackLevel",
    ),
    Case("stackLevel at ProfileStackLevel", profile(stack_level=10), None),
    # transactionId only on a TxProfile
    Case(
        "transactionId on a TxDefaultProfile",
        profile(transaction_id="T1"),
        "ChargingProfileType.transactionId",
        "InvalidValue",
        active_transactions=TX_RUNNING,
    ),
    # recurrencyKind
    Case(
        "Recurring without recurrencyKind",
        profile(kind=Kind.RECURRING),
        "ChargingProfileType.recurrencyKind",
        "InvalidSchedule",
    ),
    Case("Recurring Weekly", profile(kind=Kind.RECURRING, recurrency=Recurrency.WEEKLY), None),
    # K01.FR.26
    Case(
        "unsupported rate unit",
        profile(unit=Unit.W),
        "K01.FR.26",
        "UnsupportedRateUnit",
        station=StationLimits(evses={1: EvseLimits()}, rate_units=frozenset({Unit.A})),
    ),
    Case(
        "supported rate unit",
        profile(unit=Unit.A),
        None,
        station=StationLimits(evses={1: EvseLimits()}, rate_units=frozenset({Unit.A})),
    ),
    # K01.FR.40
    Case(
        "Absolute without startSchedule",
        profile(start_schedule=None),
        "K01.FR.40",
        "InvalidSchedule",
    ),
    Case(
        "Recurring without startSchedule",
        profile(kind=Kind.RECURRING, recurrency=Recurrency.DAILY, start_schedule=None),
        "K01.FR.40",
        "InvalidSchedule",
    ),
    # K01.FR.41
    Case(
        "Relative with startSchedule",
        profile(kind=Kind.RELATIVE, start_schedule=at(60)),
        "K01.FR.41",
        "InvalidSchedule",
    ),
    Case("Relative without startSchedule", profile(kind=Kind.RELATIVE), None),
    # SmartChargingCtrlr.PeriodsPerSchedule
    Case(
        "more periods than PeriodsPerSchedule",
        profile(schedule=[(0, 16.0), (60, 10.0), (120, 8.0)]),
        "SmartChargingCtrlr.PeriodsPerSchedule",
        "TooManyElements",
        station=StationLimits(evses={1: EvseLimits()}, periods_per_schedule=2),
    ),
    Case(
        "as many periods as PeriodsPerSchedule",
        profile(schedule=[(0, 16.0), (60, 10.0)]),
        None,
        station=StationLimits(evses={1: EvseLimits()}, periods_per_schedule=2),
    ),
    # K01.FR.31
    Case("first startPeriod not 0", profile(schedule=[(10, 16.0)]), "K01.FR.31", "InvalidSchedule"),
    Case("no period at all", profile(schedule=[]), "K01.FR.31", "InvalidSchedule"),
    # K01.FR.35
    Case(
        "startPeriod repeated",
        profile(schedule=[(0, 16.0), (600, 10.0), (600, 8.0)]),
        "K01.FR.35",
        "InvalidSchedule",
    ),
    Case(
        "startPeriod going back",
        profile(schedule=[(0, 16.0), (600, 10.0), (300, 8.0)]),
        "K01.FR.35",
        "InvalidSchedule",
    ),
    Case("startPeriods increasing", profile(schedule=[(0, 16.0), (300, 10.0), (600, 8.0)]), None),
    # K01.FR.44
    Case(
        "numberPhases on a DC EVSE",
        phases(3, None),
        "K01.FR.44",
        "InvalidValue",
        station=StationLimits(evses={1: EvseLimits(direct_current=True)}),
    ),
    Case(
        "no phases on a DC EVSE",
        phases(None, None),
        None,
        station=StationLimits(evses={1: EvseLimits(direct_current=True)}),
    ),
    # K01.FR.45
    Case(
        "more phases than the supply",
        phases(3, None),
        "K01.FR.45",
        "InvalidValue",
        station=StationLimits(evses={1: EvseLimits()}, supply_phases=1),
    ),
    Case("zero phases", phases(0, None), "K01.FR.45", "InvalidValue"),
    Case(
        "as many phases as the supply",
        phases(1, None),
        None,
        station=StationLimits(evses={1: EvseLimits()}, supply_phases=1),
    ),
    # K01.FR.19
    Case(
        "phaseToUse with three phases",
        phases(3, 1),
        "K01.FR.19",
        "InvalidValue",
        station=SWITCHING,
    ),
    Case("phaseToUse 4", phases(1, 4), "K01.FR.19", "InvalidValue", station=SWITCHING),
    Case("phaseToUse with one phase", phases(1, 2), None, station=SWITCHING),
    # K01.FR.20
    Case(
        "phaseToUse without ACPhaseSwitchingSupported",
        phases(1, 2),
        "K01.FR.20",
        "UnsupportedParam",
    ),
    # K01.FR.03
    Case("TxProfile without transactionId", profile(purpose=TX), "K01.FR.03", "MissingParam"),
    # K01.FR.09
    Case(
        "TxProfile with no transaction on its EVSE",
        profile(purpose=TX, transaction_id="T1"),
        "K01.FR.09",
        "TxNotFound",
        evse_id=2,
        active_transactions=TX_RUNNING,
    ),
    # K01.FR.33
    Case(
        "TxProfile for another transaction",
        profile(purpose=TX, transaction_id="T2"),
        "K01.FR.33",
        "TxNotFound",
        active_transactions=TX_RUNNING,
    ),
    # K01.FR.05
    Case(
        "same id replaces, whatever it had",
        profile(1, stack_level=0),
        None,
        installed=on(1, profile(1, stack_level=0, schedule=[(0, 6.0)])),
    ),
    Case(
        "same id as an external constraint",
        profile(1),
        "K01.FR.05",
        "DuplicateProfile",
        installed=on(0, profile(1, purpose=EXTERNAL)),
    ),
    # K01.FR.06
    Case(
        "same purpose, stackLevel and EVSE, validity overlapping",
        profile(2, valid_from=at(3000)),
        "K01.FR.06",
        "DuplicateProfile",
        installed=on(1, profile(1, valid_to=at(3600))),
    ),
    Case(
        "same purpose, stackLevel and EVSE, open validity on both",
        profile(2),
        "K01.FR.06",
        "DuplicateProfile",
        installed=on(1, profile(1)),
    ),
    Case(
        "same purpose, stackLevel and EVSE, validity one after the other",
        profile(2, valid_from=at(3600)),
        None,
        installed=on(1, profile(1, valid_to=at(3600))),
    ),
    Case(
        "same purpose, stackLevel and EVSE, the installed one starting after the new one ends",
        profile(2, valid_to=at(3600)),
        None,
        installed=on(1, profile(1, valid_from=at(7200))),
    ),
    Case(
        "same purpose and stackLevel, another EVSE",
        profile(2),
        None,
        installed=on(2, profile(1)),
    ),
    Case(
        "same purpose and EVSE, another stackLevel",
        profile(2, stack_level=1),
        None,
        installed=on(1, profile(1, stack_level=0)),
    ),
    Case(
        "same stackLevel and EVSE, another purpose",
        profile(2, purpose=MAX),
        None,
        evse_id=0,
        installed=on(0, profile(1, purpose=TX_DEFAULT)),
    ),
    # K01.FR.52
    Case(
        "station-wide TxDefaultProfile at an EVSE's stackLevel",
        profile(2, stack_level=3),
        "K01.FR.52",
        "DuplicateProfile",
        evse_id=0,
        installed=on(1, profile(1, stack_level=3)),
    ),
    Case(
        "station-wide TxDefaultProfile at another stackLevel",
        profile(2, stack_level=4),
        None,
        evse_id=0,
        installed=on(1, profile(1, stack_level=3)),
    ),
    # K01.FR.53
    Case(
        "EVSE TxDefaultProfile at the station-wide stackLevel",
        profile(2, stack_level=3, valid_from=at(86_400)),
        "K01.FR.53",
        "DuplicateProfile",
        installed=on(0, profile(1, stack_level=3, valid_to=at(60))),
    ),
    Case(
        "EVSE TxDefaultProfile at another stackLevel",
        profile(2, stack_level=2),
        None,
        installed=on(0, profile(1, stack_level=3)),
    ),
    # K01.FR.39
    Case(
        "TxProfile at the stackLevel of another for the same transaction",
        profile(2, purpose=TX, transaction_id="T1", stack_level=1),
        "K01.FR.39",
        "InvalidStackLevel",
        installed=on(1, profile(1, purpose=TX, transaction_id="T1", stack_level=1)),
        active_transactions=TX_RUNNING,
    ),
    Case(
        "TxProfile at another stackLevel for the same transaction",
        profile(2, purpose=TX, transaction_id="T1", stack_level=2),
        None,
        installed=on(1, profile(1, purpose=TX, transaction_id="T1", stack_level=1)),
        active_transactions=TX_RUNNING,
    ),
    Case(
        "TxProfile at the stackLevel of one for an old transaction",
        profile(2, purpose=TX, transaction_id="T1", stack_level=1),
        None,
        installed=on(1, profile(1, purpose=TX, transaction_id="T0", stack_level=1)),
        active_transactions=TX_RUNNING,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_validate_profile(case: Case) -> None:
    verdict = validate_profile(
        case.profile,
        case.evse_id,
        installed=case.installed,
        station=case.station,
        active_transactions=case.active_transactions,
        now=NOW,
    )

    if case.rejected_by is None:
        assert verdict == ACCEPTED
    else:
        assert isinstance(verdict, Rejected)
        assert (verdict.requirement, verdict.reason_code) == (case.rejected_by, case.reason_code)


def test_the_tables_cover_every_rule_of_the_module() -> None:
    source = inspect.getsource(validation)
    named = set(
        re.findall(
            r'"(K\d\d(?:\.FR\.\d\d)?|(?:SmartChargingCtrlr|ChargingProfileType)\.\w+)"', source
        )
    )
    covered = {case.rejected_by for case in CASES} | {case[3] for case in START_CASES}

    assert named == covered - {None}


def test_a_rejection_names_its_requirement_in_status_info() -> None:
    verdict = validate_profile(
        profile(purpose=MAX),
        1,
        installed=(),
        station=STATION,
        active_transactions={},
        now=NOW,
    )

    assert verdict == Rejected(
        "InvalidProfile", "K04.FR.03", "ChargingStationMaxProfile only on evseId 0"
    )
    assert isinstance(verdict, Rejected)
    assert verdict.status_info() == StatusInfoType(
        reason_code="InvalidProfile",
        additional_info="K04.FR.03: ChargingStationMaxProfile only on evseId 0",
    )


def test_the_first_rule_broken_is_reported() -> None:
    both = profile(purpose=MAX, kind=Kind.RELATIVE)

    verdict = validate_profile(
        both, 1, installed=(), station=STATION, active_transactions={}, now=NOW
    )

    assert isinstance(verdict, Rejected)
    assert verdict.requirement == "K04.FR.03"


START_CASES = [
    ("TxProfile without transactionId", profile(purpose=TX), 1, None),
    ("a TxDefaultProfile", profile(purpose=TX_DEFAULT), 1, "K05"),
    ("a TxProfile naming a transaction", profile(purpose=TX, transaction_id="T1"), 1, "K05"),
    ("on EVSE 0", profile(purpose=TX), 0, "K01.FR.16"),
    ("on an unknown EVSE", profile(purpose=TX), 9, "K01.FR.28"),
    ("with a bad schedule", profile(purpose=TX, schedule=[(5, 16.0)]), 1, "K01.FR.31"),
]


@pytest.mark.parametrize(
    ("chosen", "evse_id", "rejected_by"),
    [case[1:] for case in START_CASES],
    ids=[case[0] for case in START_CASES],
)
def test_validate_start_transaction_profile(
    chosen: ChargingProfileType, evse_id: int, rejected_by: str | None
) -> None:
    verdict = validate_start_transaction_profile(chosen, evse_id, installed=(), station=STATION)

    if rejected_by is None:
        assert verdict == ACCEPTED
    else:
        assert isinstance(verdict, Rejected)
        assert verdict.requirement == rejected_by


def test_start_transaction_profile_may_not_replace_an_external_constraint() -> None:
    verdict = validate_start_transaction_profile(
        profile(1, purpose=TX),
        1,
        installed=on(0, profile(1, purpose=EXTERNAL)),
        station=STATION,
    )

    assert isinstance(verdict, Rejected)
    assert verdict.requirement == "K01.FR.05"
