"""File transfer scripts, performed natively by the emulator (a test double: it cannot run .NET).

``psremoting.cmdlets.transfer`` (Copy-Item -ToSession/-FromSession) sends real PowerShell scripts
(``psremoting/transfer_scripts.py``) written for Windows PowerShell 5.1 and PowerShell 7.
Each starts with a marker line, ``# psremoting-transfer:<name> v1``. When a client's script
command starts with such a line, :func:`native_stage` returns a pipeline stage that performs
the same contract in Python over the engine's sandbox (``C:\\`` is the engine root; a path
that would leave it is refused): same parameters, same input and output objects, same error
texts, same SHA-256 check, same chunk coding (a first byte 0 = as is, 1 = raw deflate, which
is what .NET's DeflateStream reads and writes), temporary file next to the target, partial
file removed on a mismatch. The real scripts themselves run only in the opt-in real-host suite
(``tests/realhost/test_transfer_realhost.py``).

Benchmark-only: pypsrp's ``Client.copy``/``Client.fetch`` send their own scripts
(``pypsrp/pwsh_scripts/copy.ps1`` and ``fetch.ps1``, as pypsrp strips them before sending).
So that ``bench/bench_copy.py`` can compare both clients on the same emulator, those two
texts are recognised too and their contract emulated: copy.ps1 takes base64 chunk strings as
input and a final base64 SHA-1 (hex) string, positional ``dest``, and outputs the absolute
path; fetch.ps1 takes a positional ``src`` and outputs the whole file as one base64 string,
then its SHA-1 (hex).

Streaming: input chunks are written to the temporary file as they arrive, and download
chunks are written to the client as they are read, so the emulator's memory does not grow
with the file (apart from what the PSRP layer queues).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pkgutil
import re
import uuid
import zlib
from pathlib import Path
from typing import Any

from psrpcore.types import ErrorCategory

from psremoting.emulator import b64
from psremoting.protocol.transfer_scripts import MARKER_PREFIX

from .errors import PSError, make_error_record
from .filesystem import SandboxEscape
from .io import PipelineStopped
from .processors import Processor
from .run_state import RunState

__all__ = ["native_stage", "TransferStage"]

#: Download chunk size when the client does not give one.
DEFAULT_CHUNK = 1024 * 1024


def _throw(message: str) -> PSError:
    """What ``throw "message"`` gives in a script: a RuntimeException, OperationStopped."""
    record = make_error_record(
        message, "System.Management.Automation.RuntimeException", ErrorCategory.OperationStopped, message
    )
    return PSError(record, terminating=True, script_terminating=True)


def _compact_script(text: str) -> str:
    """A script as pypsrp sends it: each line trimmed, blank lines, ``#`` comment lines and
    ``<# ... #>`` comment blocks (whole lines) left out, lines joined with LF."""
    kept: list[str] = []
    in_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if in_block:
            in_block = not line.endswith("#>")
            continue
        if line.startswith("<#"):
            in_block = True
            continue
        if line and not line.startswith("#"):
            kept.append(line)
    return "\n".join(kept)


@functools.lru_cache(maxsize=1)
def _pypsrp_scripts() -> dict[str, str]:
    """pypsrp's copy.ps1 and fetch.ps1 as its Client sends them (read from the installed
    package's data files, not through its private helpers)."""
    found: dict[str, str] = {}
    for name, kind in (("copy.ps1", "pypsrp-copy"), ("fetch.ps1", "pypsrp-fetch")):
        try:
            data = pkgutil.get_data("pypsrp.pwsh_scripts", name)
        except (ImportError, OSError):  # pragma: no cover - pypsrp is a dependency
            continue
        if data is not None:
            found[_compact_script(data.decode("utf-8-sig"))] = kind
    return found


def native_stage(run: RunState, command: Any) -> Processor | None:
    """The native stage for a transfer script command, or None for any other command."""
    if not getattr(command, "is_script", False):
        return None
    text: str = command.command_text or ""
    kind: str | None = None
    if text.startswith(MARKER_PREFIX):
        first = text.split("\n", 1)[0].strip()
        name, _, version = first[len(MARKER_PREFIX) :].partition(" ")
        if version != "v1" or name not in ("list", "mkdir", "upload", "download"):
            return None
        kind = name
    else:
        kind = _pypsrp_scripts().get(text)
    if kind is None:
        return None
    return TransferStage(run, kind, list(command.parameters))


