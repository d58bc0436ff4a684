"""What the benchmarks share: the emulator in its own process, raw pypsrp connections, timing.

The emulator runs in a subprocess (so that the client is measured alone; it still shares the
machine's CPUs). Its process answers for the given computer names, each on its own loopback
port, with NTLM and WinRM message encryption over HTTP, and registers the benchmark-only
commands below. It reads one command a line on its stdin and answers one JSON line:

- ``stats``: ``{"requests": {action: count}, "peak_running_pipelines": n}``;
- ``reset``: clears the counters (answers ``{}``);
- end of input: prints the final stats and exits.

Benchmark-only commands (handlers registered in the emulator process; they send CLIXML
built up front through ``PipelineIOImpl.write_serialized_output``, so that the emulator's own
serializer and command engine are not what is measured):

- ``Get-BenchOutput -Count N [-Kind int|string]``: N small objects (I32 ``0..N-1`` or
  strings ``item<n>``);
- ``Get-BenchString -Bytes N``: one string of N ASCII characters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

USER, PASSWORD = "benchuser", "bench-Passw0rd"

# Runs in the emulator's own process: one emulator, one listener per computer name.
SERVER_CODE = r"""
import json, sys
from psremoting.emulator import Emulator

def bench_output(ctx):
    params = {k.lower(): v for k, v in ctx.params.items()}
    count = int(params.get("count", ctx.args[0] if ctx.args else 1000))
    kind = str(params.get("kind", "int")).lower()
    if kind.startswith("str"):
        items = (b"<S>item%d</S>" % n for n in range(count))
    else:
        items = (b"<I32>%d</I32>" % n for n in range(count))
    ctx.io.write_serialized_output(items)
    return None

def bench_string(ctx):
    params = {k.lower(): v for k, v in ctx.params.items()}
    size = int(params.get("bytes", ctx.args[0] if ctx.args else 1024))
    ctx.io.write_serialized_output(b"<S>" + b"x" * size + b"</S>")
    return None

def stats_of(emu):
    stats = emu.stats
    return {"requests": dict(stats.requests), "peak_running_pipelines": stats.peak_running_pipelines}

names = sys.argv[1].split(",")
user, password = sys.argv[2], sys.argv[3]
with Emulator(users={user: password}, auth=("ntlm", "negotiate", "basic"), computer_name=names[0]) as emu:
    emu.register("Get-BenchOutput", bench_output)
    emu.register("Get-BenchString", bench_string)
    urls = {names[0]: emu.url}
    for name in names[1:]:
        urls[name] = emu.add_computer(name)
    print(json.dumps(urls), flush=True)
    for line in sys.stdin:  # runs until the benchmark closes our stdin
        command = line.strip()
        if command == "stats":
            print(json.dumps(stats_of(emu)), flush=True)
        elif command == "reset":
            emu.stats.reset()
            print("{}", flush=True)
    print(json.dumps(stats_of(emu)), flush=True)
"""


class EmulatorProcess:
    """The emulator in a subprocess, answering for `names`; `urls` maps each name to its URL."""

    def __init__(self, names: list[str]) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE, ",".join(names), USER, PASSWORD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise SystemExit("the emulator process did not start (see its error output above)")
        self.urls: dict[str, str] = json.loads(line)
        self.peak_running: int | None = None

    def _ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def stats(self) -> dict[str, Any]:
        """The emulator's counters: WSMan requests per action, peak of running pipelines."""
        return self._ask("stats")

    def reset_stats(self) -> None:
        self._ask("reset")

    def requests(self) -> int:
        """WSMan requests served since the last `reset_stats`."""
        return sum(self.stats()["requests"].values())

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        tail = self.proc.stdout.read()
        try:
            self.peak_running = json.loads(tail.strip().splitlines()[-1]).get("peak_running_pipelines")
        except (ValueError, IndexError, AttributeError):
            self.peak_running = None
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw_wsman(url: str) -> Any:
    """A pypsrp WSMan to `url` with the benchmark user, NTLM and encryption over HTTP."""
    from pypsrp.wsman import WSMan

    parts = urlsplit(url)
    return WSMan(
        parts.hostname or "127.0.0.1",
        port=parts.port,
        ssl=False,
        path=parts.path.strip("/"),
        auth="ntlm",
        username=USER,
        password=PASSWORD,
        cert_validation=False,
    )


def raw_pypsrp_one(url: str, script: str) -> list[Any]:
    """One host the way a plain pypsrp script does it: WSMan, RunspacePool, PowerShell."""
    from pypsrp.powershell import PowerShell, RunspacePool

    with raw_wsman(url) as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_script(script)
        output = ps.invoke()
        if ps.had_errors:
            raise RuntimeError(f"{url}: {ps.streams.error}")
        return list(output)


def route_to(urls: dict[str, str]) -> None:
    """Send psremoting's connections for these computer names to the emulator (NTLM)."""
    from psremoting.transport.options import EndpointOverride, set_endpoint_override

    set_endpoint_override(
        lambda name: (
            EndpointOverride(url=urls[name], username=USER, password=PASSWORD, authentication="ntlm")
            if name in urls
            else None
        )
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def print_table(title: str, rows: list[dict[str, str]]) -> None:
    """Print `rows` (each: case, pypsrp, psremoting, ratio, target, met) as a text table."""
    columns = ["case", "pypsrp", "psremoting", "ratio", "target", "met?"]
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    print(title)
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(row.get(c, "").ljust(widths[c]) for c in columns))
    print(flush=True)
