"""The standard device model of a station: OCPP 2.0.1 Part 2 appendix components and variables.

`standard_model(shape)` builds every standardized controller component with its required
variables and the optional ones that drive a station's behaviour, plus ChargingStation, one EVSE
component per EVSE and one Connector component per connector. Defaults are conservative values a
CSMS can rely on; the station reads them back through the model's typed accessors.

Controller variables do not support monitoring (they change only by SetVariables); the physical
components' variables do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from kilowatt.devicemodel.model import (
    ACTUAL,
    AttributeDefinition,
    Characteristics,
    ComponentKey,
    DataType,
    DeviceModel,
    Monitor,
    Mutability,
    VariableDefinition,
    VariableKey,
    build_model,
)
from kilowatt.messages import v201

__all__ = ["ConnectorShape", "EvseShape", "StationShape", "standard_model"]

RW = Mutability.READ_WRITE
RO = Mutability.READ_ONLY
WO = Mutability.WRITE_ONLY
MAX_SET = v201.AttributeEnumType.MAX_SET

AVAILABILITY_STATES = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
TX_POINTS = (
    "ParkingBayOccupancy",
    "EVConnected",
    "Authorized",
    "DataSigned",
    "PowerPathClosed",
    "EnergyTransfer",
)
MEASURANDS = tuple(m.value for m in v201.MeasurandEnumType)
ENERGY = v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER.value
POWER = v201.MeasurandEnumType.POWER_ACTIVE_IMPORT.value
# Message limits the station announces (DeviceDataCtrlr, LocalAuthListCtrlr, MonitoringCtrlr).
ITEMS_PER_MESSAGE = 100
BYTES_PER_MESSAGE = 65000
MEMBERS = DataType.MEMBER_LIST
OPTIONS = DataType.OPTION_LIST


@dataclass(frozen=True)
class ConnectorShape:
    connector_type: str = v201.ConnectorEnumType.C_TYPE2.value
    phases: int = 3


@dataclass(frozen=True)
class EvseShape:
    max_power_w: float
    connectors: tuple[ConnectorShape, ...] = (ConnectorShape(),)
    phases: int = 3


@dataclass(frozen=True)
class StationShape:
    """What a station is made of: what the catalogue needs to know to describe it."""

    identity: str
    vendor_name: str
    model: str
    serial_number: str = ""
    firmware_version: str = ""
    evses: tuple[EvseShape, ...] = field(default_factory=lambda: (EvseShape(22000.0),))
    security_profile: int = 1
    organization_name: str = ""
    currency: str = "EUR"


class Flags(NamedTuple):
    """How a variable's Actual attribute behaves."""

    mutability: v201.MutabilityEnumType
    persistent: bool
    constant: bool = False
    monitoring: bool = False


CONFIG = Flags(RW, persistent=True)
READ_ONLY = Flags(RO, persistent=True)
SECRET = Flags(WO, persistent=True)
# Counts and clocks the station keeps up to date itself; not stored.
STATUS = Flags(RO, persistent=False)
# Measured or derived from the hardware's state: monitored, not stored.
LIVE = Flags(RO, persistent=False, monitoring=True)
# What the hardware is: never changes.
FIXED = Flags(RO, persistent=True, constant=True)


class _Catalogue:
    """Accumulates variable definitions and their initial values, in report order."""

    def __init__(self) -> None:
        self.entries: list[tuple[VariableDefinition, Mapping[v201.AttributeEnumType, str]]] = []

    def add(
        self,
        component: ComponentKey | str,
        name: str,
        data_type: v201.DataEnumType,
        value: str,
        flags: Flags = CONFIG,
        *,
        instance: str | None = None,
        unit: str | None = None,
        low: float | None = None,
        high: float | None = None,
        values: Iterable[str] | None = None,
        reboot: bool = False,
        max_set: str | None = None,
    ) -> None:
        component = ComponentKey(component) if isinstance(component, str) else component
        attributes = {
            ACTUAL: AttributeDefinition(flags.mutability, flags.persistent, flags.constant)
        }
        initial = {ACTUAL: value}
        if max_set is not None:
            attributes[MAX_SET] = AttributeDefinition(RO, persistent=True, constant=True)
            initial[MAX_SET] = max_set
        characteristics = Characteristics(
            data_type=data_type,
            unit=unit,
            min_limit=None if low is None else Decimal(str(low)),
            max_limit=None if high is None else Decimal(str(high)),
            values_list=None if values is None else tuple(values),
            supports_monitoring=flags.monitoring,
        )
        definition = VariableDefinition(
            component, VariableKey(name, instance), characteristics, attributes, reboot
        )
        self.entries.append((definition, initial))

    def integer(
        self,
        component: ComponentKey | str,
        name: str,
        value: int,
        flags: Flags = CONFIG,
        *,
        instance: str | None = None,
        unit: str | None = None,
        low: int | None = None,
        high: int | None = None,
    ) -> None:
        self.add(
            component,
            name,
            DataType.INTEGER,
            str(value),
            flags,
            instance=instance,
            unit=unit,
            low=low,
            high=high,
        )

    def boolean(
        self,
        component: ComponentKey | str,
        name: str,
        value: bool,
        flags: Flags = CONFIG,
        *,
        instance: str | None = None,
    ) -> None:
        text = "true" if value else "false"
        self.add(component, name, DataType.BOOLEAN, text, flags, instance=instance)

    def availability_state(self, component: ComponentKey | str) -> None:
        self.add(
            component,
            "AvailabilityState",
            DataType.OPTION_LIST,
            "Available",
            LIVE,
            values=AVAILABILITY_STATES,
        )
        self.boolean(component, "Available", True, LIVE)

    def enabled_available(self, component: str) -> None:
        self.boolean(component, "Enabled", True)
        self.boolean(component, "Available", True, READ_ONLY)


