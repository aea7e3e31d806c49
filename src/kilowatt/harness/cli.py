"""``kilowatt harness``: run the compliance cases from the command line.

- ``kilowatt harness csms --url ws://HOST:PORT/ocpp --station-id ID``: the harness connects to
  the CSMS under test as station ID and runs the CSMS cases;
- ``kilowatt harness station --port 9100 --station-id ID``: the harness is a CSMS at
  ws://HOST:PORT/ocpp/ID, and runs the station cases once the station under test connects;
- ``kilowatt harness list [--role csms|station]``: the cases.

Security profiles 2 and 3: ``csms --url wss://... --ca CA.pem`` (and ``--client-cert``,
``--client-key`` for profile 3); ``station --server-cert S.pem --server-key S.key`` (and
``--client-ca``, ``--client-ca-key`` for profile 3). A run takes the cases of one profile,
``--security-profile``: by default 1 over ws, 2 over wss, 3 over wss with client certificates.

Each case prints one line as it ends, then the counts per block. Exit status: 0 when every case
passed, 1 when one failed or erred, 2 on bad usage (no case matched, a bad URL).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import httpx

from kilowatt.harness import report
from kilowatt.harness.case import Case, Role
from kilowatt.harness.context import StationLink, Target
from kilowatt.harness.drivers import (
    Driver,
    HttpDriver,
    InteractiveDriver,
    kilowatt_csms_driver,
    kilowatt_station_driver,
)
from kilowatt.harness.runner import Result, run_cases, select

__all__ = ["add_parser", "main", "parser", "progress_line", "run", "run_async", "summary"]

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}


class UsageError(Exception):
    """The command line asks for something that cannot be run (exit status 2)."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``harness`` with its subcommands to a parser's subcommands."""
    harness = commands.add_parser(
        "harness", help="run OCPP 2.0.1 compliance cases against a CSMS or a charging station"
    )
    _add_subcommands(harness)


