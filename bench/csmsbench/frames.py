"""What a simulated station sends: OCPP 2.0.1 CALL frames, filled into pre-encoded byte templates.

Formatting a bytes template costs well under a microsecond, against several for building a dict
and serialising it: the load generator has to stay light so the server under test keeps its core.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["SUBPROTOCOL", "Script", "timestamp"]

SUBPROTOCOL = "ocpp2.0.1"

_BOOT = (
    b'[2,"%b","BootNotification",{"chargingStation":{"model":"KW-22","vendorName":"kilowatt-bench",'
    b'"serialNumber":"%b","firmwareVersion":"1.4.2"},"reason":"PowerUp"}]'
)
_HEARTBEAT = b'[2,"%b","Heartbeat",{}]'
_AUTHORIZE = b'[2,"%b","Authorize",{"idToken":{"idToken":"%b","type":"ISO14443"}}]'
_ENERGY = (
    b'{"value":%d,"measurand":"Energy.Active.Import.Register","context":"Sample.Periodic",'
    b'"unitOfMeasure":{"unit":"Wh"}}'
)
_POWER = (
    b'{"value":11040,"measurand":"Power.Active.Import","context":"Sample.Periodic",'
    b'"unitOfMeasure":{"unit":"W"}}'
)
_SOC = (
    b'{"value":54,"measurand":"SoC","context":"Sample.Periodic","unitOfMeasure":{"unit":"Percent"}}'
)
_METER_VALUES = (
    b'[2,"%b","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"%b","sampledValue":['
    + _ENERGY
    + b","
    + _POWER
    + b","
    + _SOC
    + b"]}]}]"
)
_TX_STARTED = (
    b'[2,"%b","TransactionEvent",{"eventType":"Started","timestamp":"%b",'
    b'"triggerReason":"Authorized","seqNo":%d,'
    b'"transactionInfo":{"transactionId":"%b","chargingState":"Charging"},'
    b'"evse":{"id":1,"connectorId":1},"idToken":{"idToken":"%b","type":"ISO14443"},'
    b'"meterValue":[{"timestamp":"%b","sampledValue":[' + _ENERGY + b"]}]}]"
)
_TX_UPDATED = (
    b'[2,"%b","TransactionEvent",{"eventType":"Updated","timestamp":"%b",'
    b'"triggerReason":"MeterValuePeriodic","seqNo":%d,'
    b'"transactionInfo":{"transactionId":"%b","chargingState":"Charging"},'
    b'"meterValue":[{"timestamp":"%b","sampledValue":[' + _ENERGY + b"," + _POWER + b"]}]}]"
)
_TX_ENDED = (
    b'[2,"%b","TransactionEvent",{"eventType":"Ended","timestamp":"%b",'
    b'"triggerReason":"StopAuthorized","seqNo":%d,'
    b'"transactionInfo":{"transactionId":"%b","chargingState":"EVConnected",'
    b'"stoppedReason":"Local"},"idToken":{"idToken":"%b","type":"ISO14443"},'
    b'"meterValue":[{"timestamp":"%b","sampledValue":[' + _ENERGY + b"]}]}]"
)


def timestamp() -> bytes:
    """Now, as an OCPP date-time (UTC, whole seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()).encode()


class Script:
    """One station's CALLs: a BootNotification, then charging sessions, one after the other.

    A session is ten CALLs: Authorize, TransactionEvent Started, then MeterValues, Heartbeats
    and TransactionEvent Updated, and TransactionEvent Ended. So the mix is 4 TransactionEvent,
    3 MeterValues, 2 Heartbeat and 1 Authorize in ten. Every session has its own transactionId,
    and its seqNo counts the session's TransactionEvents from 0 (Started) to 3 (Ended).
    """

    __slots__ = ("_counter", "_energy", "_ident", "_seq_no", "_step", "_token", "_tx_id", "_tx_no")

    def __init__(self, station_id: str) -> None:
        self._ident = station_id.encode()
        self._token = b"TK" + self._ident
        self._counter = 0
        self._step = 0
        self._tx_no = 0
        self._tx_id = b""
        self._seq_no = 0
        self._energy = 0

    def _next_id(self) -> str:
        self._counter += 1
        return str(self._counter)

    def boot(self) -> tuple[str, bytes]:
        """The BootNotification CALL: (message id, frame)."""
        message_id = self._next_id()
        return message_id, _BOOT % (message_id.encode(), self._ident)

    def heartbeat(self) -> tuple[str, bytes]:
        """A Heartbeat CALL: (message id, frame)."""
        message_id = self._next_id()
        return message_id, _HEARTBEAT % message_id.encode()

    def next_call(self, now: bytes) -> tuple[str, bytes]:
        """The next CALL of the session cycle, stamped ``now``: (message id, frame)."""
        message_id = self._next_id()
        step = _CYCLE[self._step]
        self._step = (self._step + 1) % len(_CYCLE)
        return message_id, step(self, message_id.encode(), now)

    def _authorize(self, message_id: bytes, now: bytes) -> bytes:
        return _AUTHORIZE % (message_id, self._token)

    def _started(self, message_id: bytes, now: bytes) -> bytes:
        self._tx_no += 1
        self._tx_id = b"%b-%d" % (self._ident, self._tx_no)
        self._seq_no = 0
        return _TX_STARTED % (
            message_id,
            now,
            self._seq_no,
            self._tx_id,
            self._token,
            now,
            self._energy,
        )

    def _meter_values(self, message_id: bytes, now: bytes) -> bytes:
        self._energy += 250
        return _METER_VALUES % (message_id, now, self._energy)

    def _heartbeat(self, message_id: bytes, now: bytes) -> bytes:
        return _HEARTBEAT % message_id

    def _updated(self, message_id: bytes, now: bytes) -> bytes:
        self._seq_no += 1
        self._energy += 250
        return _TX_UPDATED % (message_id, now, self._seq_no, self._tx_id, now, self._energy)

    def _ended(self, message_id: bytes, now: bytes) -> bytes:
        self._seq_no += 1
        return _TX_ENDED % (
            message_id,
            now,
            self._seq_no,
            self._tx_id,
            self._token,
            now,
            self._energy,
        )


_CYCLE: tuple[Callable[[Script, bytes, bytes], bytes], ...] = (
    Script._authorize,
    Script._started,
    Script._meter_values,
    Script._heartbeat,
    Script._updated,
    Script._meter_values,
    Script._updated,
    Script._heartbeat,
    Script._meter_values,
    Script._ended,
)
