"""Sites in SqlStore, on SQLite and PostgreSQL."""

from __future__ import annotations

from kilowatt.csms.store import SiteRecord
from kilowatt.csms.store.sql import SqlStore
from tests.csms.store.factories import at


async def test_sites_are_put_replaced_listed_and_deleted(store: SqlStore) -> None:
    await store.put_site(SiteRecord("b", '{"id": "b"}', at(1)))
    await store.put_site(SiteRecord("a", '{"id": "a"}', at(2)))
    await store.put_site(SiteRecord("a", '{"id": "a", "name": "A"}', at(3)))
    assert await store.sites() == [
        SiteRecord("a", '{"id": "a", "name": "A"}', at(3)),
        SiteRecord("b", '{"id": "b"}', at(1)),
    ]
    assert await store.delete_site("a")
    assert not await store.delete_site("a")
    assert [site.site_id for site in await store.sites()] == ["b"]
