"""Test cases as code: each is an async function over a Context, registered with its identity.

A case is named like the official ones (``TC_B_01_CSMS``: block B, number 01, the CSMS under
test; ``..._CS``: a charging station under test), says which use cases and requirements it
checks and what it needs first, and describes its steps in its docstring, in our own words.
A case declares the OCPP security profile it runs at (``security_profile``: 1, Basic auth over
plain ws, unless told); a run selects the cases of its target's profile only (runner.select).
It fails by raising CheckFailed (``ctx.check``), or by an error of the exchange itself (no
answer in time, a CALLERROR where an answer was due). Whatever else happens, a rule the
implementation broke on the wire (``peer.Violation``) fails the case too.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from kilowatt.harness.context import Context

__all__ = ["CASES", "Case", "CheckFailed", "NotConfigured", "Role", "case"]

Role = Literal["csms", "station"]  # the role of the implementation under test
CaseFunction = Callable[["Context"], Awaitable[None]]
_ID = re.compile(r"^TC_([A-P])_(\d{2,3})_(CSMS|CS)$")


class CheckFailed(AssertionError):
    """A check of a case did not hold; the message says what was expected and what came."""


class NotConfigured(Exception):
    """The run lacks what a case needs (a password, a driver action): the case errs, and
    says what to give it; the implementation is not at fault."""


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    role: Role
    use_cases: tuple[str, ...]
    requirements: tuple[str, ...]
    prerequisites: str
    steps: str
    run: CaseFunction
    security_profile: int = 1

    @property
    def block(self) -> str:
        return self.id.split("_")[1]


CASES: dict[str, Case] = {}


def case(
    id: str,
    title: str,
    *,
    use_cases: tuple[str, ...],
    requirements: tuple[str, ...] = (),
    prerequisites: str = "",
    security_profile: int = 1,
) -> Callable[[CaseFunction], CaseFunction]:
    """Register a case; its docstring gives its steps. ``security_profile`` is the profile the
    target must be set up for (1: Basic auth over ws; 2: TLS and Basic auth; 3: TLS with
    client certificates).

    Raises:
        ValueError: a malformed or duplicate id, no docstring, or a profile not 1, 2 or 3.
    """
    if security_profile not in (1, 2, 3):
        raise ValueError(f"{id}: security profile {security_profile} is not 1, 2 or 3")
    match = _ID.match(id)
    if match is None:
        raise ValueError(f"{id!r} is not a case id like TC_B_01_CSMS or TC_B_01_CS")
    role: Role = "csms" if match.group(3) == "CSMS" else "station"

    def register(function: CaseFunction) -> CaseFunction:
        if id in CASES:
            raise ValueError(f"{id} is registered twice")
        if not function.__doc__:
            raise ValueError(f"{id} needs a docstring with its steps")
        CASES[id] = Case(
            id=id,
            title=title,
            role=role,
            use_cases=use_cases,
            requirements=requirements,
            prerequisites=prerequisites,
            steps=" ".join(function.__doc__.split()),
            run=function,
            security_profile=security_profile,
        )
        return function

    return register
