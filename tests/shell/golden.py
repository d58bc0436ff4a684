"""Golden transcripts: what the terminal shows for a scripted session, kept in fixtures/shell/.

The screen is normalised (the test's temporary folder becomes `/dir`, trailing blank lines
dropped) and compared with `fixtures/shell/<name>.txt`. Set PSREMOTING_UPDATE_GOLDEN=1 to
write the files from a run (then read them before committing).
"""

from __future__ import annotations

import os
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shell"


def normalise(screen: str, tmp_path: Path) -> str:
    text = screen.replace(str(tmp_path), "/dir")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def check_golden(name: str, screen: str, tmp_path: Path) -> None:
    actual = normalise(screen, tmp_path)
    path = FIXTURES / f"{name}.txt"
    if os.environ.get("PSREMOTING_UPDATE_GOLDEN") == "1" or not path.exists():
        FIXTURES.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    expected = path.read_text()
    assert actual == expected, (
        f"the screen differs from {path}:\n--- expected\n{expected}\n--- actual\n{actual}"
    )
