"""Envelope sizes and fragments as Windows has them; several computers from one emulator."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from pypsrp.powershell import PowerShell, RunspacePool

from psremoting.emulator import Emulator, EmulatorFleet
from psremoting.emulator.psrp_shell import MAX_FRAGMENT

WSManFor = Callable[..., Any]


def _record_receive_responses(emu: Emulator) -> list[bytes]:
    service = next(iter(emu._computers.values())).service
    seen: list[bytes] = []
    original = service.handle

    def handle(data: bytes, **kwargs: Any) -> tuple[int, bytes]:
        status, body = original(data, **kwargs)
        if b"/ReceiveResponse<" in body:
            seen.append(body)
        return status, body

    service.handle = handle  # type: ignore[method-assign]
    return seen


def _fragment_sizes(body: bytes) -> list[int]:
    sizes = []
    for chunk in re.findall(rb"<rsp:Stream[^>]*>([A-Za-z0-9+/=]+)</rsp:Stream>", body):
        data = base64.b64decode(chunk)
        offset = 0
        while offset + 21 <= len(data):
            length = int.from_bytes(data[offset + 17 : offset + 21], "big")
            sizes.append(21 + length)
            offset += 21 + length
    return sizes


# pypsrp raises its default 153600 to 512000 once the server speaks protocol 2.2+.
@pytest.mark.parametrize("envelope", [153600, 32768])
def test_large_output_respects_envelope_and_fragment_limits(
    emulator: Emulator, wsman_for: WSManFor, envelope: int
) -> None:
    big = "x" * 300_000
    emulator.register("Get-Big", lambda ctx: [big, *range(2000)])
    seen = _record_receive_responses(emulator)
    with RunspacePool(wsman_for(emulator, "basic", max_envelope_size=envelope)) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Big")
        output = ps.invoke()
    assert output[0] == big and output[1:] == list(range(2000))
    effective = 512000 if envelope == 153600 else envelope
    assert len(seen) > 1
    assert max(len(body) for body in seen) <= effective
    fragments = [size for body in seen for size in _fragment_sizes(body)]
    assert max(fragments) <= MAX_FRAGMENT
    if envelope == 153600:
        assert max(fragments) == MAX_FRAGMENT  # Windows' 32 KiB fragments


def test_add_computer_answers_as_that_name(emulator: Emulator, wsman_for: WSManFor) -> None:
    url = emulator.add_computer("web01")
    assert url != emulator.url and url.endswith("/wsman")
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    names = []
    for p in (emulator.port, port):
        with RunspacePool(wsman_for(emulator, "basic", port=p)) as pool:
            ps = PowerShell(pool)
            ps.add_script("$env:COMPUTERNAME")
            names.append(ps.invoke())
    assert names == [["SERVER01"], ["WEB01"]]
    assert sorted(emulator.computers) == ["SERVER01", "web01"]


def test_fleet_starts_computers_on_first_use() -> None:
    with EmulatorFleet(users={"user": "pw"}, allow_unencrypted=True) as fleet:
        first = fleet.url_for("db01")
        assert fleet.url_for("DB01") == first
        assert fleet.url_for("db02") != first


def test_winrm_emulator_fixture_from_the_plugin(winrm_emulator: Emulator) -> None:
    from psremoting.emulator.pytest_plugin import make_wsman

    winrm_emulator.register("Get-AppVersion", lambda ctx: ["1.2.3"])
    with RunspacePool(make_wsman(winrm_emulator)) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-AppVersion")
        assert ps.invoke() == ["1.2.3"]
