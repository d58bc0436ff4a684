"""Benchmark: session open and client CPU per short-script host, psremoting against raw pypsrp 0.9.1.

    .venv/bin/python bench/bench_session.py                 # 60 runs each (~15 s)
    .venv/bin/python bench/bench_session.py --runs 200 --profile

One emulator process (a subprocess, so that the client is measured alone) answers for
`--runs` computer names on loopback ports, with NTLM and message encryption over HTTP. Two
figures, taken alternately (a slow moment of the shared machine hits both alike):

- **session open**: a new connection, authentication, WSMan Create and the runspace pool's
  negotiation, then close: pypsrp's ``WSMan`` + ``RunspacePool.open()/close()`` against
  ``new_pssession(name)`` + ``close()``; medians;
- **client CPU per host**: the process CPU time (``time.process_time``) of one short-script
  host done the way each client does it (pypsrp: WSMan, RunspacePool, PowerShell, invoke;
  psremoting: ``invoke_command(script, computer_name=[host])``: connect, open, run, close),
  averaged over the runs; with ``--profile`` the psremoting side's cProfile top 25 (in one
  thread: ``new_pssession`` / ``invoke`` / ``close``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import EmulatorProcess, print_table, raw_pypsrp_one, raw_wsman, route_to

SCRIPT = "$env:COMPUTERNAME"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="sessions of each client (default 60)")
    parser.add_argument("--profile", action="store_true", help="print the cProfile top of psremoting's host")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    from pypsrp.powershell import RunspacePool

    import psremoting

    names = [f"sess{n:04d}" for n in range(args.runs)]
    with EmulatorProcess(names) as emulator:
        route_to(emulator.urls)
        urls = emulator.urls
        # Warm-up: imports and first connections of both.
        raw_pypsrp_one(urls[names[0]], SCRIPT)
        psremoting.invoke_command(SCRIPT, computer_name=[names[0]], processes=1)

        open_raw: list[float] = []
        open_ours: list[float] = []
        cpu_raw: list[float] = []
        cpu_ours: list[float] = []
        for n, name in enumerate(names):

            def raw_open(name: str = name) -> None:
                with raw_wsman(urls[name]) as wsman:
                    pool = RunspacePool(wsman)
                    pool.open()
                    pool.close()

            def ours_open(name: str = name) -> None:
                psremoting.new_pssession(name).close()

            def raw_host(name: str = name) -> None:
                raw_pypsrp_one(urls[name], SCRIPT)

            def ours_host(name: str = name) -> None:
                result = psremoting.invoke_command(SCRIPT, computer_name=[name], processes=1)
                if result.errors or len(result) != 1:
                    raise RuntimeError(f"psremoting: {result.errors}")

            pairs = [(raw_open, open_raw, time.perf_counter), (ours_open, open_ours, time.perf_counter)]
            hosts = [(raw_host, cpu_raw, time.process_time), (ours_host, cpu_ours, time.process_time)]
            for group in (pairs, hosts):
                for fn, sink, clock in group if n % 2 == 0 else reversed(group):
                    start = clock()
                    fn()
                    sink.append(clock() - start)

        figures = {
            "runs": args.runs,
            "open_pypsrp_ms": statistics.median(open_raw) * 1000,
            "open_psremoting_ms": statistics.median(open_ours) * 1000,
            "cpu_per_host_pypsrp_ms": statistics.fmean(cpu_raw) * 1000,
            "cpu_per_host_psremoting_ms": statistics.fmean(cpu_ours) * 1000,
        }
        figures["open_ratio"] = figures["open_psremoting_ms"] / figures["open_pypsrp_ms"]
        figures["cpu_ratio"] = figures["cpu_per_host_psremoting_ms"] / figures["cpu_per_host_pypsrp_ms"]
        print_table(
            f"Session open and client CPU per host ({args.runs} runs each, emulator in its own process, "
            "NTLM + encryption over HTTP)",
            [
                {
                    "case": "session open + close (median)",
                    "pypsrp": f"{figures['open_pypsrp_ms']:.1f} ms",
                    "psremoting": f"{figures['open_psremoting_ms']:.1f} ms",
                    "ratio": f"{figures['open_ratio']:.2f}x",
                    "target": "<= 1.00x",
                    "met?": "yes" if figures["open_ratio"] <= 1.0 else "no",
                },
                {
                    "case": "client CPU per short-script host (mean)",
                    "pypsrp": f"{figures['cpu_per_host_pypsrp_ms']:.1f} ms",
                    "psremoting": f"{figures['cpu_per_host_psremoting_ms']:.1f} ms",
                    "ratio": f"{figures['cpu_ratio']:.2f}x",
                    "target": "",
                    "met?": "",
                },
            ],
        )
        if args.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for name in names:
                session = psremoting.new_pssession(name)
                session.invoke(SCRIPT)
                session.close()
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        if args.json:
            print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
