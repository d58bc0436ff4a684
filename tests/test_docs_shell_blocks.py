"""Every ```sh block of README.md and docs/*.md runs as written, command line by command line,
against one `psremoting emulator` process, and does what its comments say.

Why: a reader copies these lines into a terminal; a renamed flag, a lost backslash or an
output claim that no longer holds must fail here, not there. Each command line (continuation
lines joined) runs in `bash -c`, as a reader's shell runs it (redirections, `$(jq ...)`),
with a `psremoting` on PATH that is `sys.executable -m psremoting`. A block's lines run in
order in one temporary folder holding the files the examples name (deploy.ps1, hosts.txt,
app.zip, site/...), so what one line writes with `>` the next one reads; `export NAME=VALUE`
lines become the environment of the lines after them.

Host names (web1, vm1, server01.example.com...) reach the emulator through test
infrastructure only: a `sitecustomize.py` first on the commands' PYTHONPATH installs an
endpoint override (as `psremoting --emulator` does) sending every computer name to the
emulator's URL with NTLM (Negotiate would try Kerberos first). The URL's scheme decides, so
`--ssl` lines run, but over HTTP. The credential is the docs' own: PSREMOTING_USERNAME (`admin`,
the docs' user, unless a block exports another) and the password the docs leave to the
reader, given in PSREMOTING_PASSWORD. The emulator's `--root` is C:\\ (with C:\\Deploy...).

Checked for each line run: the exit code is 0 unless a comment of the line (after it, or on
the `#` lines that follow it) says `exit N`; `--output json`/`jsonl` output (or the file it is
redirected to) parses and validates against the schema; `status "X"` says every host's
status, `"key": {"a", "b"}` the keys of that field; a received or deployed output is what
deploy.ps1 prints, once; a sessions table lists the host's disconnected session; a copy lands
where it was sent, each file printed; an emulator line (a server) is started, its first line
read (`# listening on URL` says which) and stopped. Lines that cannot run here are pinned
below with a reason: marking one more fails `test_the_lines_not_run_are_the_known_ones`.
The ```yaml CI jobs of docs/ci-guide.md run in test_docs_ci_blocks, on this module's emulator
and reader setup.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from psremoting.cmdlets.invoke.results import load_schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
USER, PASSWORD = "admin", "Sh-D0cs-Passw0rd"  # the docs' user; the password the reader gives
DEPLOY_PS1 = 'param([string]$Version)\n"deploying version [$Version]"\n"deployed version [$Version]"\n'


@dataclass(frozen=True)
class Command:
    doc: str
    line: int  # 1-based, of its first line
    text: str  # continuation lines joined, its trailing comment included
    comments: tuple[str, ...]  # its trailing comment and the `#` lines after it

    @property
    def argv(self) -> list[str]:
        try:
            return shlex.split(self.text, comments=True)
        except ValueError as exc:  # e.g. a trailing backslash, which a shell takes for "go on"
            pytest.fail(f"{self.doc}:{self.line}: {self.text!r} is not one shell command line: {exc}")


def _commands(doc: Path) -> list[list[Command]]:
    """The command lines of each ```sh block of `doc`."""
    lines, blocks, i = doc.read_text(encoding="utf-8").split("\n"), [], 0
    while i < len(lines):
        if lines[i].strip() != "```sh":
            i += 1
            continue
        block: list[Command] = []
        i += 1
        while lines[i].strip() != "```":
            start, text = i, lines[i]
            while text.endswith("\\") and lines[i + 1].strip() != "```":
                i += 1
                text = text[:-1] + " " + lines[i].strip()
            i += 1
            if text.lstrip().startswith("#"):  # a comment line: of the command above it
                if block and lines[start - 1].strip():
                    last = block[-1]
                    block[-1] = Command(last.doc, last.line, last.text, (*last.comments, text.strip(" #")))
            elif text.strip():
                comment = re.search(r"\s#\s(.*)$", text)
                said = (comment.group(1),) if comment else ()
                block.append(Command(doc.name, start + 1, text.strip(), said))
        blocks.append(block)
        i += 1
    return [b for b in blocks if b]


BLOCKS = [block for doc in DOCS for block in _commands(doc)]
ALL = [c for block in BLOCKS for c in block]

