"""Whatever a client sends, the engine answers with PowerShell errors, never an internal failure."""

from __future__ import annotations

import random
from pathlib import Path

from psremoting.emulator.engine import Engine

from .engine_recorder import run

_PIECES = [
    "gci", "$x", "|", ";", "{", "}", "(", ")", "@(", "@{", '"a', "'b'", "-Path", "-", "1", "..", ",", "=",
    "$env:X", "[int]", "::", ".", "foreach", "if", "else", "$_", "%", "?", "exit", "throw", ">", "2>&1",
    "$null", "Get-Date", "Write-Output", "-f", "+", "*", "try", "catch", "function", "param", "`", "#",
    "\n", "[", "]", "$(", "New-Item", "Remove-Item", "C:\\", "..\\..", "Set-Location", "TabExpansion2",
    "0", "Select-Object", "Sort-Object", "-First", "Get-Content", "Out-String", "Format-Table",
    "Get-Command", "x.txt", ">>", "-Recurse", "ForEach-Object", "Where-Object", "Measure-Object", "-Sum",
    "Test-Path", "Join-Path", "iex", "Write-Error", "Write-Host", "Get-Variable", "hostname", "return",
]  # fmt: skip


def test_random_token_soup_never_breaks_the_engine(tmp_path: Path) -> None:
    engine = Engine(root=tmp_path / "C")
    rng = random.Random(20261124)
    for _ in range(1500):
        text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9)))
        result, _rec = run(engine, text)
        failed = result.failed
        assert failed is None or failed.FullyQualifiedErrorId != "EmulatorEngineError", (text, str(failed))
    # Nothing was written next to the sandbox (``C:\..\x.txt`` stays inside it).
    assert [p.name for p in tmp_path.iterdir()] == ["C"]
