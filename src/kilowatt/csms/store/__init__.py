"""Persistence of the CSMS."""

from kilowatt.csms.store.api import Store
from kilowatt.csms.store.records import (
    PROFILE_REPORTED_BY_STATION,
    PROFILE_SET_BY_CSMS,
    ChargingLimitRecord,
    ChargingProfileRecord,
    ConnectorStatus,
    FrameLogEntry,
    IdTokenRecord,
    LocalList,
    LocalListEntry,
    MeterSample,
    Notification,
    SiteRecord,
    StationRecord,
    StatusChange,
    TransactionEventRecord,
    TransactionRecord,
    VariableRecord,
)

__all__ = [
    "PROFILE_REPORTED_BY_STATION",
    "PROFILE_SET_BY_CSMS",
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
    "Store",
    "TransactionEventRecord",
    "TransactionRecord",
    "VariableRecord",
]
