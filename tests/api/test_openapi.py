"""The OpenAPI document: complete, self-consistent, with the OCPP payload schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from kilowatt.api.ocpp import ocpp_schemas
from kilowatt.messages import VERSIONS


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


async def test_every_reference_resolves(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    targets = set(refs(document))
    assert targets
    for target in targets:
        assert target.startswith("#/components/schemas/"), target
        assert target.removeprefix("#/components/schemas/") in schemas, target


async def test_each_csms_action_is_documented_with_its_ocpp_schemas(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for action in VERSIONS["2.0.1"].sent_by("csms"):
        operation = paths[f"/api/v1/stations/{{station_id}}/ocpp/{action}"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{action}Request"}
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["properties"]["response"] == {
            "$ref": f"#/components/schemas/{action}Response"
        }
        assert {"401", "404", "409", "422", "502", "504"} <= operation["responses"].keys()


async def test_the_api_models_and_ocpp_schemas_agree_on_shared_names(
    client: httpx.AsyncClient,
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    ocpp = ocpp_schemas()
    # Where the API's own schema of a name won, it is one of the OCPP enumerations its bodies
    # use, with the same values.
    differing = [name for name in ocpp if ocpp[name] != schemas[name]]
    assert "IdTokenEnumType" in differing
    for name in differing:
        assert set(schemas[name]["enum"]) == set(ocpp[name]["enum"]), name


async def test_docs_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text
