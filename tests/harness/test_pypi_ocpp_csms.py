"""The harness against another implementation's CSMS: a small one on the PyPI ``ocpp`` package.

The CSMS is the ocpp package's ``ChargePoint`` (the side that talks to one station) behind a
plain ``websockets`` server, as in that package's examples: it accepts every boot and answers
Heartbeat, StatusNotification, Authorize and TransactionEvent; it checks no password. It has no
operator: its driver can "set" the registration and a token to Accepted (which it always
answers) and nothing else, and it cannot send a request on an operator's behalf. So the report
must tell the cases it passes from those it fails on the wire and from those the driver could
not play (errors), and nothing may crash.
``pytest -s`` shows the run.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action, AuthorizationStatusEnumType, RegistrationStatusEnumType
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from kilowatt.harness import report
from kilowatt.harness.context import Target
from kilowatt.harness.drivers import CallableDriver, DriverError
from kilowatt.harness.runner import Result, run_cases, select

STATION = "OCPP-PKG-1"


def now() -> str:
    return datetime.now(UTC).isoformat()


class Point(ChargePoint):  # type: ignore[misc]
    """The ocpp package's CSMS end of one station connection."""

    @on(Action.boot_notification)
    def on_boot_notification(self, **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=now(), interval=300, status=RegistrationStatusEnumType.accepted
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    def on_status_notification(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_token_info={"status": AuthorizationStatusEnumType.accepted})

    @on(Action.transaction_event)
    def on_transaction_event(self, **_: Any) -> call_result.TransactionEvent:
        return call_result.TransactionEvent()


async def handle(websocket: ServerConnection) -> None:
    assert websocket.request is not None
    point = Point(websocket.request.path.rsplit("/", 1)[-1], websocket, response_timeout=5)
    with contextlib.suppress(websockets.ConnectionClosed):
        await point.start()


@pytest.fixture
async def ocpp_csms_url() -> AsyncIterator[str]:
    async with serve(handle, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")]) as server:
        yield f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}/ocpp"


async def set_registration(station_id: str, status: str, interval: int) -> None:
    if status != "Accepted":
        raise DriverError(f"this CSMS accepts every station: it cannot make {station_id} {status}")


async def set_id_token(
    id_token: str, type: str, status: str, expiry: str | None = None, **_: Any
) -> None:
    if status != "Accepted" or expiry is not None:
        until = f" until {expiry}" if expiry is not None else ""
        raise DriverError(
            f"this CSMS accepts every token: it cannot make {id_token} {status}{until}"
        )


async def send(**params: Any) -> None:
    raise DriverError("this CSMS has no operator to send requests")


def counts(results: list[Result]) -> str:
    lines = [
        f"block {block}: {c['passed']} passed, {c['failed']} failed, {c['error']} errors"
        for block, c in report.counts_by_block(results).items()
    ]
    total = Counter(r.outcome for r in results)
    lines.append(
        f"csms cases: {total['passed']} passed, {total['failed']} failed, {total['error']} errors"
    )
    return "\n".join(lines)


async def test_the_csms_cases_against_the_ocpp_package(ocpp_csms_url: str) -> None:
    # It checks no password: any is let in.
    target = Target(
        role="csms", url=ocpp_csms_url, station_id=STATION, password="any-password", timeout=3.0
    )
    driver = CallableDriver(
        {"set_registration": set_registration, "set_id_token": set_id_token, "send": send}
    )
    cases = select("csms")
    results = await run_cases(cases, target, driver, case_timeout=30.0)
    print("\nthe harness against a CSMS on the PyPI ocpp package:")
    for result in results:
        first = result.message.splitlines()[0] if result.message else ""
        print(f"  {result.outcome:6} {result.case.id} {result.case.title}  {first}")
    print(counts(results))

    assert [r.case.id for r in results] == [c.id for c in cases]
    outcome = {r.case.id: r for r in results}
    # What it does, it does right: boot, status, heartbeats, reconnecting, the subprotocol.
    for passing in ("TC_B_01_CSMS", "TC_B_04_CSMS", "TC_B_06_CSMS"):
        assert outcome[passing].outcome == "passed", outcome[passing].message
    # Pending and Rejected need an operator it does not have: the driver could not act.
    for needs_operator in ("TC_B_02_CSMS", "TC_B_03_CSMS"):
        result = outcome[needs_operator]
        assert result.outcome == "error", result.message
        assert result.message.startswith("the driver could not act: this CSMS accepts"), result
    # It keeps a station's old connection open beside the new one: a real failure, on the wire.
    replaced = outcome["TC_B_05_CSMS"]
    assert replaced.outcome == "failed", replaced.message
    assert "the first connection is still open" in replaced.message
    # Nothing crashed: every error is the driver's, never a harness bug or a traceback.
    for result in results:
        if result.outcome == "error":
            assert result.message.startswith("the driver could not act"), result.message
            assert "Traceback" not in result.message
    xml = report.junit_xml(results, "ocpp-package")
    assert f'tests="{len(results)}"' in xml
    assert all(f"## {r.case.id}: " in report.markdown(results, "ocpp package") for r in results)