def standard_model(shape: StationShape, factory_monitors: Iterable[Monitor] = ()) -> DeviceModel:
    """The full model of a station of this shape, with the given hard-wired and preconfigured
    monitors active."""
    c = _Catalogue()
    _communication(c)
    _device_data(c)
    _security(c, shape)
    _authorization(c)
    _transactions_and_metering(c)
    _clock_and_charging(c, shape)
    _monitoring(c)
    _station(c, shape)
    return build_model(c.entries, factory_monitors)


def _communication(c: _Catalogue) -> None:
    comm = "OCPPCommCtrlr"
    c.integer(comm, "ActiveNetworkProfile", 0, STATUS)
    protocols = ("FTP", "FTPS", "HTTP", "HTTPS", "SFTP")
    c.add(comm, "FileTransferProtocols", MEMBERS, "HTTPS,HTTP", READ_ONLY, values=protocols)
    c.integer(comm, "HeartbeatInterval", 300, unit="s", low=1)
    c.integer(comm, "MessageTimeout", 30, instance="Default", unit="s", low=1)
    c.integer(comm, "MessageAttemptInterval", 60, instance="TransactionEvent", unit="s", low=0)
    c.integer(comm, "MessageAttempts", 3, instance="TransactionEvent", low=0)
    c.add(comm, "NetworkConfigurationPriority", DataType.SEQUENCE_LIST, "0")
    c.integer(comm, "NetworkProfileConnectionAttempts", 3, low=0)
    c.integer(comm, "OfflineThreshold", 60, unit="s", low=0)
    c.boolean(comm, "QueueAllMessages", False)
    c.integer(comm, "ResetRetries", 2, low=0)
    c.integer(comm, "RetryBackOffRandomRange", 10, unit="s", low=0)
    c.integer(comm, "RetryBackOffRepeatTimes", 5, low=0)
    c.integer(comm, "RetryBackOffWaitMinimum", 3, unit="s", low=0)
    c.boolean(comm, "UnlockOnEVSideDisconnect", True)
    c.integer(comm, "WebSocketPingInterval", 30, unit="s", low=0)
    signed = ("Never", "OncePerTransaction", "EveryMeterValue")
    c.add(comm, "PublicKeyWithSignedMeterValue", OPTIONS, "Never", values=signed)


def _device_data(c: _Catalogue) -> None:
    data = "DeviceDataCtrlr"
    for message in ("GetReport", "GetVariables", "SetVariables"):
        c.integer(data, "ItemsPerMessage", ITEMS_PER_MESSAGE, READ_ONLY, instance=message)
        c.integer(data, "BytesPerMessage", BYTES_PER_MESSAGE, READ_ONLY, instance=message)
    c.integer(data, "ConfigurationValueSize", 1000, READ_ONLY)
    c.integer(data, "ReportingValueSize", 2500, READ_ONLY)
    c.integer(data, "ValueSize", 2500, READ_ONLY)


def _security(c: _Catalogue, shape: StationShape) -> None:
    security = "SecurityCtrlr"
    # Never read back: GetVariables is Rejected and reports leave the value out (B06.FR.09).
    c.add(security, "BasicAuthPassword", DataType.STRING, "", SECRET, high=40)
    c.integer(security, "CertificateEntries", 0, STATUS)
    # The identity is the last segment of the connection URL: it takes effect on reconnecting.
    c.add(security, "Identity", DataType.STRING, shape.identity, high=48, reboot=True)
    c.add(security, "OrganizationName", DataType.STRING, shape.organization_name, high=50)
    c.integer(security, "SecurityProfile", shape.security_profile, READ_ONLY, low=1, high=3)
    c.boolean(security, "AdditionalRootCertificateCheck", False, READ_ONLY)
    c.integer(security, "MaxCertificateChainSize", 5600, READ_ONLY)
    c.integer(security, "CertSigningWaitMinimum", 60, unit="s", low=0)
    c.integer(security, "CertSigningRepeatTimes", 3, low=0)


