"""ISO 15118 EVs at the station (OCPP 2.0.1 K15-K17): charging needs and charging schedules.

An EV marked ``EvSpec.iso15118`` talks to the station (ISO 15118-2, AC), and the station relays:

1. K15: when a transaction starts with the EV plugged in, its charging needs go to the CSMS in
   NotifyEVChargingNeeds (energy, minimum and maximum current per phase, maximum voltage,
   departure time, how many schedule periods the EV takes). They are sent once the CSMS has
   acknowledged the transaction's Started event, so the CSMS knows the transaction.
2. K15/K16: a TxProfile for the transaction (SetChargingProfile) is offered to the EV, as the
   EVSE's composite schedule in A (what a station hands the EV as its SASchedule: the TxProfile
   under the station's other limits). The EV answers with its plan, sent in
   NotifyEVChargingSchedule with timeBase now: in each period its maximum current capped by the
   offer, nothing where the offer is below its minimum current, up to its departure.
3. K16/K17: a Rejected plan is renegotiated: the offer is made again from the profiles the
   station holds then (the CSMS may have changed them), and the EV lowers its plan to whole
   amperes under it, which leaves room for the CSMS's own conversions. After ``MAX_ATTEMPTS``
   plans the station gives up; each answer is written to ``station.log``.

The EV's side of an exchange takes ``EV_RESPONSE_SECONDS`` (ChargeParameterDiscovery and
PowerDelivery with the EV). The EV keeps drawing what the station's limit allows meanwhile.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.smartcharging import composite_schedule
from kilowatt.station.ev import EvSpec
from kilowatt.station.evse import Evse, Transaction

if TYPE_CHECKING:
    from kilowatt.station.station import Station

__all__ = [
    "EV_RESPONSE_SECONDS",
    "MAX_ATTEMPTS",
    "MAX_SCHEDULE_TUPLES",
    "Iso15118",
    "charging_needs",
    "ev_schedule",
]

A = v201.ChargingRateUnitEnumType.A
GenericStatus = v201.GenericStatusEnumType
# The periods of an SASchedule the simulated EV takes (maxScheduleTuples), and the most
# entries of the plan it returns (ISO 15118-2: 24 ProfileEntry elements).
MAX_SCHEDULE_TUPLES = 24
MAX_PLAN_PERIODS = 24
MAX_ATTEMPTS = 3  # plans sent for one TxProfile: the first and two renegotiated ones
EV_RESPONSE_SECONDS = 1.0
# How far the offer reaches when the EV gives no departure time.
HORIZON_SECONDS = 24 * 3600
# How often the needs wait looks whether the CSMS has acknowledged the Started event.
_POLL_SECONDS = 0.02
_TENTH = Decimal("0.1")


def _phases_mode(phases: int) -> v201.EnergyTransferModeEnumType:
    return {
        1: v201.EnergyTransferModeEnumType.AC_SINGLE_PHASE,
        2: v201.EnergyTransferModeEnumType.AC_TWO_PHASE,
    }.get(phases, v201.EnergyTransferModeEnumType.AC_THREE_PHASE)


def ev_currents(ev: EvSpec, voltage: float, phases: int) -> tuple[int, int]:
    """The EV's (minimum, maximum) current per phase, whole amperes rounded up: the powers it
    draws spread over the EVSE's phases."""
    per_amp = voltage * phases
    # The epsilon keeps a product like 16 x 690 W from rounding up to 17 A.
    low = math.ceil(ev.min_power_w / per_amp - 1e-9)
    high = math.ceil(ev.max_power_w / per_amp - 1e-9)
    return low, max(low, high)


