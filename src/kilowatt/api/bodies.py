"""Request and response bodies of the resource routes (stations, id tokens, transactions, the
message log, seeding), and how records become them.

Request bodies refuse unknown fields and do not coerce types ("3" is not 3), so that a typo is
a 422 naming the field rather than a silent no-op. Times in responses are ISO 8601 in UTC with
milliseconds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    WithJsonSchema,
    field_validator,
)

from kilowatt.csms.auth import MAX_PASSWORD, MIN_PASSWORD
from kilowatt.csms.seed import (
    MAX_HEARTBEAT_INTERVAL,
    MAX_ID_TOKEN_LENGTH,
    MAX_LANGUAGE_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_STATION_ID_LENGTH,
    SeedResult,
    check_password,
    check_station_id,
)
from kilowatt.csms.session import StationSession
from kilowatt.csms.store import (
    ConnectorStatus,
    FrameLogEntry,
    IdTokenRecord,
    MeterSample,
    Notification,
    StationRecord,
    StatusChange,
    TransactionEventRecord,
    TransactionRecord,
    VariableRecord,
)
from kilowatt.messages import v201

__all__ = [
    "CountsView",
    "FrameView",
    "HealthView",
    "IdTokenChange",
    "IdTokenCreate",
    "IdTokenText",
    "IdTokenView",
    "Language",
    "MeterSampleView",
    "NotificationView",
    "PersonalMessage",
    "SeedAnswer",
    "StationChange",
    "StationCreate",
    "StationDetail",
    "StationView",
    "StatusChangeView",
    "StrictBody",
    "TransactionDetail",
    "TransactionEventView",
    "TransactionView",
    "iso_ms",
    "parsed_json",
]


def iso_ms(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond resolution: ``2025-01-01T12:00:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[
    datetime,
    PlainSerializer(iso_ms, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2025-01-01T12:00:00.000Z"]}
    ),
]


def parsed_json(text: str) -> Any:
    """The JSON value of a text, or the text itself when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


class StrictBody(BaseModel):
    """A request body: unknown fields are refused.

    Its integer fields are StrictInt, so that "3" and true are refused rather than read as 3
    and 1; enumerations and times are read from their JSON strings.
    """

    model_config = ConfigDict(extra="forbid")


def _refuse_null(value: object) -> object:
    """For a change body's fields that cannot be empty: null is refused, not read as "keep"."""
    if value is None:
        raise ValueError("may not be null: leave the field out to keep its value")
    return value


# -- stations --------------------------------------------------------------------------------

StationId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_STATION_ID_LENGTH,
        description='The identity the station connects with: no ":" nor "/".',
        examples=["CS-001"],
    ),
    AfterValidator(check_station_id),
]
Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD,
        max_length=MAX_PASSWORD,
        description="The Basic-auth password (security profiles 1 and 2); stored only as a hash.",
    ),
    AfterValidator(check_password),
]
SecurityProfile = Annotated[StrictInt, Field(ge=1, le=3, description="OCPP security profile 1-3.")]
HeartbeatInterval = Annotated[
    StrictInt,
    Field(
        ge=1,
        le=MAX_HEARTBEAT_INTERVAL,
        description="Seconds; the interval given in the answer to the next BootNotification.",
    ),
]
RegistrationStatus = Annotated[
    v201.RegistrationStatusEnumType,
    Field(description="The answer to the station's next BootNotification."),
]


class StationCreate(StrictBody):
    id: StationId
    password: Password | None = None
    security_profile: SecurityProfile = 1
    registration_status: RegistrationStatus = v201.RegistrationStatusEnumType.ACCEPTED
    heartbeat_interval: HeartbeatInterval | None = Field(
        default=None, description="Seconds; the CSMS's heartbeat_interval setting when left out."
    )


class StationChange(StrictBody):
    """The fields to change; those left out keep their values. ``password: null`` removes it.

    A connected station's registration status and heartbeat interval are the answer to its next
    BootNotification; its security profile and password apply to its next connection.
    """

    registration_status: RegistrationStatus | None = None
    heartbeat_interval: HeartbeatInterval | None = None
    security_profile: SecurityProfile | None = None
    password: Password | None = None

    _not_null = field_validator(
        "registration_status", "heartbeat_interval", "security_profile", mode="before"
    )(_refuse_null)


