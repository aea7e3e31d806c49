"""/api/v1/sites: load-balanced sites (a garage, a depot), their limits, and what they get.

A site is written whole as a document (``kilowatt.csms.sites``: nested groups and stations, each
with an optional limit and limit schedule). The time-varying limit of one node, e.g. a grid
operator's capacity signal, can be pushed on its own. The current allocation and the site's
history (limit, allocated and drawn power over time) are the data of the UI's charts.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, Field

from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import ApiError, error_responses
from kilowatt.csms.app import Csms
from kilowatt.csms.sites import SiteDocumentError

__all__ = ["router"]

router = APIRouter(prefix="/sites", tags=["sites (load balancing)"])


class SessionPower(BaseModel):
    station_id: str
    evse_id: int
    transaction_id: str
    allocated_w: int = Field(description="What the last re-plan gave the session.")
    held_w: int | None = Field(description="What the station acknowledged and holds now.")


class NodeLoad(BaseModel):
    node: str = Field(description='A site, group or station id, or "station/evse".')
    load_w: int
    limit_w: int | None


class SiteView(BaseModel):
    id: str
    name: str
    stations: list[str]
    document: dict[str, Any]
    sessions: list[SessionPower]
    nodes: list[NodeLoad]


class HistoryPoint(BaseModel):
    at: datetime
    limit_w: int | None
    allocated_w: int
    drawn_w: int


async def _document(csms: Csms, site_id: str) -> dict[str, Any] | None:
    for record in await csms.store.sites():
        if record.site_id == site_id:
            document: dict[str, Any] = json.loads(record.document)
            return document
    return None


def _node_name(node: str | tuple[str, int]) -> str:
    return node if isinstance(node, str) else f"{node[0]}/{node[1]}"


async def _view(csms: Csms, site_id: str) -> SiteView:
    plan = csms.balancer.plan(site_id)
    if plan is None:
        raise ApiError(404, "site_not_found", f"no site {site_id}")
    document = await _document(csms, site_id) or {}
    allocation = csms.balancer.allocation(site_id)
    held = csms.balancer.held(site_id)
    sessions = (
        [
            SessionPower(
                station_id=key.station_id,
                evse_id=key.evse_id,
                transaction_id=key.transaction_id,
                allocated_w=power,
                held_w=held.get(key),
            )
            for key, power in sorted(allocation.power.items())
        ]
        if allocation
        else []
    )
    nodes = (
        [
            NodeLoad(
                node=_node_name(node),
                load_w=allocation.loads.get(node, 0),
                limit_w=allocation.limits.get(node),
            )
            for node in plan.site.nodes()
        ]
        if allocation
        else []
    )
    return SiteView(
        id=site_id,
        name=plan.name,
        stations=sorted(plan.stations),
        document=document,
        sessions=sessions,
        nodes=nodes,
    )


@router.get("", summary="List the managed sites")
async def list_sites(csms: CsmsDep) -> list[SiteView]:
    return [await _view(csms, record.site_id) for record in await csms.store.sites()]


@router.put(
    "/{site_id}",
    summary="Create or replace a site from its document",
    responses=error_responses(409, 422),
)
async def put_site(
    site_id: str, csms: CsmsDep, document: Annotated[dict[str, Any], Body()]
) -> SiteView:
    if document.get("id", site_id) != site_id:
        raise ApiError(422, "site_id_mismatch", f"the document's id is not {site_id}")
    document = {**document, "id": site_id}
    try:
        await csms.put_site(document)
    except SiteDocumentError as error:
        raise ApiError(422, "invalid_site", str(error)) from None
    except ValueError as error:
        raise ApiError(409, "station_in_another_site", str(error)) from None
    return await _view(csms, site_id)


@router.get(
    "/{site_id}",
    summary="A site: its document and current allocation",
    responses=error_responses(404),
)
async def get_site(site_id: str, csms: CsmsDep) -> SiteView:
    return await _view(csms, site_id)


@router.delete("/{site_id}", status_code=204, responses=error_responses(404))
async def delete_site(site_id: str, csms: CsmsDep) -> Response:
    if not await csms.delete_site(site_id):
        raise ApiError(404, "site_not_found", f"no site {site_id}")
    return Response(status_code=204)


@router.put(
    "/{site_id}/nodes/{node_id}/schedule",
    summary="Push a node's time-varying limit (e.g. a grid operator's capacity signal)",
    responses=error_responses(404, 422),
)
async def put_schedule(
    site_id: str,
    node_id: str,
    csms: CsmsDep,
    schedule: Annotated[
        list[dict[str, Any]],
        Body(description='[{"start": ISO 8601 date-time, "watts": W or null}, ...]'),
    ],
) -> SiteView:
    document = await _document(csms, site_id)
    if document is None:
        raise ApiError(404, "site_not_found", f"no site {site_id}")
    if not _set_schedule(document, node_id, schedule):
        raise ApiError(404, "node_not_found", f"site {site_id} has no group or station {node_id}")
    try:
        await csms.put_site(document)
    except SiteDocumentError as error:
        raise ApiError(422, "invalid_schedule", str(error)) from None
    return await _view(csms, site_id)


def _set_schedule(node: dict[str, Any], node_id: str, schedule: list[dict[str, Any]]) -> bool:
    """Set the schedule of the node called ``node_id`` in a site document; whether found."""
    if node_id in (node.get("id"), node.get("group"), node.get("station")):
        node["schedule"] = schedule
        return True
    return any(_set_schedule(child, node_id, schedule) for child in node.get("children", []))


@router.get(
    "/{site_id}/history",
    summary="The site's limit, allocated and drawn power over time",
    responses=error_responses(404),
)
async def get_history(site_id: str, csms: CsmsDep) -> list[HistoryPoint]:
    if csms.balancer.plan(site_id) is None:
        raise ApiError(404, "site_not_found", f"no site {site_id}")
    return [
        HistoryPoint(at=p.at, limit_w=p.limit, allocated_w=p.allocated, drawn_w=p.drawn)
        for p in csms.balancer.history(site_id)
    ]


class PlannedLimit(BaseModel):
    start: datetime
    limits_w: dict[str, int | None] = Field(
        description='Per node ("site", "group", "station/evse"): its limit from then on.'
    )


@router.get(
    "/{site_id}/plan",
    summary="The site's limits over the coming hours, from its schedules and external limits",
    responses=error_responses(404),
)
async def get_plan(site_id: str, csms: CsmsDep, hours: float = 24.0) -> list[PlannedLimit]:
    if csms.balancer.plan(site_id) is None:
        raise ApiError(404, "site_not_found", f"no site {site_id}")
    now = csms.clock.now()
    points = csms.balancer.limit_plan(site_id, now, now + timedelta(hours=hours))
    return [
        PlannedLimit(start=at, limits_w={_node_name(node): w for node, w in limits.items()})
        for at, limits in points
    ]
