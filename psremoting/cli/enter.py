"""`psremoting enter HOST ...`: Enter-PSSession -ComputerName HOST from the command line.

A temporary session, closed when you leave it (`exit`, Exit-PSSession or Ctrl+D); the exit
code is 0 after a normal exit, 1 with a clear message when the connection fails. The
password comes from PSREMOTING_PASSWORD, `--password-stdin` or a prompt, never from argv.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", metavar="HOST", help="the computer to connect to (as -ComputerName)")
    parser.add_argument(
        "-u", "--username", help="user name (default: $PSREMOTING_USERNAME, or a Kerberos ticket)"
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    parser.add_argument("--port", type=int, help="port (default 5985, or 5986 with --ssl)")
    parser.add_argument("--ssl", action="store_true", help="connect with HTTPS (-UseSSL)")
    parser.add_argument(
        "--auth",
        metavar="METHOD",
        default="negotiate",
        help="authentication: negotiate (default), ntlm, kerberos, basic, credssp",
    )
    parser.add_argument(
        "--configuration-name", metavar="NAME", help="session configuration (default Microsoft.PowerShell)"
    )
    parser.add_argument("--skip-ca-check", action="store_true", help="do not verify the certificate's CA")
    parser.add_argument("--skip-cn-check", action="store_true", help="do not verify the certificate's name")
    parser.add_argument(
        "--emulator", action="store_true", help="connect to an embedded WinRM emulator answering as HOST"
    )


def run(args: argparse.Namespace) -> int:
    from psremoting.console.repl import run_enter

    return run_enter(args)
