"""copy_item (Copy-Item -ToSession / -FromSession) against the emulator over loopback HTTP with
NTLM and message encryption: files of every size, folders, PowerShell's errors, verification."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

import psremoting
from psremoting.cmdlets.transfer import TransferError, upload_chunk_size
from psremoting.protocol.errors import InvalidOptionError, SessionStateError
from psremoting.runspace.host_ui import BufferedHostUI


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.psrtmp")]


SIZES = {"empty": 0, "small": 1234, "many-chunks": 3 * 1024 * 1024 + 17}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_upload_then_download_round_trip(session: Any, remote_root: Path, local_dir: Path, size: int) -> None:
    source = local_dir / "data.bin"
    source.write_bytes(os.urandom(size))
    written = psremoting.copy_item(str(source), "C:\\data.bin", to_session=session)
    assert written == ["C:\\data.bin"]
    assert digest(remote_root / "data.bin") == digest(source)

    back = local_dir / "back.bin"
    assert psremoting.copy_item("C:\\data.bin", back, from_session=session) == [str(back)]
    assert digest(back) == digest(source)
    assert leftovers(remote_root) == [] and leftovers(local_dir) == []


def test_each_upload_chunk_fills_one_send(session: Any, copy_emulator: Any, local_dir: Path) -> None:
    chunk = upload_chunk_size(session)
    assert chunk > 250_000  # the 512000-byte envelope, after base64 twice and the SOAP around it
    source = local_dir / "ten-chunks.bin"
    source.write_bytes(os.urandom((chunk - 1) * 10))  # a chunk is 1 byte of coding + data
    before = copy_emulator.stats.requests.get("Send", 0)
    psremoting.copy_item(source, "C:\\ten.bin", to_session=session)
    sends = copy_emulator.stats.requests.get("Send", 0) - before
    assert 10 <= sends <= 11  # ten full chunks (random data: not compressed), then the hash


def test_compressible_data_is_sent_compressed(
    session: Any, copy_emulator: Any, remote_root: Path, local_dir: Path
) -> None:
    text = b"".join(
        b"2026-11-25 00:00:%02d INFO request %d served in %d ms\r\n" % (i % 60, i, i % 97)
        for i in range(200_000)
    )
    source = local_dir / "app.log"
    source.write_bytes(text)
    before = copy_emulator.stats.requests.get("Send", 0)
    psremoting.copy_item(source, "C:\\app.log", to_session=session)
    sends = copy_emulator.stats.requests.get("Send", 0) - before
    assert (remote_root / "app.log").read_bytes() == text
    assert sends < len(text) / upload_chunk_size(session) / 3  # far fewer Sends than as is
    psremoting.copy_item("C:\\app.log", local_dir / "back.log", from_session=session)
    assert (local_dir / "back.log").read_bytes() == text


def test_upload_and_download_into_existing_folders(session: Any, remote_root: Path, local_dir: Path) -> None:
    (remote_root / "Deploy").mkdir()
    source = local_dir / "app.zip"
    source.write_bytes(b"PK" + os.urandom(5000))
    assert psremoting.copy_item(source, "C:\\Deploy", to_session=session) == ["C:\\Deploy\\app.zip"]
    assert digest(remote_root / "Deploy" / "app.zip") == digest(source)

    into = local_dir / "into"
    into.mkdir()
    psremoting.copy_item("C:\\Deploy\\app.zip", into, from_session=session)
    assert digest(into / "app.zip") == digest(source)


def test_upload_overwrites_an_existing_file(session: Any, remote_root: Path, local_dir: Path) -> None:
    (remote_root / "f.txt").write_bytes(b"old content that is longer")
    source = local_dir / "f.txt"
    source.write_bytes(b"new")
    psremoting.copy_item(source, "C:\\f.txt", to_session=session)
    assert (remote_root / "f.txt").read_bytes() == b"new"


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "a.txt": b"alpha",
        "empty.bin": b"",
        "sub/b.bin": os.urandom(70_000),
        "sub/deeper/c.txt": b"gamma",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "sub" / "empty-folder").mkdir()
    return files


def test_recursive_upload_and_download_of_a_tree(session: Any, remote_root: Path, local_dir: Path) -> None:
    tree = local_dir / "site"
    files = make_tree(tree)
    (remote_root / "www").mkdir()
    written = psremoting.copy_item(tree, "C:\\www", to_session=session, recurse=True)
    assert len(written) == len(files)
    for rel, data in files.items():  # an existing folder receives the source inside it
        assert (remote_root / "www" / "site" / rel).read_bytes() == data
    assert (remote_root / "www" / "site" / "sub" / "empty-folder").is_dir()

    out = local_dir / "copy-of-site"  # does not exist: becomes the copy itself
    psremoting.copy_item("C:\\www\\site", out, from_session=session, recurse=True)
    for rel, data in files.items():
        assert (out / rel).read_bytes() == data
    assert (out / "sub" / "empty-folder").is_dir()


def test_folder_without_recurse_copies_only_the_folder(
    session: Any, remote_root: Path, local_dir: Path
) -> None:
    tree = local_dir / "site"
    make_tree(tree)
    assert psremoting.copy_item(tree, "C:\\site", to_session=session) == []
    assert (remote_root / "site").is_dir() and list((remote_root / "site").iterdir()) == []


def test_both_sessions_is_refused(session: Any, local_dir: Path) -> None:
    with pytest.raises(InvalidOptionError) as info:
        psremoting.copy_item(local_dir, "C:\\x", to_session=session, from_session=session)
    assert str(info.value) == (
        "'-ToSession' and '-FromSession' are mutually exclusive and cannot be specified at the same time."
    )


@pytest.mark.parametrize("direction", ["to", "from"])
def test_relative_remote_path_is_refused(session: Any, local_dir: Path, direction: str) -> None:
    source = local_dir / "f.txt"
    source.write_text("x")
    with pytest.raises(InvalidOptionError) as info:
        if direction == "to":
            psremoting.copy_item(source, "dest\\f.txt", to_session=session)
        else:
            psremoting.copy_item("dest\\f.txt", local_dir / "g.txt", from_session=session)
    assert str(info.value) == (
        "The path 'dest\\f.txt' is not valid. Only absolute paths are supported on remote copy operations."
    )


def test_session_not_available_is_refused(session: Any, local_dir: Path) -> None:
    source = local_dir / "f.txt"
    source.write_text("x")
    session.close()
    with pytest.raises(SessionStateError) as info:
        psremoting.copy_item(source, "C:\\f.txt", to_session=session)
    assert str(info.value) == "Cannot perform operation because the session Availability is set to None."


def test_missing_sources(session: Any, local_dir: Path) -> None:
    with pytest.raises(TransferError, match=r"Cannot find path '.*nope\.bin' because it does not exist\."):
        psremoting.copy_item(local_dir / "nope.bin", "C:\\x.bin", to_session=session)
    with pytest.raises(TransferError, match=r"Cannot find path 'C:\\nope\.bin' because it does not exist\."):
        psremoting.copy_item("C:\\nope.bin", local_dir / "x.bin", from_session=session)
    assert list(local_dir.iterdir()) == []


def test_remote_folder_missing_gives_a_clear_error(session: Any, remote_root: Path, local_dir: Path) -> None:
    source = local_dir / "f.txt"
    source.write_text("x")
    with pytest.raises(TransferError, match=r"the folder C:\\no\\such does not exist"):
        psremoting.copy_item(source, "C:\\no\\such\\f.txt", to_session=session)
    assert session.availability.value == "Available"  # the session stays usable


def test_path_outside_the_sandbox_is_refused(session: Any, local_dir: Path) -> None:
    source = local_dir / "f.txt"
    source.write_text("x")
    with pytest.raises(TransferError, match="not valid"):
        psremoting.copy_item(source, "D:\\f.txt", to_session=session)


def test_upload_hash_mismatch_fails_and_removes_the_partial_file(
    session: Any, remote_root: Path, local_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = local_dir / "f.bin"
    source.write_bytes(os.urandom(100_000))
    real = hashlib.sha256

    class Corrupting:  # the client's hash of the source disagrees with what was sent
        def __init__(self) -> None:
            self._h = real()

        def update(self, data: bytes) -> None:
            self._h.update(data + b"!")

        def hexdigest(self) -> str:
            return self._h.hexdigest()

    monkeypatch.setattr("psremoting.cmdlets.transfer._new_hash", Corrupting)
    with pytest.raises(TransferError, match="does not match the source.*partial file was removed"):
        psremoting.copy_item(source, "C:\\f.bin", to_session=session)
    assert not (remote_root / "f.bin").exists()
    assert leftovers(remote_root) == []


def test_download_hash_mismatch_fails_and_removes_the_partial_file(
    session: Any, remote_root: Path, local_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (remote_root / "f.bin").write_bytes(os.urandom(100_000))
    real = hashlib.sha256
    monkeypatch.setattr("psremoting.cmdlets.transfer._new_hash", lambda: real(b"corrupted"))
    with pytest.raises(TransferError, match="does not match the remote file's.*partial file was removed"):
        psremoting.copy_item("C:\\f.bin", local_dir / "f.bin", from_session=session)
    assert list(local_dir.iterdir()) == []


def test_progress_goes_to_the_session_host_ui(session: Any, local_dir: Path) -> None:
    ui = BufferedHostUI()
    session.runspace.host.ui_target = ui
    source = local_dir / "p.bin"
    source.write_bytes(os.urandom(1_000_000))
    psremoting.copy_item(source, "C:\\p.bin", to_session=session)
    records = [record for _source, record in ui.progress]
    assert records, "no progress was shown"
    assert records[0].activity == f"Copying {source} to C:\\p.bin"
    assert records[0].status_description == "From localhost to Server01"
    assert records[-1].completed and records[-1].percent_complete == 100
    ui.progress.clear()
    psremoting.copy_item("C:\\p.bin", local_dir / "q.bin", from_session=session)
    assert ui.progress[0][1].status_description == "From Server01 to localhost"


def test_remote_folder_without_recurse_creates_only_the_folder(
    session: Any, remote_root: Path, local_dir: Path
) -> None:
    make_tree(remote_root / "site")
    assert psremoting.copy_item("C:\\site", local_dir / "site", from_session=session) == []
    assert (local_dir / "site").is_dir() and list((local_dir / "site").iterdir()) == []


def test_a_folder_onto_an_existing_remote_file_is_refused(
    session: Any, remote_root: Path, local_dir: Path
) -> None:
    (remote_root / "taken").write_text("a file")
    make_tree(local_dir / "site")
    with pytest.raises(TransferError, match=r"Destination path C:\\taken is a file that already exists"):
        psremoting.copy_item(local_dir / "site", "C:\\taken", to_session=session, recurse=True)


@pytest.mark.parametrize(
    "listed", ["C:\\site\\..\\..\\etc\\passwd", "C:\\elsewhere\\x", "C:\\site\\a\\..\\b"]
)
def test_a_hostile_listing_cannot_write_outside_the_destination(listed: str) -> None:
    from psremoting.cmdlets.transfer import _relative_parts

    with pytest.raises(TransferError):
        _relative_parts("C:\\site\\", listed)
    assert _relative_parts("C:\\site\\", "C:\\SITE\\sub\\f.txt") == ["sub", "f.txt"]


class InterruptingUI(BufferedHostUI):
    """A host UI whose progress display is interrupted (Ctrl+C) part way through a copy."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def write_progress(self, source_id: int, record: Any) -> None:
        super().write_progress(source_id, record)
        if len(self.progress) == self.after:
            raise KeyboardInterrupt