def _add_subcommands(harness: argparse.ArgumentParser) -> None:
    roles = harness.add_subparsers(dest="harness_command", required=True)

    csms = roles.add_parser("csms", help="test a CSMS: the harness connects to it as a station")
    csms.add_argument("--url", required=True, help="the CSMS's OCPP URL, e.g. ws://h:9000/ocpp")
    csms.add_argument("--station-id", required=True, help="the identity the harness connects as")
    csms.add_argument(
        "--driver",
        choices=["interactive", "kilowatt"],
        default="interactive",
        help="who does the operator's steps: a person at this terminal (default), or "
        "kilowatt's REST API (with --api-url and --api-token)",
    )
    csms.add_argument("--api-url", help="kilowatt's API, e.g. http://127.0.0.1:8080")
    csms.add_argument("--api-token", help="a bearer token of kilowatt's API")
    csms.add_argument(
        "--ca", type=Path, help="the CA bundle the CSMS's certificate chains to (a wss URL)"
    )
    csms.add_argument(
        "--client-cert", type=Path, help="the station's certificate, CN the station id (profile 3)"
    )
    csms.add_argument("--client-key", type=Path, help="the key of --client-cert")
    csms.add_argument(
        "--plain-url",
        help="the same CSMS's plain ws endpoint, where a profile-2 station must be refused",
    )
    _common(csms)

    station = roles.add_parser("station", help="test a station: the harness is its CSMS")
    station.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    station.add_argument("--port", type=int, default=9100, help="the port (default 9100; 0: any)")
    station.add_argument("--station-id", required=True, help="the identity the station uses")
    station.add_argument(
        "--driver",
        choices=["interactive", "kilowatt"],
        default="interactive",
        help="who does the steps at the station (plug in, present a card): a person here, or "
        "kilowatt's station through its control API (--control-url)",
    )
    station.add_argument(
        "--control-url",
        help="kilowatt's station control API, e.g. http://127.0.0.1:9200 "
        "(kilowatt station --control-port 9200)",
    )
    station.add_argument(
        "--connect-wait",
        type=float,
        default=300.0,
        help="seconds to wait for the station's first connection (default 300)",
    )
    station.add_argument(
        "--server-cert", type=Path, help="the harness's server certificate: it listens on wss"
    )
    station.add_argument("--server-key", type=Path, help="the key of --server-cert")
    station.add_argument(
        "--client-ca", type=Path, help="the CA of station certificates (profile 3)"
    )
    station.add_argument(
        "--client-ca-key",
        type=Path,
        help="the key of --client-ca: the harness signs the station's CSRs (profile 3)",
    )
    _common(station)

    listing = roles.add_parser("list", help="list the cases")
    listing.add_argument("--role", choices=["csms", "station"], help="only the cases of this role")
    listing.add_argument("--cases", nargs="+", default=["*"], metavar="PATTERN")
    listing.add_argument(
        "--security-profile", type=int, choices=[1, 2, 3], help="only the cases of this profile"
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password", help="the station's Basic-auth password (profiles 1, 2)")
    parser.add_argument(
        "--security-profile",
        type=int,
        choices=[1, 2, 3],
        help="run the cases of this profile (default: 1 over ws, 2 over wss, 3 over wss "
        "with client certificates)",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["*"],
        metavar="PATTERN",
        help="case ids or patterns, e.g. 'TC_B_*' TC_E_01_CSMS (default: all)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds for each step (default 10)"
    )
    parser.add_argument(
        "--case-timeout",
        type=float,
        default=120.0,
        help="seconds for a whole case, the driver's steps included (default 120)",
    )
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report here")
    parser.add_argument("--report", metavar="FILE", help="write a Markdown report here")


def parser() -> argparse.ArgumentParser:
    """The parser of ``kilowatt harness``'s own arguments (after ``harness``)."""
    parser = argparse.ArgumentParser(
        prog="kilowatt harness", description="OCPP 2.0.1 compliance cases."
    )
    _add_subcommands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kilowatt.harness.cli ...``: the same as ``kilowatt harness ...``."""
    return run(parser().parse_args(argv))


def run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run parsed ``kilowatt harness`` arguments; returns the exit status."""
    out = out or sys.stdout
    try:
        return asyncio.run(run_async(args, out=out))
    except KeyboardInterrupt:
        print("interrupted", file=out, flush=True)
        return EXIT_INTERRUPTED


async def run_async(
    args: argparse.Namespace, *, driver: Driver | None = None, out: TextIO | None = None
) -> int:
    """The command, in a running loop; ``driver`` replaces the one the arguments name."""
    out = out or sys.stdout
    try:
        if args.harness_command == "list":
            return _list(args, out)
        if args.harness_command == "csms":
            return await _csms(args, driver, out)
        return await _station(args, driver, out)
    except UsageError as error:
        print(f"kilowatt harness: {error}", file=sys.stderr, flush=True)
        return EXIT_USAGE


def _patterns(args: argparse.Namespace) -> list[str]:
    return [p.strip() for text in args.cases for p in text.split(",") if p.strip()]


def _cases(role: Role, args: argparse.Namespace, profile: int) -> list[Case]:
    found = select(role, _patterns(args), security_profile=profile)
    if not found:
        raise UsageError(
            f"no {role} case of security profile {profile} matches {' '.join(_patterns(args))}"
        )
    return found


def _csms_profile(args: argparse.Namespace) -> int:
    """The security profile of a CSMS run, and whether the options allow it."""
    wss = args.url.startswith("wss:")
    profile: int = args.security_profile or (
        1 if not wss else 3 if args.client_cert is not None else 2
    )
    if (profile >= 2) != wss:
        raise UsageError(
            f"security profile {profile} needs a {'wss' if profile >= 2 else 'ws'} URL"
        )
    if wss and args.ca is None:
        raise UsageError("a wss URL needs --ca, the CA bundle of the CSMS's certificate")
    if profile == 3 and (args.client_cert is None or args.client_key is None):
        raise UsageError("security profile 3 needs --client-cert and --client-key")
    if args.plain_url is not None and not args.plain_url.startswith("ws:"):
        raise UsageError(f"--plain-url must be a ws:// URL, not {args.plain_url!r}")
    return profile


def _station_profile(args: argparse.Namespace) -> int:
    """The security profile of a station run, and whether the options allow it."""
    tls = args.server_cert is not None
    profile: int = args.security_profile or (
        1 if not tls else 3 if args.client_ca is not None else 2
    )
    if (profile >= 2) != tls:
        raise UsageError(
            f"security profile {profile} "
            + ("needs --server-cert and --server-key" if profile >= 2 else "is plain ws")
        )
    if tls and args.server_key is None:
        raise UsageError("--server-cert needs --server-key")
    if profile == 3 and args.client_ca is None:
        raise UsageError("security profile 3 needs --client-ca")
    return profile


def _list(args: argparse.Namespace, out: TextIO) -> int:
    roles: list[Role] = [args.role] if args.role else ["csms", "station"]
    profile = args.security_profile
    cases = [c for role in roles for c in select(role, _patterns(args), security_profile=profile)]
    if not cases:
        role = f"{args.role} " if args.role else ""
        raise UsageError(f"no {role}case matches {' '.join(_patterns(args))}")
    width = max(len(c.id) for c in cases)
    for c in cases:
        shown = f"  (profile {c.security_profile})" if c.security_profile > 1 else ""
        print(f"{c.id:<{width}}  {c.title}  [{', '.join(c.use_cases)}]{shown}", file=out)
    print(f"{len(cases)} cases", file=out, flush=True)
    return EXIT_PASSED


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"--url must be a ws:// or wss:// URL with a host, not {url!r}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        raise UsageError(f"--url {url!r}: {error}") from None


async def _reachable(url: str, timeout: float) -> None:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as error:
        raise UsageError(f"cannot reach {host}:{port}: {error or 'timed out'}") from None
    writer.close()
    await writer.wait_closed()


async def _check_kilowatt_api(api_url: str, token: str | None, station_id: str) -> None:
    """Before any case: kilowatt's API answers, takes the token and knows the station (else
    every case that needs the operator would err, each with the same message)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    path = f"/api/v1/stations/{urllib.parse.quote(station_id, safe='')}"
    try:
        async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=10.0) as client:
            response = await client.get(path)
    except httpx.HTTPError as error:
        raise UsageError(f"kilowatt's API at {api_url}: {error or type(error).__name__}") from None
    if response.status_code in (401, 403):
        raise UsageError(f"kilowatt's API at {api_url} refused the token (--api-token)")
    if response.status_code == 404:
        raise UsageError(f"station {station_id} is not registered at the CSMS (kilowatt seed)")
    if response.status_code >= 400:
        raise UsageError(f"kilowatt's API: GET {path} answered {response.status_code}")


async def _csms(args: argparse.Namespace, driver: Driver | None, out: TextIO) -> int:
    _check_url(args.url)
    profile = _csms_profile(args)
    cases = _cases("csms", args, profile)
    if driver is None and args.driver == "kilowatt" and not args.api_url:
        raise UsageError("--driver kilowatt needs --api-url (and --api-token)")
    await _reachable(args.url, args.timeout)
    owned: HttpDriver | None = None
    if driver is None:
        if args.driver == "kilowatt":
            await _check_kilowatt_api(args.api_url, args.api_token, args.station_id)
            driver = owned = kilowatt_csms_driver(args.api_url, args.api_token)
        else:
            driver = InteractiveDriver()
    target = Target(
        role="csms",
        url=args.url,
        station_id=args.station_id,
        password=args.password,
        timeout=args.timeout,
        security_profile=profile,
        plain_url=args.plain_url,
        ca=args.ca,
        client_cert=args.client_cert,
        client_key=args.client_key,
    )
    print(
        f"testing the CSMS at {args.url} as station {args.station_id}, security profile "
        f"{profile}: {len(cases)} cases",
        file=out,
        flush=True,
    )
    try:
        results = await _run(cases, target, driver, None, args, out)
    finally:
        if owned is not None:
            await owned.close()
    return _finish(results, args, f"CSMS at {args.url}", "harness.csms", out)


async def _station(args: argparse.Namespace, driver: Driver | None, out: TextIO) -> int:
    profile = _station_profile(args)
    cases = _cases("station", args, profile)
    target = Target(
        role="station",
        station_id=args.station_id,
        password=args.password,
        host=args.host,
        port=args.port,
        timeout=args.timeout,
        security_profile=profile,
        server_cert=args.server_cert,
        server_key=args.server_key,
        client_ca=args.client_ca,
        client_ca_key=args.client_ca_key,
    )
    owned: HttpDriver | None = None
    if driver is None and args.driver == "kilowatt":
        if not args.control_url:
            raise UsageError("--driver kilowatt needs --control-url")
        driver = owned = kilowatt_station_driver(args.control_url)
    driver = driver or InteractiveDriver()
    try:
        link = StationLink(target)
        await link.__aenter__()
    except OSError as error:  # ssl.SSLError too: a certificate that does not load
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error}") from None
    try:
        identity = urllib.parse.quote(args.station_id, safe="")
        url = f"{link.scheme}://{args.host}:{link.port}/ocpp/{identity}"
        print(f"connect the station to {url}", file=out, flush=True)
        if args.password is not None:
            print(f"(Basic auth: user {args.station_id}, the given password)", file=out)
        try:
            await link.connection(args.connect_wait)
        except TimeoutError:
            print(f"the station did not connect within {args.connect_wait:g} s", file=out)
            return EXIT_FAILED
        print(f"the station is connected: {len(cases)} cases", file=out, flush=True)
        results = await _run(cases, target, driver, link, args, out)
    finally:
        await link.__aexit__(None, None, None)
        if owned is not None:
            await owned.close()
    return _finish(results, args, f"station {args.station_id}", "harness.station", out)


async def _run(
    cases: list[Case],
    target: Target,
    driver: Driver,
    link: StationLink | None,
    args: argparse.Namespace,
    out: TextIO,
) -> list[Result]:
    done: list[Result] = []

    def progress(result: Result) -> None:
        done.append(result)
        print(progress_line(result), file=out, flush=True)

    try:
        return await run_cases(
            cases, target, driver, link=link, case_timeout=args.case_timeout, progress=progress
        )
    except asyncio.CancelledError:  # Ctrl-C: what ran so far is still reported
        print(f"interrupted after {len(done)} of {len(cases)} cases", file=out, flush=True)
        _finish(done, args, f"{target.role} (interrupted)", f"harness.{target.role}", out)
        raise


def progress_line(result: Result) -> str:
    """``PASS TC_B_01_CSMS Cold boot: Accepted (0.12 s)``, with `` — why`` when it did not."""
    line = f"{_MARK[result.outcome]} {result.case.id} {result.case.title} ({result.seconds:.2f} s)"
    if result.outcome != "passed" and result.message:
        line += f" — {result.message.splitlines()[0]}"
    return line


def summary(results: Sequence[Result]) -> list[str]:
    """The counts per block, then the total."""
    lines = [
        f"block {block}: {found['passed']} passed, {found['failed']} failed, "
        f"{found['error']} errors"
        for block, found in report.counts_by_block(results).items()
    ]
    total = Counter(result.outcome for result in results)
    lines.append(
        f"{len(results)} cases: {total['passed']} passed, {total['failed']} failed, "
        f"{total['error']} errors"
    )
    return lines


def _finish(
    results: list[Result], args: argparse.Namespace, subject: str, suite: str, out: TextIO
) -> int:
    print("", file=out)
    for line in summary(results):
        print(line, file=out)
    if args.junit:
        Path(args.junit).write_text(report.junit_xml(results, suite))
        print(f"JUnit XML: {args.junit}", file=out)
    if args.report:
        Path(args.report).write_text(report.markdown(results, f"OCPP 2.0.1 compliance: {subject}"))
        print(f"report: {args.report}", file=out)
    out.flush()
    return EXIT_PASSED if all(r.outcome == "passed" for r in results) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
