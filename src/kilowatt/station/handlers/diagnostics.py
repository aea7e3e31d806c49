"""Block N: log uploads (state in station/logs.py) and customer information (N09/N10)."""

from __future__ import annotations

from datetime import timedelta

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import CustomerInformationStatusEnumType as CustomerStatus
from kilowatt.station.auth import token_key
from kilowatt.station.station import Station

__all__ = ["DATA_SIZE", "customer_information", "get_log"]

DATA_SIZE = 512  # NotifyCustomerInformationRequest.data is a string of at most 512


async def get_log(request: v201.GetLogRequest, station: Station) -> v201.GetLogResponse:
    """N01: Accepted (AcceptedCanceled when it replaces an upload) with the file's name, then
    LogStatusNotifications; Rejected for a location the station cannot upload to."""
    status, filename = station.logs.get_log(request)
    return v201.GetLogResponse(status=status, filename=filename if filename else UNSET)


async def customer_information(
    request: v201.CustomerInformationRequest, station: Station
) -> v201.CustomerInformationResponse:
    """N09/N10: report and/or clear what the station holds about one customer, named by an
    idToken, a customerIdentifier or a customer certificate; NotifyCustomerInformation parts
    follow the Accepted answer."""
    named = [
        x
        for x in (request.id_token, request.customer_identifier, request.customer_certificate)
        if x is not UNSET
    ]
    if len(named) != 1:
        return v201.CustomerInformationResponse(status=CustomerStatus.INVALID)
    if not (request.report or request.clear):
        return v201.CustomerInformationResponse(status=CustomerStatus.REJECTED)
    token = request.id_token if request.id_token is not UNSET else None
    lines = _known(station, token) if request.report else []
    if request.report and not lines:
        lines = ["no data held for this customer"]
    if request.clear:
        lines.append(_clear(station, token))
    parts = _parts(lines)
    generated_at = station.clock.now()

    async def send() -> None:
        for seq_no, data in enumerate(parts):
            await station.send(
                v201.NotifyCustomerInformationRequest(
                    data=data,
                    tbc=seq_no < len(parts) - 1 or UNSET,
                    seq_no=seq_no,
                    generated_at=generated_at,
                    request_id=request.request_id,
                )
            )

    station.spawn(send())
    return v201.CustomerInformationResponse(status=CustomerStatus.ACCEPTED)


def _known(station: Station, token: v201.IdTokenType | None) -> list[str]:
    """What the station holds about an idToken: local list, cache, reservations, transactions.
    The station keeps nothing by customerIdentifier or customer certificate."""
    if token is None:
        return []
    name = f"{token.id_token} ({token.type})"
    lines = []
    listed = station.local_list.lookup(token)
    if listed is not None:
        lines.append(f"{name}: local list {_info(listed)}")
    lifetime = timedelta(seconds=station.int_var("AuthCacheCtrlr", "LifeTime"))
    cached = station.cache.lookup(token, station.clock.now(), lifetime or None)
    if cached is not None:
        lines.append(f"{name}: authorization cache {_info(cached)}")
    for reservation in station.reservations.held().values():
        if token_key(reservation.id_token) == token_key(token):
            lines.append(
                f"{name}: reservation {reservation.id} until {reservation.expires_at.isoformat()}"
            )
    for evse in station.evses.values():
        tx = evse.transaction
        holder = tx.id_token if tx is not None and tx.id_token is not None else evse.authorized
        if tx is not None and holder is not None and token_key(holder) == token_key(token):
            cost = station.cost.get(tx.id)
            lines.append(
                f"{name}: transaction {tx.id} on EVSE {evse.id} since "
                f"{tx.started_at.isoformat()}" + (f", cost {cost:.2f}" if cost is not None else "")
            )
    return lines


def _info(info: v201.IdTokenInfoType) -> str:
    text = str(info.status)
    if info.group_id_token is not UNSET:
        text += f", group {info.group_id_token.id_token}"
    if info.cache_expiry_date_time is not UNSET:
        text += f", expires {info.cache_expiry_date_time.isoformat()}"
    return text


def _clear(station: Station, token: v201.IdTokenType | None) -> str:
    """N10: forget the customer's cached authorization; the local list is the CSMS's."""
    if token is not None and station.cache.remove(token):
        station.save_authorization()
        return f"{token.id_token}: cleared from the authorization cache"
    return "nothing to clear"


def _parts(lines: list[str]) -> list[str]:
    """The lines joined into texts of at most DATA_SIZE characters."""
    parts: list[str] = []
    current = ""
    for line in lines:
        for start in range(0, len(line), DATA_SIZE):
            piece = line[start : start + DATA_SIZE]
            if current and len(current) + 1 + len(piece) <= DATA_SIZE:
                current += "\n" + piece
            else:
                if current:
                    parts.append(current)
                current = piece
    parts.append(current)
    return parts
