"""Memory stays flat in the file size on the client: a 50 MB file is copied both ways while
tracemalloc records the client's peak. The emulator runs in its own process (as the
benchmark does), so that only the client's allocations are traced."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import psremoting

USER, PASSWORD = "copier", "Copy-Passw0rd"
SIZE = 50 * 1024 * 1024


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "remote"
    root.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "psremoting", "emulator", "--listen", "127.0.0.1:0", "--auth", "ntlm,negotiate",
         "--user", USER, "--root", str(root)],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PSREMOTING_PASSWORD=PASSWORD),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        yield line.removeprefix("listening on "), root
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def remote_session(emulator_process: tuple[str, Path]) -> Iterator[Any]:
    from psremoting.transport.options import EndpointOverride, set_endpoint_override

    url, _root = emulator_process
    set_endpoint_override(
        lambda name: EndpointOverride(
            url=url, username=USER, password=PASSWORD, authentication="ntlm", ca_file=None
        )
    )
    try:
        session = psremoting.new_pssession("Server01")
        try:
            yield session
        finally:
            psremoting.remove_pssession(session)
    finally:
        set_endpoint_override(None)


def test_memory_stays_flat_for_a_50_mb_file(
    remote_session: Any, emulator_process: tuple[str, Path], tmp_path: Path
) -> None:
    _url, remote_root = emulator_process
    source = tmp_path / "big.bin"
    with open(source, "wb") as f:
        for _ in range(SIZE // (1024 * 1024)):
            f.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        psremoting.copy_item(source, "C:\\big.bin", to_session=remote_session)
        up_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        psremoting.copy_item("C:\\big.bin", tmp_path / "back.bin", from_session=remote_session)
        down_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    assert hashlib.sha256((remote_root / "big.bin").read_bytes()).hexdigest() == expected
    assert hashlib.sha256((tmp_path / "back.bin").read_bytes()).hexdigest() == expected
    # A few chunks in flight at most: far below the 50 MB file.
    assert up_peak < 8_000_000, f"upload peak {up_peak / 1e6:.1f} MB"
    assert down_peak < 12_000_000, f"download peak {down_peak / 1e6:.1f} MB"
