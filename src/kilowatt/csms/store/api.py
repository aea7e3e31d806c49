"""The persistence the CSMS needs, as a Protocol: kilowatt.csms.store.sql implements it on
SQLAlchemy (SQLite by default, PostgreSQL by URL).

Writes that must be durable before a station is answered (TransactionEvent, MeterValues) are
awaited: the call returns once the data is committed. Many stations' writes share one commit
(group commit), so the cost per message stays low.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from kilowatt.csms.store.records import (
    ChargingLimitRecord,
    ChargingProfileRecord,
    ConnectorStatus,
    FrameLogEntry,
    IdTokenRecord,
    LocalList,
    LocalListEntry,
    MeterSample,
    Notification,
    SiteRecord,
    StationRecord,
    StatusChange,
    TariffRecord,
    TransactionEventRecord,
    TransactionRecord,
    TransactionTariffRecord,
    VariableRecord,
)

__all__ = ["Store"]


class Store(Protocol):
    async def close(self) -> None:
        """Flush pending writes and release the database."""
        ...

    async def flush(self) -> None:
        """Return once every write queued before the call, logged frames included, is committed
        (or has failed)."""
        ...

    # -- stations ----------------------------------------------------------------------------
    async def get_station(self, station_id: str) -> StationRecord | None: ...
    async def list_stations(self, *, offset: int = 0, limit: int = 1000) -> list[StationRecord]: ...
    async def put_station(self, station: StationRecord) -> None:
        """Insert or replace the whole record (committed when this returns)."""
        ...

    async def delete_station(self, station_id: str) -> bool: ...

    # -- connectors --------------------------------------------------------------------------
    async def record_status(self, change: StatusChange) -> None:
        """Append to the history and update the connector's latest status (committed on return).

        The latest status is the one with the latest timestamp: a change sent late (queued
        while the station was offline) goes into the history only.
        """
        ...

    async def connector_statuses(self, station_id: str) -> list[ConnectorStatus]:
        """By EVSE, then connector."""
        ...

    async def status_history(self, station_id: str, *, limit: int = 100) -> list[StatusChange]:
        """The latest changes by their timestamp, newest first."""
        ...

    # -- id tokens ---------------------------------------------------------------------------
    async def get_id_token(self, id_token: str, type_: str) -> IdTokenRecord | None: ...
    async def list_id_tokens(
        self, *, offset: int = 0, limit: int = 1000
    ) -> list[IdTokenRecord]: ...
    async def put_id_token(self, token: IdTokenRecord) -> None: ...
    async def delete_id_token(self, id_token: str, type_: str) -> bool: ...

    # -- local authorization lists (D01, D02) ------------------------------------------------
    # Two copies per station: the list the CSMS keeps for it (what the operator wants the
    # station to hold), and the list as the station holds it as far as the CSMS knows (the
    # updates it accepted), from which a Differential update is computed.
    async def local_list(self, station_id: str) -> LocalList | None:
        """The list the CSMS keeps for the station; None if it keeps none."""
        ...

    async def put_local_list(
        self, station_id: str, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> None:
        """Update the list the CSMS keeps for the station, and set its version.

        ``full``: the entries replace the list (D01 Full update). Otherwise a Differential
        update: an entry with a status is added or replaces the token's (D01.FR.16), one
        without removes the token (D01.FR.17). Committed on return.

        Raises:
            ValueError: a token (with its type) is twice in ``entries``, or a Full update has
                an entry without a status.
        """
        ...

    async def accepted_local_list(self, station_id: str) -> LocalList | None:
        """The list as the station holds it, from the updates it accepted (its version is the
        one it last accepted); None before it accepted any."""
        ...

    async def put_accepted_local_list(
        self, station_id: str, version: int, entries: Sequence[LocalListEntry], *, full: bool
    ) -> None:
        """Apply an update the station accepted to its copy, as ``put_local_list`` applies
        one to the CSMS's."""
        ...

    # -- transactions ------------------------------------------------------------------------
    async def get_transaction(
        self, station_id: str, transaction_id: str
    ) -> TransactionRecord | None: ...
    async def list_transactions(
        self,
        *,
        station_id: str | None = None,
        active: bool | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[TransactionRecord]:
        """Newest first (by started_at). ``active``: True for those not ended (no ended_at),
        False for those ended, None for both."""
        ...

    async def record_transaction_event(
        self,
        event: TransactionEventRecord,
        transaction: TransactionRecord,
        samples: Sequence[MeterSample],
    ) -> bool:
        """Store one TransactionEvent, the transaction as it stands after it, and its samples.

        Returns False, and stores nothing, when this (station, transaction, seqNo) is stored
        already: a replayed event is acknowledged and kept once. Committed on return.

        Raises:
            ValueError: the event and the transaction are not of the same transaction.
        """
        ...

    async def transaction_events(
        self, station_id: str, transaction_id: str
    ) -> list[TransactionEventRecord]:
        """By seqNo."""
        ...

    # -- meter values ------------------------------------------------------------------------
    async def record_meter_values(self, samples: Sequence[MeterSample]) -> None:
        """Committed on return."""
        ...

    async def meter_samples(
        self,
        station_id: str,
        *,
        transaction_id: str | None = None,
        since: datetime | None = None,
        limit: int = 10000,
    ) -> list[MeterSample]:
        """Oldest first: those timestamped at or after ``since``, of one transaction or (None)
        of any or none."""
        ...

    # -- device model ------------------------------------------------------------------------
    async def put_variables(self, variables: Sequence[VariableRecord]) -> None:
        """Insert or replace by (station, component, instance, evse, connector, variable,
        instance, attribute type). Committed on return."""
        ...

    async def variables(self, station_id: str) -> list[VariableRecord]:
        """By key (component, instance, EVSE, connector, variable, instance, attribute type)."""
        ...

    # -- smart charging (K) ---------------------------------------------------------------------
    async def charging_profiles(
        self, station_id: str, *, evse_id: int | None = None, source: str | None = None
    ) -> list[ChargingProfileRecord]:
        """The station's stored profiles, of one EVSE and one source or (None) of any, by source,
        EVSE, stackLevel and id."""
        ...

    async def put_charging_profile(self, profile: ChargingProfileRecord) -> None:
        """Insert or replace by (station, source, profile id). Committed on return."""
        ...

    async def delete_charging_profiles(
        self, station_id: str, source: str, profile_ids: Sequence[int]
    ) -> bool:
        """Remove these profiles of one source; whether any was removed. Committed on return."""
        ...

    async def replace_reported_charging_profiles(
        self,
        station_id: str,
        evse_id: int,
        request_id: int,
        profiles: Sequence[ChargingProfileRecord],
    ) -> None:
        """Keep one part of a station's ReportChargingProfiles (K09).

        The reported profiles of the EVSE that came with another requestId (an earlier
        GetChargingProfiles) are removed; those of this requestId (earlier parts of the same
        report, tbc) stay; ``profiles`` are put. So an EVSE's reported set is what the latest
        report that covered it said. Committed on return.

        Raises:
            ValueError: a profile is not a reported one of this station, EVSE and requestId.
        """
        ...

    async def charging_limits(self, station_id: str) -> list[ChargingLimitRecord]:
        """The external limits in force at the station, by EVSE and source."""
        ...

    async def put_charging_limit(self, limit: ChargingLimitRecord) -> None:
        """Insert or replace by (station, EVSE, source). Committed on return."""
        ...

    async def delete_charging_limit(self, station_id: str, evse_id: int, source: str) -> bool:
        """Remove the limit of (station, EVSE, source); whether there was one."""
        ...

    # -- tariffs -----------------------------------------------------------------------------

    async def tariffs(self) -> list[TariffRecord]:
        """Every tariff, by id."""
        ...

    async def put_tariff(self, tariff: TariffRecord) -> None:
        """Insert or replace by tariff id. Committed on return."""
        ...

    async def delete_tariff(self, tariff_id: str) -> bool:
        """Remove a tariff; whether there was one."""
        ...

    async def transaction_tariffs(
        self, station_id: str, transaction_id: str
    ) -> list[TransactionTariffRecord]:
        """The tariffs in force for a transaction, by position (the first, then each change)."""
        ...

    async def put_transaction_tariff(self, record: TransactionTariffRecord) -> None:
        """Insert or replace by (station, transaction, position). Committed on return."""
        ...

    # -- sites -------------------------------------------------------------------------------

    async def sites(self) -> list[SiteRecord]:
        """Every site, by id."""
        ...

    async def put_site(self, site: SiteRecord) -> None:
        """Insert or replace by site id. Committed on return."""
        ...

    async def delete_site(self, site_id: str) -> bool:
        """Remove a site; whether there was one."""
        ...

    # -- everything else a station reports ---------------------------------------------------
    async def record_notification(self, notification: Notification) -> None: ...
    async def notifications(
        self,
        station_id: str,
        *,
        action: str | None = None,
        request_id: int | None = None,
        limit: int = 100,
    ) -> list[Notification]:
        """The latest, newest first (in the order received)."""
        ...

    # -- the message log ---------------------------------------------------------------------
    def log_frame(self, entry: FrameLogEntry) -> None:
        """Queue a frame for the log without waiting: it is written with the next group commit.

        Never raises: a frame that cannot be written (too many waiting, the store closed, the
        database refusing it) is dropped and counted.
        """
        ...

    async def frames(
        self, station_id: str, *, since_ms: int | None = None, limit: int = 1000
    ) -> list[FrameLogEntry]:
        """The logged frames of a station in the order they were logged (oldest first), from
        the first logged at or after ``since_ms``."""
        ...
