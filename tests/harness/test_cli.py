"""``kilowatt harness``: against kilowatt's CSMS with its REST API on a real port, the case list,
and bad usage."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn

from kilowatt import cli
from kilowatt.api import create_app
from kilowatt.harness import cli as harness_cli
from kilowatt.harness.case import CASES
from kilowatt.harness.drivers import CallableDriver
from kilowatt.harness.runner import select
from tests.harness.conftest import API_TOKEN, PASSWORD, CsmsUnderTest, TlsCsmsUnderTest
from tests.harness.test_broken_peers import PASSWORD as STATION_PASSWORD, STATION, StationDouble


class _Api(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the test runner's signals stay its own
        yield


@pytest.fixture
async def api_url(kilowatt_csms: CsmsUnderTest) -> AsyncIterator[str]:
    """kilowatt's REST API of the fixture's CSMS, served by uvicorn on a port of 127.0.0.1."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Api(
        uvicorn.Config(
            create_app(kilowatt_csms.csms), lifespan="off", log_level="warning", ws="none"
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "the API did not start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    sock.close()


async def kilowatt_cli(*argv: str) -> int:
    """``kilowatt ARGV`` in a thread of its own (it runs its own event loop), while this test's
    loop serves the CSMS."""
    return await asyncio.to_thread(cli.main, list(argv))


async def test_csms_cases_pass_against_kilowatt(
    kilowatt_csms: CsmsUnderTest,
    api_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = kilowatt_csms.target
    assert target.url is not None
    junit, markdown = tmp_path / "out.xml", tmp_path / "out.md"
    status = await kilowatt_cli(
        "harness", "csms", "--url", target.url, "--station-id", target.station_id,
        "--password", PASSWORD, "--driver", "kilowatt", "--api-url", api_url,
        "--api-token", API_TOKEN, "--timeout", "5",
        "--junit", str(junit), "--report", str(markdown),
    )  # fmt: skip
    out = capsys.readouterr().out
    cases = select("csms")
    assert status == 0, out
    for case in cases:
        assert f"PASS {case.id} {case.title} (" in out
    assert f"{len(cases)} cases: {len(cases)} passed, 0 failed, 0 errors" in out
    assert "block B: " in out

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        str(len(cases)),
        "0",
        "0",
    )
    assert {c.get("name") for c in suite.iter("testcase")} == {c.id for c in cases}
    text = markdown.read_text()
    assert f"{len(cases)} passed, 0 failed, 0 errors" in text
    for case in cases:
        assert f"## {case.id}: {case.title} — passed" in text


async def test_failing_cases_exit_1_and_are_reported(
    kilowatt_csms: CsmsUnderTest,
    api_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The wrong password: the CSMS refuses every connection, so each case fails."""
    target = kilowatt_csms.target
    assert target.url is not None
    junit, markdown = tmp_path / "out.xml", tmp_path / "out.md"
    status = await kilowatt_cli(
        "harness", "csms", "--url", target.url, "--station-id", target.station_id,
        "--password", "not-the-password", "--driver", "kilowatt", "--api-url", api_url,
        "--api-token", API_TOKEN, "--timeout", "5", "--cases", "TC_B_01_CSMS", "TC_B_04_CSMS",
        "--junit", str(junit), "--report", str(markdown),
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 1, out
    assert "FAIL TC_B_01_CSMS Cold boot: Accepted (" in out
    assert "— ConnectRefused: HTTP 401" in out
    assert "2 cases: 0 passed, 2 failed, 0 errors" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "2", "0")
    failure = next(suite.iter("failure"))
    assert "HTTP 401" in (failure.get("message") or "")
    text = markdown.read_text()
    assert "## TC_B_01_CSMS: Cold boot: Accepted — failed" in text
    assert "**What failed:** ConnectRefused: HTTP 401" in text


async def test_a_driver_that_cannot_act_errs(kilowatt_csms: CsmsUnderTest) -> None:
    """A driver that can do nothing: the cases that need the operator err, the others pass,
    and the exit status is 1."""
    target = kilowatt_csms.target
    assert target.url is not None
    args = harness_cli.parser().parse_args(
        ["csms", "--url", target.url, "--station-id", target.station_id, "--password", PASSWORD,
         "--cases", "TC_B_02_CSMS", "TC_B_06_CSMS"]
    )  # fmt: skip
    out = io.StringIO()
    assert await harness_cli.run_async(args, driver=CallableDriver({}), out=out) == 1
    text = out.getvalue()
    assert "ERROR TC_B_02_CSMS" in text
    assert "— the driver could not act: this driver cannot set_registration" in text
    assert "PASS TC_B_06_CSMS" in text
    assert "2 cases: 1 passed, 0 failed, 1 errors" in text


async def test_kilowatt_driver_checks_the_api_first(
    kilowatt_csms: CsmsUnderTest, api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No API there, a token it refuses, a station it does not know: bad usage, no case run."""
    target = kilowatt_csms.target
    assert target.url is not None
    for api, token, station, says in [
        ("http://127.0.0.1:1", API_TOKEN, target.station_id, "kilowatt's API at "),
        (api_url, "not-the-token", target.station_id, "refused the token"),
        (api_url, API_TOKEN, "NOBODY-1", "station NOBODY-1 is not registered"),
    ]:
        status = await kilowatt_cli(
            "harness", "csms", "--url", target.url, "--station-id", station, "--driver",
            "kilowatt", "--api-url", api, "--api-token", token,
        )  # fmt: skip
        captured = capsys.readouterr()
        assert status == 2, captured
        assert says in captured.err and "PASS" not in captured.out, captured


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["harness", "list"]) == 0
    out = capsys.readouterr().out
    for case in CASES.values():
        assert f"{case.title}  [{', '.join(case.use_cases)}]" in out
        assert case.id in out
    assert f"{len(CASES)} cases" in out

    assert cli.main(["harness", "list", "--role", "csms", "--cases", "TC_B_0[12]*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["TC_B_01_CSMS", "TC_B_02_CSMS"]
    assert lines[-1] == "2 cases"


@pytest.mark.parametrize(
    "argv",
    [
        ["csms", "--url", "http://127.0.0.1:9000/ocpp", "--station-id", "A"],
        ["csms", "--url", "ws://:9000/ocpp", "--station-id", "A"],
        ["csms", "--url", "ws://127.0.0.1:port/ocpp", "--station-id", "A"],
        ["csms", "--url", "ws://127.0.0.1:1/ocpp", "--station-id", "A"],  # nothing listens
        ["csms", "--url", "ws://127.0.0.1:9000/ocpp", "--station-id", "A", "--cases", "TC_Z*"],
        ["csms", "--url", "ws://127.0.0.1:9000/ocpp", "--station-id", "A", "--driver", "kilowatt"],
        ["station", "--port", "0", "--station-id", "A", "--cases", "TC_Z*"],
        ["list", "--cases", "NOTHING"],
    ],
    ids=[
        "http-url",
        "no-host",
        "bad-port",
        "unreachable",
        "no-case",
        "kilowatt-driver-without-api",
        "no-station-case",
        "list-no-case",
    ],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["harness", *argv]) == 2
    assert "kilowatt harness: " in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["csms", "--station-id", "A"],  # no --url
        ["csms", "--url", "ws://127.0.0.1:9000/ocpp", "--station-id", "A", "--driver", "robot"],
        ["station", "--port", "x", "--station-id", "A"],
        [],
    ],
    ids=["no-url", "unknown-driver", "port-not-a-number", "no-subcommand"],
)
def test_argument_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        cli.main(["harness", *argv])
    assert exit.value.code == 2


async def test_station_cases_run_as_the_station_connects(tmp_path: Path) -> None:
    """``harness station``: it prints the URL, waits for the station, runs the cases on it."""
    out = io.StringIO()
    junit = tmp_path / "station.xml"
    args = harness_cli.parser().parse_args(
        ["station", "--port", "0", "--station-id", STATION, "--password", STATION_PASSWORD,
         "--cases", "TC_E_01_CS", "--timeout", "3", "--connect-wait", "10",
         "--junit", str(junit)]
    )  # fmt: skip
    double = StationDouble()
    run = asyncio.create_task(harness_cli.run_async(args, driver=double.driver(), out=out))
    try:
        async with asyncio.timeout(10):
            while "connect the station to " not in out.getvalue():
                await asyncio.sleep(0.01)
        url = out.getvalue().split("connect the station to ")[1].split()[0]
        assert url.endswith(f"/ocpp/{STATION}")
        await double.start(url.removesuffix(f"/{STATION}"))
        status = await asyncio.wait_for(run, 30)
    finally:
        await double.stop()
    text = out.getvalue()
    assert status == 0, text
    assert "PASS TC_E_01_CS " in text and "1 cases: 1 passed, 0 failed, 0 errors" in text
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("1", "0")


async def test_station_that_never_connects_exits_1() -> None:
    out = io.StringIO()
    args = harness_cli.parser().parse_args(
        ["station", "--port", "0", "--station-id", STATION, "--connect-wait", "0.2"]
    )
    assert await harness_cli.run_async(args, out=out) == 1
    assert "the station did not connect within 0.2 s" in out.getvalue()


async def test_csms_tls_cases_pass_against_kilowatt(
    kilowatt_csms_tls: TlsCsmsUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    """``harness csms --url wss://...``: profile 2 by default, 3 with a client certificate."""
    for profile in (2, 3):
        target = kilowatt_csms_tls.target(profile)
        assert target.url is not None and target.ca is not None
        argv = ["harness", "csms", "--url", target.url, "--station-id", target.station_id,
                "--ca", str(target.ca), "--plain-url", kilowatt_csms_tls.plain_url,
                "--timeout", "5"]  # fmt: skip
        if profile == 2:
            argv += ["--password", PASSWORD]
        else:
            argv += ["--client-cert", str(target.client_cert), "--client-key",
                     str(target.client_key)]  # fmt: skip
        status = await kilowatt_cli(*argv)
        out = capsys.readouterr().out
        cases = select("csms", security_profile=profile)
        assert status == 0, out
        assert f"security profile {profile}: {len(cases)} cases" in out
        assert f"{len(cases)} cases: {len(cases)} passed, 0 failed, 0 errors" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["csms", "--url", "wss://127.0.0.1:9000/ocpp", "--station-id", "A"],  # no --ca
        ["csms", "--url", "ws://127.0.0.1:9000/ocpp", "--station-id", "A",
         "--security-profile", "2"],
        ["csms", "--url", "wss://127.0.0.1:9000/ocpp", "--station-id", "A", "--ca", "ca.pem",
         "--security-profile", "3"],
        ["station", "--port", "0", "--station-id", "A", "--security-profile", "2"],
        ["station", "--port", "0", "--station-id", "A", "--server-cert", "s.pem",
         "--server-key", "s.key", "--security-profile", "3"],
    ],
    ids=["wss-without-ca", "profile-2-over-ws", "profile-3-without-cert",
         "station-profile-2-without-cert", "station-profile-3-without-client-ca"],
)  # fmt: skip
def test_tls_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["harness", *argv]) == 2
    assert "kilowatt harness: " in capsys.readouterr().err


