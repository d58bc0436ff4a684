"""Benchmark: per-command latency on an open session, psremoting against raw pypsrp 0.9.1.

    .venv/bin/python bench/bench_latency.py               # 3 commands x 200 runs each (~1 minute)
    .venv/bin/python bench/bench_latency.py --runs 50

One emulator process (started here, so that the client is measured alone) serves both
clients, with NTLM and message encryption over HTTP. Each client opens one session and runs
each command `--runs` times, the two clients taking turns command by command, so that a slow
moment of the machine (other jobs share it) hits both alike:

- pypsrp: ``with PowerShell(pool) as ps: ps.add_script(s); ps.invoke()`` (Command, Receive,
  Signal terminate on close);
- psremoting: ``PSSession.invoke(s)``.

The table gives the median time per command, the ratio psremoting / pypsrp (target: at
most 1.15) and the WSMan requests per command counted by the emulator (target: no more than
pypsrp's). Benchmarks are not tests: nothing here fails on a slow machine; read the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import EmulatorProcess, print_table, raw_wsman, route_to

COMMANDS = {
    "1": "1",
    "Get-Date": "Get-Date",
    "20 objects": '1..20 | ForEach-Object { [pscustomobject]@{ Id = $_; Name = "item$_"; Even = ($_ % 2 -eq 0) } }',
}
LATENCY_TARGET = 1.15


def measure_alternating(
    a: Callable[[], Any], b: Callable[[], Any], runs: int
) -> tuple[list[float], list[float]]:
    """Time `a` and `b` `runs` times each, one after the other, so that a slow moment of
    the machine (other jobs share it) hits both alike."""
    times_a: list[float] = []
    times_b: list[float] = []
    for n in range(runs):
        order = ((a, times_a), (b, times_b)) if n % 2 == 0 else ((b, times_b), (a, times_a))
        for fn, times in order:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return times_a, times_b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs of each command per client (default 200)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    from pypsrp.powershell import PowerShell, RunspacePool

    import psremoting

    name = "benchlat"
    figures: list[dict[str, Any]] = []
    with EmulatorProcess([name]) as emulator:
        route_to(emulator.urls)
        session = psremoting.new_pssession(name)
        wsman = raw_wsman(emulator.urls[name])
        pool = RunspacePool(wsman)
        pool.open()
        try:
            for label, script in COMMANDS.items():

                def run_pypsrp(script: str = script) -> list[Any]:
                    with PowerShell(pool) as ps:
                        ps.add_script(script)
                        output: list[Any] = ps.invoke()
                    if ps.had_errors:
                        raise RuntimeError(f"pypsrp: {ps.streams.error}")
                    return output

                def run_ours(script: str = script) -> list[Any]:
                    result = session.invoke(script)
                    if result.had_errors:
                        raise RuntimeError(f"psremoting: {result.error}")
                    return result.output

                # Warm-up, and the same number of objects from both.
                got_raw, got_ours = run_pypsrp(), run_ours()
                if len(got_raw) != len(got_ours):
                    print(
                        f"WARNING: {label}: pypsrp gave {len(got_raw)} objects, psremoting {len(got_ours)}",
                        file=sys.stderr,
                    )
                # Round trips: WSMan requests the emulator served for 10 commands.
                emulator.reset_stats()
                for _ in range(10):
                    run_pypsrp()
                raw_requests = emulator.requests() / 10
                emulator.reset_stats()
                for _ in range(10):
                    run_ours()
                our_requests = emulator.requests() / 10

                raw_times, our_times = measure_alternating(run_pypsrp, run_ours, args.runs)
                raw, ours = statistics.median(raw_times), statistics.median(our_times)
                figures.append(
                    {
                        "case": label,
                        "pypsrp_ms": raw * 1000,
                        "psremoting_ms": ours * 1000,
                        "ratio": ours / raw,
                        "pypsrp_requests": raw_requests,
                        "psremoting_requests": our_requests,
                    }
                )
        finally:
            session.close()
            pool.close()
            from psremoting.transport.options import set_endpoint_override

            set_endpoint_override(None)

    rows = []
    for f in figures:
        rows.append(
            {
                "case": f"{f['case']}: median time",
                "pypsrp": f"{f['pypsrp_ms']:.2f} ms",
                "psremoting": f"{f['psremoting_ms']:.2f} ms",
                "ratio": f"{f['ratio']:.2f}x",
                "target": f"<= {LATENCY_TARGET}x",
                "met?": "yes" if f["ratio"] <= LATENCY_TARGET else "NO",
            }
        )
        rows.append(
            {
                "case": f"{f['case']}: WSMan requests",
                "pypsrp": f"{f['pypsrp_requests']:g}",
                "psremoting": f"{f['psremoting_requests']:g}",
                "ratio": f"{f['psremoting_requests'] / f['pypsrp_requests']:.2f}x",
                "target": "<= pypsrp",
                "met?": "yes" if f["psremoting_requests"] <= f["pypsrp_requests"] else "NO",
            }
        )
    print_table(
        f"Per-command latency on an open session ({args.runs} runs each, emulator in its own process, "
        "NTLM + encryption over HTTP)",
        rows,
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
