"""Benchmark: large output, psremoting against raw pypsrp 0.9.1.

    .venv/bin/python bench/bench_output.py                 # 200,000 objects, 10/20/40 MB (~1.5 minutes)
    .venv/bin/python bench/bench_output.py --objects 50000 --megabytes 5,10

One emulator process (started here, so that the client is measured alone) serves both
clients, with NTLM and message encryption over HTTP. It sends PRE-SERIALIZED output (the
benchmark commands of `bench/_common.py`, through `PipelineIOImpl.write_serialized_output`),
so that its own serializer and command engine are not what is measured.

- many small objects: `Get-BenchOutput -Count N` (ints), pypsrp's own path
  (``with PowerShell(pool) as ps: ...; ps.invoke()``) against psremoting streaming them
  (``for item in session.start(..., annotate=False)``). Target: psremoting at least 3x faster.
- flat memory: psremoting streams N/4, N/2 and N objects while tracemalloc traces the
  client; the peak of traced memory must not grow with N (target: the peak at N is below
  1.5x the peak at N/4).
- one big string: `Get-BenchString -Bytes M` for each size; pypsrp reassembles fragments
  in quadratic time, psremoting in linear time. Target: psremoting's time per MB at the
  largest size within 1.5x of its time per MB at the smallest (linear), and faster than
  pypsrp. psremoting's time is the best of `--repeat` runs (other jobs share the machine);
  pypsrp runs once (its 40 MB run takes 20 s).

The client CPU time of the big output (this process's CPU, the emulator being another
process) is printed too: unlike wall time it does not depend on how fast the emulator
answers.

Benchmarks are not tests: nothing here fails on a slow machine; read the table.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import EmulatorProcess, print_table, raw_wsman, route_to

OBJECTS_TARGET = 3.0
MEMORY_TARGET = 1.5
LINEAR_TARGET = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--objects", type=int, default=200_000, help="objects in the big output (default 200000)"
    )
    parser.add_argument(
        "--megabytes", default="10,20,40", help="sizes of the one-string case (default 10,20,40)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="runs of psremoting per string size, the best counts (default 2)",
    )
    parser.add_argument("--skip-pypsrp", action="store_true", help="measure psremoting only")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    sizes = [int(m) for m in args.megabytes.split(",") if m.strip()]

    from pypsrp.powershell import PowerShell, RunspacePool

    import psremoting

    name = "benchout"
    figures: dict[str, Any] = {"objects": args.objects}
    rows: list[dict[str, str]] = []
    with EmulatorProcess([name]) as emulator:
        route_to(emulator.urls)
        session = psremoting.new_pssession(name)
        wsman = raw_wsman(emulator.urls[name])
        pool = RunspacePool(wsman)
        pool.open()

        cpu: dict[str, float] = {}

        def run_pypsrp(script: str) -> tuple[float, int, Any]:
            start, cpu_start = time.perf_counter(), time.process_time()
            with PowerShell(pool) as ps:
                ps.add_script(script)
                output = ps.invoke()
            elapsed = time.perf_counter() - start
            cpu["pypsrp"] = time.process_time() - cpu_start
            if ps.had_errors:
                raise RuntimeError(f"pypsrp: {ps.streams.error}")
            return elapsed, len(output), output[-1] if output else None

        def run_ours(script: str) -> tuple[float, int, Any]:
            count = 0
            last = None
            start, cpu_start = time.perf_counter(), time.process_time()
            for item in session.start(script, annotate=False):
                if item.stream == "output":
                    count += 1
                    last = item.value
                elif item.stream == "error":
                    raise RuntimeError(f"psremoting: {item.value}")
            elapsed = time.perf_counter() - start
            cpu["psremoting"] = time.process_time() - cpu_start
            return elapsed, count, last

        try:
            run_pypsrp("Get-BenchOutput -Count 1000")  # warm-up
            run_ours("Get-BenchOutput -Count 1000")

            # 1. many small objects
            script = f"Get-BenchOutput -Count {args.objects}"
            ours, n_ours, last_ours = run_ours(script)
            if n_ours != args.objects or last_ours != args.objects - 1:
                print(f"WARNING: psremoting got {n_ours} objects, last {last_ours!r}", file=sys.stderr)
            figures["objects_psremoting_s"] = ours
            figures["objects_psremoting_cpu_s"] = cpu["psremoting"]
            raw = raw_cpu = float("nan")
            if not args.skip_pypsrp:
                raw, n_raw, _ = run_pypsrp(script)
                if n_raw != args.objects:
                    print(f"WARNING: pypsrp got {n_raw} objects", file=sys.stderr)
                raw_cpu = cpu["pypsrp"]
                figures["objects_pypsrp_s"] = raw
                figures["objects_pypsrp_cpu_s"] = raw_cpu
            speedup = raw / ours
            rows.append(
                {
                    "case": f"{args.objects:,} ints, time",
                    "pypsrp": f"{raw:.2f} s",
                    "psremoting": f"{ours:.2f} s",
                    "ratio": f"{speedup:.1f}x faster",
                    "target": f">= {OBJECTS_TARGET:g}x faster",
                    "met?": "yes" if speedup >= OBJECTS_TARGET else "NO",
                }
            )
            rows.append(
                {
                    "case": f"{args.objects:,} ints, client CPU",
                    "pypsrp": f"{raw_cpu:.2f} s",
                    "psremoting": f"{cpu['psremoting']:.2f} s",
                    "ratio": f"{raw_cpu / cpu['psremoting']:.1f}x less",
                    "target": "(for reading)",
                    "met?": "",
                }
            )

            # 2. flat memory while streaming
            peaks: list[tuple[int, int]] = []
            for count in (args.objects // 4, args.objects // 2, args.objects):
                gc.collect()
                tracemalloc.start()
                try:
                    _, got, _ = run_ours(f"Get-BenchOutput -Count {count}")
                    _, peak = tracemalloc.get_traced_memory()
                finally:
                    tracemalloc.stop()
                if got != count:
                    print(f"WARNING: psremoting got {got} of {count} objects", file=sys.stderr)
                peaks.append((count, peak))
            figures["memory_peaks"] = peaks
            growth = peaks[-1][1] / peaks[0][1]
            rows.append(
                {
                    "case": "peak traced memory, " + " / ".join(f"{c // 1000}k" for c, _ in peaks),
                    "pypsrp": "(keeps all)",
                    "psremoting": " / ".join(f"{p / 2**20:.1f} MB" for _, p in peaks),
                    "ratio": f"{growth:.2f}x",
                    "target": f"< {MEMORY_TARGET:g}x (flat)",
                    "met?": "yes" if growth < MEMORY_TARGET else "NO",
                }
            )

            # 3. one big string
            per_mb: list[float] = []
            for mb in sizes:
                script = f"Get-BenchString -Bytes {mb * 1_000_000}"
                ours = float("inf")
                for _ in range(args.repeat):  # the best of a few: other jobs share the machine
                    elapsed, _, value = run_ours(script)
                    ours = min(ours, elapsed)
                    if not isinstance(value, str) or len(value) != mb * 1_000_000:
                        print(f"WARNING: psremoting: wrong string for {mb} MB", file=sys.stderr)
                    del value
                raw = float("nan")
                if not args.skip_pypsrp:
                    raw, _, value = run_pypsrp(script)
                    if not isinstance(value, str) or len(value) != mb * 1_000_000:
                        print(f"WARNING: pypsrp: wrong string for {mb} MB", file=sys.stderr)
                    del value
                per_mb.append(ours / mb)
                figures[f"string_{mb}mb"] = {"pypsrp_s": raw, "psremoting_s": ours}
                rows.append(
                    {
                        "case": f"one {mb} MB string, time",
                        "pypsrp": f"{raw:.2f} s",
                        "psremoting": f"{ours:.2f} s",
                        "ratio": f"{raw / ours:.1f}x faster",
                        "target": "faster",
                        "met?": "yes" if ours < raw else "NO",
                    }
                )
            linear = per_mb[-1] / per_mb[0]
            rows.append(
                {
                    "case": f"string time per MB, {sizes[-1]} MB / {sizes[0]} MB",
                    "pypsrp": "",
                    "psremoting": " / ".join(f"{t * 1000:.0f} ms" for t in per_mb),
                    "ratio": f"{linear:.2f}x",
                    "target": f"<= {LINEAR_TARGET:g}x (linear)",
                    "met?": "yes" if linear <= LINEAR_TARGET else "NO",
                }
            )
        finally:
            session.close()
            pool.close()
            from psremoting.transport.options import set_endpoint_override

            set_endpoint_override(None)

    print_table(
        "Large output (emulator in its own process, pre-serialized output, NTLM + encryption over HTTP)", rows
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
