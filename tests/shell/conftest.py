"""Fixtures for the shell tests: a tmux terminal running `psremoting ... --emulator`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .terminal import Terminal, psremoting_command, tmux_available


@pytest.fixture
def terminal_factory(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    """Start terminals running psremoting (all closed at the end of the test)."""
    if not tmux_available():
        pytest.skip("tmux is not installed (apt-get install tmux; .ci/setup-system.sh does it in CI)")
    started: list[Terminal] = []
    counter = [0]

    def start(*args: str, env: dict[str, str] | None = None, width: int = 160) -> Terminal:
        counter[0] += 1
        folder = tmp_path / f"term{counter[0]}"
        folder.mkdir()
        # Every terminal shares the test's HOME / XDG_DATA_HOME, so history survives a restart.
        shared = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data")}
        (tmp_path / "home").mkdir(exist_ok=True)
        shared.update(env or {})
        shared.setdefault("PSREMOTING_LOG", str(folder / "psremoting.log"))
        term = Terminal(psremoting_command(*args), folder, env=shared, width=width, cwd=tmp_path)
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()


@pytest.fixture
def shell(terminal_factory: Callable[..., Terminal], tmp_path: Path) -> Terminal:
    """`psremoting shell --emulator`, waiting at its first local prompt."""
    term = terminal_factory("shell", "--emulator")
    term.wait_for(f"PS {tmp_path}> ")
    return term
