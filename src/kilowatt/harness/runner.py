"""Runs cases against an implementation and collects what happened in each."""

from __future__ import annotations

import asyncio
import fnmatch
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from kilowatt.harness import cases as _cases  # noqa: F401 - registers every case
from kilowatt.harness.case import CASES, Case, CheckFailed, NotConfigured, Role
from kilowatt.harness.context import Context, StationLink, Target
from kilowatt.harness.drivers import Driver, DriverError
from kilowatt.harness.peer import Frame, Violation
from kilowatt.rpc.errors import OcppError
from kilowatt.transport.client import ConnectError

__all__ = ["Outcome", "Result", "run_cases", "select"]

Outcome = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class Result:
    case: Case
    outcome: Outcome
    message: str
    seconds: float
    frames: tuple[Frame, ...]
    violations: tuple[Violation, ...]
    notes: tuple[str, ...]


def select(
    role: Role, patterns: Iterable[str] = ("*",), *, security_profile: int | None = 1
) -> list[Case]:
    """The cases for an implementation in ``role`` whose ids match a pattern (``TC_B_*``), in
    id order, of exactly ``security_profile`` (None: of any profile).

    Exactly, not "at most": a profile-1 case connects over plain ws with a password, which a
    target set up for TLS (profile 2) or client certificates (profile 3) refuses; each profile
    is a run of its own, against a target set up for it."""
    wanted = list(patterns)
    return sorted(
        (
            c
            for c in CASES.values()
            if c.role == role
            and (security_profile is None or c.security_profile == security_profile)
            and any(fnmatch.fnmatchcase(c.id, p) for p in wanted)
        ),
        key=lambda c: c.id,
    )


async def run_cases(
    cases: Iterable[Case],
    target: Target,
    driver: Driver,
    *,
    link: StationLink | None = None,
    case_timeout: float = 120.0,
    progress: Callable[[Result], None] = lambda _: None,
) -> list[Result]:
    """Run each case in turn; a case's failure never stops the run."""
    results = []
    for case in cases:
        result = await _run_one(case, target, driver, link, case_timeout)
        progress(result)
        results.append(result)
    return results


async def _run_one(
    case: Case, target: Target, driver: Driver, link: StationLink | None, case_timeout: float
) -> Result:
    context = Context(case, target, driver, link)
    if link is not None:
        link.answers.clear()  # a case's own answers end with it, on every connection
    outcome: Outcome = "passed"
    message = ""
    started = time.monotonic()
    try:
        async with asyncio.timeout(case_timeout):
            await case.run(context)
    except CheckFailed as failed:
        outcome, message = "failed", str(failed)
    except TimeoutError:
        outcome, message = "failed", "the implementation did not do what was expected in time"
    except (OcppError, ConnectError, OSError) as error:
        # No answer, a refusal, a connection that broke: the implementation's doing.
        outcome, message = "failed", f"{type(error).__name__}: {error}"
    except NotConfigured as error:
        outcome, message = "error", f"not configured: {error}"
    except DriverError as error:
        outcome, message = "error", f"the driver could not act: {error}"
    except Exception as error:  # a bug of the case or the harness: reported, never fatal
        outcome = "error"
        message = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"
    finally:
        await context.close()
    violations = context.violations()
    if outcome == "passed" and violations:
        outcome = "failed"
        message = f"rule broken on the wire: {violations[0].rule}: {violations[0].detail}"
    return Result(
        case=case,
        outcome=outcome,
        message=message,
        seconds=time.monotonic() - started,
        frames=tuple(context.frames()),
        violations=tuple(violations),
        notes=tuple(context.notes),
    )
