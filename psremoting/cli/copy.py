"""`psremoting copy SRC DEST [--recurse]`: Copy-Item -ToSession / -FromSession from a shell.

    psremoting copy ./app.zip Server01:C:\\Deploy\\          # upload (into the folder)
    psremoting copy Server01:C:\\Logs ./logs --recurse       # download a folder
    psremoting copy --emulator ./a.bin Server01:C:\\a.bin    # against the embedded emulator

One side is written ``HOST:PATH`` as scp does (the remote path must be absolute: ``C:\\...``
or ``\\\\server\\share\\...``); the other is a local path. A single letter before the colon
is a Windows drive, not a host. Credentials: ``-u``/PSREMOTING_USERNAME, password from
PSREMOTING_PASSWORD, ``--password-stdin`` or a prompt, never from an argument. Exit code 0
when everything was copied (and verified by SHA-256), 1 when the copy failed, 2 for a usage
mistake, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from psremoting.cli.common import (
    UsageError,
    add_connection_arguments,
    connection_kwargs,
    emulator_fleet,
    read_credential,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "credentials: user name from -u/--username or PSREMOTING_USERNAME; password from PSREMOTING_PASSWORD\n"
        "or --password-stdin (the first line of stdin), else a prompt. Never from an argument.\n"
        "exit codes: 0 copied and verified, 1 the copy failed, 2 usage error, 130 interrupted."
    )
    parser.add_argument("source", metavar="SRC", help="what to copy: a local path, or HOST:PATH")
    parser.add_argument("destination", metavar="DEST", help="where to: HOST:PATH, or a local path")
    parser.add_argument("-r", "--recurse", action="store_true", help="copy folders with everything in them")
    add_connection_arguments(parser.add_argument_group("connection"))


def split_remote(spec: str) -> tuple[str, str] | None:
    """``HOST:PATH`` -> (host, path); None for a local path (no colon, a drive letter, or a
    colon after a path separator)."""
    if spec.startswith("["):  # [IPv6]:PATH
        end = spec.find("]:")
        return (spec[1:end], spec[end + 2 :]) if end > 0 else None
    host, sep, path = spec.partition(":")
    if not sep or not host or len(host) == 1 or "/" in host or "\\" in host:
        return None
    return host, path


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, stderr: TextIO | None = None,
        stdout: TextIO | None = None) -> int:  # fmt: skip
    """Run the copy; returns the process exit code."""
    stdin = stdin or sys.stdin
    stderr = stderr or sys.stderr
    stdout = stdout or sys.stdout
    try:
        host, remote, local, upload, request = _prepare(args, stdin)
    except UsageError as exc:
        stderr.write(f"psremoting copy: error: {exc}\n")
        return EXIT_USAGE

    from psremoting.cmdlets.sessions import new_pssession, remove_pssession
    from psremoting.cmdlets.transfer import copy_item
    from psremoting.protocol.errors import InvalidOptionError, PSRemotingError

    try:
        with emulator_fleet(args.emulator, request):
            if "connection_uri" in request:
                request["connection_uri"] = request["connection_uri"][0]
                session = new_pssession(**request)
            else:
                request.pop("computer_name", None)
                session = new_pssession(host, **request)
            try:
                if upload:
                    written = copy_item(local, remote, to_session=session, recurse=args.recurse)
                else:
                    written = copy_item(remote, local, from_session=session, recurse=args.recurse)
            finally:
                remove_pssession(session)
    except InvalidOptionError as exc:
        stderr.write(f"psremoting copy: error: {exc}\n")
        return EXIT_USAGE
    except PSRemotingError as exc:
        stderr.write(f"psremoting copy: {exc}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        stderr.write("psremoting copy: interrupted; the partial file was removed\n")
        return EXIT_INTERRUPTED
    for path in written:
        stdout.write(f"{host}:{path}\n" if upload else f"{path}\n")
    return EXIT_OK


def _prepare(args: argparse.Namespace, stdin: TextIO) -> tuple[str, str, str, bool, dict[str, Any]]:
    src, dest = split_remote(args.source), split_remote(args.destination)
    if src and dest:
        raise UsageError(
            "both SRC and DEST name a host; copy between two hosts is not supported "
            "('-ToSession' and '-FromSession' are mutually exclusive)"
        )
    if not src and not dest:
        raise UsageError(
            "neither SRC nor DEST names a host: write one side as HOST:PATH (e.g. Server01:C:\\dest)"
        )
    upload = dest is not None
    host, remote = dest if dest is not None else src  # type: ignore[misc]
    local = args.source if upload else args.destination
    if not remote:
        raise UsageError(f"no remote path after '{host}:' (write HOST:C:\\path)")
    credential = read_credential(args, stdin, host=host)
    connection = connection_kwargs(args, credential)
    from psremoting.cli.session_flags import targets
    from psremoting.protocol.errors import InvalidOptionError

    if len(getattr(args, "urls", None) or []) > 1:
        raise UsageError("give one --url: a copy goes to or from one computer")
    try:
        # With --url, HOST in HOST:PATH marks the remote side; the session connects to the URL.
        where = targets(args, [] if getattr(args, "urls", None) else [host], connection)
    except (ValueError, InvalidOptionError) as exc:
        raise UsageError(getattr(exc, "message", str(exc))) from exc
    request: dict[str, Any] = {**where, **connection}
    return host, remote, local, upload, request
