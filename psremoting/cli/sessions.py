"""`psremoting sessions`: Get-PSSession -ComputerName, the sessions a host keeps for this user.

    psremoting sessions -H vm1                 # PowerShell's PSSession table
    psremoting sessions -H vm1 --output json   # [{"name", "instance_id", "state", ...}, ...]

Disconnected sessions are listed with Availability None when they can be connected to
(`psremoting receive`), Busy when another client holds them.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from psremoting.cli.common import UsageError, add_connection_arguments, connection_kwargs, read_credential
from psremoting.cli.invoke_output import EXIT_CONNECTION, EXIT_OK, EXIT_USAGE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-H", "--host", required=True, metavar="HOST", help="the computer to ask")
    parser.add_argument("--output", choices=("text", "json"), default="text", help="a table, or JSON")
    add_connection_arguments(parser.add_argument_group("connection"))


def session_document(session: Any) -> dict[str, Any]:
    return {
        "id": session.id,
        "name": session.name,
        "computer_name": session.computer_name,
        "instance_id": str(session.instance_id),
        "state": session.state.value,
        "availability": session.availability.value,
        "configuration_name": session.configuration_name,
    }


def run(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        credential = read_credential(args, stdin)
    except UsageError as exc:
        stderr.write(f"psremoting sessions: error: {exc}\n")
        return EXIT_USAGE
    kwargs = connection_kwargs(args, credential)
    if kwargs.get("configuration_name") == "Microsoft.PowerShell":
        kwargs.pop("configuration_name")  # not given: every configuration, as Get-PSSession does

    from psremoting.cmdlets.disconnected import query_pssessions
    from psremoting.cmdlets.formatting import format_table
    from psremoting.protocol.errors import PSRemotingError

    try:
        sessions = query_pssessions(args.host, **kwargs)
    except PSRemotingError as exc:
        stderr.write(f"psremoting sessions: {exc}\n")
        return EXIT_CONNECTION
    if args.output == "json":
        json.dump([session_document(s) for s in sessions], stdout, indent=2)
        stdout.write("\n")
    elif sessions:
        stdout.write(format_table(sessions).rstrip("\n") + "\n")
    return EXIT_OK
