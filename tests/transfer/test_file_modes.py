"""Files fetched from a server get the mode cp and scp give: 0666 less the umask for a new
file; an existing file keeps its own mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import psremoting


@pytest.fixture
def umask() -> Iterator[Any]:
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_a_new_file_follows_the_umask(
    session: Any, remote_root: Path, local_dir: Path, umask: Any, mask: int, expected: int
) -> None:
    (remote_root / "report.txt").write_text("quarterly numbers\n")
    umask(mask)
    psremoting.copy_item("C:\\report.txt", local_dir / "report.txt", from_session=session)
    assert _mode(local_dir / "report.txt") == expected


def test_an_existing_file_keeps_its_mode_and_a_tree_follows_the_umask(
    session: Any, remote_root: Path, local_dir: Path, umask: Any
) -> None:
    (remote_root / "Logs").mkdir()
    (remote_root / "Logs" / "a.log").write_text("a\n")
    (remote_root / "secret.txt").write_text("new content\n")
    kept = local_dir / "secret.txt"
    kept.write_text("old\n")
    kept.chmod(0o600)
    umask(0o022)
    psremoting.copy_item("C:\\secret.txt", kept, from_session=session)
    assert kept.read_text() == "new content\n" and _mode(kept) == 0o600
    psremoting.copy_item("C:\\Logs", local_dir, from_session=session, recurse=True)
    assert _mode(local_dir / "Logs" / "a.log") == 0o644