class StationView(BaseModel):
    """A station as stored, with the live state of its connection."""

    id: str
    security_profile: int
    registration_status: str
    heartbeat_interval: int
    has_password: bool
    boot_status: str | None = Field(description="The answer last given to its BootNotification.")
    boot_at: Timestamp | None
    boot_reason: str | None
    vendor_name: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    firmware_status: str | None
    modem_iccid: str | None
    modem_imsi: str | None
    created_at: Timestamp | None
    connected: bool
    connected_since: Timestamp | None
    connection_id: str | None
    subprotocol: str | None
    remote: str | None
    last_heartbeat_at: Timestamp | None

    @classmethod
    def of(cls, record: StationRecord, session: StationSession | None) -> Self:
        """The view of a record; ``session`` is the station's live one, if connected."""
        heartbeat = record.last_heartbeat_at
        if session is not None and session.last_heartbeat_at is not None:
            heartbeat = session.last_heartbeat_at
        return cls(
            id=record.station_id,
            security_profile=record.security_profile,
            registration_status=record.registration_status,
            heartbeat_interval=record.heartbeat_interval,
            has_password=record.password_hash is not None,
            boot_status=record.boot_status,
            boot_at=record.boot_at,
            boot_reason=record.boot_reason,
            vendor_name=record.vendor_name,
            model=record.model,
            serial_number=record.serial_number,
            firmware_version=record.firmware_version,
            firmware_status=record.firmware_status,
            modem_iccid=record.modem_iccid,
            modem_imsi=record.modem_imsi,
            created_at=record.created_at,
            connected=session is not None,
            connected_since=session.connected_at if session else None,
            connection_id=session.connection_id if session else None,
            subprotocol=session.subprotocol if session else None,
            remote=session.remote if session else None,
            last_heartbeat_at=heartbeat,
        )


class ConnectorView(BaseModel):
    connector_id: int
    status: str
    timestamp: Timestamp = Field(description="When the station reported the status.")


class EvseView(BaseModel):
    evse_id: int
    connectors: list[ConnectorView]


class VariableView(BaseModel):
    """One attribute of a variable of the station's device model, as last reported."""

    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    attribute_type: str
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None
    characteristics: dict[str, Any] | None
    updated_at: Timestamp | None

    @classmethod
    def of(cls, record: VariableRecord) -> Self:
        return cls(
            component=record.component,
            component_instance=record.component_instance or None,
            evse_id=None if record.evse_id < 0 else record.evse_id,
            connector_id=None if record.connector_id < 0 else record.connector_id,
            variable=record.variable,
            variable_instance=record.variable_instance or None,
            attribute_type=record.attribute_type,
            value=record.value,
            mutability=record.mutability,
            persistent=record.persistent,
            constant=record.constant,
            characteristics=record.characteristics,
            updated_at=record.updated_at,
        )


class StationDetail(StationView):
    evses: list[EvseView] = Field(description="Each EVSE's connectors with their latest status.")
    device_model: list[VariableView]

    @classmethod
    def of_all(
        cls,
        record: StationRecord,
        session: StationSession | None,
        statuses: list[ConnectorStatus],
        variables: list[VariableRecord],
    ) -> Self:
        evses: dict[int, list[ConnectorView]] = {}
        for status in sorted(statuses, key=lambda s: (s.evse_id, s.connector_id)):
            evses.setdefault(status.evse_id, []).append(
                ConnectorView(
                    connector_id=status.connector_id,
                    status=status.status,
                    timestamp=status.timestamp,
                )
            )
        return cls(
            **dict(StationView.of(record, session)),
            evses=[EvseView(evse_id=evse, connectors=found) for evse, found in evses.items()],
            device_model=[VariableView.of(variable) for variable in variables],
        )


class StatusChangeView(BaseModel):
    evse_id: int
    connector_id: int
    status: str
    timestamp: Timestamp = Field(description="When the station reported the status.")
    received_at: Timestamp

    @classmethod
    def of(cls, change: StatusChange) -> Self:
        return cls(
            evse_id=change.evse_id,
            connector_id=change.connector_id,
            status=change.status,
            timestamp=change.timestamp,
            received_at=change.received_at,
        )


# -- the message log and station reports -----------------------------------------------------

_MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR", 5: "CALLRESULTERROR", 6: "SEND"}


