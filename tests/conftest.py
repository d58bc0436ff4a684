"""Shared fixtures: WinRM endpoint emulators on loopback, and pypsrp clients for them.

- ``emulator``: HTTP, Basic + NTLM + Negotiate, AllowUnencrypted on (so Basic over HTTP works
  in tests; NTLM/Negotiate clients still encrypt their messages, as pypsrp does by default).
- ``emulator_ntlm``: HTTP with AllowUnencrypted off, as a default Windows listener: only
  NTLM/Negotiate with message encryption gets through.
- ``emulator_https``: HTTPS with a generated certificate (``emulator_https.ca_file`` is the CA to
  verify it against), Basic + NTLM + Negotiate.
- ``wsman_for``: ``wsman_for(emu, auth="basic", **kwargs)`` -> a pypsrp ``WSMan`` for it, closed
  at the end of the test.

The user is ``USER``/``PASSWORD`` below. Every emulator is stopped when its test ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from psremoting.emulator import Emulator
from psremoting.emulator.pytest_plugin import make_wsman

USER = "user"
PASSWORD = "Emul4tor-Passw0rd"
RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "windows-recordings"


@pytest.fixture(autouse=True)
def _own_known_hosts(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test trusts certificates in a known_hosts of its own, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(users={USER: PASSWORD}, allow_unencrypted=True) as emu:
        yield emu


@pytest.fixture
def emulator_ntlm() -> Iterator[Emulator]:
    with Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate")) as emu:
        yield emu


@pytest.fixture
def emulator_https() -> Iterator[Emulator]:
    with Emulator(users={USER: PASSWORD}, https=True) as emu:
        yield emu


@pytest.fixture
def wsman_for() -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def factory(emu: Emulator, auth: str = "basic", **kwargs: Any) -> Any:
        wsman = make_wsman(emu, auth, **kwargs)
        made.append(wsman)
        return wsman

    yield factory
    for wsman in made:
        with contextlib.suppress(Exception):
            wsman.close()
