"""Pipeline input memory: 1 GiB through Invoke-Command -InputObject, psremoting vs pypsrp.

    .venv/bin/python bench/bench_input.py                     # 64 MiB, 256 MiB and 1 GiB
    .venv/bin/python bench/bench_input.py --sizes 1024 --item-kb 256
    .venv/bin/python bench/bench_input.py --json

The input is a generator of ``--item-kb`` strings (1 MiB by default), never a list: what is
measured is whether the client holds it. The remote script is ``process { $_.Length }``, so
the server works on each object as it arrives and answers one number per object; the client
checks that the lengths add up to the size sent.

Each run is its own process, so that its peak resident memory (``ru_maxrss``, what the
operating system counted) is that run's alone; "memory" below is that peak minus the same
process's resident memory just before it started sending (Python, pypsrp and one open
session). A client that held the input would grow with the size; a flat one does not. The
emulator runs in another process (``python -m psremoting emulator``); its own peak (VmHWM) is
reported too, to show that it streams as well.

- psremoting: ``invoke_command(script, session=s, input_object=gen)``;
- pypsrp: ``PowerShell.add_script(script).invoke(input=gen)`` on a ``RunspacePool`` (its way
  of sending input; it sends every object in its own Send).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

USER, PASSWORD = "bench", "Bench-Passw0rd"
SCRIPT = "process { $_.Length }"


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _peak_kib(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _items(total_bytes: int, item_bytes: int) -> Iterator[str]:
    chunk = "x" * item_bytes
    sent = 0
    while sent < total_bytes:
        size = min(item_bytes, total_bytes - sent)
        yield chunk if size == item_bytes else chunk[:size]
        sent += size


def _child(client: str, url: str, size_mib: int, item_kib: int) -> dict[str, Any]:
    """One measured run, in this (fresh) process."""
    total, item = size_mib * 1024 * 1024, item_kib * 1024
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    if client == "psremoting":
        import psremoting

        session = psremoting.new_pssession(
            "127.0.0.1", port=port, credential=(USER, PASSWORD), authentication="ntlm"
        )
        session.invoke("1")
        before = _rss_kib()
        started = time.perf_counter()
        result = psremoting.invoke_command(SCRIPT, session=session, input_object=_items(total, item))
        elapsed = time.perf_counter() - started
        lengths = [int(v) for v in result]
        errors = [e.message for e in result.errors]
        psremoting.remove_pssession(session)
    else:
        from pypsrp.powershell import PowerShell, RunspacePool
        from pypsrp.wsman import WSMan

        wsman = WSMan("127.0.0.1", port=port, ssl=False, auth="ntlm", username=USER, password=PASSWORD,
                      cert_validation=False)  # fmt: skip
        with RunspacePool(wsman) as pool:
            PowerShell(pool).add_script("1").invoke()
            before = _rss_kib()
            started = time.perf_counter()
            ps = PowerShell(pool)
            ps.add_script(SCRIPT)
            output = ps.invoke(input=_items(total, item))
            elapsed = time.perf_counter() - started
            lengths = [int(v) for v in output]
            errors = [str(e) for e in ps.streams.error]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "client": client,
        "size_mib": size_mib,
        "item_kib": item_kib,
        "seconds": round(elapsed, 2),
        "mib_per_s": round(size_mib / elapsed, 1) if elapsed else None,
        "memory_mib": round((peak - before) / 1024, 1),
        "ok": sum(lengths) == total and not errors,
        "errors": errors[:3],
    }


class Emulator:
    """``psremoting emulator`` in a subprocess."""

    def __init__(self) -> None:
        env = dict(os.environ, PSREMOTING_PASSWORD=PASSWORD)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "psremoting", "emulator", "--listen", "127.0.0.1:0", "--auth", "ntlm,negotiate",
             "--user", USER],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.close()
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.url = line.removeprefix("listening on ")

    def peak_mib(self) -> float:
        return round(_peak_kib(self.proc.pid) / 1024, 1)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="64,256,1024", help="input sizes in MiB (comma-separated)")
    parser.add_argument("--item-kb", type=int, default=1024, help="size of each input string, KiB")
    parser.add_argument("--clients", default="psremoting,pypsrp")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=4, metavar=("CLIENT", "URL", "MIB", "KIB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        client, url, mib, kib = args.child
        print(json.dumps(_child(client, url, int(mib), int(kib))), flush=True)
        return 0
    rows: list[dict[str, Any]] = []
    emulator = Emulator()
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            for client in args.clients.split(","):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", client, emulator.url, str(size), str(args.item_kb)],
                    capture_output=True, text=True, timeout=3600,
                )  # fmt: skip
                if done.returncode != 0:
                    rows.append({"client": client, "size_mib": size, "failed": done.stderr.strip()[-400:]})
                    continue
                row = json.loads(done.stdout.strip().splitlines()[-1])
                row["emulator_peak_mib"] = emulator.peak_mib()
                rows.append(row)
    finally:
        emulator.close()
    print(f"{'client':<11} {'input':>9} {'item':>7} {'time':>8} {'MiB/s':>7} {'client memory':>14} {'ok':>4}")
    for row in rows:
        if "failed" in row:
            print(f"{row['client']:<11} {row['size_mib']:>6} MiB  failed: {row['failed']}")
            continue
        print(
            f"{row['client']:<11} {row['size_mib']:>6} MiB {row['item_kib']:>4} KiB {row['seconds']:>7} s "
            f"{row['mib_per_s']:>7} {row['memory_mib']:>10} MiB {'yes' if row['ok'] else 'NO':>4}"
        )
    print(f"emulator peak resident memory over the whole run: {rows[-1].get('emulator_peak_mib', '?')} MiB")
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