# (doc, how the command line starts, why it is not run here)
NOT_RUN = [
    ("README.md", "python3 -m venv .venv", "makes a virtual environment and installs into it (network); "
     "the shell it starts is run by test_docs_blocks' shell sessions"),
    ("README.md", "bash .ci/run", "the whole CI run (system packages, lint, the full suite) this test is in"),
    ("README.md", "pip install -e .", "installs the package; the tests run it from the worktree"),
    ("README.md", "psremoting enter server01.example.com --ssl", "interactive: a shell on a terminal "
     "(test_docs_blocks types into `psremoting --emulator`)"),
    ("README.md", "PSREMOTING_TEST_HOST=win1", "needs a real Windows host (tests/realhost)"),
    ("emulator.md", "kill -USR1 <pid>", "<pid> is the reader's emulator process, a placeholder"),
]  # fmt: skip
NOT_RUN_COUNT = 6


def _not_run(cmd: Command) -> str | None:
    return next((why for doc, start, why in NOT_RUN if doc == cmd.doc and cmd.text.startswith(start)), None)


def test_the_sh_blocks_are_found() -> None:
    assert len(BLOCKS) >= 8 and len(ALL) >= 19
    assert {c.doc for c in ALL} >= {"README.md", "ci-guide.md", "copy.md", "emulator.md"}


def test_the_lines_not_run_are_the_known_ones() -> None:
    # Each pinned entry names exactly one line of the docs, and there are exactly so many.
    for doc, start, why in NOT_RUN:
        assert why and len([c for c in ALL if c.doc == doc and c.text.startswith(start)]) == 1, (doc, start)
    assert len([c for c in ALL if _not_run(c)]) == len(NOT_RUN) == NOT_RUN_COUNT


@pytest.fixture(scope="module")
def drive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One `psremoting emulator` (its URL, and the folder it shows as C:\\)."""
    root = tmp_path_factory.mktemp("drive-c")
    for folder in ("Deploy", "dest", "inetpub"):
        (root / folder).mkdir()
    (root / "file").write_text("a remote file\r\n", encoding="utf-8")
    with emulator(root) as url:
        yield url, root


@contextlib.contextmanager
def emulator(root: Path) -> Iterator[str]:
    """A `psremoting emulator` process accepting USER/PASSWORD, its C:\\ at `root`: its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "psremoting", "emulator", "--user", USER, "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**_clean_environ(), "PSREMOTING_PASSWORD": PASSWORD, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        _stop(proc)


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PSREMOTING_")}


def _stop(proc: subprocess.Popen[str], group: bool = False) -> None:
    """End `proc` (with `group`, the session it leads: a `bash -c` line and its child)."""
    with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _reader_setup(tmp: Path, url: str, routes: dict[str, str] | None = None) -> tuple[Path, dict[str, str]]:
    """The reader's folder (the files the examples name) and environment; every host name is
    sent to `url`, except those `routes` sends elsewhere."""
    cwd, bin_dir, site = tmp / "cwd", tmp / "bin", tmp / "site"
    for folder in (cwd, bin_dir, site):
        folder.mkdir()
    (cwd / "deploy.ps1").write_text(DEPLOY_PS1, encoding="utf-8")
    (cwd / "hosts.txt").write_text("web1\nweb2\n", encoding="utf-8")
    (cwd / "app.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    for name in ("local.bin", "a.bin"):
        (cwd / name).write_bytes(bytes(range(256)) * 40)
    (cwd / "site" / "css").mkdir(parents=True)
    (cwd / "site" / "index.html").write_text("<h1>hello</h1>\n", encoding="utf-8")
    (cwd / "site" / "css" / "site.css").write_text("h1 { color: red }\n", encoding="utf-8")
    (bin_dir / "psremoting").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m psremoting "$@"\n')
    (bin_dir / "psremoting").chmod(0o755)
    (site / "sitecustomize.py").write_text(
        "from psremoting.transport.options import EndpointOverride, set_endpoint_override\n\n"
        f"ROUTES = {routes or {}!r}\n"
        f"set_endpoint_override(lambda name: EndpointOverride(url=ROUTES.get(name, {url!r}), authentication='ntlm'))\n",
        encoding="utf-8",
    )
    env = {
        **_clean_environ(),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": f"{site}{os.pathsep}{ROOT}",
        "PSREMOTING_USERNAME": USER,
        "PSREMOTING_PASSWORD": PASSWORD,
        "COLUMNS": "120",
    }
    return cwd, env


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if any(not _not_run(c) for c in b)],
    ids=lambda b: f"{b[0].doc}:{b[0].line}",
)
def test_the_sh_block_runs_as_written(block: list[Command], drive: tuple[str, Path], tmp_path: Path) -> None:
    url, root = drive
    cwd, env = _reader_setup(tmp_path, url)
    deployed: list[str] = []  # what the last `-f deploy.ps1` of the block prints, once it has run
    for cmd in block:
        if _not_run(cmd):
            continue
        where = f"{cmd.doc}:{cmd.line}: {cmd.text}"
        argv = cmd.argv
        if argv[0] == "export":
            name, _, value = argv[1].partition("=")
            env[name] = value
            continue
        if argv[:2] == ["psremoting", "emulator"]:
            _check_server(cmd, cwd, env)
            continue
        if "$(jq " in cmd.text and not shutil.which("jq"):
            pytest.skip(f"{where}: needs jq, which is not installed here")
        done = subprocess.run(
            ["bash", "-c", cmd.text], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )  # fmt: skip
        said = " ".join(cmd.comments)
        code = re.search(r"\bexit (\d+)\b", said)
        wanted = int(code.group(1)) if code else 0
        assert done.returncode == wanted, f"{where}\n{done.stdout}\n{done.stderr}"
        if "-f" in argv and argv[argv.index("-f") + 1] == "deploy.ps1":
            version = argv[argv.index("--arg") + 1] if "--arg" in argv else ""
            deployed = [f"deploying version [{version}]", f"deployed version [{version}]"]
        hosts = _host_documents(argv, done.stdout, cwd, where)
        for status in re.findall(r'status "(\w+)"', said):
            assert [h["status"] for h in hosts] == [status] * len(hosts) and hosts, where
        for key, names in re.findall(r'"(\w+)": \{([^}]*)\}', said):
            assert all(set(h[key]) == set(re.findall(r'"(\w+)"', names)) for h in hosts), where
        for host in hosts:
            if host["status"] == "Completed" and (argv[1] == "receive" or "deploy.ps1" in argv):
                assert host["output"] == deployed, f"{where}: {host['output']}"  # what ran, exactly once
        if argv[1] == "sessions":
            name = argv[argv.index("-H") + 1]
            row = rf"^ +\d+ \S+ +WSMan +{re.escape(name)} +RemoteMachine +Disconnected +Microsoft.PowerShell "
            assert re.search(row, done.stdout, re.M), f"{where}\n{done.stdout}"
        if argv[1] == "copy":
            _check_copy(argv, done.stdout, cwd, root, where)


