"""copy_item against a real Windows host (opt-in): the only place the real transfer scripts
(psremoting/transfer_scripts.py) run; the emulator performs their contract natively.

Set PSREMOTING_TEST_HOST, PSREMOTING_TEST_USERNAME and PSREMOTING_TEST_PASSWORD (and
optionally PSREMOTING_TEST_AUTH, PSREMOTING_TEST_SSL=1, PSREMOTING_TEST_SKIP_CA_CHECK=1,
PSREMOTING_TEST_PORT). Skipped otherwise. Files go under $env:TEMP on the host, in a folder
removed at the end.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import psremoting
from psremoting.cmdlets.transfer import TransferError
from psremoting.transport.options import SessionOption

HOST = os.environ.get("PSREMOTING_TEST_HOST")
USER = os.environ.get("PSREMOTING_TEST_USERNAME")
PASSWORD = os.environ.get("PSREMOTING_TEST_PASSWORD")

pytestmark = [
    pytest.mark.realhost,
    pytest.mark.skipif(
        not (HOST and USER and PASSWORD),
        reason="set PSREMOTING_TEST_HOST, PSREMOTING_TEST_USERNAME and PSREMOTING_TEST_PASSWORD to run",
    ),
]


@pytest.fixture
def real_session() -> Iterator[Any]:
    skip = os.environ.get("PSREMOTING_TEST_SKIP_CA_CHECK", "") not in ("", "0")
    port = os.environ.get("PSREMOTING_TEST_PORT")
    s = psremoting.new_pssession(
        HOST,
        credential=(str(USER), str(PASSWORD)),
        authentication=os.environ.get("PSREMOTING_TEST_AUTH", "negotiate"),
        use_ssl=os.environ.get("PSREMOTING_TEST_SSL", "") not in ("", "0"),
        port=int(port) if port else None,
        session_option=SessionOption(skip_ca_check=skip, skip_cn_check=skip),
    )
    try:
        yield s
    finally:
        psremoting.remove_pssession(s)


@pytest.fixture
def remote_dir(real_session: Any) -> Iterator[str]:
    name = f"psremoting-copy-{uuid.uuid4().hex[:8]}"
    result = real_session.invoke(
        "param($n) (New-Item -ItemType Directory -Path (Join-Path $env:TEMP $n)).FullName", arguments=[name]
    )
    path = str(result.output[0])
    try:
        yield path
    finally:
        real_session.invoke("param($p) Remove-Item -LiteralPath $p -Recurse -Force", arguments=[path])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("size", [0, 1234, 3 * 1024 * 1024 + 17])
def test_round_trip(real_session: Any, remote_dir: str, tmp_path: Path, size: int) -> None:
    source = tmp_path / "f.bin"
    source.write_bytes(os.urandom(size))
    remote = remote_dir + "\\f.bin"
    assert psremoting.copy_item(source, remote, to_session=real_session) == [remote]
    remote_hash = real_session.invoke(
        "param($p) (Get-FileHash -LiteralPath $p).Hash", arguments=[remote]
    ).output
    assert str(remote_hash[0]).lower() == sha(source)
    psremoting.copy_item(remote, tmp_path / "back.bin", from_session=real_session)
    assert sha(tmp_path / "back.bin") == sha(source)


def test_tree_with_recurse(real_session: Any, remote_dir: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "deeper" / "b.bin").write_bytes(os.urandom(50_000))
    psremoting.copy_item(tree, remote_dir, to_session=real_session, recurse=True)
    out = tmp_path / "out"
    psremoting.copy_item(remote_dir + "\\tree", out, from_session=real_session, recurse=True)
    assert (out / "a.txt").read_text() == "a"
    assert sha(out / "sub" / "deeper" / "b.bin") == sha(tree / "sub" / "deeper" / "b.bin")


def test_errors(real_session: Any, remote_dir: str, tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    with pytest.raises(TransferError, match="does not exist"):
        psremoting.copy_item(source, remote_dir + "\\no\\such\\f.txt", to_session=real_session)
    with pytest.raises(TransferError, match="because it does not exist"):
        psremoting.copy_item(remote_dir + "\\missing.bin", tmp_path / "m.bin", from_session=real_session)
