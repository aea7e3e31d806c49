"""/api/v1/seed: load stations, id tokens and local lists from a document, idempotently."""

from __future__ import annotations

from fastapi import APIRouter, Request

from kilowatt.api.bodies import SeedAnswer
from kilowatt.api.deps import CsmsDep
from kilowatt.api.errors import ApiError, error_responses
from kilowatt.csms import seed as seeding

__all__ = ["router"]

router = APIRouter(tags=["seed"])

_FORMATS: dict[str, seeding.DocumentFormat] = {
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "application/toml": "toml",
    "text/toml": "toml",
}

_EXAMPLE = {
    "stations": [
        {
            "id": "CS-001",
            "password": "s3cret-pass",
            "security_profile": 1,
            "registration_status": "Accepted",
            "heartbeat_interval": 300,
        }
    ],
    "id_tokens": [{"id_token": "04A1B2C3", "type": "ISO14443", "status": "Accepted"}],
    "local_lists": [
        {
            "station": "CS-001",
            "version": 1,
            "entries": [{"id_token": "04A1B2C3", "type": "ISO14443", "status": "Accepted"}],
        }
    ],
}


def _document_format(content_type: str | None) -> seeding.DocumentFormat:
    media_type = (content_type or "").split(";")[0].strip().lower()
    kind = _FORMATS.get(media_type)
    if kind is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"a seed document is sent as {', '.join(_FORMATS)}, not {media_type or 'untyped'}",
        )
    return kind


@router.post(
    "/seed",
    responses=error_responses(415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "Sections stations, id_tokens, local_lists and tariffs (see kilowatt.csms.seed)."
            ),
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": _EXAMPLE},
                "application/yaml": {"schema": {"type": "string"}},
                "application/toml": {"schema": {"type": "string"}},
            },
        }
    },
)
async def seed(csms: CsmsDep, request: Request) -> SeedAnswer:
    """Create or update stations, id tokens and local lists from a JSON, YAML or TOML document.

    Fields an entry leaves out keep their values; seeding the same document again changes
    nothing and counts every entry unchanged. An invalid document changes nothing.
    """
    kind = _document_format(request.headers.get("content-type"))
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(422, "invalid_seed", f"the document is not UTF-8: {error}") from None
    try:
        result = await seeding.seed(csms, seeding.parse_document(text, kind))
    except seeding.SeedError as error:
        raise ApiError(
            422, "invalid_seed", str(error), entry=error.entry, field=error.field
        ) from None
    return SeedAnswer.of(result)