def _frame_payload(text: str) -> Any:
    """The payload element of an OCPP-J frame; a CALLERROR's code, description and details.
    The frame's text when it is not a well-formed frame."""
    frame = parsed_json(text)
    if not isinstance(frame, list) or not frame:
        return text
    match frame[0], len(frame):
        case (2 | 6, 4):
            return frame[3]
        case (3, 3):
            return frame[2]
        case (4 | 5, 5):
            return {"errorCode": frame[2], "errorDescription": frame[3], "errorDetails": frame[4]}
    return text


class FrameView(BaseModel):
    """One frame on a station's connection."""

    id: int | None
    at_ms: int = Field(description="Milliseconds since the epoch.")
    at: Timestamp
    direction: str = Field(description='"in" from the station, "out" to it.')
    message_type: int | None
    message_type_name: str | None = Field(examples=["CALL", "CALLRESULT", "CALLERROR"])
    message_id: str | None
    action: str | None = Field(description="Also on a CALLRESULT or CALLERROR: its CALL's.")
    connection_id: str
    payload: Any = Field(
        description="The payload as JSON (a CALLERROR's errorCode, errorDescription and "
        "errorDetails); the frame's text when it is not a well-formed frame."
    )

    @classmethod
    def of(cls, entry: FrameLogEntry) -> Self:
        kind = entry.message_type
        return cls(
            id=entry.id,
            at_ms=entry.at_ms,
            at=datetime.fromtimestamp(entry.at_ms / 1000, UTC),
            direction=entry.direction,
            message_type=kind,
            message_type_name=None if kind is None else _MESSAGE_TYPES.get(kind),
            message_id=entry.message_id,
            action=entry.action,
            connection_id=entry.connection_id,
            payload=_frame_payload(entry.text),
        )


class NotificationView(BaseModel):
    """A report of the station, as it came."""

    id: int | None
    action: str
    request_id: int | None
    received_at: Timestamp
    payload: Any

    @classmethod
    def of(cls, notification: Notification) -> Self:
        return cls(
            id=notification.id,
            action=notification.action,
            request_id=notification.request_id,
            received_at=notification.received_at,
            payload=parsed_json(notification.payload),
        )


# -- id tokens -------------------------------------------------------------------------------

IdTokenText = Annotated[str, Field(min_length=1, max_length=MAX_ID_TOKEN_LENGTH)]
Language = Annotated[str, Field(min_length=1, max_length=MAX_LANGUAGE_LENGTH, examples=["en"])]


class PersonalMessage(StrictBody):
    """OCPP's MessageContentType: shown to the driver when the token is presented."""

    format: v201.MessageFormatEnumType
    language: Language | None = None
    content: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_LENGTH)]

    def wire(self) -> dict[str, str]:
        """As stored: the OCPP fields with their wire names, without those left out."""
        return self.model_dump(mode="json", exclude_none=True)


class IdTokenCreate(StrictBody):
    id_token: IdTokenText
    type: v201.IdTokenEnumType
    status: v201.AuthorizationStatusEnumType = v201.AuthorizationStatusEnumType.ACCEPTED
    group_id_token: IdTokenText | None = None
    expiry: AwareDatetime | None = Field(
        default=None, description="After it, an Accepted token is answered Expired."
    )
    language1: Language | None = None
    language2: Language | None = None
    personal_message: PersonalMessage | None = None

    def record(self) -> IdTokenRecord:
        return IdTokenRecord(
            id_token=self.id_token,
            type=self.type.value,
            status=self.status.value,
            group_id_token=self.group_id_token,
            expiry=self.expiry,
            language1=self.language1,
            language2=self.language2,
            personal_message=self.personal_message.wire() if self.personal_message else None,
        )


class IdTokenChange(StrictBody):
    """The fields to change; those left out keep their values, null clears an optional one."""

    status: v201.AuthorizationStatusEnumType | None = None
    group_id_token: IdTokenText | None = None
    expiry: AwareDatetime | None = None
    language1: Language | None = None
    language2: Language | None = None
    personal_message: PersonalMessage | None = None

    _not_null = field_validator("status", mode="before")(_refuse_null)

    def changes(self) -> dict[str, Any]:
        """The record's fields to replace, by name."""
        changes: dict[str, Any] = {name: getattr(self, name) for name in self.model_fields_set}
        if self.status is not None:
            changes["status"] = self.status.value
        if self.personal_message is not None:
            changes["personal_message"] = self.personal_message.wire()
        return changes


