"""Sites as operators describe them: a document of nested groups and stations with limits.

A site document (JSON through the API, YAML in a seed file)::

    {"id": "garage", "name": "Garage P3",
     "limit": {"watts": 100000},
     "schedule": [{"start": "2026-11-25T18:00:00Z", "watts": 70000},
                  {"start": "2026-11-25T22:00:00Z", "watts": null}],
     "children": [
        {"group": "floor-1", "limit": {"amps": 87, "phases": 3},
         "children": [{"station": "CS-1", "evses": [{"id": 1, "max_power": 22000}]}]},
        {"station": "CS-2"}]}

A limit is ``{"watts": W}`` or ``{"amps": A, "phases": 1|3, "voltage": V}``; a schedule is the
node's time-varying limit (a grid operator's capacity, a solar forecast): from each start on,
its value in W, ``null`` for none; it can lower the static limit, never raise it. A station
without ``evses`` has one EVSE of 22 kW. ``priorities`` maps id-token group ids to a priority
(higher first). ``parse_site`` checks everything and names the place of any error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kilowatt.smartcharging.balancer import Evse, Group, Limit, NodeKey, Schedule, Site, Station

__all__ = ["DEFAULT_EVSE_POWER", "SiteDocumentError", "SitePlan", "parse_site"]

DEFAULT_EVSE_POWER = 22_000


class SiteDocumentError(ValueError):
    """A site document that cannot be used, with the path of the offending field."""


@dataclass(frozen=True)
class SitePlan:
    """A parsed site: the topology, the schedules of its nodes, the priorities of token groups."""

    site: Site
    name: str
    schedules: Mapping[NodeKey, Schedule]
    priorities: Mapping[str, int]
    stations: frozenset[str]


def _number(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SiteDocumentError(f"{where}: a number is needed, not {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SiteDocumentError(f"{where}: a number is needed, not {value!r}") from None
    if not number.is_finite() or number < 0:
        raise SiteDocumentError(f"{where}: must be a finite number >= 0")
    return number


def _limit(raw: Any, where: str) -> Limit | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SiteDocumentError(f"{where}: a limit is {{watts}} or {{amps, phases, voltage}}")
    unknown = set(raw) - {"watts", "amps", "phases", "voltage"}
    if unknown:
        raise SiteDocumentError(f"{where}: unknown field(s) {sorted(unknown)}")
    try:
        return Limit(
            watts=_number(raw["watts"], f"{where}.watts") if "watts" in raw else None,
            amps=_number(raw["amps"], f"{where}.amps") if "amps" in raw else None,
            phases=int(raw.get("phases", 3)),
            voltage=_number(raw.get("voltage", 230), f"{where}.voltage"),
        )
    except (ValueError, TypeError) as error:
        if isinstance(error, SiteDocumentError):
            raise
        raise SiteDocumentError(f"{where}: {error}") from None


def _schedule(raw: Any, where: str) -> Schedule | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise SiteDocumentError(f"{where}: a schedule is a list of {{start, watts}}")
    entries: list[tuple[datetime, Decimal | None]] = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        if not isinstance(item, dict) or set(item) != {"start", "watts"}:
            raise SiteDocumentError(f"{here}: an entry is {{start, watts}}")
        try:
            start = datetime.fromisoformat(str(item["start"]).replace("Z", "+00:00"))
        except ValueError:
            raise SiteDocumentError(f"{here}.start: not an ISO 8601 date-time") from None
        if start.utcoffset() is None:
            raise SiteDocumentError(f"{here}.start: needs a time zone (e.g. Z)")
        watts = None if item["watts"] is None else _number(item["watts"], f"{here}.watts")
        if entries and start <= entries[-1][0]:
            raise SiteDocumentError(f"{here}.start: starts must increase")
        entries.append((start, watts))
    return tuple(entries)


def _evses(raw: Any, where: str) -> tuple[Evse, ...]:
    if raw is None:
        return (Evse(1, DEFAULT_EVSE_POWER),)
    if not isinstance(raw, list) or not raw:
        raise SiteDocumentError(f"{where}: a non-empty list of {{id, max_power, phases}}")
    evses = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or item["id"] < 1:
            raise SiteDocumentError(f"{here}: an EVSE needs an integer id >= 1")
        unknown = set(item) - {"id", "max_power", "phases", "limit"}
        if unknown:
            raise SiteDocumentError(f"{here}: unknown field(s) {sorted(unknown)}")
        phases = item.get("phases", 3)
        if phases not in (1, 2, 3):
            raise SiteDocumentError(f"{here}.phases: 1, 2 or 3")
        evses.append(
            Evse(
                item["id"],
                _number(item.get("max_power", DEFAULT_EVSE_POWER), f"{here}.max_power"),
                phases,
                _limit(item.get("limit"), f"{here}.limit"),
            )
        )
    if len({evse.id for evse in evses}) != len(evses):
        raise SiteDocumentError(f"{where}: EVSE ids repeat")
    return tuple(evses)


def parse_site(document: Any) -> SitePlan:
    """The plan of a site document.

    Raises:
        SiteDocumentError: the document is not a valid site; the message names the field.
    """
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        raise SiteDocumentError("site: a mapping with a string id")
    schedules: dict[NodeKey, Schedule] = {}
    stations: set[str] = set()

    def children(raw: Any, where: str) -> tuple[Group | Station, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise SiteDocumentError(f"{where}: a list of groups and stations")
        return tuple(node(item, f"{where}[{index}]") for index, item in enumerate(raw))

    def node(raw: Any, where: str) -> Group | Station:
        if not isinstance(raw, dict) or ("group" in raw) == ("station" in raw):
            raise SiteDocumentError(f"{where}: either {{group: id, ...}} or {{station: id, ...}}")
        kind = "group" if "group" in raw else "station"
        allowed = {kind, "limit", "schedule"} | ({"children"} if kind == "group" else {"evses"})
        unknown = set(raw) - allowed
        if unknown:
            raise SiteDocumentError(f"{where}: unknown field(s) {sorted(unknown)}")
        ident = raw[kind]
        if not isinstance(ident, str) or not ident:
            raise SiteDocumentError(f"{where}.{kind}: a non-empty string id")
        schedule = _schedule(raw.get("schedule"), f"{where}.schedule")
        if schedule is not None:
            schedules[ident] = schedule
        limit = _limit(raw.get("limit"), f"{where}.limit")
        if kind == "group":
            return Group(ident, children(raw.get("children"), f"{where}.children"), limit)
        stations.add(ident)
        return Station(ident, _evses(raw.get("evses"), f"{where}.evses"), limit)

    site_id = document["id"]
    unknown = set(document) - {"id", "name", "limit", "schedule", "children", "priorities"}
    if unknown:
        raise SiteDocumentError(f"site: unknown field(s) {sorted(unknown)}")
    schedule = _schedule(document.get("schedule"), "site.schedule")
    if schedule is not None:
        schedules[site_id] = schedule
    priorities = document.get("priorities", {})
    if not isinstance(priorities, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in priorities.items()
    ):
        raise SiteDocumentError("site.priorities: a mapping of group id to integer")
    try:
        site = Site(
            site_id,
            children(document.get("children"), "site.children"),
            _limit(document.get("limit"), "site.limit"),
        )
    except ValueError as error:
        if isinstance(error, SiteDocumentError):
            raise
        raise SiteDocumentError(f"site: {error}") from None
    return SitePlan(
        site=site,
        name=str(document.get("name", site_id)),
        schedules=schedules,
        priorities=dict(priorities),
        stations=frozenset(stations),
    )
