"""What a handler gets besides its request: the station's session and the CSMS's services."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kilowatt.clock import Clock
from kilowatt.csms.session import StationSession
from kilowatt.csms.store import Store

if TYPE_CHECKING:
    from kilowatt.csms.balancing import LoadBalancer
    from kilowatt.csms.commands import CommandBus
    from kilowatt.csms.config import Settings
    from kilowatt.csms.pki import CertificateAuthority
    from kilowatt.csms.pricing import Pricing

__all__ = ["ChargingAllowance", "Context", "DataTransferHandler", "Services"]

logger = logging.getLogger(__name__)

# A vendor's DataTransfer handler: (messageId, data) -> (status, data of the answer).
DataTransferHandler = Callable[[str | None, Any], Awaitable[tuple[str, Any]]]

# The power, in W, the CSMS grants an EVSE now: (station id, EVSE id) -> W, or None for "no
# opinion". Asked when the CSMS plans a TxProfile for an EV's needs (K15); the load balancer
# provides it. Without one, or when it answers None, the EVSE's maximum power from its device
# model (EVSE Power, MaxSet) is granted, and where that is unknown the EV's maximum.
ChargingAllowance = Callable[[str, int], Awaitable[float | None]]


@dataclass
class Services:
    """The CSMS-wide collaborators handlers use; built once, in csms/app.py."""

    store: Store
    clock: Clock
    settings: Settings
    certificate_authority: CertificateAuthority | None = None
    data_transfer: dict[str, DataTransferHandler] = field(default_factory=dict)
    # Reaches stations (set by Csms): for CALLs a handler makes after its answer (ctx.then).
    commands: CommandBus | None = None
    charging_allowance: ChargingAllowance | None = None
    # Told of transactions, readings and boots at the stations of managed sites (set by Csms).
    load_balancer: LoadBalancer | None = None
    # Tariffs and costs (I01-I03; set by Csms).
    pricing: Pricing | None = None
    background: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass
class Context:
    session: StationSession
    services: Services

    @property
    def station_id(self) -> str:
        return self.session.station_id

    @property
    def store(self) -> Store:
        return self.services.store

    def now(self) -> datetime:
        return self.services.clock.now()

    def then(self, follow_up: Callable[[], Awaitable[None]]) -> None:
        """Run ``follow_up`` after the handler's response has been queued for sending.

        The connection queues the CALLRESULT before the follow-up task first runs, so a CALL
        it makes (CertificateSigned after SignCertificate) goes out after the answer.
        """

        async def run() -> None:
            try:
                await follow_up()
            except Exception:
                logger.exception("follow-up for %s failed", self.station_id)

        task = asyncio.create_task(run())
        self.services.background.add(task)
        task.add_done_callback(self.services.background.discard)