def _check_copy(argv: list[str], stdout: str, cwd: Path, root: Path, where: str) -> None:
    """What was copied is where it was sent (unless in --emulator's own drive), and each file
    written is printed, one a line (docs/copy.md)."""
    source, target = [a for a in argv[2:] if not a.startswith("-")]
    upload = ":" in target
    on_c = root.joinpath(*(target if upload else source).split(":", 1)[1][3:].split("\\"))
    if upload and target.endswith("\\"):
        on_c = on_c / Path(source).name
    sent, landed = (cwd / source, on_c) if upload else (on_c, cwd / target)
    files = sorted(p.relative_to(sent) for p in sent.rglob("*") if p.is_file()) if sent.is_dir() else [Path()]
    assert len(stdout.splitlines()) == len(files), f"{where}\n{stdout}"
    if "--emulator" not in argv:
        for name in files:
            assert (landed / name).read_bytes() == (sent / name).read_bytes(), f"{where}: {landed / name}"


def _host_documents(argv: list[str], stdout: str, cwd: Path, where: str) -> list[dict[str, Any]]:
    """The per-host documents of a `--output json`/`jsonl` line, validated; [] for text."""
    fmt = argv[argv.index("--output") + 1] if "--output" in argv else "text"
    text = (cwd / argv[argv.index(">") + 1]).read_text(encoding="utf-8") if ">" in argv else stdout
    if fmt == "json":
        envelope = json.loads(text)
        jsonschema.validate(envelope, load_schema())
        return list(envelope["hosts"])
    if fmt == "jsonl":
        docs = [json.loads(line) for line in text.splitlines()]
        for doc in docs:
            jsonschema.validate(doc, load_schema("hostResult"))
        assert docs, where
        return docs
    return []


def _check_server(cmd: Command, cwd: Path, env: dict[str, str]) -> None:
    """An emulator line is a server: start it as written, read its first line, stop it."""
    proc = subprocess.Popen(
        ["bash", "-c", cmd.text], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().rstrip("\n")
    finally:
        _stop(proc, group=True)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    if not first and "Address already in use" in stderr:
        pytest.skip(f"{cmd.doc}:{cmd.line}: its port is taken on this machine: {stderr.strip()}")
    said = [m.group(1) for c in cmd.comments if (m := re.match(r"(listening on \S+)$", c))]
    assert re.fullmatch(r"listening on http://127\.0\.0\.1:\d+/wsman", first), (cmd.text, first, stderr)
    assert said in ([], [first]), (cmd.text, first)