class IdTokenView(BaseModel):
    id_token: str
    type: str
    status: str
    group_id_token: str | None
    expiry: Timestamp | None
    language1: str | None
    language2: str | None
    personal_message: dict[str, Any] | None

    @classmethod
    def of(cls, record: IdTokenRecord) -> Self:
        return cls(
            id_token=record.id_token,
            type=record.type,
            status=record.status,
            group_id_token=record.group_id_token,
            expiry=record.expiry,
            language1=record.language1,
            language2=record.language2,
            personal_message=record.personal_message,
        )


# -- transactions ----------------------------------------------------------------------------


class TransactionView(BaseModel):
    station_id: str
    transaction_id: str
    active: bool = Field(description="No Ended event received yet.")
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    id_token_type: str | None
    started_at: Timestamp | None
    ended_at: Timestamp | None
    charging_state: str | None
    stopped_reason: str | None
    remote_start_id: int | None
    meter_start_wh: float | None
    meter_last_wh: float | None
    energy_wh: float | None = Field(description="meter_last_wh - meter_start_wh.")
    last_seq_no: int | None
    seq_nos_missing: list[int] = Field(description="Sequence numbers not received (yet).")
    offline: bool
    event_count: int
    updated_at: Timestamp | None

    @classmethod
    def of(cls, record: TransactionRecord) -> Self:
        return cls(
            station_id=record.station_id,
            transaction_id=record.transaction_id,
            active=record.ended_at is None,
            evse_id=record.evse_id,
            connector_id=record.connector_id,
            id_token=record.id_token,
            id_token_type=record.id_token_type,
            started_at=record.started_at,
            ended_at=record.ended_at,
            charging_state=record.charging_state,
            stopped_reason=record.stopped_reason,
            remote_start_id=record.remote_start_id,
            meter_start_wh=record.meter_start_wh,
            meter_last_wh=record.meter_last_wh,
            energy_wh=record.energy_wh,
            last_seq_no=record.last_seq_no,
            seq_nos_missing=list(record.seq_nos_missing),
            offline=record.offline,
            event_count=record.event_count,
            updated_at=record.updated_at,
        )


class TransactionEventView(BaseModel):
    seq_no: int
    event_type: str
    trigger_reason: str
    timestamp: Timestamp
    offline: bool
    received_at: Timestamp
    payload: Any = Field(description="The TransactionEvent request as the station sent it.")

    @classmethod
    def of(cls, event: TransactionEventRecord) -> Self:
        return cls(
            seq_no=event.seq_no,
            event_type=event.event_type,
            trigger_reason=event.trigger_reason,
            timestamp=event.timestamp,
            offline=event.offline,
            received_at=event.received_at,
            payload=parsed_json(event.payload),
        )


class MeterSampleView(BaseModel):
    timestamp: Timestamp
    evse_id: int
    measurand: str
    value: float
    phase: str | None
    location: str | None
    context: str | None
    unit: str | None
    multiplier: int | None

    @classmethod
    def of(cls, sample: MeterSample) -> Self:
        return cls(
            timestamp=sample.timestamp,
            evse_id=sample.evse_id,
            measurand=sample.measurand,
            value=sample.value,
            phase=sample.phase,
            location=sample.location,
            context=sample.context,
            unit=sample.unit,
            multiplier=sample.multiplier,
        )


class TransactionDetail(TransactionView):
    events: list[TransactionEventView]
    meter_values: list[MeterSampleView]

    @classmethod
    def of_all(
        cls,
        record: TransactionRecord,
        events: list[TransactionEventRecord],
        samples: list[MeterSample],
    ) -> Self:
        return cls(
            **dict(TransactionView.of(record)),
            events=[TransactionEventView.of(event) for event in events],
            meter_values=[MeterSampleView.of(sample) for sample in samples],
        )


# -- seeding and health ----------------------------------------------------------------------


class CountsView(BaseModel):
    created: int
    updated: int
    unchanged: int


class SeedAnswer(CountsView):
    """The totals, and the counts per section."""

    stations: CountsView
    id_tokens: CountsView
    local_lists: CountsView
    tariffs: CountsView

    @classmethod
    def of(cls, result: SeedResult) -> Self:
        return cls.model_validate(result.as_dict())


class HealthView(BaseModel):
    status: Literal["ok"] = "ok"
