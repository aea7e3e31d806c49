"""One EVSE of the station at run time: its connectors, the EV, the authorization, the transaction.

Plain state; the station changes it and reports what changed. ``tx_conditions`` says which of
the TxStartPoint/TxStopPoint conditions hold now (E01: the configured points decide when a
transaction starts and ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from kilowatt.messages.v201 import (
    ChargingProfileType,
    ChargingStateEnumType,
    ConnectorStatusEnumType,
    IdTokenInfoType,
    IdTokenType,
)
from kilowatt.station.ev import ElectricState
from kilowatt.station.machines import connector_status

__all__ = ["Connector", "Evse", "Reservation", "Transaction"]


@dataclass
class Connector:
    id: int
    connector_type: str
    faulted: bool = False
    operative: bool = True
    reported: ConnectorStatusEnumType | None = None  # the status the CSMS was last told


@dataclass(frozen=True)
class Reservation:
    id: int
    id_token: IdTokenType
    expires_at: datetime
    group_id_token: IdTokenType | None = None
    connector_type: str | None = None


@dataclass
class Transaction:
    id: str
    started_at: datetime
    seq_no: int = 0
    id_token: IdTokenType | None = None  # told to the CSMS once, in the event that authorized it
    id_token_sent: bool = False
    remote_start_id: int | None = None
    charging_state: ChargingStateEnumType = ChargingStateEnumType.IDLE
    charging_seconds: float = 0.0
    reached: set[str] = field(default_factory=set)  # the TxStopPoint conditions that held
    limit_w: float | None = None  # the limit last applied, for ChargingRateChanged

    def next_seq_no(self) -> int:
        seq_no = self.seq_no
        self.seq_no += 1
        return seq_no


@dataclass
class Evse:
    id: int
    max_power_w: float
    phases: int
    connectors: dict[int, Connector]
    operative: bool = True
    plugged: int | None = None  # the connector with the EV's cable in it
    plugged_at: datetime | None = None  # when the EV was plugged in (ISO 15118 departure)
    authorized: IdTokenType | None = None
    authorization: IdTokenInfoType | None = None
    remote_start_id: int | None = None
    transaction: Transaction | None = None
    electric: ElectricState = field(default_factory=ElectricState)
    electric_at: datetime | None = None  # when ``electric`` was last advanced
    reservation: Reservation | None = None
    scheduled_operative: bool | None = None  # a ChangeAvailability waiting for the transaction
    start_profile: ChargingProfileType | None = None  # K05: for the transaction to start
    energy_withheld: bool = False  # the CSMS refused the token, StopTxOnInvalidId false
    used_reservation: int | None = None  # H03: told in the event that carries the token
    # The control pilot's PWM duty cycle, percent (IEC 61851-1, ``station.pwm``): 100 while no
    # energy is offered, 5 for an ISO 15118 EV, else the current it allows.
    duty_cycle: Decimal = Decimal(100)

    def status(self, connector: Connector) -> ConnectorStatusEnumType:
        return connector_status(
            faulted=connector.faulted,
            operative=self.operative and connector.operative,
            occupied=self.plugged == connector.id,
            # The whole EVSE is reserved; a plugged connector shows Occupied (rule order).
            reserved=self.reservation is not None,
        )

    def tx_conditions(self) -> set[str]:
        """The TxStartPoint/TxStopPoint names that hold now (DataSigned is not simulated)."""
        held = set()
        if self.plugged is not None:
            held |= {"EVConnected", "ParkingBayOccupancy"}
        if self.authorized is not None:
            held.add("Authorized")
        if self.plugged is not None and self.authorized is not None and self.operative:
            held.add("PowerPathClosed")
        if self.electric.power_w > 0:
            held.add("EnergyTransfer")
        return held
