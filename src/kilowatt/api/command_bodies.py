"""Bodies of the routes that send CALLs to stations: the raw OCPP route's answer, the small
bodies of the typed commands with how each becomes its OCPP 2.0.1 request, and the local
authorization list the CSMS keeps and sends."""

from __future__ import annotations

from typing import Annotated, Any, Self, TypeVar

import msgspec
from msgspec import UNSET
from pydantic import AwareDatetime, BaseModel, Field, StrictInt, field_validator, model_validator

from kilowatt.api.bodies import IdTokenText, Language, PersonalMessage, StrictBody, Timestamp
from kilowatt.csms import local_lists
from kilowatt.csms.local_lists import LocalListSent
from kilowatt.csms.seed import MAX_LOCAL_LIST_VERSION
from kilowatt.csms.store import LocalList, LocalListEntry as LocalListEntryRecord
from kilowatt.messages import Message, encode, v201

__all__ = [
    "ChangeAvailabilityCommand",
    "GetVariableOutcome",
    "GetVariablesAnswer",
    "GetVariablesCommand",
    "KeptLocalListEntry",
    "LocalListChange",
    "LocalListEntry",
    "LocalListEntryView",
    "LocalListMessageView",
    "LocalListSendAnswer",
    "LocalListSendCommand",
    "LocalListView",
    "OcppAnswer",
    "RemoteStartAnswer",
    "RemoteStartCommand",
    "RemoteStopCommand",
    "ResetCommand",
    "SendLocalListCommand",
    "SetVariableOutcome",
    "SetVariablesAnswer",
    "SetVariablesCommand",
    "TriggerMessageCommand",
    "UnlockCommand",
    "VariableRef",
    "VariableSetting",
    "wire",
]

# OCPP 2.0.1 string limits of the types these fields go into.
_NAME = 50  # ComponentType.name/instance, VariableType.name/instance
_VALUE = 1000  # SetVariableDataType.attributeValue
_TRANSACTION_ID = 36

T = TypeVar("T")


def wire(message: Message) -> dict[str, Any]:
    """A message as JSON with its wire names, as the station sends or receives it."""
    value: dict[str, Any] = msgspec.json.decode(encode(message))
    return value


class OcppAnswer(BaseModel):
    action: str
    response: dict[str, Any] = Field(description="The station's response payload, as on the wire.")

    @classmethod
    def of(cls, response: Message, action: str) -> Self:
        return cls(action=action, response=wire(response))


class RemoteStartAnswer(OcppAnswer):
    remote_start_id: int = Field(description="The remoteStartId sent; the events carry it.")


def _evse(evse_id: int | None, connector_id: int | None) -> v201.EVSEType | msgspec.UnsetType:
    if evse_id is None:
        return UNSET
    connector = UNSET if connector_id is None else connector_id
    return v201.EVSEType(id=evse_id, connector_id=connector)


class _ConnectorNeedsEvse(StrictBody):
    """A body with an optional evse_id and connector_id: a connector is one of an EVSE."""

    evse_id: StrictInt | None = None
    connector_id: StrictInt | None = None

    @model_validator(mode="after")
    def _connector_of_an_evse(self) -> Self:
        if self.connector_id is not None and self.evse_id is None:
            raise ValueError("connector_id needs evse_id: connectors are numbered per EVSE")
        return self


class ResetCommand(StrictBody):
    type: v201.ResetEnumType
    evse_id: StrictInt | None = Field(default=None, description="Reset this EVSE only.")

    def request(self) -> v201.ResetRequest:
        return v201.ResetRequest(type=self.type, evse_id=_unset(self.evse_id))


class RemoteStartCommand(StrictBody):
    id_token: IdTokenText
    id_token_type: v201.IdTokenEnumType
    evse_id: StrictInt | None = Field(default=None, gt=0)
    remote_start_id: StrictInt | None = Field(default=None, description="Generated when left out.")

    def request(self, remote_start_id: int) -> v201.RequestStartTransactionRequest:
        return v201.RequestStartTransactionRequest(
            id_token=v201.IdTokenType(id_token=self.id_token, type=self.id_token_type),
            remote_start_id=remote_start_id,
            evse_id=_unset(self.evse_id),
        )


class RemoteStopCommand(StrictBody):
    transaction_id: Annotated[str, Field(min_length=1, max_length=_TRANSACTION_ID)]

    def request(self) -> v201.RequestStopTransactionRequest:
        return v201.RequestStopTransactionRequest(transaction_id=self.transaction_id)


class UnlockCommand(StrictBody):
    evse_id: StrictInt
    connector_id: StrictInt

    def request(self) -> v201.UnlockConnectorRequest:
        return v201.UnlockConnectorRequest(evse_id=self.evse_id, connector_id=self.connector_id)