@pytest.mark.timeout(60)
def test_an_interrupted_download_leaves_no_partial_file(
    session: Any, remote_root: Path, local_dir: Path
) -> None:
    (remote_root / "big.bin").write_bytes(os.urandom(3_000_000))
    session.runspace.host.ui_target = InterruptingUI(after=3)
    with pytest.raises(KeyboardInterrupt):
        psremoting.copy_item("C:\\big.bin", local_dir / "big.bin", from_session=session)
    assert list(local_dir.iterdir()) == []
    session.runspace.host.ui_target = BufferedHostUI()
    psremoting.copy_item(
        "C:\\big.bin", local_dir / "big.bin", from_session=session
    )  # the session still works
    assert digest(local_dir / "big.bin") == digest(remote_root / "big.bin")


@pytest.mark.timeout(60)
def test_an_interrupted_upload_leaves_the_target_untouched(
    session: Any, remote_root: Path, local_dir: Path
) -> None:
    (remote_root / "big.bin").write_bytes(b"previous version")
    source = local_dir / "big.bin"
    source.write_bytes(os.urandom(3_000_000))
    session.runspace.host.ui_target = InterruptingUI(after=3)
    with pytest.raises(KeyboardInterrupt):
        psremoting.copy_item(source, "C:\\big.bin", to_session=session)
    assert (remote_root / "big.bin").read_bytes() == b"previous version"
    session.runspace.host.ui_target = BufferedHostUI()
    psremoting.copy_item(source, "C:\\big.bin", to_session=session)  # the session still works
    assert digest(remote_root / "big.bin") == digest(source)


