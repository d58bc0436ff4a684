"""Bytes that are not UTF-8 typed or piped into the shell: shown as U+FFFD and reported as an
unknown command, never a crash; the lines after them still run (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
@pytest.mark.parametrize(
    "data", [b"\xff\xfe\n", b"'a\xc3' + 'b'\n", b"\xed\xa0\x80\n"], ids=["ff-fe", "cut", "surrogate"]
)
def test_bytes_that_are_not_utf8_do_not_crash_the_shell(locale: str, data: bytes) -> None:
    env = {**os.environ, "LC_ALL": locale, "PYTHONIOENCODING": ""}
    env.pop("PYTHONUTF8", None)
    done = subprocess.run(
        [sys.executable, "-m", "psremoting", "shell"],
        input=data + b"6*7\n",
        capture_output=True,
        env=env,
        timeout=60,
    )
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in out + err and "UnicodeEncodeError" not in out + err, out + err
    assert done.returncode in (0, 1), (done.returncode, out, err)
    assert "\n42\n" in out, out  # the next line ran
    if data.startswith(b"\xff"):
        assert "\ufffd\ufffd" in out + err  # the undecodable bytes shown as replacement characters
