"""README.md's Python example runs as shown against the emulator (every computer name served
by it, as `psremoting --emulator` does) and does what its comments say.

The block is taken from the README itself, so a change there is tested as written; the one
name it leaves to the reader, `password`, is given here.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_a_python_example() -> None:
    assert _python_blocks()


@pytest.mark.parametrize("block", _python_blocks(), ids=lambda b: b.splitlines()[2][:40])
def test_the_readme_python_example_runs_as_shown(
    block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psremoting.cmdlets import sessions
    from psremoting.console.emulator_mode import emulated_computers

    sessions._reset_for_tests()  # ids from 1, as in a fresh process (the README shows Session1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # the file it copies
    printed = io.StringIO()
    namespace: dict[str, object] = {"password": "any password"}
    try:
        with emulated_computers(), contextlib.redirect_stdout(printed):
            exec(compile(block, str(README), "exec"), namespace)  # the README's own code
    finally:
        sessions._reset_for_tests()
    text = printed.getvalue()
    if "argument_list=[3]" in block:
        assert namespace["out"] == [1, 2, 3]  # as its comment says
    if "out_string" in block:
        assert "    Directory: C:\\Users" in text
        assert re.search(r"^Mode +LastWriteTime +Length Name", text, re.M)
    if "format_table" in block:
        assert re.search(r"^ +1 Session1 +WSMan +server01 +RemoteMachine +Opened", text, re.M)
