"""/api/v1/tariffs: tariffs (OCPP 2.1 TariffTypes) and to whom they apply; the cost of a
transaction under its tariff.

Which tariff applies to a transaction: the first (by id) that lists the driver's id-token group,
else the first that lists its EVSE, its station, its site, else the default one. Texts in
several languages go in the tariff's ``description`` (MessageContent with ``language``); the
driver sees the one in their language (I01).

A tariff written or deleted here is sent, in the background, to every station connected over
OCPP 2.1 as its default tariffs (I07/I11). A running transaction changes tariff with POST
.../tariff (I12).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from kilowatt.api import services
from kilowatt.api.bodies import StrictBody
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import ApiError, error_responses
from kilowatt.csms.app import Csms
from kilowatt.csms.pricing import TariffChoice
from kilowatt.csms.store import TariffRecord
from kilowatt.messages import encode
from kilowatt.rpc.errors import OcppError, RpcError
from kilowatt.tariffs import price_text

__all__ = ["router", "send_tariffs_to_stations"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["tariffs"])

_OCPP21 = "ocpp2.1"
_TARIFF_ID_LENGTH = 60  # TariffType.tariffId


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


class TariffChangeBody(StrictBody):
    tariff_id: Annotated[str, Field(min_length=1, max_length=_TARIFF_ID_LENGTH)] = Field(
        description="The tariff the transaction is priced with from now on: one of the "
        "CSMS's, in the currency of the transaction's."
    )


class TariffChangeAnswer(BaseModel):
    status: str = Field(
        description="Accepted, or the TariffChangeStatus of a 2.1 station that refused "
        "(TxNotFound, NoCurrencyChange, ...): then the transaction keeps its tariff."
    )


class CostView(BaseModel):
    tariff_id: str = Field(description="The tariff in force at the end (or now).")
    tariff_ids: list[str] = Field(
        description="Every tariff in force during the transaction, in order (I12 changes)."
    )
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
    send_tariffs_to_stations(csms)
    return _view(choice)


@router.delete("/tariffs/{tariff_id}", status_code=204, responses=error_responses(404))
async def delete_tariff(tariff_id: str, csms: CsmsDep) -> Response:
    if not await csms.pricing.delete(tariff_id):
        raise ApiError(404, "tariff_not_found", f"no tariff {tariff_id}")
    send_tariffs_to_stations(csms)
    return Response(status_code=204)


def send_tariffs_to_stations(csms: Csms) -> None:
    """I07/I11: send every station connected over OCPP 2.1 its default tariffs again, in the
    background, one task per station (kept in ``csms.services.background``), each after the
    station's earlier ones: a station ends up with the tariffs of the last change. Failures
    are logged."""
    background = csms.services.background
    for session in csms.registry:
        if session.subprotocol != _OCPP21:
            continue
        station_id = session.station_id
        name = f"send tariffs to {station_id}"
        earlier = {task for task in background if task.get_name() == name and not task.done()}
        task = asyncio.create_task(_send_tariffs(csms, station_id, earlier), name=name)
        background.add(task)
        task.add_done_callback(background.discard)


async def _send_tariffs(csms: Csms, station_id: str, earlier: set[asyncio.Task[None]]) -> None:
    if earlier:
        await asyncio.wait(earlier)
    try:
        if not await csms.send_tariffs(station_id):
            logger.warning("station %s did not take its default tariffs", station_id)
    except OcppError as error:
        logger.warning("sending station %s its default tariffs failed: %r", station_id, error)
    except Exception:
        logger.exception("sending station %s its default tariffs failed", station_id)


@router.post(
    "/transactions/{station_id}/{transaction_id}/tariff",
    summary="Price a running transaction with another tariff from now on (I12)",
    description="A station connected over OCPP 2.1 is sent ChangeTransactionTariff, and the "
    "change holds once it accepts; for any other the CSMS, which prices alone, applies it at "
    "once. The new tariff must be in the currency of the transaction's.",
    responses=error_responses(404, 409, 413, 502, 504),
)
async def change_transaction_tariff(
    station_id: str, transaction_id: str, body: TariffChangeBody, csms: CsmsDep
) -> TariffChangeAnswer:
    record = await csms.store.get_transaction(station_id, transaction_id)
    if record is None or record.started_at is None:
        raise _no_transaction(station_id, transaction_id)
    if record.ended_at is not None:
        raise ApiError(
            404,
            "transaction_not_found",
            f"transaction {transaction_id} at {station_id} has ended: no running transaction",
        )
    if all(choice.record.tariff_id != body.tariff_id for choice in csms.pricing.tariffs):
        raise ApiError(404, "tariff_not_found", f"no tariff {body.tariff_id}")
    try:
        with services.call_errors(csms, station_id, "ChangeTransactionTariff"):
            status = await csms.change_transaction_tariff(
                station_id, transaction_id, body.tariff_id
            )
    except (LookupError, ValueError) as error:
        # The use case's own refusals only (not a KeyError or a DecodeError from within).
        if type(error) is ValueError:
            raise ApiError(409, "tariff_change_refused", str(error)) from None
        if type(error) is LookupError:  # gone since the checks above
            tariff = str(error).startswith("no tariff")
            gone = "tariff_not_found" if tariff else "transaction_not_found"
            raise ApiError(404, gone, str(error)) from None
        raise
    return TariffChangeAnswer(status=status)


def _no_transaction(station_id: str, transaction_id: str) -> ApiError:
    return ApiError(
        404, "transaction_not_found", f"no transaction {transaction_id} at {station_id}"
    )


@router.get(
    "/transactions/{station_id}/{transaction_id}/cost",
    summary="The cost of a transaction under its tariff: final, or running",
    responses=error_responses(404),
)
async def transaction_cost(station_id: str, transaction_id: str, csms: CsmsDep) -> CostView:
    record = await csms.store.get_transaction(station_id, transaction_id)
    if record is None or record.started_at is None:
        raise ApiError(404, "transaction_not_found", f"no transaction {transaction_id}")
    cost = await csms.pricing.cost(record, csms.clock.now())
    if cost is None:
        raise ApiError(404, "no_tariff", "no tariff applies to this transaction")
    return CostView(
        tariff_id=cost.tariff_id,
        tariff_ids=list(cost.tariff_ids),
        currency=cost.currency,
        total_excl_tax=str(cost.total_excl_tax),
        total_incl_tax=str(cost.total_incl_tax),
        ended=cost.ended,
        cost_details=json.loads(encode(cost.to_cost_details())),
    )
