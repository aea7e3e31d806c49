"""/api/v1/id-tokens: the tokens the CSMS authorizes, keyed by type and value."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query

from kilowatt.api.bodies import IdTokenChange, IdTokenCreate, IdTokenView
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import ApiError, error_responses
from kilowatt.csms.store import IdTokenRecord, Store

__all__ = ["router"]

router = APIRouter(prefix="/id-tokens", tags=["id tokens"])


def _no_token(kind: str, id_token: str) -> ApiError:
    return ApiError(404, "id_token_not_found", f"no id token {id_token!r} of type {kind!r}")


async def _token(store: Store, kind: str, id_token: str) -> IdTokenRecord:
    record = await store.get_id_token(id_token, kind)
    if record is None:
        raise _no_token(kind, id_token)
    return record


@router.get("")
async def list_id_tokens(
    csms: CsmsDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IdTokenView]:
    """The id tokens, by value and type."""
    records = await csms.store.list_id_tokens(offset=offset, limit=limit)
    return [IdTokenView.of(record) for record in records]


@router.post("", status_code=201, responses=error_responses(409))
async def create_id_token(csms: CsmsDep, body: IdTokenCreate) -> IdTokenView:
    """Add an id token: what the CSMS answers when a station presents it."""
    record = body.record()
    if await csms.store.get_id_token(record.id_token, record.type) is not None:
        raise ApiError(
            409,
            "id_token_exists",
            f"id token {record.id_token!r} of type {record.type!r} exists already",
        )
    await csms.store.put_id_token(record)
    return IdTokenView.of(record)


@router.get("/{type}/{id_token}", responses=error_responses(404))
async def get_id_token(csms: CsmsDep, type: str, id_token: str) -> IdTokenView:
    """One id token."""
    return IdTokenView.of(await _token(csms.store, type, id_token))


@router.patch("/{type}/{id_token}", responses=error_responses(404))
async def change_id_token(
    csms: CsmsDep, type: str, id_token: str, body: IdTokenChange
) -> IdTokenView:
    """Change an id token's fields; those left out keep their values, null clears one."""
    record = replace(await _token(csms.store, type, id_token), **body.changes())
    await csms.store.put_id_token(record)
    return IdTokenView.of(record)


@router.delete("/{type}/{id_token}", status_code=204, responses=error_responses(404))
async def delete_id_token(csms: CsmsDep, type: str, id_token: str) -> None:
    """Remove an id token: stations presenting it are then answered Unknown."""
    if not await csms.store.delete_id_token(id_token, type):
        raise _no_token(type, id_token)
