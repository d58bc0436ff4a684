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
    parser.add_argument(
        "host", metavar="HOST", nargs="?", help="the computer to connect to (as -ComputerName); or give --url"
    )
    add_connection_arguments(parser, emulator_help="connect to an embedded WinRM emulator answering as HOST")


def run(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from psremoting.cli.session_flags import targets
    from psremoting.console.repl import run_enter
    from psremoting.protocol.errors import InvalidOptionError

    try:
        if (args.host is None) == (not args.urls) or len(args.urls) > 1:
            raise UsageError("give the computer to enter: HOST, or one --url URL (not both)")
        credential = read_credential(args, sys.stdin, host=args.host)
        # The embedded emulator logs every session on with its own user.
        connection = connection_kwargs(args, None if args.emulator else credential)
        where = targets(args, [args.host] if args.host else [], connection)
    except (UsageError, ValueError, InvalidOptionError) as exc:
        sys.stderr.write(f"psremoting enter: error: {getattr(exc, 'message', exc)}\n")
        return 2
    if "connection_uri" in where:
        uri = where["connection_uri"][0]
        connection["connection_uri"] = uri
        return run_enter(None, connection, emulator=bool(args.emulator), shown=urlsplit(uri).hostname or uri)
    return run_enter(args.host, connection, emulator=bool(args.emulator))