def _authorization(c: _Catalogue) -> None:
    auth = "AuthCtrlr"
    c.boolean(auth, "Enabled", True)
    c.boolean(auth, "AuthorizeRemoteStart", True)
    c.boolean(auth, "LocalAuthorizeOffline", True)
    c.boolean(auth, "LocalPreAuthorize", False)
    c.boolean(auth, "OfflineTxForUnknownIdEnabled", False)
    c.boolean(auth, "DisableRemoteAuthorization", False)
    c.add(auth, "MasterPassGroupId", DataType.STRING, "", high=36)

    cache = "AuthCacheCtrlr"
    c.enabled_available(cache)
    c.integer(cache, "LifeTime", 86400, unit="s", low=0)
    c.add(cache, "Policy", OPTIONS, "LRU", values=("LRU", "LFU", "FIFO", "CUSTOM"))
    c.integer(cache, "Storage", 65536, READ_ONLY, unit="B")
    c.boolean(cache, "DisablePostAuthorize", False)

    local = "LocalAuthListCtrlr"
    c.enabled_available(local)
    c.integer(local, "Entries", 0, STATUS, high=10000)
    c.integer(local, "ItemsPerMessage", ITEMS_PER_MESSAGE, READ_ONLY)
    c.integer(local, "BytesPerMessage", BYTES_PER_MESSAGE, READ_ONLY)
    c.integer(local, "Storage", 1048576, READ_ONLY, unit="B")
    c.boolean(local, "DisablePostAuthorize", False)


def _transactions_and_metering(c: _Catalogue) -> None:
    tx = "TxCtrlr"
    c.integer(tx, "EVConnectionTimeOut", 120, unit="s", low=0)
    c.boolean(tx, "StopTxOnEVSideDisconnect", True)
    c.boolean(tx, "StopTxOnInvalidId", True)
    c.add(tx, "TxStartPoint", MEMBERS, "PowerPathClosed", values=TX_POINTS)
    c.add(tx, "TxStopPoint", MEMBERS, "EVConnected,Authorized", values=TX_POINTS)
    c.integer(tx, "MaxEnergyOnInvalidId", 0, unit="Wh", low=0)
    c.boolean(tx, "TxBeforeAcceptedEnabled", False)

    sampled = "SampledDataCtrlr"
    c.enabled_available(sampled)
    c.boolean(sampled, "SignReadings", False)
    c.add(sampled, "TxEndedMeasurands", MEMBERS, ENERGY, values=MEASURANDS)
    c.integer(sampled, "TxEndedInterval", 0, unit="s", low=0)
    c.add(sampled, "TxStartedMeasurands", MEMBERS, ENERGY, values=MEASURANDS)
    c.add(sampled, "TxUpdatedMeasurands", MEMBERS, f"{ENERGY},{POWER}", values=MEASURANDS)
    c.integer(sampled, "TxUpdatedInterval", 60, unit="s", low=0)
    c.boolean(sampled, "RegisterValuesWithoutPhases", False)

    aligned = "AlignedDataCtrlr"
    c.enabled_available(aligned)
    c.integer(aligned, "Interval", 900, unit="s", low=0)
    c.add(aligned, "Measurands", MEMBERS, ENERGY, values=MEASURANDS)
    c.boolean(aligned, "SendDuringIdle", False)
    c.boolean(aligned, "SignReadings", False)
    c.integer(aligned, "TxEndedInterval", 0, unit="s", low=0)
    c.add(aligned, "TxEndedMeasurands", MEMBERS, ENERGY, values=MEASURANDS)


