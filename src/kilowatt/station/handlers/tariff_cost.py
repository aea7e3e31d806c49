"""Block I: the running cost of a transaction, from the CSMS."""

from __future__ import annotations

from kilowatt.messages import v201
from kilowatt.station.station import Station

__all__ = ["cost_updated"]


async def cost_updated(
    request: v201.CostUpdatedRequest, station: Station
) -> v201.CostUpdatedResponse:
    """I03: keep the transaction's running cost and show it."""
    station.cost[request.transaction_id] = request.total_cost
    currency = station.model.value("TariffCostCtrlr", "Currency")
    station.log.append(f"{request.transaction_id}: cost {request.total_cost:.2f} {currency}")
    return v201.CostUpdatedResponse()
