"""The emulator's native transfer scripts (builtins_transfer.py), driven through the engine's
own boundary (Engine.invoke with a recording PipelineIO), and pypsrp's Client.copy/fetch
(emulated for the benchmark) against a real emulator over HTTP."""

from __future__ import annotations

import hashlib
import os
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psrpcore import Command

from psremoting.emulator.engine import Engine
from psremoting.protocol.transfer_scripts import SCRIPTS


class Recorder:
    """A minimal PipelineIO: input from a list; output and errors recorded."""

    has_host = False

    def __init__(self, items: list[Any] | None = None) -> None:
        self.stopping = threading.Event()
        self.items = items or []
        self.output: list[Any] = []
        self.errors: list[Any] = []

    def write_output(self, obj: Any) -> None:
        self.output.append(obj)

    def write_error(self, record: Any) -> None:
        self.errors.append(record)

    def write_warning(self, message: str) -> None: ...
    def write_verbose(self, message: str) -> None: ...
    def write_debug(self, message: str) -> None: ...
    def write_information(self, data: Any, source: str) -> None: ...
    def write_progress(self, *args: Any, **kwargs: Any) -> None: ...

    def host_call(self, method: Any, args: list[Any]) -> Any:
        return None

    def input(self) -> Iterator[Any]:
        return iter(self.items)


def invoke(engine: Engine, name: str, items: list[Any] | None = None, **params: Any) -> tuple[Any, Recorder]:
    command = Command(SCRIPTS[name], is_script=True)
    for key, value in params.items():
        command.add_parameter(key, value)
    rec = Recorder(items)
    return engine.invoke([command], rec), rec


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    (tmp_path / "root").mkdir()
    return Engine(root=tmp_path / "root")


def message(result: Any) -> str:
    return str(result.failed.Exception.Message) if result.failed is not None else ""


def test_upload_writes_verified_file(engine: Engine) -> None:
    data = [os.urandom(1000), b"text " * 2000]
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    items = [b"\x00" + data[0], b"\x01" + packer.compress(data[1]) + packer.flush()]
    result, rec = invoke(
        engine, "upload", [*items, hashlib.sha256(b"".join(data)).hexdigest()], Path="C:\\u.bin"
    )
    assert result.failed is None and rec.output == ["C:\\u.bin"]
    assert (engine.root / "u.bin").read_bytes() == b"".join(data)


def test_upload_mismatch_removes_the_temporary_file(engine: Engine) -> None:
    engine.ensure_home()  # the Windows skeleton (C:\\Windows\\System32\\cmd.exe ...) is there before
    before = {p for p in engine.root.rglob("*") if p.is_file()}
    result, rec = invoke(engine, "upload", [b"\x00abc", "0" * 64], Path="C:\\u.bin")
    assert "does not match the source" in message(result)
    assert result.failed.CategoryInfo.Category.name == "OperationStopped"
    assert {p for p in engine.root.rglob("*") if p.is_file()} == before  # no target, no temporary file


def test_download_emits_chunks_then_the_hash(engine: Engine) -> None:
    data = os.urandom(2500)
    (engine.root / "d.bin").write_bytes(data)
    result, rec = invoke(engine, "download", Path="C:\\d.bin", ChunkSize=1000, Compress=True)
    assert result.failed is None
    # random data does not compress: sent as is (coding byte 0) from the first chunk on
    assert [(c[0], len(c)) for c in rec.output[:-1]] == [(0, 1001), (0, 1001), (0, 501)]
    assert b"".join(c[1:] for c in rec.output[:-1]) == data
    assert rec.output[-1] == hashlib.sha256(data).hexdigest()


def test_download_compresses_what_compresses(engine: Engine) -> None:
    data = b"line of text\r\n" * 1000
    (engine.root / "t.txt").write_bytes(data)
    _result, rec = invoke(engine, "download", Path="C:\\t.txt", ChunkSize=4096, Compress=True)
    chunks = rec.output[:-1]
    assert all(c[0] == 1 for c in chunks) and sum(map(len, chunks)) < len(data) / 10
    assert b"".join(zlib.decompress(c[1:], -15) for c in chunks) == data


def test_list_and_mkdir(engine: Engine) -> None:
    result, _rec = invoke(engine, "mkdir", Paths=["C:\\a\\b", "C:\\c"])
    assert result.failed is None and (engine.root / "a" / "b").is_dir()
    (engine.root / "a" / "f.txt").write_bytes(b"12345")
    _result, rec = invoke(engine, "list", Path="C:\\a", Recurse=True)
    assert rec.output == ["D\t0\tC:\\a", "D\t0\tC:\\a\\b", "F\t5\tC:\\a\\f.txt"]
    _result, rec = invoke(engine, "list", Path="C:\\nothing", Recurse=False)
    assert rec.output == ["M\t0\tC:\\nothing"]
    result, _rec = invoke(engine, "mkdir", Paths=["C:\\a\\f.txt"])
    assert message(result) == "Failed to create directory 'C:\\a\\f.txt' on remote destination."


def test_paths_cannot_leave_the_sandbox(engine: Engine, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (engine.root / "link").symlink_to(outside)
    result, _rec = invoke(
        engine, "upload", [b"x", hashlib.sha256(b"x").hexdigest()], Path="C:\\link\\evil.bin"
    )
    assert result.failed is not None and "not valid" in message(result)
    result, _rec = invoke(engine, "download", Path="D:\\secret.bin", ChunkSize=10)
    assert result.failed is not None
    assert list(outside.iterdir()) == []


def test_an_unknown_version_is_not_run_natively(engine: Engine) -> None:
    from psremoting.emulator.engine.builtins_transfer import native_stage

    command = Command(SCRIPTS["upload"].replace(" v1", " v9", 1), is_script=True)
    assert native_stage(None, command) is None  # type: ignore[arg-type]
    assert native_stage(None, Command("Get-Date", is_script=False)) is None  # type: ignore[arg-type]


def test_pypsrp_client_copy_and_fetch_are_emulated(tmp_path: Path) -> None:
    """Benchmark support: pypsrp's own copy.ps1 / fetch.ps1 contract works on the emulator."""
    from pypsrp.client import Client

    from psremoting.emulator import Emulator

    root = tmp_path / "root"
    root.mkdir()
    source = tmp_path / "s.bin"
    source.write_bytes(os.urandom(700_000))
    with Emulator(users={"u": "Passw0rd-1"}, auth=("ntlm",), root=root) as emu:
        client = Client(
            "127.0.0.1", port=emu.port, ssl=False, username="u", password="Passw0rd-1", auth="ntlm"
        )
        try:
            assert client.copy(str(source), "C:\\p.bin") == "C:\\p.bin"
            assert (root / "p.bin").read_bytes() == source.read_bytes()
            client.fetch("C:\\p.bin", str(tmp_path / "back.bin"))
            assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
        finally:
            client.close()
