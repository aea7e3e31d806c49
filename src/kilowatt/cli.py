"""The command line: ``kilowatt csms``, ``seed FILE``, ``validate``, ``station``, ``simulate``,
``harness``.

``python -m kilowatt`` and the ``kilowatt`` script both land here. This is the top layer: it may
put the CSMS, the API and the transport together.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import secrets
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from kilowatt.clock import SystemClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.config import ConfigError, Settings, load_settings
from kilowatt.csms.pki import CertificateAuthority
from kilowatt.csms.seed import SeedError, load_document, seed
from kilowatt.csms.store.sql import open_store
from kilowatt.harness import cli as harness_cli
from kilowatt.messages import validate
from kilowatt.rpc.errors import RpcError
from kilowatt.station import commands as station_commands
from kilowatt.transport.security import CertificateFiles, server_context
from kilowatt.transport.server import Listener, StationServer

__all__ = ["main"]

logger = logging.getLogger("kilowatt")


def _listeners(settings: Settings) -> list[Listener]:
    listeners = [Listener("ws", settings.ocpp_host, settings.ocpp_port)]
    if settings.tls_port is not None:
        certificates = [
            CertificateFiles(Path(cert), Path(key))
            for cert, key in (
                (settings.tls_rsa_cert, settings.tls_rsa_key),
                (settings.tls_ecdsa_cert, settings.tls_ecdsa_key),
            )
            if cert and key
        ]
        client_ca = Path(settings.tls_client_ca) if settings.tls_client_ca else None
        context = server_context(certificates, client_ca=client_ca)
        listeners.append(Listener("wss", settings.ocpp_host, settings.tls_port, context))
    return listeners


def _with_api_token(settings: Settings) -> tuple[Settings, Path | None]:
    """Without configured API tokens, one is made on first start and kept in the data directory:
    the API never runs open, and ``make run`` still works out of the box."""
    if settings.api_tokens:
        return settings, None
    token_file = Path(settings.data_dir) / "api-token"
    if not token_file.exists():
        token_file.write_text(secrets.token_urlsafe(32) + "\n")
        token_file.chmod(0o600)
    token = token_file.read_text().strip()
    return dataclasses.replace(settings, api_tokens=(token,)), token_file


async def run_csms(settings: Settings) -> None:
    """Run the CSMS until SIGINT or SIGTERM: stations' endpoint, REST API and UI."""
    import uvicorn

    from kilowatt.api import create_app

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    settings, token_file = _with_api_token(settings)
    store = await open_store(settings.database, flush_interval=settings.store_flush_interval)
    authority = None
    if settings.signing_ca_cert and settings.signing_ca_key:
        authority = CertificateAuthority.from_files(
            settings.signing_ca_cert, settings.signing_ca_key
        )
    csms = Csms(settings, store, SystemClock(), authority)
    await csms.start()
    listeners = _listeners(settings)
    stations = StationServer(
        listeners,
        SUBPROTOCOLS,
        csms.admit,
        csms.serve,
        path_prefix=settings.ocpp_path,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        close_timeout=settings.close_timeout,
        max_message_size=settings.max_frame_size,
    )

    class ApiServer(uvicorn.Server):
        # Signals are ours (below): uvicorn must not install its own nor re-raise them.
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    api = ApiServer(
        uvicorn.Config(
            create_app(csms),
            host=settings.api_host,
            port=settings.api_port,
            log_level=settings.log_level.lower(),
            lifespan="off",
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stations.start()
        api_task = asyncio.create_task(api.serve())
        while not api.started and not api_task.done():
            await asyncio.sleep(0.05)
        if api_task.done():
            await api_task  # raises what stopped it, e.g. the port is taken
            raise RuntimeError("the API server stopped at start-up")
        for listener in listeners:
            scheme = "wss" if listener.ssl else "ws"
            port = stations.port(listener.name)
            print(
                f"OCPP listening on {scheme}://{settings.ocpp_host}:{port}"
                f"{settings.ocpp_path}/{{stationId}} (subprotocols: {', '.join(SUBPROTOCOLS)})",
                flush=True,
            )
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        print(f"API on {api_url}/api/v1, docs on {api_url}/docs", flush=True)
        if token_file is not None:
            print(f"API bearer token: {settings.api_tokens[0]} (kept in {token_file})", flush=True)
        # Long-lived start-up objects need no more cyclic-GC scans: keep the pauses short.
        gc.collect()
        gc.freeze()
        await stop.wait()
    finally:
        api.should_exit = True
        await stations.close()
        csms.close()
        await store.close()


def _validate(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.payload == "-" else Path(args.payload).read_text()
    try:
        validate(args.version, args.action, args.kind, text)
    except RpcError as error:
        print(f"{error.code}: {error.description}")
        return 1
    print("valid")
    return 0


async def _seed(settings: Settings, path: str) -> int:
    document = load_document(path)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    store = await open_store(settings.database)
    try:
        result = await seed(Csms(settings, store, SystemClock()), document)
    finally:
        await store.close()
    print(json.dumps(result.as_dict()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kilowatt", description="An OCPP platform.")
    parser.add_argument("--config", help="a TOML settings file (env KILOWATT_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("csms", help="run the central system")
    seed_parser = commands.add_parser("seed", help="load stations and id tokens from a file")
    seed_parser.add_argument("file", help="a YAML or TOML document")
    check = commands.add_parser("validate", help="check a payload against its OCPP schema")
    check.add_argument("version", choices=["1.6", "2.0.1", "2.1"])
    check.add_argument("action")
    check.add_argument("kind", choices=["request", "response"])
    check.add_argument("payload", help="a JSON file, or - for standard input")
    station_commands.add_parsers(commands)
    harness_cli.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "validate":
        return _validate(args)
    if args.command in ("station", "simulate"):
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
        return station_commands.run(args)
    if args.command == "harness":
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
        return harness_cli.run(args)
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"kilowatt: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "seed":
        try:
            return asyncio.run(_seed(settings, args.file))
        except (SeedError, OSError) as error:
            print(f"kilowatt seed: {error}", file=sys.stderr)
            return 2
    asyncio.run(run_csms(settings))
    return 0
