"""The public names of ``psremoting``: one list, lazily imported, all of them real."""

from __future__ import annotations

import subprocess
import sys

import psremoting


def test_every_public_name_is_exported_and_resolves() -> None:
    assert sorted(psremoting.__all__) == sorted(["__version__", *psremoting._EXPORTS])
    for name in psremoting._EXPORTS:
        assert getattr(psremoting, name) is not None


def test_import_stays_cheap() -> None:
    code = "import sys, psremoting; print(sorted(m for m in ('pypsrp', 'psrpcore', 'prompt_toolkit') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