class TransferStage(Processor):
    """One transfer script, run natively (see the module docstring)."""

    def __init__(self, run: RunState, kind: str, parameters: list[tuple[str | None, Any]]) -> None:
        self.run = run
        self.kind = kind
        self.named = {name.lower(): value for name, value in parameters if name is not None}
        self.positional = [value for name, value in parameters if name is None]
        self._stream: Any = None
        self._temp: Path | None = None
        self._target: Path | None = None
        self._target_text = ""
        self._hash: Any = None
        self._expected: str | None = None
        self._pending: bytes | None = None

    # -- paths -----------------------------------------------------------------------
    def _resolve(self, path: Any) -> tuple[str, Path]:
        engine = self.run.engine
        try:
            windows = engine.sandbox.normalize(str(path), engine.location)
            return windows, engine.sandbox.host_path(windows)
        except SandboxEscape as exc:
            raise _throw(f"The path '{path}' is not valid: {exc}") from exc

    def _pypsrp_path(self) -> tuple[str, Path]:
        """copy.ps1's ``dest``/fetch.ps1's ``src``: the first argument; the second says
        whether to expand ``%VARIABLES%`` first ([Environment]::ExpandEnvironmentVariables)."""
        path = str(self.positional[0]) if self.positional else ""
        if len(self.positional) > 1 and self.positional[1] is True:
            env = self.run.engine.scope.env
            path = re.sub(
                r"%([^%]+)%", lambda m: str(env[m.group(1)]) if m.group(1) in env else m.group(0), path
            )
        return self._resolve(path)

    def _windows(self, host: Path) -> str:
        return self.run.engine.sandbox.windows_path(host)

    # -- the stage -------------------------------------------------------------------
    def _load_module(self, command_name: str) -> None:
        """The script's first use of a cmdlet of a module not yet loaded (modules.py)."""
        engine = self.run.engine
        engine.modules.use(
            command_name, self.run.io, in_script=True, preference=engine.scope.get("ProgressPreference")
        )

    def begin(self) -> None:
        # The first cmdlet of each script: New-Object (Utility), but fetch.ps1's is Test-Path
        # and copy.ps1 calls New-Object only in its end block.
        if self.kind != "pypsrp-copy":
            self._load_module("Test-Path" if self.kind == "pypsrp-fetch" else "New-Object")
        if self.kind == "upload":
            self._open_upload(str(self.named.get("path", "")), exists_check=True)
        elif self.kind == "pypsrp-copy":
            # copy.ps1 writes to [IO.Path]::GetTempFileName(); dest is only read at the end.
            temp_dir = self.run.engine.sandbox.host_path("C:\\Windows\\Temp")
            temp_dir.mkdir(parents=True, exist_ok=True)
            self._temp = temp_dir / f"tmp{uuid.uuid4().hex[:4].upper()}.tmp"
            self._stream = open(self._temp, "xb")  # noqa: SIM115 - closed in end() or _discard()
            self._hash = hashlib.sha1()

    def process(self, item: Any) -> None:
        if self.run.io.stopping.is_set():
            self._discard()
            raise PipelineStopped()
        if self.kind == "upload":
            if isinstance(item, (bytes, bytearray)):
                data = bytes(item[1:])
                if item[:1] == b"\x01":
                    try:
                        data = zlib.decompress(data, -15)
                    except zlib.error as exc:
                        raise _throw(f'Exception calling "Read" with "3" argument(s): "{exc}"') from exc
                self._hash.update(data)
                self._stream.write(data)
            else:
                self._expected = str(item)
        elif self.kind == "pypsrp-copy":
            # Each input is base64; the last one is the hash, so every input is held back one step.
            if self._pending is not None:
                self._hash.update(self._pending)
                self._stream.write(self._pending)
            self._pending = b64.decode_lenient(str(item or ""))

    def end(self) -> None:
        try:
            if self.kind == "list":
                self._list()
            elif self.kind == "mkdir":
                self._mkdir()
            elif self.kind == "upload":
                self._finish_upload()
            elif self.kind == "download":
                self._download()
            elif self.kind == "pypsrp-copy":
                self._finish_pypsrp_copy()
            elif self.kind == "pypsrp-fetch":
                self._pypsrp_fetch()
        except BaseException:
            self._discard()
            raise

    # -- list / mkdir ----------------------------------------------------------------
    def _list(self) -> None:
        path = str(self.named.get("path", ""))
        windows, host = self._resolve(path)
        if host.is_dir():
            self.downstream(f"D\t0\t{windows}")
            if self.named.get("recurse"):
                for folder, dirs, files in os.walk(host):
                    dirs.sort(key=str.lower)
                    base = Path(folder)
                    for name in dirs:
                        self.downstream(f"D\t0\t{self._windows(base / name)}")
                    for name in sorted(files, key=str.lower):
                        file = base / name
                        self.downstream(f"F\t{file.stat().st_size}\t{self._windows(file)}")
        elif host.is_file():
            self.downstream(f"F\t{host.stat().st_size}\t{windows}")
        else:
            self.downstream(f"M\t0\t{path}")

    def _mkdir(self) -> None:
        paths = self.named.get("paths") or []
        if isinstance(paths, (str, bytes)):
            paths = [paths]
        for path in paths:
            _windows, host = self._resolve(path)
            if host.is_file():
                raise _throw(f"Failed to create directory '{path}' on remote destination.")
            try:
                host.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _throw(f"Failed to create directory '{path}' on remote destination.") from exc

    # -- upload ----------------------------------------------------------------------
    def _open_upload(self, path: str, *, exists_check: bool) -> None:
        windows, host = self._resolve(path)
        if host.is_dir():
            raise _throw(f"Failed to copy file {path} to remote target destination: it is a directory.")
        parent = host.parent
        if not parent.is_dir():
            folder = windows.rsplit("\\", 1)[0]
            raise _throw(
                f"Failed to copy file {path} to remote target destination: the folder {folder} does not exist."
            )
        self._target, self._target_text = host, path
        self._temp = parent / f".{host.name}.{uuid.uuid4().hex}.psrtmp"
        self._stream = open(self._temp, "xb")  # noqa: SIM115 - closed in end() or _discard()
        self._hash = hashlib.sha256()

    def _finish_upload(self) -> None:
        self._stream.close()
        actual = self._hash.hexdigest()
        if actual != self._expected:
            raise _throw(
                f"Failed to copy file {self._target_text} to remote target destination: the SHA-256 of the "
                f"data received ({actual}) does not match the source ({self._expected}); the partial file "
                "was removed."
            )
        assert self._temp is not None and self._target is not None
        if self._target.is_file() and not self._target.stat().st_mode & 0o200:
            # Windows: [IO.File]::Delete of a read-only file, unless -Force cleared the attribute.
            if not self.named.get("force"):
                raise _throw(
                    'Exception calling "Delete" with "1" argument(s): "Access to the path '
                    f"'{self._target_text}' is denied.\""
                )
            self._target.chmod(self._target.stat().st_mode | 0o200)
        os.replace(self._temp, self._target)
        self._temp = None
        self.downstream(self._target_text)

    def _discard(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
        if self._temp is not None:
            with contextlib.suppress(OSError):
                self._temp.unlink()
            self._temp = None

    # -- download --------------------------------------------------------------------
    def _download(self) -> None:
        path = str(self.named.get("path", ""))
        chunk_size = int(self.named.get("chunksize") or DEFAULT_CHUNK)
        if chunk_size <= 0:
            raise _throw("ChunkSize must be positive.")
        _windows, host = self._resolve(path)
        if not host.is_file():
            raise _throw(f"Failed to read remote file '{path}'.")
        compress = bool(self.named.get("compress"))
        digest = hashlib.sha256()
        with open(host, "rb") as stream:
            while True:
                if self.run.io.stopping.is_set():
                    raise PipelineStopped()
                chunk = stream.read(chunk_size)
                if not chunk:
                    break
                digest.update(chunk)
                if compress:
                    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
                    packed = b"\x01" + packer.compress(chunk) + packer.flush()
                    if len(packed) < len(chunk) * 0.9:
                        self.downstream(packed)
                        continue
                    compress = False  # incompressible: the rest goes as is
                self.downstream(b"\x00" + chunk)
        self.downstream(digest.hexdigest())

    # -- pypsrp's scripts (benchmark only) -------------------------------------------
    def _finish_pypsrp_copy(self) -> None:
        self._stream.close()
        expected = (self._pending or b"").decode("utf-8", "replace")
        actual = self._hash.hexdigest()
        assert self._temp is not None
        self._load_module("New-Object")
        try:
            if actual != expected:
                raise _throw(f"Transport failure, hash mismatch\r\nActual: {actual}\r\nExpected: {expected}")
            windows, host = self._pypsrp_path()
            with contextlib.suppress(FileNotFoundError):
                host.unlink()
            try:
                os.replace(self._temp, host)
            except OSError as exc:  # [System.IO.File]::Move into a folder that does not exist
                raise _throw(
                    'Exception calling "Move" with "2" argument(s): "Could not find a part of the path."'
                ) from exc
            self._temp = None
            self.downstream(windows)
        finally:
            self._discard()

    def _pypsrp_fetch(self) -> None:
        windows, host = self._pypsrp_path()
        if host.is_dir():
            raise _throw(f"The path at '{windows}' is a directory, src must be a file")
        if not host.exists():
            raise _throw(f"The path at '{windows}' does not exist")
        self._load_module("New-Object")
        data = host.read_bytes()  # fetch.ps1 reads the whole file into one byte[]
        self.downstream(b64.encode(data))
        self.downstream(hashlib.sha1(data).hexdigest())
