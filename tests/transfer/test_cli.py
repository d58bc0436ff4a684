"""`psremoting copy` both ways with --emulator (an embedded EmulatorFleet serving every host)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest

from psremoting.cli.copy import split_remote
from psremoting.cli.main import main


@pytest.fixture
def fleet_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make --emulator's fleet serve `fleet_root` as C:\\ (it is a temporary folder otherwise)."""
    import psremoting.emulator as emulator_module

    root = tmp_path / "remote"
    root.mkdir()
    real = emulator_module.EmulatorFleet

    class RootedFleet(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("root", root)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(emulator_module, "EmulatorFleet", RootedFleet)
    return root


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_upload_and_download_with_the_emulator(
    fleet_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "local.bin"
    source.write_bytes(os.urandom(600_000))
    code, out, err = run_cli(["copy", "--emulator", str(source), "Server01:C:\\local.bin"], capsys)
    assert (code, err) == (0, "")
    assert out == "Server01:C:\\local.bin\n"
    assert (fleet_root / "local.bin").read_bytes() == source.read_bytes()

    here = tmp_path / "here"
    here.mkdir()
    code, out, err = run_cli(["copy", "--emulator", "Server01:C:\\local.bin", str(here)], capsys)
    assert (code, err) == (0, "")
    assert (
        hashlib.sha256((here / "local.bin").read_bytes()).digest()
        == hashlib.sha256(source.read_bytes()).digest()
    )


def test_recursive_copy_of_a_folder(
    fleet_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    code, _out, err = run_cli(["copy", "--emulator", "--recurse", str(tree), "Server01:C:\\tree"], capsys)
    assert (code, err) == (0, "")
    assert (fleet_root / "tree" / "sub" / "b.txt").read_text() == "b"
    code, out, err = run_cli(
        ["copy", "--emulator", "-r", "Server01:C:\\tree", str(tmp_path / "back")], capsys
    )
    assert (code, err) == (0, "")
    assert (tmp_path / "back" / "sub" / "b.txt").read_text() == "b"
    assert len(out.splitlines()) == 2


def test_failures_exit_non_zero_with_a_message(
    fleet_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run_cli(["copy", "--emulator", "Server01:C:\\missing.bin", str(tmp_path)], capsys)
    assert code == 1
    assert "Cannot find path 'C:\\missing.bin' because it does not exist." in err
    code, _out, err = run_cli(["copy", "--emulator", str(tmp_path / "nope"), "Server01:C:\\x"], capsys)
    assert code == 1 and "because it does not exist" in err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(["copy", "--emulator", "a.txt", "b.txt"], capsys)
    assert code == 2 and "write one side as HOST:PATH" in err
    code, _out, err = run_cli(["copy", "--emulator", "h1:C:\\a", "h2:C:\\b"], capsys)
    assert code == 2 and "both SRC and DEST name a host" in err
    code, _out, err = run_cli(["copy", "--emulator", str(tmp_path), "Server01:relative\\x"], capsys)
    assert code == 2 and "Only absolute paths are supported on remote copy operations." in err


def test_password_comes_from_stdin_not_argv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, _out, err = run_cli(["copy", "--password-stdin", "-u", "me", str(tmp_path), "hostA:C:\\x"], capsys)
    assert code == 2 and "first line of stdin is empty" in err


def test_password_stdin_logs_on(
    fleet_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("S3cret-from-stdin\n"))
    source = tmp_path / "f.txt"
    source.write_text("hello")
    argv = ["copy", "--emulator", "--password-stdin", "-u", "me", str(source), "Server01:C:\\f.txt"]
    code, _out, err = run_cli(argv, capsys)
    assert (code, err) == (0, "")
    assert (fleet_root / "f.txt").read_text() == "hello"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("Server01:C:\\dest\\f.bin", ("Server01", "C:\\dest\\f.bin")),
        ("./local.bin", None),
        ("C:\\local\\f.bin", None),  # a drive letter, not a host
        ("dir/with:colon", None),
        ("[::1]:C:\\x", ("::1", "C:\\x")),
        ("10.0.0.5:C:\\x", ("10.0.0.5", "C:\\x")),
    ],
)
def test_split_remote(spec: str, expected: tuple[str, str] | None) -> None:
    assert split_remote(spec) == expected
