"""Copy-Item -ToSession / -FromSession: copy files and folders to and from a PSSession.

    >>> s = psremoting.new_pssession("server01")
    >>> psremoting.copy_item("./app.zip", "C:\\Deploy\\", to_session=s)
    >>> psremoting.copy_item("C:\\Logs", "./logs", from_session=s, recurse=True)

How it moves data (the remote scripts are in `psremoting.protocol.transfer_scripts`, written for
Windows PowerShell 5.1 and PowerShell 7, no modules needed):

- Upload: one pipeline per file whose *input* is the file as ``byte[]`` chunks (serialized
  as ``<BA>``, the cheapest form on the wire), then its SHA-256. Chunks are sized from the
  session's WSMan max envelope so each Send carries one full fragment. The remote script
  writes a temporary file next to the target, checks the hash, then moves it into place.
- Download: one pipeline per file whose *output* is the file as ``byte[]`` chunks, then its
  SHA-256; chunks are written to a temporary file next to the local target as they arrive,
  hashed, checked, then renamed into place.
- Chunks are deflated while that saves 10% (a first byte says how each is coded; the
  server uses .NET's DeflateStream), so text and logs move several times faster; the first
  block that does not compress turns it off for the rest of the file.
- Memory stays flat in the file size on the client: input is a generator read from disk
  (one worker thread reads, hashes and compresses a block or two ahead of the Sends),
  output is written as it arrives; nothing holds the whole file.
- A hash mismatch fails with a clear error and the partial file is removed.
- Folders (``recurse=True``): the remote tree is listed (or the local one walked), folders
  are created first, then each file is copied. As in PowerShell, copying into a folder that
  exists puts the source *inside* it; otherwise the destination is the copy's name.

Progress goes to the session's host UI (``session.runspace.host.ui_target``) as PowerShell
shows it: activity "Copying {0} to {1}", status "From {0} to {1}".

The emulator (a test double) performs these scripts natively, recognising them by their
first line; the real scripts are exercised only by the opt-in real-host suite.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import ntpath
import os
import queue
import re
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psremoting.protocol.errors import InvalidOptionError, PSRemotingError, SessionStateError
from psremoting.protocol.transfer_scripts import SCRIPTS
from psremoting.transport.pipeline_input import LastInput

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.cmdlets.sessions import PSSession

__all__ = ["copy_item", "TransferError", "DOWNLOAD_CHUNK_SIZE"]

log = logging.getLogger(__name__)

#: Bytes per downloaded chunk (one output object; the server splits it into fragments).
#: 256 KiB measured fastest on the emulator, and keeps the client's peak memory lowest.
DOWNLOAD_CHUNK_SIZE = 256 * 1024
#: An upload chunk is compressed from at most this many times the chunk size of raw data.
_MAX_EXPANSION = 8
#: Compression must save at least this share of a chunk to be used.
_WORTH_IT = 0.9
#: PSRP message header (40) + UTF-8 BOM (3) + ``<BA></BA>`` (9) + slack, per input chunk.
_MESSAGE_OVERHEAD = 40 + 3 + 9 + 64
_FRAGMENT_HEADER = 21
#: The hash both sides compute (SHA-256); a name of its own so tests can corrupt the client's.
_new_hash = hashlib.sha256
_ABSOLUTE_REMOTE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\/]+[\\/][^\\/]+)")


class TransferError(PSRemotingError):
    """A copy to or from a session failed (missing source, remote write error, hash mismatch)."""

    fully_qualified_error_id = "CopyItemRemoteFailed"


def copy_item(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    destination: str | os.PathLike[str],
    *,
    to_session: PSSession | None = None,
    from_session: PSSession | None = None,
    recurse: bool = False,
    force: bool = False,
    container: bool = True,
) -> list[str]:
    """Copy-Item -Path `path` -Destination `destination` -ToSession/-FromSession.

    With `to_session`, `path` is local and `destination` a remote absolute path; with
    `from_session`, `path` is remote (absolute) and `destination` local. `path` may be a
    list. Returns the paths of the files written (remote paths for an upload). Raises
    `InvalidOptionError` (both or no session, relative remote path), `SessionStateError`
    (session not Available) or `TransferError` (what failed, on which file).

    `force` (-Force) replaces read-only files too (without it a read-only target is an
    "Access to the path ... is denied." error, as on Windows). ``container=False``
    (-Container:$false) with `recurse` copies the files of a folder tree into `destination`
    without its folders.
    """
    if to_session is not None and from_session is not None:
        raise InvalidOptionError(
            "'-ToSession' and '-FromSession' are mutually exclusive and cannot be specified at the same time."
        )
    session = to_session if to_session is not None else from_session
    if session is None:
        raise InvalidOptionError("copy_item needs to_session (upload) or from_session (download).")
    sources = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if to_session is not None:
        _check_remote_path(str(destination))
    else:
        for source in sources:
            _check_remote_path(str(source))
    _check_available(session)
    copier = _Copier(session, force=force, container=container)
    written: list[str] = []
    for source in sources:
        if to_session is not None:
            written += copier.upload(Path(source), str(destination), recurse)
        else:
            written += copier.download(str(source), Path(destination), recurse)
    return written


def _check_remote_path(path: str) -> None:
    if not _ABSOLUTE_REMOTE.match(path):
        raise InvalidOptionError(
            f"The path '{path}' is not valid. Only absolute paths are supported on remote copy operations."
        )


def _check_available(session: PSSession) -> None:
    availability = session.availability
    if getattr(availability, "value", availability) != "Available":
        raise SessionStateError(
            f"Cannot perform operation because the session Availability is set to "
            f"{getattr(availability, 'value', availability)}.",
            computer_name=session.computer_name,
            state=getattr(session.state, "value", str(session.state)),
        )


def _remote_join(base: str, *names: str) -> str:
    text = base.rstrip("\\/")
    for name in names:
        text += "\\" + name
    return text


def _not_found(path: str) -> TransferError:
    return TransferError(f"Cannot find path '{path}' because it does not exist.")


def upload_chunk_size(session: PSSession) -> int:
    """Raw bytes per input chunk so that one chunk fills one Send (one fragment)."""
    payload = session.runspace.max_payload_size
    room = payload - _FRAGMENT_HEADER - _MESSAGE_OVERHEAD
    return max(3, room // 4 * 3)


class _Copier:
    """Runs the transfer scripts on one session, with progress on its host UI."""

    def __init__(
        self, session: PSSession, compress: bool = True, *, force: bool = False, container: bool = True
    ) -> None:
        self.session = session
        self.compress = compress
        self.force = force
        self.container = container
        self.computer = session.computer_name
        self.ui: Any = getattr(getattr(session.runspace, "host", None), "ui_target", None)

    # -- remote script helpers -------------------------------------------------------
    def _run(self, name: str, parameters: dict[str, Any], input: Any = None) -> list[Any]:
        pipeline = self.session.start(SCRIPTS[name], parameters=parameters, input=input, annotate=False)
        output: list[Any] = []
        failure = None
        with _closing(pipeline) as items:
            for item in items:
                if item.stream == "output":
                    output.append(item.value)
                elif item.stream == "error" and failure is None:
                    failure = item.value
                elif item.stream == "warning":
                    log.warning("[%s] %s", self.computer, item.value)
        if failure is not None:
            message = getattr(failure, "message", str(failure))
            raise TransferError(f"[{self.computer}] {message}", computer_name=self.computer)
        return output

    def _list(self, path: str, recurse: bool) -> list[tuple[str, int, str]]:
        entries = []
        for line in self._run("list", {"Path": path, "Recurse": bool(recurse)}):
            kind, size, full = str(line).split("\t", 2)
            entries.append((kind, int(size), full))
        if not entries:
            raise TransferError(
                f"[{self.computer}] Failed to read remote path '{path}'.", computer_name=self.computer
            )
        return entries

    # -- progress --------------------------------------------------------------------
    def _progress(
        self, source: str, target: str, done: int, total: int, *, upload: bool, last: bool = False
    ) -> None:
        ui = self.ui
        if ui is None or not hasattr(ui, "write_progress"):
            return
        from psremoting.protocol.objects import ProgressRecord

        origin, goal = ("localhost", self.computer) if upload else (self.computer, "localhost")
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        record = ProgressRecord(
            activity=f"Copying {source} to {target}",
            status_description=f"From {origin} to {goal}",
            percent_complete=percent,
            record_type="Completed" if last else "Processing",
        )
        try:
            ui.write_progress(0, record)
        except Exception as exc:
            log.debug("progress display failed: %s", exc)

    # -- upload ----------------------------------------------------------------------
    def upload(self, source: Path, destination: str, recurse: bool) -> list[str]:
        if not source.exists():
            raise _not_found(str(source))
        kind, _size, _full = self._list(destination, False)[0]
        if source.is_dir():
            if kind == "F":
                raise TransferError(
                    f"[{self.computer}] Destination path {destination} is a file that already exists on the "
                    "target destination.",
                    computer_name=self.computer,
                )
            root = _remote_join(destination, source.name) if kind == "D" and self.container else destination
            folders = [root]
            files: list[tuple[Path, str]] = []
            if recurse:
                for folder, dirs, names in os.walk(source):
                    dirs.sort()
                    rel = Path(folder).relative_to(source).parts if self.container else ()
                    if self.container:
                        folders += [_remote_join(root, *rel, d) for d in dirs]
                    files += [(Path(folder) / n, _remote_join(root, *rel, n)) for n in sorted(names)]
            self._run("mkdir", {"Paths": folders})
            return [self._upload_file(local, remote) for local, remote in files]
        target = _remote_join(destination, source.name) if kind == "D" else destination
        return [self._upload_file(source, target)]

    def _upload_file(self, local: Path, remote: str) -> str:
        total = local.stat().st_size
        chunk_size = upload_chunk_size(self.session)
        step = max(total // 50, 1)

        def chunks() -> Iterator[Any]:
            digest = _new_hash()
            done = 0
            next_report = 0
            # Reading, hashing and compressing (which release the GIL) overlap the Sends.
            for raw_length, coded in _prefetch(
                _hashed(_coded_chunks(local, chunk_size, self.compress), digest)
            ):
                done += raw_length
                if done >= next_report:
                    self._progress(str(local), remote, done, total, upload=True)
                    next_report = done + step
                yield coded
            yield LastInput(digest.hexdigest())  # with the end of the input, in one Send

        self._run(
            "upload", {"Path": remote, "Force": True} if self.force else {"Path": remote}, input=chunks()
        )
        self._progress(str(local), remote, total, total, upload=True, last=True)
        return remote

    # -- download --------------------------------------------------------------------
    def download(self, source: str, destination: Path, recurse: bool) -> list[str]:
        entries = self._list(source, recurse)
        kind, size, full = entries[0]
        if kind == "M":
            raise _not_found(source)
        name = ntpath.basename(full.rstrip("\\")) or full.rstrip("\\:")
        if kind == "F":
            target = destination / name if destination.is_dir() else destination
            return [self._download_file(full, target, size)]
        if destination.is_file():
            raise TransferError(f"Destination path {destination} is a file that already exists.")
        root = destination / name if destination.is_dir() and self.container else destination
        root.mkdir(parents=True, exist_ok=True)
        written: list[str] = []
        prefix = full.rstrip("\\") + "\\"
        for entry_kind, entry_size, entry_path in entries[1:]:
            parts = _relative_parts(prefix, entry_path)
            local = root.joinpath(*(parts if self.container else parts[-1:]))
            if entry_kind == "D":
                if self.container:
                    local.mkdir(parents=True, exist_ok=True)
            elif entry_kind == "F":
                local.parent.mkdir(parents=True, exist_ok=True)
                written.append(self._download_file(entry_path, local, entry_size))
        return written

    def _download_file(self, remote: str, target: Path, size: int) -> str:
        if target.is_dir():
            target = target / ntpath.basename(remote)
        if not target.parent.is_dir():
            raise TransferError(f"Cannot copy to {target}: the folder {target.parent} does not exist.")
        if not self.force and target.is_file() and not target.stat().st_mode & 0o200:  # read-only
            raise TransferError(
                f"Access to the path '{target}' is denied. The file is read-only; use -Force (force=True) to "
                "replace it."
            )
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".psrtmp", dir=target.parent)
        temp = Path(temp_name)
        digest = _new_hash()
        remote_hash: str | None = None
        failure = None
        done = 0
        step = max(size // 50, 1)
        next_report = 0
        try:
            with os.fdopen(handle, "wb") as stream:
                pipeline = self.session.start(
                    SCRIPTS["download"],
                    parameters={"Path": remote, "ChunkSize": DOWNLOAD_CHUNK_SIZE, "Compress": self.compress},
                    annotate=False,
                )  # fmt: skip
                with _closing(pipeline) as items:
                    for item in items:
                        if item.stream == "output":
                            value = item.value
                            if isinstance(value, (bytes, bytearray)):
                                data = _decode_chunk(value)
                                stream.write(data)
                                digest.update(data)
                                done += len(data)
                                if done >= next_report:
                                    self._progress(remote, str(target), done, size, upload=False)
                                    next_report = done + step
                            else:
                                remote_hash = str(value)
                        elif item.stream == "error" and failure is None:
                            failure = item.value
            if failure is not None:
                message = getattr(failure, "message", str(failure))
                raise TransferError(f"[{self.computer}] {message}", computer_name=self.computer)
            actual = digest.hexdigest()
            if remote_hash is None or actual != remote_hash.lower():
                raise TransferError(
                    f"[{self.computer}] Failed to read remote file '{remote}': the SHA-256 of the data received "
                    f"({actual}) does not match the remote file's ({remote_hash}); the partial file was removed.",
                    computer_name=self.computer,
                )
            os.chmod(temp, _mode_for(target))
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._progress(remote, str(target), size, size, upload=False, last=True)
        return str(target)


def _mode_for(target: Path) -> int:
    """The mode a fetched file gets, as cp and scp give it: an existing file keeps its mode; a
    new one is 0666 less the umask (the temporary file it is written to starts private, 0600)."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


