"""A session's facts read from its TransactionEvents: the one input both ends price.

A station that computes its cost locally (OCPP 2.1, I07-I12) and the CSMS that checks it must
price the same facts, or they disagree by a cent now and then. Both read them here from the
TransactionEvents: the station from those it sends, the CSMS from those it received. The
readings are the meter values in them (Energy.Active.Import.Register, the measurand a sampled
value has when it names none, and Power.Active.Import; per-phase values are left out), as sent;
the charging state is the one each event reports, from its timestamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from decimal import Decimal

from msgspec import UNSET

from kilowatt.messages import v21, v201
from kilowatt.tariffs.session import EvseKind, MeterReading, Session, State, StateChange

__all__ = ["TransactionEvent", "session_from_events"]

TransactionEvent = v201.TransactionEventRequest | v21.TransactionEventRequest

_ENERGY = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"
_KILO = {"kWh": Decimal(1000), "kW": Decimal(1000)}


def session_from_events(
    events: Iterable[TransactionEvent],
    *,
    start: datetime,
    end: datetime | None = None,
    evse_kind: EvseKind = EvseKind.AC,
    zone: str | tzinfo = "UTC",
) -> Session:
    """The session a transaction's events describe, from ``start`` to ``end`` (None: running).

    Two readings of one instant: the last one read wins. A register reading below an earlier
    one is taken as the earlier value (a register never falls; a reading may be wrong).
    """
    energy: dict[datetime, Decimal] = {}
    power: dict[datetime, Decimal] = {}
    changes: list[StateChange] = []
    for event in events:
        for meter_value in event.meter_value or ():
            for sample in meter_value.sampled_value:
                if sample.phase:
                    continue
                measurand = str(sample.measurand or _ENERGY)
                unit = None
                multiplier = 0
                if sample.unit_of_measure is not UNSET:
                    unit = sample.unit_of_measure.unit or None
                    multiplier = sample.unit_of_measure.multiplier or 0
                value = Decimal(str(sample.value)) * Decimal(10) ** multiplier
                value *= _KILO.get(unit or "", Decimal(1))
                if measurand == _ENERGY:
                    energy[meter_value.timestamp] = value
                elif measurand == _POWER:
                    power[meter_value.timestamp] = value
        state = event.transaction_info.charging_state
        if state is not UNSET:
            charging = str(state) == v201.ChargingStateEnumType.CHARGING
            changes.append(StateChange(event.timestamp, State.CHARGING if charging else State.IDLE))
    readings = []
    highest = Decimal(0)
    for when in sorted(energy):
        highest = max(highest, energy[when])
        readings.append(MeterReading(when, highest, power.get(when)))
    return Session(
        start=start,
        readings=tuple(readings),
        changes=tuple(changes),
        end=end,
        evse_kind=evse_kind,
        zone=zone,
    )
