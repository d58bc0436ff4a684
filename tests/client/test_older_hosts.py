"""Hosts of older PSRP protocol versions (``Emulator(protocol_version=...)``,
``psremoting emulator --protocol-version``): what the client still does, and what it refuses
with a message that names the protocol instead of a WS-Management fault."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import psremoting
from psremoting.emulator import Emulator
from psremoting.protocol.errors import SessionStateError

from .conftest import route_to


@pytest.fixture
def host_21(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(
        users={"admin": "Secret123"}, root=tmp_path, allow_unencrypted=True, protocol_version="2.1"
    ) as emu:
        route_to(emu)
        yield emu


def test_a_2_1_host_runs_commands_but_cannot_disconnect(host_21: Emulator) -> None:
    session = psremoting.new_pssession("Server01")
    assert session.invoke("1 + 1").output == [2]
    with pytest.raises(SessionStateError, match=r"protocol version 2\.1, and this needs 2\.2 or later"):
        session.disconnect()
    # Nothing was sent: the session is still open and usable.
    assert session.state == psremoting.SessionState.OPENED
    assert session.invoke("'still here'").output == ["still here"]


def test_a_2_1_host_refuses_a_raw_disconnect(host_21: Emulator) -> None:
    """A client that does not check (pypsrp) gets the WS-Management fault a 2.1 host's WinRM
    gives for an action it does not have."""
    from pypsrp.exceptions import WSManFaultError
    from pypsrp.powershell import RunspacePool
    from pypsrp.wsman import WSMan

    wsman = WSMan(
        "127.0.0.1", port=host_21.port, ssl=False, auth="ntlm", username="admin", password="Secret123"
    )
    with wsman, RunspacePool(wsman) as pool:
        assert pool.protocol_version == "2.1"
        with pytest.raises(WSManFaultError):
            pool.disconnect()


def test_ps_version_7_4_host(tmp_path: Path) -> None:
    with Emulator(
        users={"admin": "Secret123"}, root=tmp_path, allow_unencrypted=True, ps_version="7.4"
    ) as emu:
        route_to(emu)
        session = psremoting.new_pssession("Server01")
        assert session.invoke("$PSVersionTable.PSEdition").output == ["Core"]