_umask_lock = threading.Lock()


def _umask() -> int:
    """The process umask (read from /proc where it is shown, else set and restored at once)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


@contextlib.contextmanager
def _closing(pipeline: Any) -> Iterator[Iterator[Any]]:
    """Iterate `pipeline`, and end it on the server however the iteration ends: closing the
    iterator makes the pipeline layer stop and terminate the remote command (it does so
    itself too when Ctrl+C arrives while the command's input is still being sent)."""
    items = iter(pipeline)
    try:
        yield items
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _relative_parts(prefix: str, full: str) -> list[str]:
    """The local path parts of remote `full` below `prefix`, refusing anything that could
    leave the destination folder (a hostile server's ``..`` or a drive)."""
    if not full.lower().startswith(prefix.lower()):
        raise TransferError(f"The server listed '{full}', which is not inside '{prefix}'.")
    parts = [p for p in full[len(prefix) :].split("\\") if p]
    for part in parts:
        if part in (".", "..") or "/" in part or ":" in part or "\0" in part:
            raise TransferError(f"The server listed an unsafe name '{full}'; nothing was written for it.")
    if not parts:
        raise TransferError(f"The server listed '{full}' as an item below itself.")
    return parts


def _coded_chunks(path: Path, chunk_size: int, compress: bool) -> Iterator[tuple[bytes, bytes]]:
    """(raw data, chunk as sent) pairs for an upload. A chunk's first byte says how the rest
    is coded: 0 as is, 1 raw deflate. While data compresses, each raw block is sized from the
    last ratio so that its deflate fills about one Send; the first block that does not save
    10% turns compression off for the rest of the file (checked on one block, not the whole)."""
    ratio = 1.0  # the first block is one Send's worth, as is
    with open(path, "rb") as stream:
        while True:
            if compress:
                want = (
                    chunk_size - 1
                    if ratio >= 1
                    else int((chunk_size - 1) * 0.95 / max(ratio, 1 / _MAX_EXPANSION))
                )
                raw = stream.read(max(1, min(want, chunk_size * _MAX_EXPANSION)))
            else:
                raw = stream.read(chunk_size - 1)
            if not raw:
                return
            if compress:
                packer = zlib.compressobj(1, zlib.DEFLATED, -15)
                packed = packer.compress(raw) + packer.flush()
                if len(packed) < len(raw) * _WORTH_IT:
                    ratio = len(packed) / len(raw)
                    yield raw, b"\x01" + packed
                    continue
                compress = False
                for start in range(0, len(raw), chunk_size - 1):
                    piece = raw[start : start + chunk_size - 1]
                    yield piece, b"\x00" + piece
                continue
            yield raw, b"\x00" + raw


def _hashed(chunks: Iterator[tuple[bytes, bytes]], digest: Any) -> Iterator[tuple[int, bytes]]:
    """Hash each chunk's raw data; yield (raw length, chunk as sent)."""
    for raw, coded in chunks:
        digest.update(raw)
        yield len(raw), coded


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def _prefetch(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Run `items` in a worker thread, `depth` items ahead of the consumer (bounded memory).
    Closing the generator (the copy failed or was interrupted) stops the worker."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(value, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:
            put(_Failed(exc))

    worker = threading.Thread(target=work, name="psremoting-copy-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _decode_chunk(chunk: bytes | bytearray) -> bytes | memoryview:
    """The data of one downloaded chunk (first byte 0: as is; 1: raw deflate)."""
    if chunk[:1] == b"\x01":
        try:
            return zlib.decompress(bytes(chunk[1:]), -15)
        except zlib.error as exc:
            raise TransferError(
                f"A downloaded chunk could not be decompressed ({exc}); nothing was kept."
            ) from exc
    if chunk[:1] != b"\x00":
        raise TransferError("The server sent a chunk in an unknown coding; nothing was kept.")
    return memoryview(chunk)[1:]
