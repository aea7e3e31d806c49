"""What the CSMS keeps: plain records, independent of how they are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "ChargingLimitRecord",
    "ChargingProfileRecord",
    "ConnectorStatus",
    "FrameLogEntry",
    "IdTokenRecord",
    "LocalList",
    "LocalListEntry",
    "MeterSample",
    "Notification",
    "SiteRecord",
    "StationRecord",
    "StatusChange",
    "TariffRecord",
    "TransactionEventRecord",
    "TransactionRecord",
    "VariableRecord",
]


@dataclass(frozen=True, slots=True)
class StationRecord:
    """A charging station known to the CSMS.

    ``registration_status`` and ``heartbeat_interval`` are the operator's answer to the station's
    next BootNotification; ``boot_status`` is the answer last given (None: never booted).
    """

    station_id: str
    security_profile: int = 1
    password_hash: str | None = None
    registration_status: str = "Accepted"
    heartbeat_interval: int = 300
    boot_status: str | None = None
    boot_at: datetime | None = None
    boot_reason: str | None = None
    vendor_name: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    modem_iccid: str | None = None
    modem_imsi: str | None = None
    last_heartbeat_at: datetime | None = None
    firmware_status: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    station_id: str
    evse_id: int
    connector_id: int
    status: str
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One StatusNotification, kept as history."""

    station_id: str
    evse_id: int
    connector_id: int
    status: str
    timestamp: datetime
    received_at: datetime


@dataclass(frozen=True, slots=True)
class IdTokenRecord:
    """An id token and what the CSMS answers for it (OCPP 2.0.1 IdTokenInfoType)."""

    id_token: str
    type: str
    status: str = "Accepted"
    group_id_token: str | None = None
    expiry: datetime | None = None
    language1: str | None = None
    language2: str | None = None
    personal_message: dict[str, Any] | None = None  # MessageContentType as on the wire


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    """An entry of a station's local authorization list (D01): an id token and the
    IdTokenInfoType the station uses for it while it cannot ask the CSMS.

    In a Differential update, an entry without a status (no idTokenInfo on the wire) removes
    the token from the list (D01.FR.17); a list never holds one.
    """

    id_token: str
    type: str
    status: str | None
    expiry: datetime | None = None  # cacheExpiryDateTime
    group_id_token: str | None = None  # sent as an IdTokenType of type Central
    language1: str | None = None
    language2: str | None = None
    personal_message: dict[str, Any] | None = None  # MessageContentType as on the wire

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the entry in its list: the token and its type."""
        return (self.id_token, self.type)


@dataclass(frozen=True, slots=True)
class LocalList:
    """A station's local authorization list at a version: its entries by token and type."""

    station_id: str
    version: int
    entries: tuple[LocalListEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A transaction as assembled from its TransactionEvents.

    Energy is in Wh, from the Energy.Active.Import.Register readings: ``meter_start_wh`` is the
    first reading that can serve as a baseline (never a zero sent offline), ``meter_last_wh`` the
    latest; ``seq_nos_missing`` lists the sequence numbers not received (yet).
    """

    station_id: str
    transaction_id: str
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    meter_start_wh: float | None = None
    meter_last_wh: float | None = None
    last_seq_no: int | None = None
    seq_nos_missing: tuple[int, ...] = ()
    offline: bool = False
    event_count: int = 0
    updated_at: datetime | None = None

    @property
    def energy_wh(self) -> float | None:
        if self.meter_start_wh is None or self.meter_last_wh is None:
            return None
        return self.meter_last_wh - self.meter_start_wh


@dataclass(frozen=True, slots=True)
class TransactionEventRecord:
    station_id: str
    transaction_id: str
    seq_no: int
    event_type: str
    trigger_reason: str
    timestamp: datetime
    offline: bool
    payload: str  # the request's JSON text
    received_at: datetime


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value of a MeterValues request or of a TransactionEvent."""

    station_id: str
    evse_id: int
    transaction_id: str | None
    timestamp: datetime
    measurand: str
    value: float
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    unit: str | None = None
    multiplier: int | None = None


@dataclass(frozen=True, slots=True)
class VariableRecord:
    """One attribute of one variable of the station's device model, as last reported."""

    station_id: str
    component: str
    variable: str
    component_instance: str = ""
    evse_id: int = -1  # -1: no EVSE (a station-level component)
    connector_id: int = -1
    variable_instance: str = ""
    attribute_type: str = "Actual"
    value: str | None = None
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    characteristics: dict[str, Any] | None = None  # VariableCharacteristicsType as on the wire
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A station's report that the CSMS keeps as it came (security events, firmware and log
    status, NotifyEvent, charging limits, EV charging needs, display messages, ...)."""

    station_id: str
    action: str
    received_at: datetime
    payload: str  # the request's JSON text
    request_id: int | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class FrameLogEntry:
    """One frame on a station's connection, either way."""

    station_id: str
    at_ms: int  # milliseconds since the epoch
    direction: str  # "in" (from the station) or "out"
    message_type: int | None
    message_id: str | None
    action: str | None
    text: str
    connection_id: str = ""
    id: int | None = None


# The sources of a stored charging profile (ChargingProfileRecord.source).
PROFILE_SET_BY_CSMS = "csms"
PROFILE_REPORTED_BY_STATION = "station"


@dataclass(frozen=True, slots=True)
class ChargingProfileRecord:
    """A charging profile of a station (K01, K09).

    ``source`` "csms": the CSMS set it and the station accepted it; "station": the station
    reported it (ReportChargingProfiles, in answer to GetChargingProfiles number
    ``request_id``). The key is (station, source, profile id): a station holds one profile per
    id (K01.FR.05). ``profile`` is the ChargingProfileType's JSON text, as on the wire.
    """

    station_id: str
    source: str
    profile_id: int
    evse_id: int  # 0: the station as a whole
    purpose: str
    stack_level: int
    charging_limit_source: str  # CSO, EMS, SO or Other
    profile: str
    updated_at: datetime
    transaction_id: str | None = None
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class TariffRecord:
    """A tariff (an OCPP 2.1 TariffType as JSON text) and to whom it applies: the id-token
    groups first, then the EVSEs ("station/evse"), the stations, the sites, and, if
    ``is_default``, everyone else."""

    tariff_id: str
    tariff: str
    is_default: bool
    station_ids: list[str] | None
    group_ids: list[str] | None
    updated_at: datetime
    site_ids: list[str] | None = None
    evse_ids: list[str] | None = None


@dataclass(frozen=True, slots=True)
class TransactionTariffRecord:
    """A tariff in force for a transaction from ``at`` on: position 0 is the one it started
    with, each later position a change (I12 ChangeTransactionTariff). Kept with the tariff's
    content, so that a tariff edited or deleted later does not change a transaction's cost."""

    station_id: str
    transaction_id: str
    position: int
    at: datetime
    tariff_id: str
    tariff: str  # the OCPP 2.1 TariffType, as on the wire


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """A site for load balancing: its document (``csms/sites.py``) as JSON text."""

    site_id: str
    document: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ChargingLimitRecord:
    """An external charging limit a station reported (K12 NotifyChargingLimit), until it is
    released (K13 ClearedChargingLimit); one per (station, EVSE, source), the latest.

    ``schedules`` are the ChargingScheduleTypes of the notification as on the wire, if any.
    """

    station_id: str
    evse_id: int  # 0: the station as a whole
    charging_limit_source: str
    received_at: datetime
    is_grid_critical: bool | None = None
    schedules: list[dict[str, Any]] | None = None
