"""The control pilot's PWM duty cycle (IEC 61851-1): the pure table, and the station keeping
each EVSE's duty cycle as its limit changes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from kilowatt.messages import v201
from kilowatt.station.ev import EvSpec
from kilowatt.station.pwm import pwm_duty_cycle
from kilowatt.station.simulator import Fleet, Scenario, summary
from tests.station.rig import T0, Rig, make_rig as bare_rig

TOKEN = v201.IdTokenType(id_token="T1", type=v201.IdTokenEnumType.ISO14443)


@pytest.mark.parametrize(
    ("amps", "duty"),
    [
        (0, "100"),  # nothing allowed: no PWM
        (5.9, "100"),  # below 6 A there is no duty cycle: the EVSE offers no energy
        (6, "10.0"),  # the lowest current, 10 %
        (10, "16.6"),  # 16.66... rounded down: the EV reads 9.96 A, not above 10 A
        (16, "26.6"),
        (32, "53.3"),
        (51, "85.0"),  # the top of the 0.6 A range
        (51.5, "85.0"),  # A / 2.5 + 64 = 84.6 % would be read as 50.76 A: 85 % (51 A) instead
        (52.5, "85.0"),
        (53, "85.2"),  # (85.2 - 64) x 2.5 = 53 A
        (63, "89.2"),
        (80, "96.0"),  # the top of the range
        (125, "96.0"),  # above 80 A the pilot signals 80 A
        (float("inf"), "96.0"),
        (Decimal("15.94"), "26.5"),
    ],
)
def test_duty_cycle_table(amps: float | Decimal, duty: str) -> None:
    assert pwm_duty_cycle(amps) == Decimal(duty)


def test_the_duty_cycle_never_signals_more_than_the_limit() -> None:
    for tenths in range(60, 801):
        amps = Decimal(tenths) / 10
        duty = pwm_duty_cycle(amps)
        read = duty * Decimal("0.6") if duty <= 85 else (duty - 64) * Decimal("2.5")
        assert read <= amps, (amps, duty, read)
        if 51 < amps < Decimal("52.75"):  # between 85 % (51 A) and 85.1 % (52.75 A)
            assert duty == 85, amps
        else:  # within the resolution of 0.1 %: 0.06 A below 51 A, 0.25 A above
            assert amps - read < Decimal("0.25"), (amps, duty, read)


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        pwm_duty_cycle(float("nan"))


def tx_profile(transaction_id: str, limit: float) -> v201.ChargingProfileType:
    return v201.ChargingProfileType(
        id=7,
        stack_level=0,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.TX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=T0,
                charging_rate_unit=v201.ChargingRateUnitEnumType.A,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=0, limit=limit),
                    v201.ChargingSchedulePeriodType(start_period=600, limit=4.0),
                ],
            )
        ],
        transaction_id=transaction_id,
    )


def make_rig() -> Rig:
    """A rig online whose CSMS accepts every token."""
    rig = bare_rig()
    rig.online()
    rig.answers[v201.AuthorizeRequest] = v201.AuthorizeResponse(
        id_token_info=v201.IdTokenInfoType(status=v201.AuthorizationStatusEnumType.ACCEPTED)
    )
    return rig


async def charging(rig: Rig) -> str:
    rig.station.plug_in(1)
    assert await rig.station.present_token(1, TOKEN)
    tx = rig.station.evses[1].transaction
    assert tx is not None
    return tx.id


async def test_the_station_follows_its_limit_with_the_duty_cycle() -> None:
    rig = make_rig()
    station, evse = rig.station, rig.station.evses[1]
    assert evse.duty_cycle == 100  # nothing plugged in
    station.plug_in(1)
    assert evse.duty_cycle == 100  # plugged in, not authorized: no energy offered
    assert await station.present_token(1, TOKEN)
    # 22 kW on three phases at 230 V is 31.88 A: 53.1 %.
    assert evse.duty_cycle == Decimal("53.1")
    tx = evse.transaction
    assert tx is not None
    answer = await rig.call(
        v201.SetChargingProfileRequest(evse_id=1, charging_profile=tx_profile(tx.id, 16.0))
    )
    assert answer.status == v201.ChargingProfileStatusEnumType.ACCEPTED
    assert evse.duty_cycle == Decimal("26.6")
    # At 600 s the profile drops to 4 A, below 6 A: the pilot stops offering (100 %).
    await rig.advance(600)
    station.limit_changed()  # what follow_limits does when the station is connected
    assert evse.duty_cycle == 100
    station.unplug(1)
    assert evse.duty_cycle == 100
    pilot = [line for line in station.log if "control pilot" in line]
    assert pilot == [
        "EVSE 1: control pilot 53.1 % (31.9 A)",
        "EVSE 1: control pilot 26.6 % (16.0 A)",
        "EVSE 1: control pilot 100 % (4.0 A, below 6 A)",
    ]


async def test_a_transaction_that_ends_stops_the_pwm() -> None:
    rig = make_rig()
    await charging(rig)
    evse = rig.station.evses[1]
    assert evse.duty_cycle == Decimal("53.1")
    assert await rig.station.present_token(1, TOKEN)  # the same card stops the transaction
    assert evse.transaction is None
    assert evse.duty_cycle == 100
    assert rig.station.log[-1] == "EVSE 1: control pilot 100 % (no energy offered)"


async def test_an_iso15118_ev_sees_five_percent() -> None:
    rig = make_rig()
    station = rig.station
    station.config = dataclasses.replace(station.config, ev=EvSpec(iso15118=True))
    evse = station.evses[1]
    station.plug_in(1)
    assert evse.duty_cycle == 5  # from plug-in: digital communication required
    assert await station.present_token(1, TOKEN)
    assert evse.duty_cycle == 5
    station.unplug(1)
    assert evse.duty_cycle == 100
    assert [line for line in station.log if "control pilot" in line] == [
        "EVSE 1: control pilot 5 % (ISO 15118)",
        "EVSE 1: control pilot 100 % (no energy offered)",
    ]


async def test_the_simulator_reports_duty_cycles() -> None:
    rigs = [make_rig(), make_rig(), make_rig()]
    await charging(rigs[0])
    await charging(rigs[1])
    fleet = Fleet([rig.station for rig in rigs], Scenario(steps=()))
    figures = fleet.figures()
    assert figures.duty_cycles == {"53.1": 2, "100": 1}
    assert (figures.pwm, figures.hlc) == (2, 0)
    assert "pwm 2  hlc 0" in figures.line(0.0)
    assert '"control_pilot_duty_cycles": {"53.1": 2, "100": 1}' in summary(figures, 1.0)
