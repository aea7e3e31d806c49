"""The bench's side of the load generator: worker processes, commands out, reports in."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from csmsbench.load import (
    Close,
    Closed,
    Connect,
    Connected,
    Progress,
    Quit,
    Run,
    RunReport,
    worker_main,
)

__all__ = ["LoadGenerator", "Measurement", "WorkerDied"]

PROGRESS_EVERY = 5.0


class WorkerDied(Exception):
    pass


@dataclass(frozen=True)
class Measurement:
    """One window's figures: the workers' reports added up, and the server's CPU time."""

    seconds: float
    answered: int
    server_cpu: float  # seconds
    client_cpu: float  # seconds, all workers
    other_cpu: float  # seconds, every other program on the machine
    p50: float  # seconds
    p99: float
    report: RunReport  # the sum of the workers' reports, latencies left out

    @property
    def msgs_per_s(self) -> float:
        return self.answered / self.seconds

    @property
    def server_us_per_msg(self) -> float:
        return self.server_cpu / self.answered * 1e6 if self.answered else math.nan

    @property
    def server_cpu_pct(self) -> float:
        return self.server_cpu / self.seconds * 100

    @property
    def client_cpu_pct(self) -> float:
        return self.client_cpu / self.seconds * 100

    @property
    def other_cpu_pct(self) -> float:
        return self.other_cpu / self.seconds * 100


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values (NaN when there are none)."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _merge(reports: list[RunReport]) -> tuple[RunReport, list[float]]:
    total = RunReport()
    latencies: array[float] = array("d")
    for report in reports:
        latencies.extend(report.latencies)
        total.answered += report.answered
        total.call_errors += report.call_errors
        total.skipped += report.skipped
        total.client_cpu += report.client_cpu
        total.unanswered += report.unanswered
        total.server_calls += report.server_calls
        total.strays += report.strays
        total.lost += report.lost
        total.first_error = total.first_error or report.first_error
    return total, sorted(latencies)


class LoadGenerator:
    """K worker processes, each with 1/K of the stations and 1/K of a paced rate."""

    def __init__(self, procs: int) -> None:
        # spawn, not fork: a worker must not inherit the bench's state (servers, open files).
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        for _ in range(procs):
            ours, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self._pipes.append(ours)
            self._processes.append(process)

    @property
    def size(self) -> int:
        return len(self._pipes)

    def _receive(self, pipe: Connection) -> object:
        try:
            return pipe.recv()
        except EOFError:
            raise WorkerDied("a load generator process died") from None

    def connect(
        self, url: str, station_ids: Sequence[str], concurrency: int, say: Callable[[str], None]
    ) -> Connected:
        """Open and boot the stations, ``concurrency`` handshakes at a time in all."""
        share = max(1, concurrency // self.size)
        for index, pipe in enumerate(self._pipes):
            pipe.send(Connect(url, tuple(station_ids[index :: self.size]), share))
        progress = {pipe: Progress(0, 0) for pipe in self._pipes}
        done: dict[Connection, Connected] = {}
        last_said = time.perf_counter()
        while len(done) < self.size:
            for ready in wait([p for p in self._pipes if p not in done]):
                assert isinstance(ready, Connection)
                message = self._receive(ready)
                if isinstance(message, Progress):
                    progress[ready] = message
                elif isinstance(message, Connected):
                    done[ready] = message
                    progress[ready] = Progress(message.booted, message.failed)
            if time.perf_counter() - last_said >= PROGRESS_EVERY and len(done) < self.size:
                booted = sum(p.booted for p in progress.values())
                failed = sum(p.failed for p in progress.values())
                say(f"  ... {booted:,} of {len(station_ids):,} booted, {failed:,} failed")
                last_said = time.perf_counter()
        results = list(done.values())
        errors: list[str] = []
        for result in results:
            errors.extend(e for e in result.errors if e not in errors)
        return Connected(
            booted=sum(r.booted for r in results),
            failed=sum(r.failed for r in results),
            errors=tuple(errors[:5]),
            seconds=max(r.seconds for r in results),
        )

    def start_run(self, run: Run) -> None:
        """Start a run on every worker; ``run.rate`` is the total, split between them."""
        share = Run(
            run.mode, run.calls, run.rate / self.size, run.start_in, run.duration, run.drain_timeout
        )
        for pipe in self._pipes:
            pipe.send(share)

    def finish_run(self, server_cpu: float, machine_cpu: float, seconds: float) -> Measurement:
        """Collect the workers' reports of the run started last.

        ``server_cpu`` and ``machine_cpu`` are CPU seconds over the window, of the server and
        of the whole machine.
        """
        reports = []
        for pipe in self._pipes:
            report = self._receive(pipe)
            assert isinstance(report, RunReport)
            reports.append(report)
        total, latencies = _merge(reports)
        return Measurement(
            seconds=seconds,
            answered=total.answered,
            server_cpu=server_cpu,
            client_cpu=total.client_cpu,
            other_cpu=max(0.0, machine_cpu - server_cpu - total.client_cpu),
            p50=_quantile(latencies, 0.50),
            p99=_quantile(latencies, 0.99),
            report=total,
        )

    def close(self) -> None:
        for pipe in self._pipes:
            pipe.send(Close())
        for pipe in self._pipes:
            assert isinstance(self._receive(pipe), Closed)

    def quit(self) -> None:
        for pipe, process in zip(self._pipes, self._processes, strict=True):
            if process.is_alive():
                with contextlib.suppress(OSError):  # it may be on its way out
                    pipe.send(Quit())
            process.join(15)
            if process.is_alive():
                process.kill()
                process.join()
            pipe.close()
