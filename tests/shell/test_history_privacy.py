"""The shell's history files keep no secrets and belong to the user alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from psremoting.console.history import history_path, open_history


def test_sensitive_lines_are_recalled_but_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    history = open_history("server01")
    history.append_string("Get-Date")
    history.append_string("$p = ConvertTo-SecureString 'Hunter2!' -AsPlainText -Force")
    history.append_string("$env:API_TOKEN = 'abc'")
    assert list(history.get_strings())[-1] == "$env:API_TOKEN = 'abc'"  # Up still recalls it here
    written = history_path("server01").read_text()
    assert "Get-Date" in written
    assert "Hunter2!" not in written and "API_TOKEN" not in written
    assert [line for line in open_history("server01").load_history_strings()] == ["Get-Date"]


def test_history_file_and_folder_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    open_history("server01").append_string("Get-Date")
    path = history_path("server01")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
