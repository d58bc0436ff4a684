"""Benchmark: Invoke-Command fan-out on many hosts against the ideal and a serial raw-pypsrp loop.

    .venv/bin/python bench/bench_invoke.py                 # 200 hosts, throttle 32 (~2 minutes)
    .venv/bin/python bench/bench_invoke.py --hosts 50 --throttle 8 --serial-hosts 20

One emulator process (started here as a subprocess, so the client is measured alone) answers
for N computer names, each on its own loopback port, with NTLM and message encryption over
HTTP, as a Windows host in a domain-less CI lab would. Each host runs a script that sleeps
`--sleep-ms` on the server (standing in for real work and network latency) and returns its
computer name.

Figures printed:
- one host: median time of `invoke_command` on one computer name (connect, open the runspace
  pool, run, close), the unit of work of the fan-out;
- ideal: ceil(hosts / throttle) x one host, i.e. perfect use of the throttle slots;
- measured: `invoke_command(computer_name=[all hosts], throttle_limit=throttle)`;
- serial raw pypsrp: a plain loop over the hosts with pypsrp's WSMan + RunspacePool +
  PowerShell (what a script without psremoting would do), measured on `--serial-hosts` hosts
  and scaled to all hosts when fewer.
Benchmarks are not tests: nothing here fails on a slow machine; read the table.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import EmulatorProcess, raw_pypsrp_one, route_to, timed


def script_for(sleep_ms: int) -> str:
    return f"Start-Sleep -Milliseconds {sleep_ms}; $env:COMPUTERNAME" if sleep_ms else "$env:COMPUTERNAME"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--throttle", type=int, default=32)
    parser.add_argument(
        "--sleep-ms", type=int, default=2000, help="server-side work per host (Start-Sleep), default 2000"
    )
    parser.add_argument(
        "--serial-hosts",
        type=int,
        default=20,
        help="hosts in the serial raw-pypsrp loop (scaled to --hosts when fewer)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of the one-host measurement")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
    args = parser.parse_args(argv)

    import psremoting
    from psremoting.transport.options import set_endpoint_override

    names = [f"bench{n:03d}" for n in range(args.hosts)]
    script = script_for(args.sleep_ms)
    emulator = EmulatorProcess(names)
    try:
        route_to(emulator.urls)

        # Warm-up: imports, first connections.
        psremoting.invoke_command(script, computer_name=[names[0]])
        raw_pypsrp_one(emulator.urls[names[0]], script)

        one_host = statistics.median(
            timed(lambda: psremoting.invoke_command(script, computer_name=[names[0]]))[0]
            for _ in range(args.repeat)
        )
        raw_one = statistics.median(
            timed(lambda: raw_pypsrp_one(emulator.urls[names[0]], script))[0] for _ in range(args.repeat)
        )

        measured, result = timed(
            lambda: psremoting.invoke_command(script, computer_name=names, throttle_limit=args.throttle)
        )
        got = sorted(str(o) for o in result)
        missing = set(n.upper() for n in names) - {g.upper() for g in got}
        if len(got) != len(names) or missing or result.errors:
            print(
                f"WARNING: fan-out output incomplete: {len(got)} objects for {len(names)} hosts, "
                f"{len(missing)} hosts missing, {len(result.errors)} errors",
                file=sys.stderr,
            )
            for error in result.errors[:5]:
                print(f"  {error}", file=sys.stderr)

        serial_hosts = names[: max(1, min(args.serial_hosts, args.hosts))]
        serial, _ = timed(lambda: [raw_pypsrp_one(emulator.urls[n], script) for n in serial_hosts])
        serial_all = serial * len(names) / len(serial_hosts)
    finally:
        set_endpoint_override(None)
        emulator.close()

    ideal = math.ceil(args.hosts / args.throttle) * one_host
    figures = {
        "hosts": args.hosts,
        "throttle": args.throttle,
        "sleep_ms": args.sleep_ms,
        "one_host_s": round(one_host, 4),
        "raw_pypsrp_one_host_s": round(raw_one, 4),
        "ideal_s": round(ideal, 3),
        "measured_s": round(measured, 3),
        "ratio_to_ideal": round(measured / ideal, 3),
        "serial_raw_pypsrp_s": round(serial_all, 2),
        "serial_measured_hosts": len(serial_hosts),
        "speedup_vs_serial": round(serial_all / measured, 1),
        "server_peak_running_pipelines": emulator.peak_running,
    }
    scaled = "" if len(serial_hosts) == args.hosts else f" (scaled from {len(serial_hosts)} hosts)"
    print(
        f"Invoke-Command fan-out, emulator in its own process, NTLM + encryption over HTTP, "
        f"script: {script!r}"
    )
    print(
        f"{'hosts':>5} {'throttle':>8} {'one host':>9} {'ideal':>8} {'measured':>9} {'ratio':>6} "
        f"{'serial raw pypsrp':>18}"
    )
    print(
        f"{args.hosts:>5} {args.throttle:>8} {one_host:>8.3f}s {ideal:>7.2f}s {measured:>8.2f}s "
        f"{measured / ideal:>5.2f}x {serial_all:>17.1f}s{scaled}"
    )
    print(
        f"raw pypsrp, one host: {raw_one:.3f}s; fan-out is {serial_all / measured:.1f}x faster than the "
        f"serial loop; server-side peak of running pipelines: {emulator.peak_running}"
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
