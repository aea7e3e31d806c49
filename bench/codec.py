#!/usr/bin/env python3
"""Per-message cost of decode+validate and of encode, kilowatt against two references.

    .venv/bin/python bench/codec.py [--number N] [--repeat R]

For three OCPP 2.0.1 payloads it times, in one run and side by side:

- kilowatt: ``messages.decode(text, Type)`` (JSON text to a validated, typed object) and
  ``messages.encode(obj)``;
- the PyPI ``ocpp`` package's own path for a received payload (``json.loads``, its jsonschema
  validation, ``camel_to_snake_case`` as it does before calling a handler) and for a sent one
  (``serialize_as_dict``, ``remove_nones``, ``snake_to_camel_case``, validation, ``to_json``);
- the floor: bare ``orjson.loads`` / ``orjson.dumps`` of the same payload, which validate nothing.

Each figure is the best of R repeats of N runs, in microseconds per message. Ratios are the
figures of this run divided by each other, so they hold on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable
from typing import Any

import orjson
from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.messages import Call, _validate_payload
from ocpp.v201 import call as ocpp_call

from kilowatt.messages import decode, encode, v201

TIMESTAMP = "2025-06-01T12:00:00Z"


def _sampled(measurand: str, value: float, unit: str, phase: str | None = None) -> dict[str, Any]:
    sample: dict[str, Any] = {
        "value": value,
        "measurand": measurand,
        "context": "Sample.Periodic",
        "unitOfMeasure": {"unit": unit},
    }
    if phase:
        sample["phase"] = phase
    return sample


BOOT = {
    "chargingStation": {
        "model": "KW-22",
        "vendorName": "kilowatt",
        "serialNumber": "KW-0000001",
        "firmwareVersion": "1.4.2",
        "modem": {"iccid": "89440000000000000001", "imsi": "262010000000001"},
    },
    "reason": "PowerUp",
}
METER_VALUES = {
    "evseId": 1,
    "meterValue": [
        {
            "timestamp": TIMESTAMP,
            "sampledValue": [
                _sampled("Energy.Active.Import.Register", 12345.6, "Wh"),
                _sampled("Power.Active.Import", 11040.0, "W"),
                _sampled("Current.Import", 16.0, "A", "L1"),
                _sampled("Current.Import", 16.1, "A", "L2"),
                _sampled("Current.Import", 15.9, "A", "L3"),
                _sampled("Voltage", 230.1, "V", "L1-N"),
                _sampled("Voltage", 229.8, "V", "L2-N"),
                _sampled("Voltage", 231.0, "V", "L3-N"),
                _sampled("SoC", 54.0, "Percent"),
                _sampled("Frequency", 50.0, "Hz"),
            ],
        }
    ],
}
TRANSACTION_EVENT = {
    "eventType": "Updated",
    "timestamp": TIMESTAMP,
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 7,
    "transactionInfo": {"transactionId": "f7c6d2a0-5b1e-4c4e-9a0e-3f7f3b2d9c11",
                        "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "idToken": {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"},
    "meterValue": [
        {
            "timestamp": TIMESTAMP,
            "sampledValue": [
                _sampled("Energy.Active.Import.Register", 12345.6, "Wh"),
                _sampled("Power.Active.Import", 11040.0, "W"),
                _sampled("Current.Import", 16.0, "A", "L1"),
                _sampled("SoC", 54.0, "Percent"),
            ],
        }
    ],
}  # fmt: skip

CASES = [
    ("BootNotification", BOOT, v201.BootNotificationRequest, ocpp_call.BootNotification),
    ("MeterValues (10 sampled values)", METER_VALUES, v201.MeterValuesRequest,
     ocpp_call.MeterValues),
    ("TransactionEvent Updated + meter values", TRANSACTION_EVENT,
     v201.TransactionEventRequest, ocpp_call.TransactionEvent),
]  # fmt: skip


def per_message(fn: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n, r = args.number, args.repeat

    rows = []
    for name, payload, cls, ocpp_class in CASES:
        action = cls.ACTION
        text = orjson.dumps(payload)
        message = decode(text, cls)
        assert orjson.loads(encode(message)) == payload

        def ocpp_decode(text: bytes = text, action: str = action) -> object:
            call = Call("1", action, json.loads(text))
            _validate_payload(call, "2.0.1")
            return camel_to_snake_case(call.payload)

        dataclass = ocpp_class(**camel_to_snake_case(payload))

        def ocpp_encode(dataclass: Any = dataclass, action: str = action) -> str:
            body = remove_nones(snake_to_camel_case(serialize_as_dict(dataclass)))
            call = Call("1", action, body)
            _validate_payload(call, "2.0.1")
            return str(call.to_json())

        ocpp_decode()
        ocpp_encode()
        rows.append(
            (
                f"{name} ({len(text)} B)",
                per_message(lambda text=text, cls=cls: decode(text, cls), n, r),
                per_message(ocpp_decode, max(n // 20, 10), r),
                per_message(lambda text=text: orjson.loads(text), n, r),
                per_message(lambda message=message: encode(message), n, r),
                per_message(ocpp_encode, max(n // 20, 10), r),
                per_message(lambda payload=payload: orjson.dumps(payload), n, r),
            )
        )

    print("decode + validate, µs per message")
    print(
        f"{'payload':46} {'kilowatt':>9} {'ocpp':>9} {'orjson':>8} {'ocpp/kw':>8} {'kw/orjson':>9}"
    )
    for name, kw, oc, oj, *_ in rows:
        print(f"{name:46} {kw:9.2f} {oc:9.1f} {oj:8.2f} {oc / kw:7.0f}x {kw / oj:8.2f}x")
    print()
    print("encode, µs per message")
    print(
        f"{'payload':46} {'kilowatt':>9} {'ocpp':>9} {'orjson':>8} {'ocpp/kw':>8} {'kw/orjson':>9}"
    )
    for name, *_, kw, oc, oj in rows:
        print(f"{name:46} {kw:9.2f} {oc:9.1f} {oj:8.2f} {oc / kw:7.0f}x {kw / oj:8.2f}x")


if __name__ == "__main__":
    main()