def charging_needs(
    ev: EvSpec,
    *,
    evse_id: int,
    phases: int,
    voltage: float,
    soc: float | None,
    departure: datetime | None,
) -> v201.NotifyEVChargingNeedsRequest:
    """K15: the needs of ``ev`` at state of charge ``soc`` (None: its initial one)."""
    low, high = ev_currents(ev, voltage, phases)
    if ev.energy_wh is not None:
        energy = ev.energy_wh
    else:
        now_soc = ev.initial_soc if soc is None else soc
        energy = ev.battery_wh * max(0.0, ev.target_soc - now_soc) / 100.0
    return v201.NotifyEVChargingNeedsRequest(
        evse_id=evse_id,
        max_schedule_tuples=MAX_SCHEDULE_TUPLES,
        charging_needs=v201.ChargingNeedsType(
            requested_energy_transfer=_phases_mode(phases),
            departure_time=departure.replace(microsecond=0) if departure is not None else UNSET,
            ac_charging_parameters=v201.ACChargingParametersType(
                energy_amount=round(energy),
                ev_min_current=low,
                ev_max_current=high,
                ev_max_voltage=round(voltage),
            ),
        ),
    )


def ev_schedule(
    ev: EvSpec,
    offer: list[v201.ChargingSchedulePeriodType],
    *,
    voltage: float,
    phases: int,
    duration: int | None,
    attempt: int = 1,
    schedule_id: int = 1,
) -> v201.ChargingScheduleType:
    """The plan the EV returns for ``offer`` (periods in A per phase from the time base).

    Each period: the EV's maximum current capped by the offer, to 0.1 A (whole amperes from the
    second attempt on, a renegotiation), 0 where that is below its minimum current. Equal
    neighbours merge; the plan ends at ``duration`` (the departure) and has at most
    ``MAX_PLAN_PERIODS`` periods, the last one lasting to its end.
    """
    if not offer:
        raise ValueError("an offer has at least one period")
    low, high = ev_currents(ev, voltage, phases)
    step = Decimal(1) if attempt > 1 else _TENTH
    periods: list[v201.ChargingSchedulePeriodType] = []
    for period in offer:
        if duration is not None and period.start_period >= duration and periods:
            break
        capped = min(Decimal(high), Decimal(repr(period.limit)))
        amps = capped.quantize(step, rounding=ROUND_DOWN) if capped > 0 else Decimal(0)
        limit = float(amps) if amps >= low else 0.0
        if periods and periods[-1].limit == limit:
            continue
        if len(periods) == MAX_PLAN_PERIODS:
            break
        periods.append(
            v201.ChargingSchedulePeriodType(start_period=period.start_period, limit=limit)
        )
    return v201.ChargingScheduleType(
        id=schedule_id,
        charging_rate_unit=A,
        charging_schedule_period=periods,
        duration=duration if duration is not None else UNSET,
    )


