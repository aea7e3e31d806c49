"""A server's CPU time and resident memory, read from /proc, and the open-files limit.

Both figures are summed over the server process and its descendants, so a server that forks
workers is charged for all of them. The CPU time includes every thread (the ``ocpp`` package
validates in a thread pool by default).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

__all__ = [
    "CLOCK_TICKS",
    "cpu_seconds",
    "machine_busy_seconds",
    "raise_open_files_limit",
    "rss_bytes",
]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process tree, in seconds (clock-tick resolution)."""
    ticks = 0
    for member in _tree(pid):
        fields = _stat_fields(member)
        if fields is not None:
            # Fields 14 and 15 of stat(5), utime and stime; index 0 here is field 3.
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot, in seconds (idle, iowait and steal left out).

    Less the server's and the load generator's, it is what other programs took: a bench that
    shares its machine with a test suite measures the test suite too, and should say so.
    """
    fields = (_PROC / "stat").read_text().split("\n", 1)[0].split()
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[1:8])
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """VmRSS of the process tree, in bytes."""
    total = 0
    for member in _tree(pid):
        try:
            status = (_PROC / str(member) / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def raise_open_files_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard limit; return the new limit.

    Each connection is a file descriptor on each side, and the usual soft limit (1,024) is far
    below 10,000 stations. Child processes inherit the raised limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit is still capped by the kernel's fs.nr_open (1,048,576 by default).
    target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft
