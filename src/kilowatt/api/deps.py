"""What routes depend on: the Csms the app serves, and bearer-token authentication."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kilowatt.api.errors import ApiError
from kilowatt.csms.app import Csms

__all__ = ["CsmsDep", "get_csms", "require_token", "token_is_valid"]


def get_csms(request: Request) -> Csms:
    """The Csms given to ``create_app``."""
    csms: Csms = request.app.state.csms
    return csms


CsmsDep = Annotated[Csms, Depends(get_csms)]

# auto_error=False: a missing token is answered by require_token, in the API's error shape.
_bearer = HTTPBearer(
    auto_error=False, description="One of the API tokens of the settings (`api_tokens`)."
)


def token_is_valid(presented: str, tokens: Iterable[str]) -> bool:
    """Whether a presented token is one of the tokens, in time independent of which matched."""
    given = presented.encode()
    valid = False
    for token in tokens:
        # No early exit: every token is compared, so timing does not tell how many came first.
        valid |= hmac.compare_digest(given, token.encode())
    return valid


async def require_token(
    csms: CsmsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Refuse a request without one of the configured API tokens (none configured: no access).

    Raises:
        ApiError: 401 with a WWW-Authenticate challenge.
    """
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "this route needs an API token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not token_is_valid(credentials.credentials, csms.settings.api_tokens):
        raise ApiError(
            401,
            "unauthorized",
            "the bearer token is not one of the API tokens",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
