"""Persistence of the CSMS."""

from kilowatt.csms.store.api import Store
from kilowatt.csms.store.records import (
    ConnectorStatus,
    FrameLogEntry,
    IdTokenRecord,
    LocalList,
    LocalListEntry,
    MeterSample,
    Notification,
    StationRecord,
    StatusChange,
    TransactionEventRecord,
    TransactionRecord,
    VariableRecord,
)

__all__ = [
    "ConnectorStatus",
    "FrameLogEntry",
    "IdTokenRecord",
    "LocalList",
    "LocalListEntry",
    "MeterSample",
    "Notification",
    "StationRecord",
    "StatusChange",
    "Store",
    "TransactionEventRecord",
    "TransactionRecord",
    "VariableRecord",
]