class ChangeAvailabilityCommand(_ConnectorNeedsEvse):
    """The whole station, an EVSE, or one connector of an EVSE."""

    operational_status: v201.OperationalStatusEnumType

    def request(self) -> v201.ChangeAvailabilityRequest:
        return v201.ChangeAvailabilityRequest(
            operational_status=self.operational_status,
            evse=_evse(self.evse_id, self.connector_id),
        )


class TriggerMessageCommand(_ConnectorNeedsEvse):
    requested_message: v201.MessageTriggerEnumType

    def request(self) -> v201.TriggerMessageRequest:
        return v201.TriggerMessageRequest(
            requested_message=self.requested_message,
            evse=_evse(self.evse_id, self.connector_id),
        )


Name = Annotated[str, Field(min_length=1, max_length=_NAME)]


class VariableRef(_ConnectorNeedsEvse):
    """A variable of a component, as OCPP's ComponentType and VariableType name it."""

    component: Name
    component_instance: Name | None = None
    variable: Name
    variable_instance: Name | None = None
    attribute_type: v201.AttributeEnumType | None = Field(
        default=None, description="Actual when left out."
    )

    def component_type(self) -> v201.ComponentType:
        return v201.ComponentType(
            name=self.component,
            instance=_unset(self.component_instance),
            evse=_evse(self.evse_id, self.connector_id),
        )

    def variable_type(self) -> v201.VariableType:
        return v201.VariableType(name=self.variable, instance=_unset(self.variable_instance))

    def get_data(self) -> v201.GetVariableDataType:
        return v201.GetVariableDataType(
            component=self.component_type(),
            variable=self.variable_type(),
            attribute_type=_unset(self.attribute_type),
        )


class VariableSetting(VariableRef):
    value: Annotated[str, Field(max_length=_VALUE)]

    def set_data(self) -> v201.SetVariableDataType:
        return v201.SetVariableDataType(
            component=self.component_type(),
            variable=self.variable_type(),
            attribute_type=_unset(self.attribute_type),
            attribute_value=self.value,
        )


class GetVariablesCommand(StrictBody):
    """Any number of variables: the CSMS splits the requests by the station's limits
    (DeviceDataCtrlr.ItemsPerMessage and BytesPerMessage)."""

    variables: Annotated[list[VariableRef], Field(min_length=1)]


class SetVariablesCommand(StrictBody):
    """Any number of variables: the CSMS splits the requests by the station's limits."""

    variables: Annotated[list[VariableSetting], Field(min_length=1)]


class _VariableOutcome(BaseModel):
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    attribute_type: str | None
    attribute_status: str
    status_info: dict[str, Any] | None = Field(description="StatusInfoType as on the wire.")

    @staticmethod
    def _fields(
        component: v201.ComponentType,
        variable: v201.VariableType,
        attribute_type: v201.AttributeEnumType | msgspec.UnsetType,
        status: str,
        status_info: v201.StatusInfoType | msgspec.UnsetType,
    ) -> dict[str, Any]:
        evse = component.evse or None
        return {
            "component": component.name,
            "component_instance": component.instance or None,
            "evse_id": evse.id if evse else None,
            "connector_id": (evse.connector_id or None) if evse else None,
            "variable": variable.name,
            "variable_instance": variable.instance or None,
            "attribute_type": str(attribute_type) if attribute_type else None,
            "attribute_status": status,
            "status_info": wire(status_info) if status_info else None,
        }


class GetVariableOutcome(_VariableOutcome):
    attribute_value: str | None

    @classmethod
    def of(cls, result: v201.GetVariableResultType) -> Self:
        return cls(
            **cls._fields(
                result.component,
                result.variable,
                result.attribute_type,
                str(result.attribute_status),
                result.attribute_status_info,
            ),
            attribute_value=result.attribute_value or None,
        )


class SetVariableOutcome(_VariableOutcome):
    @classmethod
    def of(cls, result: v201.SetVariableResultType) -> Self:
        return cls(
            **cls._fields(
                result.component,
                result.variable,
                result.attribute_type,
                str(result.attribute_status),
                result.attribute_status_info,
            )
        )


class GetVariablesAnswer(BaseModel):
    results: list[GetVariableOutcome]


class SetVariablesAnswer(BaseModel):
    results: list[SetVariableOutcome]


class LocalListEntry(StrictBody):
    """An entry of the local authorization list; without a status, a Differential update
    removes the token from the list."""

    id_token: IdTokenText
    type: v201.IdTokenEnumType
    status: v201.AuthorizationStatusEnumType | None = None
    group_id_token: IdTokenText | None = None
    expiry: AwareDatetime | None = None
    language1: Language | None = None
    language2: Language | None = None
    personal_message: PersonalMessage | None = None

    def record(self) -> LocalListEntryRecord:
        """As the store keeps it."""
        return LocalListEntryRecord(
            id_token=self.id_token,
            type=self.type.value,
            status=None if self.status is None else self.status.value,
            expiry=self.expiry,
            group_id_token=self.group_id_token,
            language1=self.language1,
            language2=self.language2,
            personal_message=self.personal_message.wire() if self.personal_message else None,
        )

    def authorization_data(self) -> v201.AuthorizationData:
        return local_lists.authorization_data(self.record())


