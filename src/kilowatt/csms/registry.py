"""Which stations are connected, and through which session. No module globals: one registry
per CSMS instance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kilowatt.csms.session import StationSession

__all__ = ["StationRegistry"]


class StationRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, StationSession] = {}

    def attach(self, session: StationSession) -> StationSession | None:
        """Make a session the station's live one; returns the one it replaces, if any.

        OCPP-J: a new connection with the same identity is the live one; the caller closes the
        old socket.
        """
        old = self._sessions.get(session.station_id)
        self._sessions[session.station_id] = session
        return old

    def detach(self, session: StationSession) -> bool:
        """Forget a session, unless a newer one has replaced it already (then False)."""
        if self._sessions.get(session.station_id) is not session:
            return False
        del self._sessions[session.station_id]
        return True

    def get(self, station_id: str) -> StationSession | None:
        return self._sessions.get(station_id)

    def __iter__(self) -> Iterator[StationSession]:
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)
