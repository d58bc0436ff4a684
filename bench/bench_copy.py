"""Copy throughput: psremoting's copy_item vs pypsrp's Client.copy / Client.fetch.

    .venv/bin/python bench/bench_copy.py                 # 20 MB, 3 rounds each
    .venv/bin/python bench/bench_copy.py --size-mb 50 --rounds 1
    .venv/bin/python bench/bench_copy.py --json

One emulator runs in its own process (``python -m psremoting emulator``: loopback HTTP,
NTLM with WinRM message encryption), so the client is measured alone (both share the
machine's CPUs). Both clients copy the same random (incompressible) file to and from it:

- psremoting: ``copy_item(..., to_session=s)`` / ``from_session=s`` on an open session;
- pypsrp: ``Client.copy`` / ``Client.fetch`` (each opens and closes its own runspace pool, as
  it always does). The emulator cannot run pypsrp's .NET scripts; it recognises their text
  and emulates their contract natively, exactly as it does psremoting's own scripts
  (``psremoting/emulator/engine/builtins_transfer.py``), so both run on equal terms.

Each figure is the best of ``--rounds`` (MB/s = file size / wall time), with that round's CPU
time of the client process (all its threads) and of the emulator process (Linux /proc). Peak client memory
is measured in a separate traced run (tracemalloc slows Python down, so it is not timed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

USER, PASSWORD = "bench", "Bench-Passw0rd"


class EmulatorProcess:
    """``psremoting emulator`` in a subprocess, serving `root` as C:\\."""

    def __init__(self, root: Path) -> None:
        env = dict(os.environ, PSREMOTING_PASSWORD=PASSWORD)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "psremoting", "emulator", "--listen", "127.0.0.1:0", "--auth", "ntlm,negotiate",
             "--user", USER, "--root", str(root)],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.close()
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        self.port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc; 0.0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def best_time(fn: Callable[[], object], rounds: int, server_pid: int) -> tuple[float, float, float]:
    """The best wall time of `rounds`, with that round's client CPU and the emulator's CPU."""
    runs = []
    for _ in range(rounds):
        start, cpu, server = time.perf_counter(), time.process_time(), process_cpu(server_pid)
        fn()
        runs.append(
            (time.perf_counter() - start, time.process_time() - cpu, process_cpu(server_pid) - server)
        )
    return min(runs)


def traced_peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=20.0, help="file size in MB (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per figure; the best is kept")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced peak-memory runs")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--way",
        choices=("upload", "download", "both"),
        default="both",
        help="which copies to time (default both)",
    )
    parser.add_argument(
        "--data",
        choices=("random", "text", "both"),
        default="both",
        help="random: incompressible bytes; text: a log-like text file (compressible)",
    )
    args = parser.parse_args()

    from pypsrp.client import Client

    import psremoting
    from psremoting.transport.options import EndpointOverride, set_endpoint_override

    size = int(args.size_mb * 1_000_000)
    kinds = ("random", "text") if args.data == "both" else (args.data,)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-copy-") as work:
        work_dir = Path(work)
        root = work_dir / "remote"
        (root / "bench").mkdir(parents=True)
        emulator = EmulatorProcess(root)
        try:
            set_endpoint_override(
                lambda name: EndpointOverride(
                    url=emulator.url, username=USER, password=PASSWORD, authentication="ntlm", ca_file=None
                )
            )
            session = psremoting.new_pssession("server01")
            client = Client("127.0.0.1", port=emulator.port, ssl=False, username=USER, password=PASSWORD,
                            auth="ntlm", cert_validation=False)  # fmt: skip
            for kind in kinds:
                print(f"-- {kind} data, {size / 1e6:g} MB", flush=True)
                results[kind] = run_kind(kind, size, work_dir, root, session, client, args, emulator.proc.pid)
            psremoting.remove_pssession(session)
            client.close()
        finally:
            set_endpoint_override(None)
            emulator.close()
    if args.json:
        print(json.dumps({"size_bytes": size, "rounds": args.rounds, "results": results}, indent=2))
    return 0


def write_data(path: Path, size: int, kind: str) -> None:
    with open(path, "wb") as f:
        written = 0
        line = 0
        while written < size:
            if kind == "random":
                block = os.urandom(min(size - written, 1 << 20))
            else:  # a log file: compresses about 10x
                lines = []
                for _ in range(10_000):
                    line += 1
                    lines.append(b"2026-11-25T00:%02d:%02d.%03dZ INFO web-%d GET /api/items/%d 200 %d ms\r\n"
                                 % (line // 60 % 60, line % 60, line % 1000, line % 7, line * 7919 % 100_000,
                                    line % 89))  # fmt: skip
                block = b"".join(lines)[: size - written]
            f.write(block)
            written += len(block)


def run_kind(kind: str, size: int, work_dir: Path, root: Path, session: Any, client: Any,
             args: argparse.Namespace, server_pid: int) -> dict[str, dict[str, Any]]:  # fmt: skip
    import psremoting

    local = work_dir / f"local-{kind}.bin"
    write_data(local, size, kind)
    (root / "bench" / "source.bin").write_bytes(local.read_bytes())
    expected = sha256(local)
    down = work_dir / "down.bin"
    cases: dict[str, Callable[[], object]] = {
        "psremoting upload": lambda: psremoting.copy_item(
            str(local), "C:\\bench\\ours.bin", to_session=session
        ),
        "pypsrp upload": lambda: client.copy(str(local), "C:\\bench\\theirs.bin"),
        "psremoting download": lambda: psremoting.copy_item(
            "C:\\bench\\source.bin", str(down), from_session=session
        ),
        "pypsrp download": lambda: client.fetch("C:\\bench\\source.bin", str(down)),
    }
    cases = {name: fn for name, fn in cases.items() if args.way == "both" or args.way in name}
    results: dict[str, dict[str, Any]] = {}
    for name, fn in cases.items():
        try:
            seconds, client_cpu, server_cpu = best_time(fn, args.rounds, server_pid)
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name:22s} FAILED: {type(exc).__name__}: {exc}", flush=True)
            continue
        produced = (root / "bench" / ("ours.bin" if "psremoting" in name else "theirs.bin")
                    if "upload" in name else down)  # fmt: skip
        assert sha256(produced) == expected, f"{name}: the copy differs from the source"
        results[name] = {"seconds": round(seconds, 3), "mb_per_s": round(size / 1e6 / seconds, 2),
                         "client_cpu_s": round(client_cpu, 3), "emulator_cpu_s": round(server_cpu, 3)}  # fmt: skip
        print(f"{name:22s} {seconds:8.3f} s  {size / 1e6 / seconds:8.2f} MB/s"
              f"  CPU: client {client_cpu:6.2f} s, emulator {server_cpu:6.2f} s", flush=True)  # fmt: skip
    if not args.no_memory:
        for name, fn in cases.items():
            if "error" in results[name]:
                continue
            peak = traced_peak(fn)
            results[name]["peak_traced_mb"] = round(peak / 1e6, 2)
            print(f"{name:22s} peak traced memory {peak / 1e6:8.2f} MB", flush=True)
    for way in ("upload", "download"):
        if f"pypsrp {way}" not in results or f"psremoting {way}" not in results:
            continue
        if "error" in results[f"pypsrp {way}"] or "error" in results[f"psremoting {way}"]:
            continue
        ratio = results[f"pypsrp {way}"]["seconds"] / results[f"psremoting {way}"]["seconds"]
        results[f"{way} speed-up"] = {"x": round(ratio, 2)}
        print(f"{way} speed-up: {ratio:.2f}x", flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