class SendLocalListCommand(StrictBody):
    version: StrictInt = Field(description="The list's version after the update.")
    update_type: v201.UpdateEnumType
    entries: list[LocalListEntry] = Field(
        default_factory=list, description="A Full update with no entries empties the list."
    )

    def request(self) -> v201.SendLocalListRequest:
        entries = [entry.authorization_data() for entry in self.entries]
        return v201.SendLocalListRequest(
            version_number=self.version,
            update_type=self.update_type,
            # The schema allows no empty list: an empty update leaves the field out.
            local_authorization_list=entries or UNSET,
        )


class KeptLocalListEntry(LocalListEntry):
    """An entry of the list the CSMS keeps: a token and what the station answers for it
    offline."""

    status: v201.AuthorizationStatusEnumType = v201.AuthorizationStatusEnumType.ACCEPTED


class LocalListChange(StrictBody):
    """The local list the CSMS keeps for a station, replaced whole."""

    version: StrictInt = Field(
        ge=1,
        le=MAX_LOCAL_LIST_VERSION,
        description="The list's version, at least 1 (D01.FR.18): the versionNumber the station "
        "holds once the list is sent.",
    )
    entries: list[KeptLocalListEntry] = Field(default_factory=list)

    @field_validator("entries")
    @classmethod
    def _each_token_once(cls, entries: list[KeptLocalListEntry]) -> list[KeptLocalListEntry]:
        seen = set()
        for entry in entries:
            key = (entry.id_token, entry.type)
            if key in seen:
                raise ValueError(
                    f"id token {entry.id_token!r} of type {entry.type.value!r} is listed twice"
                )
            seen.add(key)
        return entries


class LocalListEntryView(BaseModel):
    id_token: str
    type: str
    status: str
    group_id_token: str | None
    expiry: Timestamp | None = Field(description="Sent as cacheExpiryDateTime.")
    language1: str | None
    language2: str | None
    personal_message: dict[str, Any] | None

    @classmethod
    def of(cls, entry: LocalListEntryRecord) -> Self:
        assert entry.status is not None  # only updates have entries without one
        return cls(
            id_token=entry.id_token,
            type=entry.type,
            status=entry.status,
            group_id_token=entry.group_id_token,
            expiry=entry.expiry,
            language1=entry.language1,
            language2=entry.language2,
            personal_message=entry.personal_message,
        )


class LocalListView(BaseModel):
    """The local list the CSMS keeps for a station, and how far the station has it."""

    version: int
    entries: list[LocalListEntryView]
    accepted_version: int | None = Field(
        description="The versionNumber of the last update the station accepted; null before "
        "its first."
    )

    @classmethod
    def of(cls, kept: LocalList, accepted: LocalList | None) -> Self:
        return cls(
            version=kept.version,
            entries=[LocalListEntryView.of(entry) for entry in kept.entries],
            accepted_version=None if accepted is None else accepted.version,
        )


class LocalListSendCommand(StrictBody):
    update_type: v201.UpdateEnumType = Field(
        description="Full: the whole list. Differential: what changed since the list the "
        "station last accepted."
    )


class LocalListMessageView(BaseModel):
    """One SendLocalList request sent, and the station's answer."""

    version_number: int
    update_type: str
    entries: int = Field(description="How many entries the request carried.")
    status: str
    status_info: dict[str, Any] | None = Field(description="StatusInfoType as on the wire.")

    @classmethod
    def of(cls, request: v201.SendLocalListRequest, answer: v201.SendLocalListResponse) -> Self:
        return cls(
            version_number=request.version_number,
            update_type=str(request.update_type),
            entries=len(request.local_authorization_list or ()),
            status=str(answer.status),
            status_info=wire(answer.status_info) if answer.status_info else None,
        )


class LocalListSendAnswer(BaseModel):
    update_type: str
    version: int = Field(description="The list's version, the last request's versionNumber.")
    status: str = Field(
        description="The answer to the last request sent: Accepted when every request was; "
        "sending stops at the first that is not."
    )
    messages: list[LocalListMessageView]
    station_version: int | None = Field(
        description="After an accepted Full update, the version the station reported to "
        "GetLocalListVersion; otherwise null."
    )

    @classmethod
    def of(cls, sent: LocalListSent) -> Self:
        return cls(
            update_type=str(sent.update_type),
            version=sent.version,
            status=str(sent.status),
            messages=[LocalListMessageView.of(*message) for message in sent.messages],
            station_version=sent.station_version,
        )


def _unset(value: T | None) -> T | msgspec.UnsetType:
    """OCPP leaves an absent optional field out: None becomes UNSET."""
    return UNSET if value is None else value
