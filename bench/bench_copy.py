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

Each figure is the best of ``--rounds`` (MB/s = file size / wall time). Peak client memory
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


def best_time(fn: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def traced_peak(fn: Callable[[], None]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, default=20.0, help="file size in MB (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per figure; the best is kept")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced peak-memory runs")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()

    import psremoting
    from psremoting.options import EndpointOverride, set_endpoint_override
    from pypsrp.client import Client

    size = int(args.size_mb * 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-copy-") as work:
        work_dir = Path(work)
        root = work_dir / "remote"
        (root / "bench").mkdir(parents=True)
        local = work_dir / "local.bin"
        with open(local, "wb") as f:
            left = size
            while left > 0:
                f.write(os.urandom(min(left, 1 << 20)))
                left -= min(left, 1 << 20)
        (root / "bench" / "source.bin").write_bytes(local.read_bytes())
        expected = sha256(local)
        emulator = EmulatorProcess(root)
        try:
            set_endpoint_override(lambda name: EndpointOverride(
                url=emulator.url, username=USER, password=PASSWORD, authentication="ntlm", ca_file=None))
            session = psremoting.new_pssession("server01")
            client = Client("127.0.0.1", port=emulator.port, ssl=False, username=USER, password=PASSWORD,
                            auth="ntlm", cert_validation=False)  # fmt: skip
            down = work_dir / "down.bin"

            cases: dict[str, Callable[[], None]] = {
                "psremoting upload": lambda: psremoting.copy_item(
                    str(local), "C:\\bench\\ours.bin", to_session=session),
                "pypsrp upload": lambda: client.copy(str(local), "C:\\bench\\theirs.bin"),
                "psremoting download": lambda: psremoting.copy_item(
                    "C:\\bench\\source.bin", str(down), from_session=session),
                "pypsrp download": lambda: client.fetch("C:\\bench\\source.bin", str(down)),
            }
            results: dict[str, dict[str, Any]] = {}
            for name, fn in cases.items():
                seconds = best_time(fn, args.rounds)
                produced = (root / "bench" / ("ours.bin" if "psremoting" in name else "theirs.bin")
                            if "upload" in name else down)  # fmt: skip
                assert sha256(produced) == expected, f"{name}: the copy differs from the source"
                results[name] = {"seconds": round(seconds, 3), "mb_per_s": round(size / 1e6 / seconds, 2)}
                print(f"{name:22s} {seconds:8.3f} s  {size / 1e6 / seconds:8.2f} MB/s", flush=True)
            if not args.no_memory:
                for name, fn in cases.items():
                    peak = traced_peak(fn)
                    results[name]["peak_traced_mb"] = round(peak / 1e6, 2)
                    print(f"{name:22s} peak traced memory {peak / 1e6:8.2f} MB", flush=True)
            for way in ("upload", "download"):
                ratio = results[f"pypsrp {way}"]["seconds"] / results[f"psremoting {way}"]["seconds"]
                results[f"{way} speed-up"] = {"x": round(ratio, 2)}
                print(f"{way} speed-up: {ratio:.2f}x", flush=True)
            psremoting.remove_pssession(session)
            client.close()
        finally:
            set_endpoint_override(None)
            emulator.close()
    if args.json:
        print(json.dumps({"size_bytes": size, "rounds": args.rounds, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
