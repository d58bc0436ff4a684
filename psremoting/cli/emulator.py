"""``psremoting emulator``: run the WinRM endpoint emulator until interrupted.

The first line on stdout is exactly ``listening on http://ADDR:PORT/wsman`` (or https), so a
script or a benchmark can start it as a subprocess and read where to connect. The password
of ``--user`` comes from ``PSREMOTING_PASSWORD`` or ``--password-stdin`` (never from argv, which
other users can read); with no user at all the emulator accepts ``user``/``password`` and says
so on stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any

DEFAULT_USER = ("user", "password")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        default="127.0.0.1:0",
        metavar="ADDR:PORT",
        help="address to listen on (port 0: any free port)",
    )
    parser.add_argument("--https", action="store_true", help="serve HTTPS with a generated certificate")
    parser.add_argument(
        "--protocol-version",
        choices=("2.1", "2.2", "2.3"),
        default="2.3",
        help="the PSRP protocol version the host announces (2.1: PowerShell 2.0 / Windows 7, "
        "2.2: PowerShell 3/4, 2.3: 5.1 and later; default 2.3)",
    )
    parser.add_argument(
        "--ps-version",
        choices=("5.1", "7.4"),
        default="5.1",
        help="what Microsoft.PowerShell runs: Windows PowerShell 5.1 or PowerShell 7.4 (default 5.1)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML file declaring session configurations (JEA endpoints), users, services and processes",
    )
    parser.add_argument(
        "--auth",
        default="basic,ntlm,negotiate",
        metavar="LIST",
        help="comma-separated: basic, ntlm, negotiate",
    )
    parser.add_argument("--user", "-u", metavar="U", help="the user name clients log on with")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read its password from the first line of stdin (default: PSREMOTING_PASSWORD)",
    )
    parser.add_argument(
        "--computer-name", default="SERVER01", metavar="NAME", help="the name the host answers as"
    )
    parser.add_argument("--root", metavar="DIR", help="folder shown as C:\\ (default: a temporary folder)")
    parser.add_argument(
        "--allow-unencrypted", action="store_true", help="accept unencrypted SOAP over HTTP (Basic over HTTP)"
    )
    parser.add_argument(
        "--keepalive-timeout",
        type=_positive_seconds,
        default=120.0,
        metavar="SECONDS",
        help="close keep-alive connections idle this long (default 120, as HTTP.sys)",
    )
    parser.add_argument(
        "--cut-network-after",
        type=_positive_seconds,
        metavar="SECONDS",
        help="cut the network (reset every connection, refuse new ones) once, this long after start",
    )
    parser.add_argument(
        "--cut-network-for",
        type=_positive_seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long a cut lasts (default 10); SIGUSR1 also cuts the network for this long",
    )


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of seconds above 0")
    return seconds


def _parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = value, "0"
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise SystemExit(
            f"psremoting emulator: --listen {value!r}: the port must be a number (ADDR:PORT)"
        ) from None
    if not 0 <= number <= 65535:
        raise SystemExit(f"psremoting emulator: --listen {value!r}: the port must be 0..65535")
    return host, number


def run(args: Any) -> int:
    from psremoting.emulator import Emulator

    host, port = _parse_listen(args.listen)
    methods = [m.strip() for m in str(args.auth).split(",") if m.strip()]
    password = os.environ.get("PSREMOTING_PASSWORD")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n") or None
    declared: dict[str, Any] = {}
    if getattr(args, "config", None):
        from psremoting.emulator.config import load_config

        try:
            declared = load_config(args.config)
        except (OSError, ValueError) as exc:
            print(f"psremoting emulator: cannot read {args.config}: {exc}", file=sys.stderr)
            return 2
    if "users" in declared and not args.user:
        users = declared["users"]
    elif args.user:
        if password is None:
            print(
                f"psremoting emulator: no password for {args.user}: set PSREMOTING_PASSWORD "
                "or give it on the first line of stdin with --password-stdin",
                file=sys.stderr,
            )
            return 2
        users = {args.user: password}
    else:
        users = {DEFAULT_USER[0]: DEFAULT_USER[1]}
        print(
            f"psremoting emulator: no --user given: accepting user '{DEFAULT_USER[0]}' "
            f"with password '{DEFAULT_USER[1]}'",
            file=sys.stderr,
        )
    try:
        emulator = Emulator(
            host=host,
            port=port,
            https=args.https,
            auth=methods,
            users=users,
            computer_name=declared.get("computer_name", args.computer_name),
            root=args.root,
            allow_unencrypted=args.allow_unencrypted,
            keepalive_timeout=args.keepalive_timeout,
            configurations=declared.get("configurations", ()),
            services=declared.get("services"),
            processes=declared.get("processes"),
            registry=declared.get("registry"),
            events=declared.get("events", ()),
            environment=declared.get("environment"),
            protocol_version=args.protocol_version,
            ps_version=args.ps_version,
        )
        emulator.start()
    except (OSError, ValueError) as exc:
        print(f"psremoting emulator: cannot start: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    cut_for = float(args.cut_network_for)

    def cut(reason: str) -> None:
        # Cut first, then say so: whoever reads the line finds the cut already on.
        emulator.cut_network(cut_for)
        print(f"psremoting emulator: {reason}: network cut for {cut_for:g} s", file=sys.stderr, flush=True)

    def on_usr1(signum: int, frame: Any) -> None:
        threading.Thread(target=cut, args=("SIGUSR1",), daemon=True).start()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    if hasattr(signal, "SIGUSR1"):
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, on_usr1)
    cut_at = time.monotonic() + args.cut_network_after if args.cut_network_after else None
    try:
        print(f"listening on {emulator.url}", flush=True)
        if emulator.ca_file:
            print(f"psremoting emulator: CA certificate: {emulator.ca_file}", file=sys.stderr, flush=True)
        while not done.wait(0.1):
            if cut_at is not None and time.monotonic() >= cut_at:
                cut_at = None
                cut(f"--cut-network-after {args.cut_network_after:g}")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emulator.stop()
    return 0
