"""Every ```python block of docs/*.md runs as shown against the emulator (every computer name
served by it, as `psremoting --emulator` does) and prints what the doc says it prints.

The convention for printed output: a line ``# -> TEXT`` in a block says that the block prints
the line TEXT (exactly, trailing spaces aside); the lines so shown must be printed, in that
order, by the block. A block that cannot run here carries ``<!-- not run: REASON -->`` on the
line before its fence; those are counted, and their number is pinned so that marking one more
is a visible change. A doc's blocks run in order in one namespace, as a reader goes through
the page (``s`` opened in the first block is used in the next); the one name the docs leave to
the reader, ``password`` and the deployment command ``Install-App``, are given here.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
_FENCE = re.compile(r"(?:<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*\n)?```python\n(?P<code>.*?)```", re.S)
_EXPECTED = re.compile(r"^\s*# -> ?(?P<line>.*)$", re.M)


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the fence, 1-based
    code: str
    not_run: str | None

    @property
    def expected(self) -> list[str]:
        return [m.group("line").rstrip() for m in _EXPECTED.finditer(self.code)]


def _blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    blocks = []
    for m in _FENCE.finditer(text):
        fence_line = text.count("\n", 0, m.start("code"))
        blocks.append(Block(doc, fence_line, m.group("code"), m.group("reason")))
    return blocks


ALL = [b for doc in DOCS for b in _blocks(doc)]
NOT_RUN = [b for b in ALL if b.not_run is not None]


def test_every_doc_python_block_is_found() -> None:
    assert len(ALL) >= 9
    assert all(b.not_run for b in NOT_RUN)  # a mark names its reason


def test_the_blocks_marked_not_run_are_the_known_ones() -> None:
    # Marking a block "not run" hides it from the test below: each one is listed here.
    marked = sorted((b.doc.name, b.not_run) for b in NOT_RUN)
    assert marked == sorted(KNOWN_NOT_RUN)


# Its blocks start an Emulator and connect to its URL: every name served by a fleet would
# send that URL's host (127.0.0.1) to the fleet instead.
STARTS_ITS_OWN_EMULATOR = {"emulator.md"}

KNOWN_NOT_RUN: list[tuple[str, str | None]] = [
    ("internals.md", "a sketch of the glue's two calls; `commands` and `io` come from a live CreatePipeline"),
    ("python-api.md", "needs a Dask scheduler at tls://scheduler:8786"),
    ("python-api.md", "needs a server with the ActiveDirectory module (a domain controller or RSAT)"),
]


def _check_printed(block: Block, printed: str) -> None:
    lines = [line.rstrip() for line in printed.splitlines()]
    at = 0
    for want in block.expected:
        try:
            at = lines.index(want, at) + 1
        except ValueError:
            pytest.fail(
                f"{block.doc.name}:{block.line}: the block does not print {want!r} "
                f"(in order); it printed:\n{printed}"
            )


@pytest.mark.parametrize("doc", [d for d in DOCS if _blocks(d)], ids=lambda d: d.name)
def test_the_doc_python_blocks_run_as_shown(
    doc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psremoting.cmdlets import sessions
    from psremoting.console.emulator_mode import emulated_computers

    sessions._reset_for_tests()  # ids from 1, as in a fresh process
    monkeypatch.chdir(tmp_path)
    _the_files_the_docs_use(tmp_path)
    namespace: dict[str, object] = {"password": "any password"}
    try:
        with contextlib.ExitStack() as stack:
            if doc.name not in STARTS_ITS_OWN_EMULATOR:
                fleet = stack.enter_context(emulated_computers(username="admin"))  # the docs' user
                fleet.register("Install-App", lambda ctx: [])  # ci-guide's deployment command
            for block in _blocks(doc):
                if block.not_run is not None:
                    continue
                printed = io.StringIO()
                with contextlib.redirect_stdout(printed):
                    exec(compile(block.code, f"{doc.name}:{block.line}", "exec"), namespace)
                _check_printed(block, printed.getvalue())
    finally:
        sessions._reset_for_tests()


def _the_files_the_docs_use(cwd: Path) -> None:
    (cwd / "app.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    site = cwd / "site"
    (site / "css").mkdir(parents=True)
    (site / "index.html").write_text("<h1>hello</h1>\n", encoding="utf-8")
    (site / "css" / "site.css").write_text("h1 { color: red }\n", encoding="utf-8")
    (cwd / "fleet.txt").write_text("vm1\nvm2\nvm3\n", encoding="utf-8")
