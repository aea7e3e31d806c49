"""The simulated EV and its EVSE's meter: energy and power over time, under the applied limit.

Pure: the station advances the simulation by the time its clock says has passed. AC charging
only draws what the EV's on-board charger takes, tapering as the battery fills; the meter's
register only ever grows, as a real energy meter's does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["ElectricState", "EvSpec", "advance", "available_power"]

# Above this state of charge the EV tapers its power linearly down to nothing at 100 %, as a
# lithium-ion battery's constant-voltage phase does.
TAPER_FROM_SOC = 80.0


@dataclass(frozen=True, slots=True)
class EvSpec:
    """What the simulated EV accepts.

    Attributes:
        battery_wh: usable battery capacity.
        max_power_w: the most its charger takes.
        min_power_w: below this the EV does not charge at all (IEC 61851: about 6 A).
        initial_soc: state of charge at plug-in, percent.
        target_soc: the EV stops drawing (SuspendedEV) once it is reached, percent.
        iso15118: the EV speaks ISO 15118 (high-level communication): the station tells the
            CSMS its charging needs and its charging schedule (K15-K17, ``station.iso15118``);
            without it the limit reaches the EV as the IEC 61851 PWM duty cycle only.
        departure_seconds: with ISO 15118, when the driver leaves, counted from plug-in;
            None: not known (no departureTime).
        energy_wh: with ISO 15118, the energy the EV asks for; None: what fills the battery
            from its state of charge to ``target_soc``.
    """

    battery_wh: float = 60_000.0
    max_power_w: float = 11_000.0
    min_power_w: float = 1_380.0
    initial_soc: float = 30.0
    target_soc: float = 100.0
    iso15118: bool = False
    departure_seconds: float | None = None
    energy_wh: float | None = None


@dataclass(frozen=True, slots=True)
class ElectricState:
    """One EVSE's electrical state: the meter register and, while an EV is plugged, its SoC."""

    register_wh: float = 0.0
    power_w: float = 0.0
    soc: float | None = None  # None: no EV plugged


def available_power(ev: EvSpec, soc: float, limit_w: float) -> float:
    """The power the EV draws at this state of charge under ``limit_w``."""
    if soc >= ev.target_soc:
        return 0.0
    wanted = ev.max_power_w
    if soc > TAPER_FROM_SOC:
        wanted *= (100.0 - soc) / (100.0 - TAPER_FROM_SOC)
    power = min(wanted, limit_w)
    return power if power >= ev.min_power_w else 0.0


def advance(state: ElectricState, ev: EvSpec, limit_w: float, seconds: float) -> ElectricState:
    """The state ``seconds`` later, with ``limit_w`` applied all along (0 while not charging).

    The power is held for the whole step at its value at the step's start; the station steps
    at least once per meter sample, so the error stays below one sample's taper.
    """
    if seconds < 0:
        raise ValueError(f"cannot advance by a negative time: {seconds}")
    if state.soc is None:
        return replace(state, power_w=0.0)
    power = available_power(ev, state.soc, limit_w)
    energy = power * seconds / 3600.0
    soc = min(100.0, state.soc + 100.0 * energy / ev.battery_wh)
    return ElectricState(register_wh=state.register_wh + energy, power_w=power, soc=soc)
