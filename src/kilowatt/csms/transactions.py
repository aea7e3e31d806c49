"""A transaction assembled from its TransactionEvents, whatever order they arrive in.

Pure: no I/O, no clock. The CSMS keeps one TransactionState per active transaction and feeds it
each event; after a restart it rebuilds the state by replaying the stored events, which gives the
same result because every rule here depends on the events, not on their arrival order.

Rules:
- E01-E03: Started opens, Updated updates, Ended closes; a transaction may be seen first through
  an Updated or Ended event (its Started lost or still queued on the station) and is completed
  when the missing events arrive.
- seqNo increments by one per event of a transaction (E01-E03, TC_E_53: it may restart at 0
  for each transaction); gaps between the lowest and highest seqNo seen are reported as missing
  until they arrive. A seqNo seen twice is a
  replay and must not change anything: the store refuses it before it reaches here.
- Energy, in Wh, from Energy.Active.Import.Register readings (the measurand a sampled value
  has when it names none): the baseline is the earliest reading by timestamp, except that a
  reading of exactly 0 sent offline is never the baseline while any other reading exists (a
  station that lost its meter value offline may send 0, and billing the meter's lifetime
  register as one session is the failure this rule prevents). The last reading is the latest
  by timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from msgspec import UNSET

from kilowatt.csms.store.records import MeterSample, TransactionRecord
from kilowatt.messages import v201

__all__ = ["TransactionState", "energy_samples", "meter_samples"]

ENERGY_REGISTER = "Energy.Active.Import.Register"
_UNIT_FACTOR = {"Wh": 1.0, "kWh": 1000.0}


@dataclass(order=True, frozen=True)
class _Reading:
    timestamp: datetime
    wh: float
    trusted: bool = field(compare=False)


def _sample_wh(sample: v201.SampledValueType) -> float | None:
    """The sampled value in Wh if it is an energy register reading, else None."""
    measurand = sample.measurand or v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER
    if measurand != v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER:
        return None
    unit = "Wh"
    multiplier = 0
    if sample.unit_of_measure:
        unit = sample.unit_of_measure.unit or "Wh"
        multiplier = sample.unit_of_measure.multiplier or 0
    factor = _UNIT_FACTOR.get(unit)
    if factor is None:
        return None
    return float(sample.value) * factor * 10.0**multiplier


def energy_samples(meter_values: list[v201.MeterValueType]) -> list[tuple[datetime, float]]:
    """The energy register readings (timestamp, Wh) in a list of meter values."""
    readings = []
    for meter_value in meter_values:
        for sample in meter_value.sampled_value:
            wh = _sample_wh(sample)
            if wh is not None:
                readings.append((meter_value.timestamp, wh))
    return readings


def meter_samples(
    station_id: str,
    evse_id: int,
    transaction_id: str | None,
    meter_values: list[v201.MeterValueType],
) -> list[MeterSample]:
    """Every sampled value of a list of meter values, as records to store."""
    samples = []
    for meter_value in meter_values:
        for sample in meter_value.sampled_value:
            unit = multiplier = None
            if sample.unit_of_measure:
                unit = sample.unit_of_measure.unit or None
                multiplier = sample.unit_of_measure.multiplier or None
            samples.append(
                MeterSample(
                    station_id=station_id,
                    evse_id=evse_id,
                    transaction_id=transaction_id,
                    timestamp=meter_value.timestamp,
                    measurand=str(sample.measurand or ENERGY_REGISTER),
                    value=float(sample.value),
                    phase=str(sample.phase) if sample.phase else None,
                    location=str(sample.location) if sample.location else None,
                    context=str(sample.context) if sample.context else None,
                    unit=unit,
                    multiplier=multiplier,
                )
            )
    return samples


class TransactionState:
    """Everything known about one transaction, built from its events in any order."""

    def __init__(self, station_id: str, transaction_id: str) -> None:
        self.station_id = station_id
        self.transaction_id = transaction_id
        self.seq_nos: set[int] = set()
        self._fields: dict[str, Any] = {}
        self._baseline: _Reading | None = None
        self._untrusted_first: _Reading | None = None
        self._last: _Reading | None = None
        self._started_at: datetime | None = None
        self._ended_at: datetime | None = None
        self._latest_info_at: datetime | None = None
        self._offline = False
        self._updated_at: datetime | None = None

    def apply(self, event: v201.TransactionEventRequest, received_at: datetime) -> None:
        """Take one event into the state (each seqNo once: replays are refused before this)."""
        self.seq_nos.add(event.seq_no)
        self._updated_at = received_at
        self._offline = self._offline or bool(event.offline)
        kind = event.event_type
        if kind == v201.TransactionEventEnumType.STARTED:
            self._started_at = event.timestamp
        elif kind == v201.TransactionEventEnumType.ENDED:
            self._ended_at = event.timestamp
        info = event.transaction_info
        # The latest event by timestamp says the current charging state; a late offline event
        # must not roll it back.
        if self._latest_info_at is None or event.timestamp >= self._latest_info_at:
            self._latest_info_at = event.timestamp
            if info.charging_state:
                self._fields["charging_state"] = str(info.charging_state)
        if info.stopped_reason:
            self._fields["stopped_reason"] = str(info.stopped_reason)
        if info.remote_start_id is not UNSET:
            self._fields["remote_start_id"] = info.remote_start_id
        if event.evse:
            self._fields["evse_id"] = event.evse.id
            if event.evse.connector_id:
                self._fields["connector_id"] = event.evse.connector_id
        if event.id_token:
            self._fields["id_token"] = event.id_token.id_token
            self._fields["id_token_type"] = str(event.id_token.type)
        for timestamp, wh in energy_samples(event.meter_value or []):
            self._take_reading(_Reading(timestamp, wh, trusted=not (event.offline and wh == 0)))

    def _take_reading(self, reading: _Reading) -> None:
        if reading.trusted:
            if self._baseline is None or reading < self._baseline:
                self._baseline = reading
        elif self._untrusted_first is None or reading < self._untrusted_first:
            self._untrusted_first = reading
        if self._last is None or reading.timestamp >= self._last.timestamp:
            self._last = reading

    @property
    def missing_seq_nos(self) -> tuple[int, ...]:
        if not self.seq_nos:
            return ()
        low, high = min(self.seq_nos), max(self.seq_nos)
        return tuple(n for n in range(low, high + 1) if n not in self.seq_nos)

    def record(self) -> TransactionRecord:
        baseline = self._baseline or self._untrusted_first
        return TransactionRecord(
            station_id=self.station_id,
            transaction_id=self.transaction_id,
            evse_id=self._fields.get("evse_id"),
            connector_id=self._fields.get("connector_id"),
            id_token=self._fields.get("id_token"),
            id_token_type=self._fields.get("id_token_type"),
            started_at=self._started_at,
            ended_at=self._ended_at,
            charging_state=self._fields.get("charging_state"),
            stopped_reason=self._fields.get("stopped_reason"),
            remote_start_id=self._fields.get("remote_start_id"),
            meter_start_wh=None if baseline is None else baseline.wh,
            meter_last_wh=None if self._last is None else self._last.wh,
            last_seq_no=max(self.seq_nos) if self.seq_nos else None,
            seq_nos_missing=self.missing_seq_nos,
            offline=self._offline,
            event_count=len(self.seq_nos),
            updated_at=self._updated_at,
        )
