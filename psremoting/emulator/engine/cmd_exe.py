"""``cmd.exe`` as the emulated host runs it: the command lines a WinRS client or a PowerShell
script sends (``dir``, ``echo abc``, ``set``, ``cmd.exe /c echo out && echo err>&2 && exit 1``,
``whoami``, ``hostname``, ``ipconfig``, ``type``, ``cd``, ``ver``, ``powershell.exe ...``).

A test double, not cmd.exe: ``%VAR%`` expansion, the ``&``, ``&&`` and ``||`` operators,
``>&2``/``2>&1``/``>nul`` redirections, and the built-ins above with cmd's texts. Any other
program gets cmd's "is not recognized as an internal or external command" on stderr and
errorlevel 9009, as Windows gives. ``powershell.exe`` and ``pwsh.exe`` are handed to the
`run_powershell` callback (the engine's console mode).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .filesystem import is_hidden

__all__ = ["CmdExe", "CmdResult", "split_arguments", "join_arguments"]

#: ``run_powershell(arguments, stdin)`` -> (stdout, stderr, exit code); ``stdin`` is the
#: text or a callable that waits for the client's whole stdin.
PowerShellRunner = Callable[[list[str], Any], tuple[str, str, int]]

NOT_RECOGNIZED = 9009

#: Full paths (lower case) of the programs cmd.exe runs by path, and the only ones a Command
#: that skips cmd.exe (WINRS_SKIP_CMD_SHELL) can start: it must name its program's file.
PROGRAM_FILES = frozenset(
    {
        "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",
        "c:\\program files\\powershell\\7\\pwsh.exe",
    }
    | {f"c:\\windows\\system32\\{name}.exe" for name in ("cmd", "whoami", "hostname", "ipconfig")}
)


@dataclass
class CmdResult:
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    code: int = 0

    @property
    def out(self) -> str:
        return "".join(self.stdout)

    @property
    def err(self) -> str:
        return "".join(self.stderr)


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def split_arguments(line: str) -> list[str]:
    """Words of a command line as a Windows program reads them (quotes group, and are removed)."""
    words: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
            started = True
        elif ch in " \t" and not quoted:
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        words.append("".join(current))
    return words


def join_arguments(args: list[str]) -> str:
    """A command line from arguments, as PowerShell builds one for a native program: an
    argument with a space or tab is put in double quotes."""
    return " ".join(
        f'"{a}"' if (" " in a or "\t" in a or not a) and not a.startswith('"') else a for a in args
    )


def _split_operators(line: str) -> list[tuple[str, str]]:
    """``a && b || c & d`` -> [("", "a "), ("&&", " b "), ...] outside double quotes."""
    parts: list[tuple[str, str]] = []
    op = ""
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == '"':
            quoted = not quoted
        if not quoted and ch in "&|" and not (ch == "&" and i > 0 and line[i - 1] == ">"):
            two = line[i : i + 2]
            parts.append((op, "".join(current)))
            current = []
            if two in ("&&", "||"):
                op, i = two, i + 2
            else:
                op, i = ch, i + 1
            continue
        current.append(ch)
        i += 1
    parts.append((op, "".join(current)))
    return parts


_REDIRECT = re.compile(
    r"\s*(?:(?P<fd>[12])?>(?P<amp>&[12])|(?P<fd2>[12])?>>?\s*(?P<file>nul\b|[^\s&|<>]+))", re.I
)


class CmdExe:
    """One cmd.exe process: environment, current directory and the sandboxed ``C:\\``."""

    def __init__(
        self,
        env: MutableMapping[str, str],
        cwd: str,
        *,
        computer_name: str,
        username: str,
        sandbox: Any = None,
        run_powershell: PowerShellRunner | None = None,
    ) -> None:
        self.env = env
        self.cwd = cwd
        self.computer_name = computer_name
        self.username = username
        self.sandbox = sandbox
        self.run_powershell = run_powershell

    # -- the command line ----------------------------------------------------------------
    def run(self, line: str, stdin: Any = "") -> CmdResult:
        """Run ``line`` as ``cmd.exe /c line`` does."""
        result = CmdResult()
        try:
            self._run_line(line, stdin, result)
        except _Exit as done:
            result.code = done.code
        return result

    def _expand(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            for key, val in self.env.items():
                if key.lower() == name.lower():
                    return str(val)
            return match.group(0)

        return re.sub(r"%([^%\s]+)%", value, text)

    def _run_line(self, line: str, stdin: Any, result: CmdResult) -> None:
        line = self._expand(line)
        for op, segment in _split_operators(line):
            if op == "&&" and result.code != 0:
                continue
            if op == "||" and result.code == 0:
                continue
            if not segment.strip():
                continue
            result.code = self._run_segment(segment, stdin, result)

    def _run_segment(self, segment: str, stdin: Any, result: CmdResult) -> int:
        out_to, err_to = "out", "err"
        text = segment
        for match in list(_REDIRECT.finditer(segment))[::-1]:
            fd = match.group("fd") or match.group("fd2") or "1"
            target = match.group("amp") or (match.group("file") or "")
            route = {"&1": "out", "&2": "err"}.get(target.lower(), "nul")
            if fd == "2":
                err_to = route
            else:
                out_to = route
            text = text[: match.start()] + text[match.end() :]
        local = CmdResult()
        try:
            code = self._command(text.lstrip(), stdin, local)
        except _Exit as done:
            self._route(local, out_to, err_to, result)
            raise _Exit(done.code) from None
        self._route(local, out_to, err_to, result)
        return code

    @staticmethod
    def _route(local: CmdResult, out_to: str, err_to: str, result: CmdResult) -> None:
        sinks = {"out": result.stdout, "err": result.stderr}
        for route, items in ((out_to, local.stdout), (err_to, local.stderr)):
            if route in sinks:
                sinks[route].extend(items)

    # -- commands ------------------------------------------------------------------------
    def _command(self, text: str, stdin: Any, out: CmdResult) -> int:
        match = re.match(r'\s*("[^"]*"|[A-Za-z]:\\[^\s"]*|[^\s/.]+(?:\.[A-Za-z]+)?)', text)
        if not match or not match.group(1):
            return 0
        name = match.group(1).strip('"')
        rest = text[match.end() :]
        key = name.lower()
        program = key.rsplit("\\", 1)[-1] if key in PROGRAM_FILES else key
        bare = program[:-4] if program.endswith((".exe", ".com")) else program
        if key in ("echo", "echo.") or (key == "echo" and rest.startswith(".")):
            return self._echo(rest, out)
        if key == "set":
            return self._set(rest.strip(), out)
        if key == "exit":
            words = rest.split()
            if words and words[0].lower() == "/b":
                words = words[1:]
            raise _Exit(int(words[0]) if words and words[0].lstrip("-").isdigit() else 0)
        if key in ("cd", "chdir"):
            return self._cd(rest.strip(), out)
        if key == "dir":
            return self._dir(rest.strip(), out)
        if key == "type":
            return self._type(rest.strip(), out)
        if key == "ver":
            out.stdout.append("\r\nMicrosoft Windows [Version 10.0.17763.737]\r\n")
            return 0
        if key == "rem" or key.startswith("::"):
            return 0
        if bare == "whoami":
            out.stdout.append(f"{self.computer_name.lower()}\\{self.username.lower()}\r\n")
            return 0
        if bare == "hostname":
            out.stdout.append(f"{self.computer_name}\r\n")
            return 0
        if bare == "ipconfig":
            out.stdout.append(_IPCONFIG)
            return 0
        if bare == "cmd":
            return self._cmd(rest, stdin, out)
        if bare in ("powershell", "pwsh") and self.run_powershell is not None:
            stdout, stderr, code = self.run_powershell(split_arguments(rest), stdin)
            out.stdout.append(stdout)
            out.stderr.append(stderr)
            return code
        out.stderr.append(
            f"'{name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
        )
        return NOT_RECOGNIZED

    def _cmd(self, rest: str, stdin: Any, out: CmdResult) -> int:
        text = rest.lstrip()
        if text.startswith('"/'):
            # PowerShell quotes an argument with spaces ("/c echo hi"); cmd reads the switch
            # after the quote and keeps the rest, the closing quote included.
            text = text[1:]
        match = re.match(r"/([ck])\s*", text, re.I)
        if not match:
            out.stdout.append("Microsoft Windows [Version 10.0.17763.737]\r\n")
            return 0
        inner = CmdExe(
            self.env,
            self.cwd,
            computer_name=self.computer_name,
            username=self.username,
            sandbox=self.sandbox,
            run_powershell=self.run_powershell,
        )
        result = inner.run(text[match.end() :], stdin)
        out.stdout.extend(result.stdout)
        out.stderr.extend(result.stderr)
        return result.code

    @staticmethod
    def _echo(rest: str, out: CmdResult) -> int:
        if rest.startswith("."):
            out.stdout.append(rest[1:] + "\r\n")
        elif not rest.strip():
            out.stdout.append("ECHO is on.\r\n")
        else:
            out.stdout.append(rest[1:] + "\r\n")
        return 0

    def _set(self, rest: str, out: CmdResult) -> int:
        if "=" in rest:
            name, _, value = rest.partition("=")
            for key in list(self.env):
                if key.lower() == name.lower():
                    del self.env[key]
            if value:
                self.env[name] = value
            return 0
        items = sorted(self.env.items(), key=lambda kv: kv[0].upper())
        shown = [f"{k}={v}\r\n" for k, v in items if k.lower().startswith(rest.lower())]
        if not shown:
            out.stderr.append(f"Environment variable {rest} not defined\r\n")
            return 1
        out.stdout.extend(shown)
        return 0

    def _cd(self, rest: str, out: CmdResult) -> int:
        if not rest:
            out.stdout.append(self.cwd + "\r\n")
            return 0
        target = rest.strip('"')
        if target.lower().startswith("/d "):
            target = target[3:].strip()
        if self.sandbox is not None:
            try:
                path = self.sandbox.normalize(target, self.cwd)
                if self.sandbox.host_path(path).is_dir():
                    self.cwd = path
                    return 0
            except Exception:
                pass
        out.stderr.append("The system cannot find the path specified.\r\n")
        return 1

    def _host(self, target: str) -> Any:
        if self.sandbox is None:
            return None
        try:
            return self.sandbox.host_path(self.sandbox.normalize(target, self.cwd))
        except Exception:
            return None

    def _dir(self, rest: str, out: CmdResult) -> int:
        target = rest.strip('"') or self.cwd
        windows = self.sandbox.normalize(target, self.cwd) if self.sandbox is not None else target
        host = self._host(target)
        lines = [" Volume in drive C has no label.", " Volume Serial Number is 7A3C-D5E1", ""]
        if host is None or not host.exists():
            out.stdout.append("\r\n".join(lines) + "\r\n")
            out.stderr.append("File Not Found\r\n")
            return 1
        lines += [f" Directory of {windows}", ""]
        entries = sorted(os.scandir(host), key=lambda e: e.name.lower()) if host.is_dir() else []
        # dir without /a leaves hidden folders (C:\ProgramData) out, as on Windows.
        entries = [e for e in entries if not is_hidden(windows.rstrip("\\") + "\\" + e.name)]
        files = dirs = total = 0
        for entry in entries:
            stamp = _dt.datetime.fromtimestamp(entry.stat().st_mtime).strftime("%m/%d/%Y  %I:%M %p")
            if entry.is_dir():
                dirs += 1
                lines.append(f"{stamp}    <DIR>          {entry.name}")
            else:
                files += 1
                size = entry.stat().st_size
                total += size
                lines.append(f"{stamp} {size:>17,} {entry.name}")
        lines.append(f"{files:>16} File(s) {total:>14,} bytes")
        lines.append(f"{dirs:>16} Dir(s)  {53687091200:>14,} bytes free")
        out.stdout.append("\r\n".join(lines) + "\r\n")
        return 0

    def _type(self, rest: str, out: CmdResult) -> int:
        host = self._host(rest.strip('"'))
        if host is None or not host.is_file():
            out.stderr.append("The system cannot find the file specified.\r\n")
            return 1
        out.stdout.append(host.read_bytes().decode("utf-8", errors="replace"))
        return 0


_IPCONFIG = (
    "\r\nWindows IP Configuration\r\n\r\n\r\n"
    "Ethernet adapter Ethernet:\r\n\r\n"
    "   Connection-specific DNS Suffix  . : \r\n"
    "   Link-local IPv6 Address . . . . . : fe80::5d2c:1c0b:7a8e:3f10%4\r\n"
    "   IPv4 Address. . . . . . . . . . . : 10.0.0.4\r\n"
    "   Subnet Mask . . . . . . . . . . . : 255.255.255.0\r\n"
    "   Default Gateway . . . . . . . . . : 10.0.0.1\r\n"
)
