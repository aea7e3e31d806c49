"""B Provisioning: B01-B03 boot (Accepted, Pending, Rejected), B07/B08 reports (NotifyReport)."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.csms.pricing import send_default_tariffs
from kilowatt.csms.session import ACCEPTED
from kilowatt.csms.store import VariableRecord
from kilowatt.messages import v201

__all__ = ["boot_notification", "notify_report"]


async def boot_notification(
    request: v201.BootNotificationRequest, ctx: Context
) -> v201.BootNotificationResponse:
    """B01-B03: answer with the registration status and interval the operator set.

    The answer is stored (B02/B03: while Pending or Rejected the station may send nothing but
    BootNotification), and so is what the station says of itself.
    """
    station = request.charging_station
    modem = station.modem or None
    now = ctx.now()
    record = ctx.session.update_station(
        boot_status=ctx.session.station.registration_status,
        boot_at=now,
        boot_reason=str(request.reason),
        vendor_name=station.vendor_name,
        model=station.model,
        serial_number=station.serial_number or None,
        firmware_version=station.firmware_version or None,
        modem_iccid=(modem.iccid or None) if modem else None,
        modem_imsi=(modem.imsi or None) if modem else None,
    )
    await ctx.store.put_station(record)
    balancer = ctx.services.load_balancer
    if balancer is not None and record.registration_status == ACCEPTED:
        balancer.station_accepted(ctx.station_id)  # its failsafe, after this answer
    pricing, commands = ctx.services.pricing, ctx.services.commands
    if (
        record.registration_status == ACCEPTED
        and ctx.session.subprotocol == "ocpp2.1"
        and pricing is not None
        and commands is not None
    ):

        async def tariffs() -> None:
            await send_default_tariffs(commands, pricing, ctx.station_id)  # I07

        ctx.then(tariffs)
    return v201.BootNotificationResponse(
        current_time=now,
        interval=record.heartbeat_interval,
        status=v201.RegistrationStatusEnumType(record.registration_status),
    )


def _variables(station_id: str, data: v201.ReportDataType, now: object) -> list[VariableRecord]:
    component, variable = data.component, data.variable
    evse = component.evse or None
    characteristics = None
    if data.variable_characteristics:
        c = data.variable_characteristics
        characteristics = {
            "dataType": str(c.data_type),
            "supportsMonitoring": c.supports_monitoring,
            **({"unit": c.unit} if c.unit else {}),
            **({"minLimit": c.min_limit} if c.min_limit is not UNSET else {}),
            **({"maxLimit": c.max_limit} if c.max_limit is not UNSET else {}),
            **({"valuesList": c.values_list} if c.values_list else {}),
        }
    return [
        VariableRecord(
            station_id=station_id,
            component=component.name,
            component_instance=component.instance or "",
            evse_id=evse.id if evse else -1,
            connector_id=(evse.connector_id if evse and evse.connector_id is not UNSET else -1),
            variable=variable.name,
            variable_instance=variable.instance or "",
            attribute_type=str(attribute.type or v201.AttributeEnumType.ACTUAL),
            value=attribute.value if attribute.value is not UNSET else None,
            mutability=str(attribute.mutability) if attribute.mutability else None,
            persistent=attribute.persistent if attribute.persistent is not UNSET else None,
            constant=attribute.constant if attribute.constant is not UNSET else None,
            characteristics=characteristics,
            updated_at=now,  # type: ignore[arg-type]
        )
        for attribute in data.variable_attribute
    ]


async def notify_report(
    request: v201.NotifyReportRequest, ctx: Context
) -> v201.NotifyReportResponse:
    """B07/B08: keep the station's device model; a report comes in parts by seqNo, tbc."""
    now = ctx.now()
    records = [
        record
        for data in request.report_data or []
        for record in _variables(ctx.station_id, data, now)
    ]
    if records:
        await ctx.store.put_variables(records)
    await keep(
        v201.NotifyReportRequest(
            request_id=request.request_id,
            generated_at=request.generated_at,
            seq_no=request.seq_no,
            tbc=request.tbc,
        ),
        ctx,
        request_id=request.request_id,
    )
    return v201.NotifyReportResponse()
