"""/api/v1/stations/{station_id}/charging-profiles, composite-schedule, charging-limits: smart
charging (block K) as data the CSMS keeps, checks and sends.

Payloads that go to the station are OCPP 2.0.1 payloads as on the wire; a profile the station
would refuse is refused here first (422, naming the requirement), without reaching it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Self, cast

from fastapi import APIRouter, Query, Request
from msgspec import UNSET
from pydantic import BaseModel, Field

from kilowatt.api import services
from kilowatt.api.command_bodies import OcppAnswer, wire
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import ApiError, error_responses
from kilowatt.csms import smart_charging
from kilowatt.csms.smart_charging import ProfileRefused
from kilowatt.csms.store import ChargingLimitRecord, ChargingProfileRecord
from kilowatt.messages import v201

__all__ = ["router"]

router = APIRouter(prefix="/stations/{station_id}", tags=["smart charging"])

_REF = "#/components/schemas/{name}"
_SENDS = error_responses(404, 409, 413, 502, 504)


def _wire_body(name: str, description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": {"$ref": _REF.format(name=name)}}},
        }
    }


class ChargingProfileView(BaseModel):
    station_id: str
    evse_id: int = Field(description="0: the station as a whole.")
    profile_id: int
    source: str = Field(
        description='"csms": set by the CSMS and accepted; "station": reported by the station.'
    )
    purpose: v201.ChargingProfilePurposeEnumType
    stack_level: int
    transaction_id: str | None
    charging_limit_source: v201.ChargingLimitSourceEnumType
    request_id: int | None = Field(description="The GetChargingProfiles a report answered.")
    updated_at: datetime
    profile: dict[str, Any] = Field(description="The ChargingProfileType, as on the wire.")

    @classmethod
    def of(cls, record: ChargingProfileRecord) -> Self:
        return cls(
            station_id=record.station_id,
            evse_id=record.evse_id,
            profile_id=record.profile_id,
            source=record.source,
            purpose=v201.ChargingProfilePurposeEnumType(record.purpose),
            stack_level=record.stack_level,
            transaction_id=record.transaction_id,
            charging_limit_source=v201.ChargingLimitSourceEnumType(record.charging_limit_source),
            request_id=record.request_id,
            updated_at=record.updated_at,
            profile=json.loads(record.profile),
        )


class ChargingLimitView(BaseModel):
    evse_id: int = Field(description="0: the station as a whole.")
    charging_limit_source: v201.ChargingLimitSourceEnumType
    is_grid_critical: bool | None
    received_at: datetime
    schedules: list[dict[str, Any]] | None = Field(
        description="The ChargingScheduleTypes of the notification, as on the wire."
    )

    @classmethod
    def of(cls, record: ChargingLimitRecord) -> Self:
        return cls(
            evse_id=record.evse_id,
            charging_limit_source=v201.ChargingLimitSourceEnumType(record.charging_limit_source),
            is_grid_critical=record.is_grid_critical,
            received_at=record.received_at,
            schedules=record.schedules,
        )


class ReportAnswer(OcppAnswer):
    request_id: int = Field(description="The requestId the station's reports carry.")


class CompositeScheduleView(BaseModel):
    station: dict[str, Any] = Field(
        description="The station's GetCompositeScheduleResponse, as on the wire."
    )
    expected: dict[str, Any] | None = Field(
        description="The CompositeScheduleType the CSMS expects from what it knows, as on the "
        "wire; null for an EVSE it does not know."
    )
    matches: bool | None = Field(
        description="Whether the two agree: the same periods, limits within 0.1 of the unit; "
        "null when the station gave no schedule."
    )


def _refused(error: ProfileRefused) -> ApiError:
    return ApiError(
        422,
        "profile_refused",
        f"the station would refuse this profile: {error}",
        requirement=error.requirement,
        reason_code=error.reason_code,
    )


@router.post(
    "/charging-profiles",
    responses=_SENDS,
    openapi_extra=_wire_body(
        "SetChargingProfileRequest", "evseId and chargingProfile, as in SetChargingProfile."
    ),
)
async def set_charging_profile(csms: CsmsDep, station_id: str, request: Request) -> OcppAnswer:
    """Check a profile by the K01 rules against what the CSMS knows of the station (its
    profiles, device model and transactions), send it (SetChargingProfile), and keep it once
    the station accepts it. A profile the station would refuse is answered 422, with the
    requirement it breaks, and not sent."""
    await services.station(csms, station_id)
    parsed = services.parse("SetChargingProfile", await request.body())
    ocpp = cast(v201.SetChargingProfileRequest, parsed)
    try:
        with services.call_errors(csms, station_id, "SetChargingProfile"):
            answer = await smart_charging.set_charging_profile(
                csms, station_id, ocpp.evse_id, ocpp.charging_profile
            )
    except ProfileRefused as error:
        raise _refused(error) from None
    return OcppAnswer.of(answer, "SetChargingProfile")


@router.get("/charging-profiles", responses=error_responses(404))
async def list_charging_profiles(
    csms: CsmsDep,
    station_id: str,
    evse_id: Annotated[int | None, Query(alias="evseId", ge=0)] = None,
    source: Annotated[str | None, Query(pattern="^(csms|station)$")] = None,
) -> list[ChargingProfileView]:
    """The profiles the CSMS keeps for the station: those it set and the station accepted
    (source csms), and those the station reported (source station)."""
    await services.station(csms, station_id)
    records = await csms.store.charging_profiles(station_id, evse_id=evse_id, source=source)
    return [ChargingProfileView.of(record) for record in records]


@router.delete("/charging-profiles/{profile_id}", responses=_SENDS)
async def delete_charging_profile(csms: CsmsDep, station_id: str, profile_id: int) -> OcppAnswer:
    """Clear one profile by its id (ClearChargingProfile); once the station accepts, the CSMS
    forgets it."""
    await services.station(csms, station_id)
    with services.call_errors(csms, station_id, "ClearChargingProfile"):
        answer = await smart_charging.clear_charging_profile(
            csms, station_id, profile_id=profile_id
        )
    return OcppAnswer.of(answer, "ClearChargingProfile")


@router.post(
    "/charging-profiles/clear",
    responses=_SENDS,
    openapi_extra=_wire_body(
        "ClearChargingProfileRequest",
        "As in ClearChargingProfile: chargingProfileId, or chargingProfileCriteria; {} clears "
        "every profile.",
    ),
)
async def clear_charging_profiles(csms: CsmsDep, station_id: str, request: Request) -> OcppAnswer:
    """Clear profiles by id or by criteria (ClearChargingProfile); once the station accepts,
    the CSMS forgets those the station cleared by the same rule."""
    await services.station(csms, station_id)
    parsed = services.parse("ClearChargingProfile", await request.body())
    ocpp = cast(v201.ClearChargingProfileRequest, parsed)
    criteria = ocpp.charging_profile_criteria

    def given(value: Any) -> Any:
        return None if value is UNSET else value

    with services.call_errors(csms, station_id, "ClearChargingProfile"):
        answer = await smart_charging.clear_charging_profile(
            csms,
            station_id,
            profile_id=given(ocpp.charging_profile_id),
            evse_id=given(criteria.evse_id) if criteria is not UNSET else None,
            purpose=(given(criteria.charging_profile_purpose) if criteria is not UNSET else None),
            stack_level=given(criteria.stack_level) if criteria is not UNSET else None,
        )
    return OcppAnswer.of(answer, "ClearChargingProfile")


@router.post(
    "/charging-profiles/report",
    responses=_SENDS,
    openapi_extra=_wire_body(
        "GetChargingProfilesRequest",
        "As in GetChargingProfiles; requestId may be left out (one is made), and so may "
        "chargingProfile (every profile).",
    ),
)
async def report_charging_profiles(
    csms: CsmsDep, station_id: str, request: Request
) -> ReportAnswer:
    """Ask the station for its profiles (GetChargingProfiles); its ReportChargingProfiles are
    stored as it sends them (source station)."""
    await services.station(csms, station_id)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(422, "validation_error", "the body must be a JSON object")
    body.setdefault("requestId", services.new_remote_start_id())
    body.setdefault("chargingProfile", {})
    parsed = services.parse("GetChargingProfiles", json.dumps(body).encode())
    ocpp = cast(v201.GetChargingProfilesRequest, parsed)
    with services.call_errors(csms, station_id, "GetChargingProfiles"):
        request_id, answer = await smart_charging.get_charging_profiles(
            csms,
            station_id,
            evse_id=ocpp.evse_id if ocpp.evse_id is not UNSET else None,
            criteria=ocpp.charging_profile,
            request_id=ocpp.request_id,
        )
    return ReportAnswer(action="GetChargingProfiles", response=wire(answer), request_id=request_id)


@router.get("/composite-schedule", responses=_SENDS)
async def composite_schedule(
    csms: CsmsDep,
    station_id: str,
    evse_id: Annotated[int, Query(alias="evseId", ge=0, description="0: the station.")] = 0,
    duration: Annotated[int, Query(ge=0, description="Seconds from now.")] = 3600,
    unit: v201.ChargingRateUnitEnumType | None = None,
) -> CompositeScheduleView:
    """The station's composite schedule (GetCompositeSchedule), the one the CSMS expects from
    the profiles it set and the external limits it knows, and whether they agree. A station
    whose answer differs is logged, and recorded as a notification CompositeScheduleMismatch."""
    await services.station(csms, station_id)
    with services.call_errors(csms, station_id, "GetCompositeSchedule"):
        compared = await smart_charging.composite_schedules(
            csms, station_id, evse_id, duration, unit
        )
    return CompositeScheduleView(
        station=wire(compared.station),
        expected=wire(compared.expected) if compared.expected is not None else None,
        matches=compared.matches,
    )


@router.get("/charging-limits", responses=error_responses(404))
async def charging_limits(csms: CsmsDep, station_id: str) -> list[ChargingLimitView]:
    """The external limits the station notified (NotifyChargingLimit) and has not cleared."""
    await services.station(csms, station_id)
    return [ChargingLimitView.of(r) for r in await csms.store.charging_limits(station_id)]