def test_force_replaces_read_only_files_and_only_then(
    session: Any, remote_root: Path, local_dir: Path
) -> None:
    source = local_dir / "settings.ini"
    source.write_text("new")
    target = remote_root / "settings.ini"
    target.write_text("old")
    target.chmod(0o444)  # the emulator's sandbox shows it as ReadOnly, as Windows would
    with pytest.raises(TransferError, match="Access to the path 'C:\\\\settings.ini' is denied"):
        psremoting.copy_item(source, "C:\\settings.ini", to_session=session)
    assert target.read_text() == "old"
    psremoting.copy_item(source, "C:\\settings.ini", to_session=session, force=True)
    assert target.read_text() == "new"
    back = local_dir / "back.ini"
    back.write_text("kept")
    back.chmod(0o444)
    with pytest.raises(TransferError, match="is denied"):
        psremoting.copy_item("C:\\settings.ini", back, from_session=session)
    assert back.read_text() == "kept"
    psremoting.copy_item("C:\\settings.ini", back, from_session=session, force=True)
    assert back.read_text() == "new"


def test_container_false_copies_a_trees_files_without_its_folders(
    session: Any, remote_root: Path, local_dir: Path
) -> None:
    tree = local_dir / "site"
    (tree / "css").mkdir(parents=True)
    (tree / "index.html").write_text("<html/>")
    (tree / "css" / "site.css").write_text("body{}")
    (remote_root / "Flat").mkdir()
    written = psremoting.copy_item(tree, "C:\\Flat", to_session=session, recurse=True, container=False)
    assert sorted(written) == ["C:\\Flat\\index.html", "C:\\Flat\\site.css"]
    assert sorted(p.name for p in (remote_root / "Flat").iterdir()) == ["index.html", "site.css"]
    psremoting.copy_item(tree, "C:\\Kept", to_session=session, recurse=True)
    assert (remote_root / "Kept" / "css" / "site.css").read_text() == "body{}"
    down = local_dir / "down"
    psremoting.copy_item("C:\\Kept", down, from_session=session, recurse=True, container=False)
    assert sorted(p.name for p in down.iterdir()) == ["index.html", "site.css"]