def test_list_by_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["harness", "list", "--security-profile", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    found = select("csms", security_profile=3) + select("station", security_profile=3)
    assert [line.split()[0] for line in lines[:-1]] == [c.id for c in found]
    assert all(line.endswith("(profile 3)") for line in lines[:-1])


async def test_kilowatt_station_as_a_process_driven_through_its_control_api(
    tmp_path: Path,
) -> None:
    """``kilowatt station --control-port`` in a process of its own, and ``harness station
    --driver kilowatt`` driving it through that API: the station cases that need a driver
    pass."""
    control = socket.socket()
    control.bind(("127.0.0.1", 0))
    control_port = control.getsockname()[1]
    control.close()
    out = io.StringIO()
    # Cases without a reboot: the process runs with the station's default reconnection
    # back-off, longer than a step's timeout.
    cases = ["TC_C_01_CS", "TC_E_02_CS", "TC_F_06_CS"]
    args = harness_cli.parser().parse_args(
        ["station", "--port", "0", "--station-id", "KW-CTL", "--cases", *cases,
         "--driver", "kilowatt", "--control-url", f"http://127.0.0.1:{control_port}",
         "--connect-wait", "30"]
    )  # fmt: skip
    run = asyncio.create_task(harness_cli.run_async(args, out=out))
    async with asyncio.timeout(10):
        while "connect the station to " not in out.getvalue():
            await asyncio.sleep(0.01)
    url = out.getvalue().split("connect the station to ")[1].split()[0]
    station = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kilowatt", "station", "--csms", url.removesuffix("/KW-CTL"),
        "--id", "KW-CTL", "--control-port", str(control_port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        status = await asyncio.wait_for(run, 120)
    finally:
        station.terminate()
        await station.wait()
    text = out.getvalue()
    assert status == 0, text
    assert all(f"PASS {case} " in text for case in cases), text
