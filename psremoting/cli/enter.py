"""`psremoting enter HOST ...`: Enter-PSSession -ComputerName HOST from the command line.

A temporary session, closed when you leave it (`exit`, Exit-PSSession or Ctrl+D); the exit
code is 0 after a normal exit, 1 with a clear message when the connection fails. The
password comes from PSREMOTING_PASSWORD, `--password-stdin` or a prompt, never from argv.
"""

from __future__ import annotations

import argparse

from psremoting.cli.common import add_connection_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", metavar="HOST", help="the computer to connect to (as -ComputerName)")
    add_connection_arguments(parser, emulator_help="connect to an embedded WinRM emulator answering as HOST")


def run(args: argparse.Namespace) -> int:
    from psremoting.console.repl import run_enter

    return run_enter(args)
