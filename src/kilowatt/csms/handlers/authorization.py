"""C Authorization: C01 Authorize, and the idTokenInfo that TransactionEvent answers carry."""

from __future__ import annotations

from datetime import datetime

import msgspec

from kilowatt.csms.context import Context
from kilowatt.messages import v21, v201
from kilowatt.messages.bridge import convert

__all__ = ["authorize", "authorize_21", "id_token_info"]


def _message(content: dict[str, object] | None) -> v201.MessageContentType | None:
    if not content:
        return None
    return v201.MessageContentType(
        format=v201.MessageFormatEnumType(str(content.get("format", "UTF8"))),
        content=str(content.get("content", "")),
        **({"language": str(content["language"])} if content.get("language") else {}),  # type: ignore[arg-type]
    )


async def id_token_info(id_token: v201.IdTokenType, ctx: Context) -> v201.IdTokenInfoType:
    """What the CSMS knows of a token: its status (Unknown if not known, Expired once past its
    expiry), group, languages and personal message."""
    if id_token.type == v201.IdTokenEnumType.NO_AUTHORIZATION:
        # C01: a token of type NoAuthorization is not authorized by the CSMS: always Accepted.
        return v201.IdTokenInfoType(status=v201.AuthorizationStatusEnumType.ACCEPTED)
    record = await ctx.store.get_id_token(id_token.id_token, str(id_token.type))
    if record is None:
        return v201.IdTokenInfoType(status=v201.AuthorizationStatusEnumType.UNKNOWN)
    status = v201.AuthorizationStatusEnumType(record.status)
    expiry: datetime | None = record.expiry
    if (
        expiry is not None
        and expiry <= ctx.now()
        and status == v201.AuthorizationStatusEnumType.ACCEPTED
    ):
        status = v201.AuthorizationStatusEnumType.EXPIRED
    fields: dict[str, object] = {}
    if expiry is not None:
        fields["cache_expiry_date_time"] = expiry
    if record.group_id_token:
        fields["group_id_token"] = v201.IdTokenType(
            id_token=record.group_id_token, type=v201.IdTokenEnumType.CENTRAL
        )
    if record.language1:
        fields["language1"] = record.language1
    if record.language2:
        fields["language2"] = record.language2
    message = _message(record.personal_message)
    pricing = ctx.services.pricing
    if message is None and pricing is not None:
        # I01: the tariff that would apply, in the driver's language when it has a text in it.
        choice = pricing.tariff_for(ctx.station_id, record.group_id_token)
        if choice is not None:
            message = pricing.tariff_text(choice, record.language1, record.language2)
    if message is not None:
        fields["personal_message"] = message
    return v201.IdTokenInfoType(status=status, **fields)  # type: ignore[arg-type]


async def authorize(request: v201.AuthorizeRequest, ctx: Context) -> v201.AuthorizeResponse:
    """C01: authorize a token against the tokens the operator keeps."""
    return v201.AuthorizeResponse(id_token_info=await id_token_info(request.id_token, ctx))


async def authorize_21(request: v21.AuthorizeRequest, ctx: Context) -> v21.AuthorizeResponse:
    """C01 for an OCPP 2.1 station, with I08: an accepted driver whose group has a tariff of
    its own gets it in the answer, for the station to price the session with."""
    answer = convert(
        await authorize(convert(request, v201.AuthorizeRequest), ctx), v21.AuthorizeResponse
    )
    pricing = ctx.services.pricing
    if pricing is None or answer.id_token_info.status != v21.AuthorizationStatusEnumType.ACCEPTED:
        return answer
    token = request.id_token
    record = await ctx.store.get_id_token(token.id_token, str(token.type))
    choice = pricing.driver_tariff(record.group_id_token if record is not None else None)
    if choice is None:
        return answer
    return msgspec.structs.replace(answer, tariff=choice.tariff)
