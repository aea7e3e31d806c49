"""Bodies of the routes that send CALLs to stations: the raw OCPP route's answer, and the small
bodies of the typed commands with how each becomes its OCPP 2.0.1 request."""

from __future__ import annotations

from typing import Annotated, Any, Self, TypeVar

import msgspec
from msgspec import UNSET
from pydantic import AwareDatetime, BaseModel, Field, StrictInt, model_validator

from kilowatt.api.bodies import IdTokenText, Language, PersonalMessage, StrictBody
from kilowatt.messages import Message, encode, v201

__all__ = [
    "ChangeAvailabilityCommand",
    "GetVariableOutcome",
    "GetVariablesAnswer",
    "GetVariablesCommand",
    "LocalListEntry",
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

    def authorization_data(self) -> v201.AuthorizationData:
        id_token = v201.IdTokenType(id_token=self.id_token, type=self.type)
        if self.status is None:
            return v201.AuthorizationData(id_token=id_token)
        group = (
            v201.IdTokenType(id_token=self.group_id_token, type=v201.IdTokenEnumType.CENTRAL)
            if self.group_id_token
            else UNSET
        )
        message = self.personal_message
        info = v201.IdTokenInfoType(
            status=self.status,
            cache_expiry_date_time=_unset(self.expiry),
            group_id_token=group,
            language1=_unset(self.language1),
            language2=_unset(self.language2),
            personal_message=(
                v201.MessageContentType(
                    format=message.format,
                    language=_unset(message.language),
                    content=message.content,
                )
                if message
                else UNSET
            ),
        )
        return v201.AuthorizationData(id_token=id_token, id_token_info=info)


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


def _unset(value: T | None) -> T | msgspec.UnsetType:
    """OCPP leaves an absent optional field out: None becomes UNSET."""
    return UNSET if value is None else value
