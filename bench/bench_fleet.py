"""Benchmark: Invoke-Command on a fleet, in 1 process, N worker processes and a Dask LocalCluster.

    .venv/bin/python bench/bench_fleet.py                          # 1,000 hosts, trivial script
    .venv/bin/python bench/bench_fleet.py --hosts 1000 --sleep-ms 2000 --throttle 64
    .venv/bin/python bench/bench_fleet.py --hosts 10000 --modes processes
    .venv/bin/python bench/bench_fleet.py --json

One emulator process (a subprocess, so that the client is measured alone; it shares the CPUs)
answers for every host: `--ports` listeners (default 50, so that no emulated computer has more
than its 30 shells per user at once) and the hosts dealt round-robin over them by the client's
endpoint override, each host its own temporary session (NTLM with message encryption over
HTTP). Each host runs ``Start-Sleep -Milliseconds N; 'ok'`` (N = `--sleep-ms`; 0: just
``'ok'``), and the run checks that every host's output arrived exactly once.

Modes (`--modes`, default all three): ``one`` (``processes=1``: this process, one GIL),
``processes`` (``processes=N``, N = `--processes`, default the number of cores) and
``cluster`` (a ``distributed.LocalCluster`` of N worker processes, started before the clock
runs, from the [cluster] extra). The throttle limit is the same total in every mode. Figures:
wall time, hosts per second, client CPU per host (this process and the worker processes it
waited for; not measurable for the cluster's workers) and the emulator's CPU per host.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PASSWORD, USER, EmulatorProcess


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds of process `pid` so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument(
        "--ports", type=int, default=50, help="emulator listeners the hosts share (default 50)"
    )
    parser.add_argument("--throttle", type=int, default=32, help="hosts at once in all (default 32)")
    parser.add_argument("--sleep-ms", type=int, default=0, help="server-side work per host (default 0)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--modes", default="one,processes,cluster", help="comma-separated: one,processes,cluster"
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    import psremoting
    from psremoting.transport.options import EndpointOverride, set_endpoint_override

    script = f"Start-Sleep -Milliseconds {args.sleep_ms}; 'ok'" if args.sleep_ms else "'ok'"
    hosts = [f"host{n:05d}" for n in range(args.hosts)]
    listeners = [f"listener{n:03d}" for n in range(min(args.ports, args.hosts))]
    rows: list[dict[str, Any]] = []
    with EmulatorProcess(listeners) as emulator:
        urls = [emulator.urls[name] for name in listeners]
        route = {host: urls[n % len(urls)] for n, host in enumerate(hosts)}
        set_endpoint_override(
            lambda name: (
                EndpointOverride(url=route[name], username=USER, password=PASSWORD, authentication="ntlm")
                if name in route
                else None
            )
        )
        psremoting.invoke_command(script, computer_name=hosts[:4], processes=1)  # warm-up
        for mode in modes:
            client = cluster = None
            kwargs: dict[str, Any] = {"processes": 1}
            if mode == "processes":
                kwargs = {"processes": args.processes}
            elif mode == "cluster":
                try:
                    from distributed import Client, LocalCluster
                except ImportError:
                    print("cluster: skipped (pip install 'psremoting[cluster]')", file=sys.stderr)
                    continue
                cluster = LocalCluster(
                    n_workers=args.processes,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=40,
                )
                client = Client(cluster)
                kwargs = {"cluster": client}
            server_start = process_cpu(emulator.proc.pid)
            cpu_start, start = cpu_seconds(), time.perf_counter()
            result = psremoting.invoke_command(
                script, computer_name=hosts, throttle_limit=args.throttle, **kwargs
            )
            wall = time.perf_counter() - start
            cpu = cpu_seconds() - cpu_start
            server = process_cpu(emulator.proc.pid) - server_start
            if client is not None and cluster is not None:
                client.close()
                cluster.close()
            seen = Counter(o.PSComputerName for o in result)
            exact = seen == Counter(hosts) and len(result.hosts) == len(hosts)
            failed = sum(1 for h in result.hosts.values() if not h.succeeded)
            label = {"one": "1 process", "processes": f"{args.processes} processes"}.get(
                mode, f"LocalCluster, {args.processes} workers"
            )
            rows.append(
                {
                    "mode": label,
                    "hosts": args.hosts,
                    "throttle": args.throttle,
                    "sleep_ms": args.sleep_ms,
                    "wall_s": round(wall, 2),
                    "hosts_per_s": round(args.hosts / wall, 1),
                    "client_cpu_ms_per_host": None
                    if mode == "cluster"
                    else round(cpu / args.hosts * 1000, 1),
                    "emulator_cpu_ms_per_host": round(server / args.hosts * 1000, 1),
                    "every_output_once": exact,
                    "failed_hosts": failed,
                }
            )
            print(
                f"{label:<28} {args.hosts} hosts, {args.sleep_ms} ms work, throttle {args.throttle}: "
                f"{wall:7.2f} s, {args.hosts / wall:6.1f} hosts/s, client CPU "
                + ("n/a" if mode == "cluster" else f"{cpu / args.hosts * 1000:.1f} ms/host")
                + f", emulator CPU {server / args.hosts * 1000:.1f} ms/host"
                + f", every output once: {exact}, failed: {failed}",
                flush=True,
            )
        set_endpoint_override(None)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
