"""The cases of security profiles 2 and 3 against kilowatt's CSMS and station over TLS, each
able to fail; and the selection of cases by profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from kilowatt.harness.case import Case
from kilowatt.harness.runner import Result, run_cases, select
from tests.harness.conftest import (
    TLS_STATION_1,
    StationUnderTest,
    TlsCsmsUnderTest,
    TlsPki,
    tls_csms,
    tls_station,
)

CSMS_2 = select("csms", security_profile=2)
CSMS_3 = select("csms", security_profile=3)


def _shown(result: Result) -> str:
    lines = [f"{result.case.id}: {result.outcome}: {result.message}"]
    lines += [f"  note: {note}" for note in result.notes]
    lines += [f"  rule broken: {v.rule}: {v.detail}" for v in result.violations]
    lines += [f"  {f.at:8.3f} {f.direction:8} {f.text}" for f in result.frames]
    return "\n".join(lines)


def test_each_run_takes_the_cases_of_its_profile() -> None:
    for role in ("csms", "station"):
        for profile in (1, 2, 3):
            found = select(role, security_profile=profile)
            assert found and {c.security_profile for c in found} == {profile}
    assert len(select("csms", security_profile=None)) == sum(
        len(select("csms", security_profile=p)) for p in (1, 2, 3)
    )
    assert select("csms") == select("csms", security_profile=1)  # the default: profile 1


@pytest.mark.parametrize(
    "case", CSMS_2 + CSMS_3, ids=[c.id for c in CSMS_2 + CSMS_3]
)  # fmt: skip
async def test_kilowatt_csms_passes_over_tls(
    kilowatt_csms_tls: TlsCsmsUnderTest, case: Case
) -> None:
    target = kilowatt_csms_tls.target(case.security_profile)
    (result,) = await run_cases([case], target, kilowatt_csms_tls.driver)
    assert result.outcome == "passed", _shown(result)


async def test_a_csms_that_lets_a_profile_2_station_in_over_ws_fails(
    kilowatt_csms_tls: TlsCsmsUnderTest,
) -> None:
    """The target says profile 2, but the CSMS has the station at profile 1: plain ws is let
    in, and TC_A_08_CSMS fails (while the TLS cases pass: TLS is allowed at profile 1)."""
    target = kilowatt_csms_tls.target(2, TLS_STATION_1)
    results = await run_cases(CSMS_2, target, kilowatt_csms_tls.driver)
    outcomes = {r.case.id: r.outcome for r in results}
    assert outcomes == {
        "TC_A_06_CSMS": "passed",
        "TC_A_07_CSMS": "passed",
        "TC_A_08_CSMS": "failed",
    }, "\n\n".join(map(_shown, results))
    (plain,) = [r for r in results if r.case.id == "TC_A_08_CSMS"]
    assert "got an upgrade" in plain.message


async def test_a_csms_without_plain_url_errs_on_the_plain_case(
    kilowatt_csms_tls: TlsCsmsUnderTest,
) -> None:
    from dataclasses import replace

    target = replace(kilowatt_csms_tls.target(2), plain_url=None)
    (result,) = await run_cases(select("csms", ["TC_A_08_CSMS"], security_profile=2), target,
                                kilowatt_csms_tls.driver)  # fmt: skip
    assert result.outcome == "error" and "--plain-url" in result.message


async def test_a_csms_that_cannot_sign_fails_the_renewal(tmp_path: Path, tls_pki: TlsPki) -> None:
    async with tls_csms(tmp_path, tls_pki, signs=False) as under_test:
        target = under_test.target(3)
        results = await run_cases(CSMS_3, target, under_test.driver)
    outcomes = {r.case.id: r.outcome for r in results}
    assert outcomes == {
        "TC_A_10_CSMS": "passed",
        "TC_A_11_CSMS": "passed",
        "TC_A_12_CSMS": "failed",
    }, "\n\n".join(map(_shown, results))
    assert "expected Accepted, got Rejected" in results[-1].message


async def test_kilowatt_station_passes_over_tls(kilowatt_station_tls: StationUnderTest) -> None:
    """Profile 2, then 3: one run over one long-lived station, as the CLI runs them."""
    profile = kilowatt_station_tls.target.security_profile
    cases = select("station", security_profile=profile)
    assert cases
    results = await run_cases(
        cases,
        kilowatt_station_tls.target,
        kilowatt_station_tls.driver,
        link=kilowatt_station_tls.link,
    )
    failed = [r for r in results if r.outcome != "passed"]
    assert not failed, "\n\n".join(map(_shown, failed))
    # The station still works with its restored password (profile 2) or renewed certificate.
    handshake = kilowatt_station_tls.link.handshakes[-1]
    assert handshake.tls


async def test_a_station_with_another_password_fails(tmp_path: Path, tls_pki: TlsPki) -> None:
    """The harness expects another password than the station's connection brought."""
    async with tls_station(tmp_path, tls_pki, 2) as under_test:
        under_test.link.password = "not-the-station-password"
        (result,) = await run_cases(
            select("station", ["TC_A_06_CS"], security_profile=2),
            under_test.target,
            under_test.driver,
            link=under_test.link,
        )
    assert result.outcome == "failed", _shown(result)
    assert "another password" in result.message


async def test_a_station_with_a_certificate_of_another_cn_fails(
    tmp_path: Path, tls_pki: TlsPki
) -> None:
    """The station's certificate is of the right CA but for another CN: the harness refuses
    it, and the case fails for want of a connection."""
    async with tls_station(
        tmp_path, tls_pki, 3, common_name="SOMEONE-ELSE", wait=False, timeout=2.0
    ) as under_test:
        (result,) = await run_cases(
            select("station", ["TC_A_10_CS"], security_profile=3),
            under_test.target,
            under_test.driver,
            link=under_test.link,
        )
        refusals = under_test.link.handshakes
    assert result.outcome == "failed", _shown(result)
    assert refusals and refusals[0].client_certificate is not None
