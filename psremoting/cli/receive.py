"""`psremoting receive`: Receive-PSSession from another process (a later step of a CI job).

    psremoting invoke -H vm1 -f deploy.ps1 --in-disconnected-session --output json   # step 1
    psremoting receive -H vm1 --name Runspace1 --output json                          # step 2

Connects to the disconnected session named (or with the instance id given) on the host,
prints what its command wrote while no client was connected, exactly once, then the rest as
it comes, and exits as `psremoting invoke` does: with one host, the remote `exit N` code
(the same envelope with --output json|jsonl). Then, as PowerShell does at exit, the session
is closed (or disconnected again if its command still runs). A host
with no such session prints a message to stderr and exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from psremoting.cli.common import UsageError, add_connection_arguments, connection_kwargs, read_credential
from psremoting.cli.invoke_output import (
    EXIT_CODES_HELP,
    EXIT_CONNECTION,
    EXIT_INTERRUPTED,
    EXIT_REMOTE_ERROR,
    EXIT_USAGE,
    JsonLinesWriter,
    JsonWriter,
    TextWriter,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXIT_CODES_HELP
    parser.add_argument("-H", "--host", required=True, metavar="HOST", help="the computer the session is on")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--instance-id", metavar="ID", help="the session's instance id")
    which.add_argument("--name", metavar="NAME", help="the session's name (exact, case-insensitive)")
    parser.add_argument(
        "--output", choices=("text", "json", "jsonl"), default="text", help="as `psremoting invoke --output`"
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="deadline; the command is stopped then"
    )
    add_connection_arguments(parser.add_argument_group("connection"))


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
        stderr.write(f"psremoting receive: error: {exc}\n")
        return EXIT_USAGE
    kwargs: dict[str, Any] = connection_kwargs(args, credential)
    kwargs.pop("configuration_name", None)  # any configuration: the session says which
    writer: TextWriter | JsonWriter | JsonLinesWriter
    if args.output == "json":
        writer = JsonWriter(stdout)
    elif args.output == "jsonl":
        writer = JsonLinesWriter(stdout)
    else:
        writer = TextWriter(stdout, stderr)

    from psremoting.cmdlets.disconnected import iter_receive_pssession
    from psremoting.protocol.errors import ConnectionFailedError, PSRemotingError

    started = time.monotonic()
    results = []
    events = iter_receive_pssession(
        computer_name=args.host, name=args.name, instance_id=args.instance_id, timeout=args.timeout, **kwargs
    )
    try:
        for event in events:
            writer.event(event)
            if event.kind == "finished":
                results.append(event.value)
    except KeyboardInterrupt:
        stderr.write("psremoting receive: interrupted\n")
        return EXIT_INTERRUPTED
    except ConnectionFailedError as exc:
        stderr.write(f"psremoting receive: {exc}\n")
        return EXIT_CONNECTION
    except PSRemotingError as exc:
        stderr.write(f"psremoting receive: {exc}\n")
        return EXIT_REMOTE_ERROR
    finally:
        events.close()
        from psremoting.cmdlets.sessions import end_of_process

        end_of_process()  # as PowerShell at exit: the session, received and idle, is closed
    if not results:
        what = f"named {args.name}" if args.name else f"with instance id {args.instance_id}"
        stderr.write(
            f"psremoting receive: {args.host} has no session {what} with a command to receive "
            f"(`psremoting sessions -H {args.host}` lists its sessions)\n"
        )
        return EXIT_REMOTE_ERROR
    return writer.finish(results, time.monotonic() - started)
