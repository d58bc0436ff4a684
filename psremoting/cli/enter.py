"""`psremoting enter HOST ...`: Enter-PSSession -ComputerName HOST from the command line.

A temporary session, closed when you leave it (`exit`, Exit-PSSession or Ctrl+D); the exit
code is 0 after a normal exit, 1 with a clear message when the connection fails. The
password comes from PSREMOTING_PASSWORD, `--password-stdin` or a prompt, never from argv.
"""

from __future__ import annotations

import argparse
import sys

from psremoting.cli.common import UsageError, add_connection_arguments, connection_kwargs, read_credential


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", metavar="HOST", help="the computer to connect to (as -ComputerName)")
    add_connection_arguments(parser, emulator_help="connect to an embedded WinRM emulator answering as HOST")


def run(args: argparse.Namespace) -> int:
    from psremoting.console.repl import run_enter

    try:
        credential = read_credential(args, sys.stdin, host=args.host)
        # The embedded emulator logs every session on with its own user.
        connection = connection_kwargs(args, None if args.emulator else credential)
    except UsageError as exc:
        sys.stderr.write(f"psremoting enter: error: {exc}\n")
        return 2
    return run_enter(args.host, connection, emulator=bool(args.emulator))
