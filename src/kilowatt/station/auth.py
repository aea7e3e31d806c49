"""The station's own sources of authorization: the cache and the local list (C10-C14, D01-D03).

Both are plain containers; the station decides when to use them (LocalPreAuthorize,
LocalAuthorizeOffline) and persists them with ``to_json``/``from_json``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec
from msgspec import UNSET

from kilowatt.messages.v201 import (
    AuthorizationStatusEnumType,
    IdTokenInfoType,
    IdTokenType,
    SendLocalListRequest,
    SendLocalListStatusEnumType,
    UpdateEnumType,
)

__all__ = ["AuthCache", "LocalList", "TokenKey", "token_key"]

TokenKey = tuple[str, str]  # (idToken, type)


def token_key(token: IdTokenType) -> TokenKey:
    return (token.id_token, str(token.type))


class _CachedEntry(msgspec.Struct, frozen=True):
    token: str
    type: str
    info: IdTokenInfoType
    stored_at: datetime


class AuthCache:
    """Id tokens the CSMS answered for, most recently used last (C10).

    An entry whose ``cacheExpiryDateTime`` passed, or older than ``lifetime``, reads as
    Expired (C10.FR.08/.09... the station then asks the CSMS again). Full: the least recently
    used entry makes room (Policy LRU).
    """

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[TokenKey, _CachedEntry] = OrderedDict()

    def store(self, token: IdTokenType, info: IdTokenInfoType, now: datetime) -> None:
        key = token_key(token)
        self._entries.pop(key, None)
        self._entries[key] = _CachedEntry(key[0], key[1], info, now)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def lookup(
        self, token: IdTokenType, now: datetime, lifetime: timedelta | None
    ) -> IdTokenInfoType | None:
        key = token_key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        expiry = entry.info.cache_expiry_date_time
        expired = (expiry is not UNSET and expiry <= now) or (
            lifetime is not None and entry.stored_at + lifetime <= now
        )
        if expired:
            return msgspec.structs.replace(entry.info, status=AuthorizationStatusEnumType.EXPIRED)
        return entry.info

    def clear(self) -> None:
        self._entries.clear()

    def remove(self, token: IdTokenType) -> bool:
        """Forget one token (N10: clearing a customer's data); False when it was not cached."""
        return self._entries.pop(token_key(token), None) is not None

    def __len__(self) -> int:
        return len(self._entries)

    def to_json(self) -> bytes:
        return msgspec.json.encode(list(self._entries.values()))

    def load_json(self, data: bytes) -> None:
        self._entries = OrderedDict(
            ((entry.token, entry.type), entry)
            for entry in msgspec.json.decode(data, type=list[_CachedEntry])
        )


@dataclass
class LocalList:
    """The local authorization list the CSMS sends (D01): a version and the entries."""

    version: int = 0
    entries: dict[TokenKey, IdTokenInfoType] = field(default_factory=dict)

    def apply(self, request: SendLocalListRequest, capacity: int) -> SendLocalListStatusEnumType:
        """Apply a full or differential update; the list is unchanged unless Accepted.

        D01.FR.18: a differential update whose version is not newer than the list's is a
        VersionMismatch. An entry without idTokenInfo in a differential update removes the
        token (D01.FR.17). More entries than ``capacity`` fail the whole update.
        """
        data = request.local_authorization_list
        if (
            request.update_type == UpdateEnumType.DIFFERENTIAL
            and request.version_number <= self.version
        ):
            return SendLocalListStatusEnumType.VERSION_MISMATCH
        if request.update_type == UpdateEnumType.FULL:
            entries: dict[TokenKey, IdTokenInfoType] = {}
        else:
            entries = dict(self.entries)
        for item in data if data is not UNSET else []:
            key = token_key(item.id_token)
            if item.id_token_info is UNSET:
                entries.pop(key, None)
            else:
                entries[key] = item.id_token_info
        if len(entries) > capacity:
            return SendLocalListStatusEnumType.FAILED
        self.version = request.version_number
        self.entries = entries
        return SendLocalListStatusEnumType.ACCEPTED

    def lookup(self, token: IdTokenType) -> IdTokenInfoType | None:
        return self.entries.get(token_key(token))

    def to_json(self) -> bytes:
        entries = [_ListEntry(key[0], key[1], info) for key, info in self.entries.items()]
        return msgspec.json.encode(_StoredList(self.version, entries))

    @classmethod
    def from_json(cls, data: bytes) -> LocalList:
        stored = msgspec.json.decode(data, type=_StoredList)
        return cls(stored.version, {(e.token, e.type): e.info for e in stored.entries})


class _ListEntry(msgspec.Struct, frozen=True):
    token: str
    type: str
    info: IdTokenInfoType


class _StoredList(msgspec.Struct, frozen=True):
    version: int
    entries: list[_ListEntry]
