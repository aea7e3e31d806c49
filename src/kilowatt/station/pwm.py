"""The control pilot (IEC 61851-1): how the EVSE tells an EV without high-level communication
the current it may draw, as the duty cycle of the 1 kHz PWM signal.

IEC 61851-1 (Annex A) reads a duty cycle D as a maximum current per phase:

- 10 % <= D <= 85 %: I = D x 0.6 A, that is 6 A to 51 A;
- 85 % < D <= 96 %: I = (D - 64) x 2.5 A, up to 80 A (96 % < D <= 97 % also reads 80 A);
- 8 % <= D < 10 % reads 6 A; D < 8 % and D > 97 % do not allow charging, except:
- D = 5 %: digital communication (ISO 15118) is required, the limit goes over it;
- D = 100 %: no PWM (the oscillator is off, states x1): the EVSE does not offer energy now.

``pwm_duty_cycle`` inverts the two ranges. There is no duty cycle for less than 6 A: an EVSE
that may not deliver 6 A does not offer energy at all (100 %). Above 80 A it signals 80 A. The
duty cycle is rounded down to 0.1 %, so that what the EV reads never exceeds the limit; and
between 51 A and 52.5 A, where ``A / 2.5 + 64`` falls below 85 % (a duty cycle the EV would read
with the lower formula), it is 85 %, i.e. 51 A.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from kilowatt.station.evse import Evse

if TYPE_CHECKING:
    from kilowatt.station.station import Station

__all__ = [
    "DIGITAL_COMMUNICATION",
    "NO_ENERGY",
    "per_phase_amps",
    "pwm_duty_cycle",
    "signal_limit",
]

DIGITAL_COMMUNICATION = Decimal(5)  # ISO 15118: the limit is negotiated, not signalled
NO_ENERGY = Decimal(100)  # no PWM: the EVSE offers no energy now
MIN_AMPS = Decimal(6)
LOW_RANGE_TOP = Decimal(51)  # 85 %
MAX_AMPS = Decimal(80)  # 96 %
_TENTH = Decimal("0.1")


def pwm_duty_cycle(amps: float | Decimal) -> Decimal:
    """The duty cycle, in percent to 0.1, that signals ``amps`` per phase (IEC 61851-1)."""
    if isinstance(amps, float):
        if math.isnan(amps):
            raise ValueError("a current of NaN A")
        current = MAX_AMPS if math.isinf(amps) and amps > 0 else Decimal(repr(amps))
    else:
        current = amps
    if current < MIN_AMPS:
        return NO_ENERGY
    current = min(current, MAX_AMPS)
    if current <= LOW_RANGE_TOP:
        duty = current / Decimal("0.6")
    else:
        duty = max(current / Decimal("2.5") + 64, Decimal(85))
    return duty.quantize(_TENTH, rounding=ROUND_DOWN)


def per_phase_amps(limit_w: float, voltage: float, phases: int) -> float:
    """The current per phase of ``limit_w`` spread over ``phases`` at ``voltage``."""
    return limit_w / (voltage * phases)


def signal_limit(station: Station, evse: Evse, offered_w: float) -> None:
    """Set the EVSE's control pilot for ``offered_w`` (0: no energy offered), and write a change
    to ``station.log``. An ISO 15118 EV plugged in sees 5 % whatever the limit: it learns the
    limit over ISO 15118."""
    config = station.config
    if evse.plugged is not None and config.ev.iso15118:
        duty = DIGITAL_COMMUNICATION
        detail = "ISO 15118"
    elif evse.plugged is None or offered_w <= 0:
        duty = NO_ENERGY
        detail = "no energy offered"
    else:
        amps = per_phase_amps(offered_w, config.voltage, evse.phases)
        duty = pwm_duty_cycle(amps)
        detail = f"{amps:.1f} A" if duty != NO_ENERGY else f"{amps:.1f} A, below 6 A"
    if duty != evse.duty_cycle:
        evse.duty_cycle = duty
        station.log.append(f"EVSE {evse.id}: control pilot {duty} % ({detail})")