def _clock_and_charging(c: _Catalogue, shape: StationShape) -> None:
    clock = "ClockCtrlr"
    c.add(clock, "DateTime", DataType.DATE_TIME, "", STATUS)
    sources = ("Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork", "RadioTimeTransmitter")
    c.add(clock, "TimeSource", DataType.SEQUENCE_LIST, "Heartbeat", values=sources)
    c.add(clock, "NtpServerUri", DataType.STRING, "", high=512)
    c.add(clock, "TimeZone", DataType.STRING, "", high=64)
    c.integer(clock, "TimeAdjustmentReportingThreshold", 20, unit="s", low=0)

    smart = "SmartChargingCtrlr"
    c.enabled_available(smart)
    c.integer(smart, "Entries", 0, STATUS, instance="ChargingProfiles", high=100)
    c.add(
        smart, "LimitChangeSignificance", DataType.DECIMAL, "1.0", unit="Percent", low=0, high=100
    )
    c.integer(smart, "PeriodsPerSchedule", 24, READ_ONLY)
    c.integer(smart, "ProfileStackLevel", 10, READ_ONLY)
    c.add(smart, "RateUnit", MEMBERS, "A,W", READ_ONLY, values=("A", "W"))
    c.boolean(smart, "ExternalControlSignalsEnabled", False)
    c.boolean(smart, "NotifyChargingLimitWithSchedules", False)
    c.boolean(smart, "Phases3to1", False, READ_ONLY)

    reservation = "ReservationCtrlr"
    c.enabled_available(reservation)
    c.boolean(reservation, "NonEvseSpecific", True, READ_ONLY)

    tariff = "TariffCostCtrlr"
    for instance in ("Tariff", "Cost"):
        c.boolean(tariff, "Enabled", True, instance=instance)
        c.boolean(tariff, "Available", True, READ_ONLY, instance=instance)
    # I07/I12 (OCPP 2.1): the price elements one tariff may have, or TooManyElements.
    c.integer(tariff, "MaxElements", 20, READ_ONLY, instance="Tariff")
    c.add(tariff, "Currency", DataType.STRING, shape.currency, high=3)
    c.add(tariff, "TariffFallbackMessage", DataType.STRING, "", high=255)
    c.add(tariff, "TotalCostFallbackMessage", DataType.STRING, "", high=255)

    display = "DisplayMessageCtrlr"
    c.enabled_available(display)
    c.integer(display, "DisplayMessages", 0, STATUS, high=10)
    c.integer(display, "PersonalMessageSize", 255, READ_ONLY)
    formats = tuple(f.value for f in v201.MessageFormatEnumType)
    c.add(display, "SupportedFormats", MEMBERS, "ASCII,UTF8", READ_ONLY, values=formats)
    priorities = tuple(p.value for p in v201.MessagePriorityEnumType)
    c.add(
        display, "SupportedPriorities", MEMBERS, ",".join(priorities), READ_ONLY, values=priorities
    )


def _monitoring(c: _Catalogue) -> None:
    monitoring = "MonitoringCtrlr"
    c.enabled_available(monitoring)
    for message in ("SetVariableMonitoring", "ClearVariableMonitoring"):
        c.integer(monitoring, "ItemsPerMessage", ITEMS_PER_MESSAGE, READ_ONLY, instance=message)
        c.integer(monitoring, "BytesPerMessage", BYTES_PER_MESSAGE, READ_ONLY, instance=message)
    c.integer(monitoring, "OfflineQueuingSeverity", 2, low=0, high=9)
    # Changed only by SetMonitoringBase and SetMonitoringLevel.
    bases = tuple(b.value for b in v201.MonitoringBaseEnumType)
    c.add(monitoring, "ActiveMonitoringBase", OPTIONS, "All", READ_ONLY, values=bases)
    c.integer(monitoring, "ActiveMonitoringLevel", 9, READ_ONLY, low=0, high=9)


def _station(c: _Catalogue, shape: StationShape) -> None:
    station = "ChargingStation"
    c.availability_state(station)
    phases = max((evse.phases for evse in shape.evses), default=0)
    c.integer(station, "SupplyPhases", phases, FIXED, low=0, high=3)
    c.add(station, "Model", DataType.STRING, shape.model, FIXED, high=20)
    c.add(station, "VendorName", DataType.STRING, shape.vendor_name, FIXED, high=50)
    c.add(station, "SerialNumber", DataType.STRING, shape.serial_number, FIXED, high=25)
    c.add(station, "FirmwareVersion", DataType.STRING, shape.firmware_version, FIXED, high=50)
    c.boolean(station, "Problem", False, LIVE)
    for evse_id, evse in enumerate(shape.evses, start=1):
        key = ComponentKey("EVSE", evse=evse_id)
        c.availability_state(key)
        c.add(
            key,
            "Power",
            DataType.DECIMAL,
            "0",
            LIVE,
            unit="W",
            low=0,
            high=evse.max_power_w,
            max_set=str(evse.max_power_w),
        )
        c.integer(key, "SupplyPhases", evse.phases, FIXED, low=0, high=3)
        c.boolean(key, "AllowReset", True, FIXED)
        c.boolean(key, "Problem", False, LIVE)
        for connector_id, connector in enumerate(evse.connectors, start=1):
            plug = ComponentKey("Connector", evse=evse_id, connector=connector_id)
            c.availability_state(plug)
            c.add(plug, "ConnectorType", DataType.STRING, connector.connector_type, FIXED)
            c.integer(plug, "SupplyPhases", connector.phases, FIXED, low=0, high=3)
