"""Price texts: the description in the driver's language, or one rendered from the tariff."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from kilowatt.messages.v21 import MessageContentType
from kilowatt.tariffs import pick_description, price_text
from tests.tariffs.builders import energy, tariff

TEXTS = msgspec.convert(
    [
        {"format": "UTF8", "language": "en", "content": "0.35 EUR/kWh"},
        {"format": "UTF8", "language": "de-DE", "content": "0,35 EUR/kWh"},
        {"format": "UTF8", "language": "nl", "content": "0,35 EUR per kWh"},
    ],
    list[MessageContentType],
)


@pytest.mark.parametrize(
    ("language1", "language2", "content"),
    [
        ("nl", "de", "0,35 EUR per kWh"),
        ("fr", "de", "0,35 EUR/kWh"),  # language2, by its primary subtag
        ("DE-de", None, "0,35 EUR/kWh"),  # any case
        ("en-GB", None, "0.35 EUR/kWh"),
        ("fr", "it", "0.35 EUR/kWh"),  # the tariff's first
        (None, None, "0.35 EUR/kWh"),
    ],
)
def test_pick_description(language1: str | None, language2: str | None, content: str) -> None:
    picked = pick_description(TEXTS, language1, language2)
    assert picked is not None and picked.content == content


def test_an_exact_language_beats_a_primary_subtag() -> None:
    texts = msgspec.convert(
        [
            {"format": "UTF8", "language": "de", "content": "de"},
            {"format": "UTF8", "language": "de-CH", "content": "ch"},
        ],
        list[MessageContentType],
    )
    picked = pick_description(texts, "de-CH")
    assert picked is not None and picked.content == "ch"


def test_no_description() -> None:
    assert pick_description(msgspec.UNSET, "en") is None
    assert pick_description(tariff().description, "en") is None


RENDERED: list[tuple[dict[str, Any], str]] = [
    (
        {
            "energy": energy({"priceKwh": 0.35}),
            "idleTime": {
                "prices": [
                    {"priceMinute": 0, "conditions": {"maxIdleTime": 3600}},
                    {"priceMinute": 0.05},
                ]
            },
        },
        "0.35 EUR/kWh, 0.05 EUR/min after 60 min idle",
    ),
    (
        {
            "fixedFee": {"prices": [{"priceFixed": 1}]},
            "energy": energy(
                {
                    "priceKwh": 0.25,
                    "conditions": {"startTimeOfDay": "22:00", "endTimeOfDay": "06:00"},
                },
                {"priceKwh": 0.395},
                taxRates=[{"type": "VAT", "tax": 19}],
            ),
            "chargingTime": {
                "prices": [{"priceMinute": 0.1, "conditions": {"minChargingTime": 7200}}]
            },
            "maxCost": {"inclTax": 30},
        },
        "1.00 EUR per session, 0.25 EUR/kWh 22:00-06:00, 0.395 EUR/kWh, "
        "0.10 EUR/min after 120 min charging, max 30.00 EUR incl. tax (+ VAT 19%)",
    ),
    (
        {"energy": energy({"priceKwh": 45, "conditions": {"minPower": 50000}}), "currency": "JPY"},
        "45 JPY/kWh from 50 kW",
    ),
    ({"energy": energy({"priceKwh": 0})}, "Free"),
]


@pytest.mark.parametrize(("fields", "text"), RENDERED)
def test_price_text(fields: dict[str, Any], text: str) -> None:
    assert price_text(tariff(**fields)) == text
