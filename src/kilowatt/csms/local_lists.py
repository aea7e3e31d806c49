"""Local authorization lists (D01, D02), the pure part: what an update carries, the version
numbers of its messages, and its entries as OCPP's AuthorizationData.

``kilowatt.csms.commands.send_local_list`` sends the updates; the store keeps the lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from msgspec import UNSET

from kilowatt.csms.store import LocalListEntry
from kilowatt.messages import v201

__all__ = [
    "LocalListError",
    "LocalListSent",
    "LocalListVersionTooLow",
    "NoLocalList",
    "NotSynchronized",
    "authorization_data",
    "differential",
    "part_versions",
]


class LocalListError(Exception):
    """A local list that cannot be sent; nothing was sent."""


class NoLocalList(LocalListError, LookupError):
    """The CSMS keeps no local list for the station."""


class NotSynchronized(LocalListError):
    """A Differential update asked for, but the station has accepted no update yet, so what
    it holds is unknown: send a Full update first."""


class LocalListVersionTooLow(LocalListError, ValueError):
    """The update needs more messages than there are version numbers from 1 to its version
    (each message has a higher one, D01.FR.18 and D01.FR.19).

    Attributes:
        version: the list's version.
        messages: how many messages the update needs.
    """

    def __init__(self, version: int, messages: int) -> None:
        super().__init__(
            f"the update goes in {messages} messages, each with a higher versionNumber than the "
            f"one before and the last with the list's version {version}; the first would be "
            f"{version - messages + 1}, but a versionNumber is at least 1: give the list a "
            f"version of at least {messages}"
        )
        self.version = version
        self.messages = messages


@dataclass(frozen=True)
class LocalListSent:
    """What sending a local list did.

    Attributes:
        update_type: the update asked for (the first message's updateType).
        version: the list's version (the last message's versionNumber).
        messages: the SendLocalList requests sent and the station's answers, in order; sending
            stops at the first answer other than Accepted.
        station_version: after an accepted Full update, the version the station reported to
            GetLocalListVersion (D02); otherwise None.
    """

    update_type: v201.UpdateEnumType
    version: int
    messages: tuple[tuple[v201.SendLocalListRequest, v201.SendLocalListResponse], ...]
    station_version: int | None = None

    @property
    def status(self) -> v201.SendLocalListStatusEnumType:
        """The outcome: the answer to the last message sent (Accepted when all were)."""
        return self.messages[-1][1].status


def differential(
    held: Sequence[LocalListEntry], wanted: Sequence[LocalListEntry]
) -> list[LocalListEntry]:
    """The entries of a Differential update that turns the list ``held`` into ``wanted``: the
    entries added or changed (D01.FR.16), then removals, entries without a status (D01.FR.17),
    for the tokens no longer wanted."""
    before = {entry.key: entry for entry in held}
    after = {entry.key for entry in wanted}
    changed = [entry for entry in wanted if before.get(entry.key) != entry]
    removed = [
        LocalListEntry(entry.id_token, entry.type, None) for entry in held if entry.key not in after
    ]
    return changed + removed


def part_versions(version: int, messages: int) -> list[int]:
    """The versionNumbers of an update sent in ``messages`` messages: one higher each time,
    ending at the list's ``version``.

    D01.FR.11 sends a long list in parts: a Full update first, then Differential ones. A
    station refuses a Differential update whose versionNumber is not above its list's
    (D01.FR.19, VersionMismatch), so each part gets a higher one; the station ends at the
    list's version.

    Raises:
        LocalListVersionTooLow: the first would be below 1 (D01.FR.18).
    """
    first = version - messages + 1
    if first < 1:
        raise LocalListVersionTooLow(version, messages)
    return list(range(first, version + 1))


def authorization_data(entry: LocalListEntry) -> v201.AuthorizationData:
    """An entry as SendLocalList carries it; without a status, it has no idTokenInfo (which
    removes the token in a Differential update, D01.FR.17)."""
    id_token = v201.IdTokenType(id_token=entry.id_token, type=v201.IdTokenEnumType(entry.type))
    if entry.status is None:
        return v201.AuthorizationData(id_token=id_token)
    message = entry.personal_message
    info = v201.IdTokenInfoType(
        status=v201.AuthorizationStatusEnumType(entry.status),
        cache_expiry_date_time=UNSET if entry.expiry is None else entry.expiry,
        group_id_token=(
            UNSET
            if entry.group_id_token is None
            else v201.IdTokenType(id_token=entry.group_id_token, type=v201.IdTokenEnumType.CENTRAL)
        ),
        language1=UNSET if entry.language1 is None else entry.language1,
        language2=UNSET if entry.language2 is None else entry.language2,
        personal_message=(
            UNSET
            if message is None
            else v201.MessageContentType(
                format=v201.MessageFormatEnumType(message["format"]),
                language=message.get("language", UNSET),
                content=message["content"],
            )
        ),
    )
    return v201.AuthorizationData(id_token=id_token, id_token_info=info)
