"""The servers under test: how to start each one as a subprocess, wait for it, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SERVERS", "RunningServer", "ServerFailed", "ServerSpec"]

BENCH_DIR = Path(__file__).resolve().parent.parent
READY_MARKER = "OCPP listening on ws://"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

# (port, scratch directory) -> argv and the variables added to the environment.
Launcher = Callable[[int, Path], tuple[list[str], dict[str, str]]]


class ServerFailed(Exception):
    """The server did not start, or died."""


@dataclass(frozen=True)
class ServerSpec:
    name: str  # as given to --servers
    label: str  # in the tables
    launch: Launcher


def _free_port() -> int:
    # Bound and released at once: a small race with other programs, none with our own servers,
    # which run one at a time.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _kilowatt(port: int, scratch: Path) -> tuple[list[str], dict[str, str]]:
    env = {
        "KILOWATT_OCPP_HOST": "127.0.0.1",
        "KILOWATT_OCPP_PORT": str(port),
        "KILOWATT_API_PORT": str(_free_port()),
        "KILOWATT_DATA_DIR": str(scratch / "data"),
        "KILOWATT_AUTO_REGISTER": "true",
        "KILOWATT_API_TOKENS": "bench-token",
    }
    return [sys.executable, "-m", "kilowatt", "csms"], env


def _bench_script(module: str, *extra: str) -> Launcher:
    def launch(port: int, scratch: Path) -> tuple[list[str], dict[str, str]]:
        path = os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH")]))
        argv = [sys.executable, "-m", f"csmsbench.{module}", "--port", str(port), *extra]
        return argv, {"PYTHONPATH": path}

    return launch


SERVERS = {
    spec.name: spec
    for spec in [
        ServerSpec("kilowatt", "kilowatt", _kilowatt),
        ServerSpec("reference", "reference (ocpp)", _bench_script("reference_server")),
        ServerSpec(
            "reference-noval",
            "reference, no validation",
            _bench_script("reference_server", "--no-validation"),
        ),
        ServerSpec(
            "floor-websockets",
            "floor websockets",
            _bench_script("floor_server", "--impl", "websockets"),
        ),
        ServerSpec(
            "floor-picows", "floor picows", _bench_script("floor_server", "--impl", "picows")
        ),
    ]
}


class RunningServer:
    """A server subprocess with its own scratch directory (data and log), stopped on exit."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self._scratch = tempfile.TemporaryDirectory(prefix=f"csms-bench-{spec.name}-")
        self.scratch = Path(self._scratch.name)
        self.log_path = self.scratch / "server.log"
        self.port = _free_port()
        argv, extra_env = spec.launch(self.port, self.scratch)
        self.started = time.perf_counter()
        with self.log_path.open("wb") as log:
            # A file, not a pipe: nobody has to keep draining it while the bench runs.
            self.process = subprocess.Popen(
                argv,
                cwd=self.scratch,
                env={**os.environ, **extra_env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.pid = self.process.pid

    def wait_ready(self) -> float:
        """Seconds it took to print the ready line. Raises ServerFailed."""
        deadline = self.started + READY_TIMEOUT
        while time.perf_counter() < deadline:
            if READY_MARKER in self.log_path.read_text(errors="replace"):
                return time.perf_counter() - self.started
            self.check_alive()
            time.sleep(0.05)
        raise ServerFailed(f"no {READY_MARKER!r} line within {READY_TIMEOUT:.0f} s")

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise ServerFailed(f"exited with status {code}")

    def log_tail(self, lines: int = 12) -> str:
        text = self.log_path.read_text(errors="replace").rstrip().splitlines()
        return "\n".join("      | " + line for line in text[-lines:]) or "      | (no output)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._scratch.cleanup()
