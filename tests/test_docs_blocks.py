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


# -- shell sessions ------------------------------------------------------------------------
# A block (```, ```powershell or ```console) whose lines start with a prompt (`PS C:\>`,
# `PS /home/me>`, `[Server01]: PS C:\Users\...>`) shows a `psremoting` shell session: the
# text after each prompt is what was typed, every other line what the shell printed. The
# typed lines are piped into a real `psremoting --emulator` (every computer name served by
# the embedded emulator), which echoes each prompt and line as it reads them, and the whole
# transcript is compared line by line (trailing spaces aside, blank lines at the ends
# dropped). Normalised on both sides, and only these: the local folder of the `PS ...>`
# prompt (the doc's is the reader's, the run's a temporary folder), GUIDs, and dates and
# times in en-US form, which differ from run to run.

SHELL_DOCS = [ROOT / "README.md", *DOCS]
_PROMPT = re.compile(r"^(?P<prompt>(?:\[[^\]\n]+\]: )?PS (?P<path>[^>\n]*)> ?)(?P<typed>.*)$")
_GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}(?: +\d{1,2}:\d{2}(?::\d{2})?(?: [AP]M)?)?")


@dataclass(frozen=True)
class ShellBlock:
    doc: Path
    line: int
    lines: tuple[str, ...]
    not_run: str | None

    @property
    def typed(self) -> list[str]:
        return [m.group("typed") for m in map(_PROMPT.match, self.lines) if m]

    @property
    def local_folder(self) -> str | None:
        """The folder of the first local prompt (`PS /home/me>`), the reader's own."""
        for line in self.lines:
            m = _PROMPT.match(line)
            if m and not m.group("prompt").startswith("["):
                return m.group("path")
        return None


def _shell_blocks(doc: Path) -> list[ShellBlock]:
    """The fenced blocks of `doc` that open with a prompt, fences paired line by line."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    found = []
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if not fence.startswith("```"):
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), len(lines))
        body = tuple(lines[i + 1 : end])
        if fence in ("```", "```powershell", "```console") and body and _PROMPT.match(body[0]):
            before = lines[i - 1] if i else ""
            mark = re.match(r"\s*<!--\s*not run:\s*(.*?)\s*-->", before)
            found.append(ShellBlock(doc, i + 1, body, mark.group(1) if mark else None))
        i = end + 1
    return found


SHELL_BLOCKS = [b for doc in SHELL_DOCS for b in _shell_blocks(doc)]
KNOWN_SHELL_NOT_RUN: list[tuple[str, str | None]] = []


def _normalised(lines: list[str], local: str | None, folder: str) -> list[str]:
    out = []
    for line in lines:
        line = line.rstrip()
        m = _PROMPT.match(line)
        if m and local is not None and not m.group("prompt").startswith("[") and m.group("path") == folder:
            line = f"PS {local}> {m.group('typed')}".rstrip()
        out.append(_DATE.sub("<date>", _GUID.sub("<guid>", line)))
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out


def test_the_doc_shell_sessions_are_found() -> None:
    assert len(SHELL_BLOCKS) >= 1
    assert all(b.typed for b in SHELL_BLOCKS)
    assert sorted((b.doc.name, b.not_run) for b in SHELL_BLOCKS if b.not_run) == sorted(KNOWN_SHELL_NOT_RUN)


@pytest.mark.parametrize(
    "block",
    [b for b in SHELL_BLOCKS if b.not_run is None],
    ids=lambda b: f"{b.doc.name}:{b.line}",
)
def test_the_doc_shell_sessions_print_as_shown(block: ShellBlock, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "psremoting", "--emulator"],
        input="".join(line + "\n" for line in block.typed),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    local = block.local_folder
    printed = _normalised(done.stdout.replace("\r\n", "\n").split("\n"), local, str(tmp_path))
    shown = _normalised(list(block.lines), local, local or "")
    assert printed == shown, (
        f"{block.doc.name}:{block.line}: the shell printed (stderr: {done.stderr!r}):\n" + "\n".join(printed)
    )
