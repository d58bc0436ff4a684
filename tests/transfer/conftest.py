"""Fixtures for the copy tests: an emulator on loopback HTTP with NTLM + message encryption
(AllowUnencrypted off, as a default Windows listener), its sandbox folder (shown as ``C:\\``),
and an open PSSession to it through the client's endpoint override."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

USER, PASSWORD = "copier", "Copy-Passw0rd"


@pytest.fixture
def remote_root(tmp_path: Path) -> Path:
    """The emulator's sandbox: ``C:\\x`` is ``remote_root / "x"``."""
    root = tmp_path / "remote"
    root.mkdir()
    return root


@pytest.fixture
def local_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "local"
    folder.mkdir()
    return folder


@pytest.fixture
def copy_emulator(remote_root: Path) -> Iterator[Any]:
    from psremoting.emulator import Emulator

    with Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate"), root=remote_root) as emu:
        yield emu


@pytest.fixture
def session(copy_emulator: Any) -> Iterator[Any]:
    import psremoting
    from psremoting.transport.options import EndpointOverride, set_endpoint_override

    set_endpoint_override(
        lambda name: EndpointOverride(
            url=copy_emulator.url, username=USER, password=PASSWORD, authentication="ntlm", ca_file=None
        )
    )
    try:
        s = psremoting.new_pssession("Server01")
        try:
            yield s
        finally:
            with contextlib.suppress(Exception):
                psremoting.remove_pssession(s)
    finally:
        set_endpoint_override(None)
