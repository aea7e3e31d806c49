"""/api/v1/tariffs: tariffs (OCPP 2.1 TariffTypes) and to whom they apply; the cost of a
transaction under its tariff.

Which tariff applies to a transaction: the first (by id) that lists the driver's id-token group,
else the first that lists its EVSE, its station, its site, else the default one. Texts in
several languages go in the tariff's ``description`` (MessageContent with ``language``); the
driver sees the one in their language (I01).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import ApiError, error_responses
from kilowatt.csms.pricing import TariffChoice
from kilowatt.csms.store import TariffRecord
from kilowatt.messages import encode
from kilowatt.rpc.errors import RpcError
from kilowatt.tariffs import price_text

__all__ = ["router"]

router = APIRouter(tags=["tariffs"])


class TariffBody(BaseModel):
    tariff: dict[str, Any] = Field(description="An OCPP 2.1 TariffType, as on the wire.")
    default: bool = Field(False, description="The tariff of everyone no other tariff names.")
    stations: list[str] | None = Field(None, description="The stations it applies to.")
    groups: list[str] | None = Field(None, description="The id-token groups it applies to.")
    sites: list[str] | None = Field(None, description="The sites it applies to.")
    evses: list[str] | None = Field(None, description='The EVSEs it applies to: "station/evse".')


class TariffView(BaseModel):
    tariff_id: str
    tariff: dict[str, Any]
    default: bool
    stations: list[str] | None
    groups: list[str] | None
    sites: list[str] | None
    evses: list[str] | None
    text: str = Field(description="The prices in short, in English.")
    updated_at: datetime


class CostView(BaseModel):
    tariff_id: str
    currency: str
    total_excl_tax: str
    total_incl_tax: str
    ended: bool
    cost_details: dict[str, Any] = Field(
        description="OCPP 2.1 CostDetailsType: charging periods, total cost, total usage."
    )


def _view(choice: TariffChoice) -> TariffView:
    record = choice.record
    return TariffView(
        tariff_id=record.tariff_id,
        tariff=json.loads(record.tariff),
        default=record.is_default,
        stations=record.station_ids,
        groups=record.group_ids,
        sites=record.site_ids,
        evses=record.evse_ids,
        text=price_text(choice.tariff),
        updated_at=record.updated_at,
    )


@router.get("/tariffs", summary="List the tariffs")
async def list_tariffs(csms: CsmsDep) -> list[TariffView]:
    return [_view(choice) for choice in csms.pricing.tariffs]


@router.put(
    "/tariffs/{tariff_id}", summary="Create or replace a tariff", responses=error_responses(422)
)
async def put_tariff(tariff_id: str, body: TariffBody, csms: CsmsDep) -> TariffView:
    if body.tariff.get("tariffId", tariff_id) != tariff_id:
        raise ApiError(422, "tariff_id_mismatch", f"the tariff's tariffId is not {tariff_id}")
    document = {**body.tariff, "tariffId": tariff_id}
    record = TariffRecord(
        tariff_id=tariff_id,
        tariff=json.dumps(document),
        is_default=body.default,
        station_ids=body.stations,
        group_ids=body.groups,
        updated_at=csms.clock.now(),
        site_ids=body.sites,
        evse_ids=body.evses,
    )
    try:
        choice = await csms.pricing.put(record)
    except (msgspec.DecodeError, RpcError) as error:
        raise ApiError(422, "invalid_tariff", f"not an OCPP 2.1 TariffType: {error}") from None
    return _view(choice)


@router.delete("/tariffs/{tariff_id}", status_code=204, responses=error_responses(404))
async def delete_tariff(tariff_id: str, csms: CsmsDep) -> Response:
    if not await csms.pricing.delete(tariff_id):
        raise ApiError(404, "tariff_not_found", f"no tariff {tariff_id}")
    return Response(status_code=204)


@router.get(
    "/transactions/{station_id}/{transaction_id}/cost",
    summary="The cost of a transaction under its tariff: final, or running",
    responses=error_responses(404),
)
async def transaction_cost(station_id: str, transaction_id: str, csms: CsmsDep) -> CostView:
    record = await csms.store.get_transaction(station_id, transaction_id)
    if record is None or record.started_at is None:
        raise ApiError(404, "transaction_not_found", f"no transaction {transaction_id}")
    choice = await csms.pricing.for_transaction(record)
    if choice is None:
        raise ApiError(404, "no_tariff", "no tariff applies to this transaction")
    cost = await csms.pricing.cost(choice, record, csms.clock.now())
    return CostView(
        tariff_id=cost.tariff_id,
        currency=cost.currency,
        total_excl_tax=str(cost.total_excl_tax),
        total_incl_tax=str(cost.total_incl_tax),
        ended=cost.ended,
        cost_details=json.loads(encode(cost.to_cost_details())),
    )