class Iso15118:
    """The ISO 15118 exchanges of a station's EVSEs; ``station.iso15118``.

    Attributes:
        plans: the plan last sent per EVSE, and ``answers`` the CSMS's status for it.
    """

    def __init__(self, station: Station) -> None:
        self._station = station
        self._rounds: dict[int, int] = {}  # EVSE -> number of the latest negotiation
        self.plans: dict[int, v201.ChargingScheduleType] = {}
        self.answers: dict[int, GenericStatus] = {}

    def _speaks(self, evse: Evse) -> bool:
        return self._station.config.ev.iso15118 and evse.plugged is not None

    # -- K15: the needs ------------------------------------------------------------------------

    def transaction_started(self, evse: Evse) -> None:
        """Send the EV's needs once the CSMS knows the transaction (K15.FR.01)."""
        tx = evse.transaction
        if tx is None or not self._speaks(evse):
            return
        self._station.spawn(self._send_needs(evse, tx))

    async def _send_needs(self, evse: Evse, tx: Transaction) -> None:
        station = self._station
        while evse.transaction is tx and self._started_queued(tx):
            await asyncio.sleep(_POLL_SECONDS)
        if evse.transaction is not tx or evse.plugged is None:
            return
        ev = station.config.ev
        departure = (
            evse.plugged_at + timedelta(seconds=ev.departure_seconds)
            if ev.departure_seconds is not None and evse.plugged_at is not None
            else None
        )
        request = charging_needs(
            ev,
            evse_id=evse.id,
            phases=evse.phases,
            voltage=station.config.voltage,
            soc=evse.electric.soc,
            departure=departure,
        )
        response = await station.send(request)
        if response is None:
            station.log.append(f"EVSE {evse.id}: EV charging needs not answered")
            return
        station.log.append(f"EVSE {evse.id}: EV charging needs {response.status}")

    def _started_queued(self, tx: Transaction) -> bool:
        return any(
            item.request.event_type == v201.TransactionEventEnumType.STARTED
            and item.request.transaction_info.transaction_id == tx.id
            for item in self._station.queue
        )

    # -- K16/K17: the schedule -----------------------------------------------------------------

    def profile_set(self, evse_id: int, profile: v201.ChargingProfileType) -> None:
        """A profile was installed: a TxProfile for the EV's transaction starts a negotiation
        with the EV (K16.FR.02), which replaces one under way."""
        evse = self._station.evses.get(evse_id)
        if (
            evse is None
            or evse.transaction is None
            or not self._speaks(evse)
            or profile.charging_profile_purpose != v201.ChargingProfilePurposeEnumType.TX_PROFILE
            or profile.transaction_id != evse.transaction.id
        ):
            return
        round_ = self._rounds.get(evse_id, 0) + 1
        self._rounds[evse_id] = round_
        schedule_id = profile.charging_schedule[0].id
        self._station.spawn(self._negotiate(evse, evse.transaction, round_, schedule_id))

    async def _negotiate(self, evse: Evse, tx: Transaction, round_: int, schedule_id: int) -> None:
        station = self._station

        def current() -> bool:
            return self._rounds.get(evse.id) == round_ and evse.transaction is tx

        for attempt in range(1, MAX_ATTEMPTS + 1):
            await station.clock.sleep(EV_RESPONSE_SECONDS)
            if not current():
                return
            request = self.plan(evse, attempt, schedule_id)
            self.plans[evse.id] = request.charging_schedule
            response = await station.send(request)
            if not current():
                return
            if response is None:
                station.log.append(f"EVSE {evse.id}: EV charging schedule not answered")
                return
            self.answers[evse.id] = response.status
            station.log.append(
                f"EVSE {evse.id}: EV charging schedule {response.status} (attempt {attempt})"
            )
            if response.status == GenericStatus.ACCEPTED:
                return
            if attempt < MAX_ATTEMPTS:
                station.log.append(f"EVSE {evse.id}: renegotiating the schedule with the EV")
        station.log.append(
            f"EVSE {evse.id}: EV charging schedule rejected {MAX_ATTEMPTS} times, given up"
        )

    def plan(
        self, evse: Evse, attempt: int = 1, schedule_id: int = 1
    ) -> v201.NotifyEVChargingScheduleRequest:
        """The EV's plan now for what the station offers it (the EVSE's composite schedule)."""
        station = self._station
        now = station.clock.now().replace(microsecond=0)
        ev = station.config.ev
        duration: int | None = None
        if ev.departure_seconds is not None and evse.plugged_at is not None:
            departure = evse.plugged_at + timedelta(seconds=ev.departure_seconds)
            duration = max(1, int((departure - now).total_seconds()))
        offer = composite_schedule(
            station.profiles.installed,
            evse_id=evse.id,
            start=now,
            duration=duration if duration is not None else HORIZON_SECONDS,
            unit=A,
            station=station.profiles.limits(station.model),
            transactions=station.active_transactions(),
        )
        schedule = ev_schedule(
            ev,
            offer.charging_schedule_period,
            voltage=station.config.voltage,
            phases=evse.phases,
            duration=duration,
            attempt=attempt,
            schedule_id=schedule_id,
        )
        return v201.NotifyEVChargingScheduleRequest(
            time_base=now, evse_id=evse.id, charging_schedule=schedule
        )
