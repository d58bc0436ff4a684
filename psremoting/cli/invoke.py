"""`psremoting invoke`: Invoke-Command on many hosts, for scripts and CI jobs.

    psremoting invoke -H vm1 -H vm2 -f deploy.ps1 --arg prod --timeout 600 --output json

Hosts come from `-H` (repeatable), `--hosts-file` (one a line) or stdin (`-H -`). The script
is `-c TEXT` or `-f FILE`; `--arg` values are passed as real positional arguments to its
`param()` block. Credentials come from `-u`/PSREMOTING_USERNAME and PSREMOTING_PASSWORD or
`--password-stdin`, never from an argument. The exit code says how it went (EXIT_CODES_HELP).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from psremoting.cli.common import (
    UsageError,
    add_connection_arguments,
    connection_kwargs,
    emulator_fleet,
    read_credential,
)
from psremoting.cli.invoke_output import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    JsonLinesWriter,
    JsonWriter,
    TextWriter,
)
from psremoting.cli.session_flags import targets
from psremoting.protocol.errors import InvalidOptionError

#: ``cli/copy.py`` still imports this name; it should use ``psremoting.cli.common.emulator_fleet``.
EPILOG = f"""\
credentials:
  user name from -u/--username or PSREMOTING_USERNAME; password from PSREMOTING_PASSWORD or
  --password-stdin (the first line of stdin). Passwords are never taken from arguments.
  Without a password, a Kerberos ticket is used (kinit) if there is one.
  With --password-stdin and -H -, the first line of stdin is the password, the rest hosts.

{EXIT_CODES_HELP}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    hosts = parser.add_argument_group("hosts")
    hosts.add_argument(
        "-H",
        "--host",
        dest="hosts",
        action="append",
        default=[],
        metavar="HOST",
        help="a computer to run on (repeatable); `-H -` reads hosts from stdin, one a line",
    )
    hosts.add_argument(
        "--hosts-file",
        type=Path,
        metavar="FILE",
        help="a file of computer names, one a line (blank lines and # comments ignored)",
    )
    script = parser.add_argument_group("script").add_mutually_exclusive_group(required=True)
    script.add_argument(
        "-c", "--command", dest="script_text", metavar="SCRIPT", help="the script block to run, as text"
    )
    script.add_argument(
        "-f",
        "--file",
        type=Path,
        metavar="FILE",
        help="a local .ps1 file to run (its content is sent, as Invoke-Command -FilePath does)",
    )
    run = parser.add_argument_group("running")
    run.add_argument(
        "--arg",
        dest="args",
        action="append",
        default=[],
        metavar="VALUE",
        help="a positional argument for the script's param() block (repeatable)",
    )
    run.add_argument(
        "--using",
        dest="using",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="the value of $using:NAME in the script (repeatable), sent as Invoke-Command sends it",
    )
    run.add_argument(
        "--throttle",
        type=_non_negative_int,
        default=32,
        metavar="N",
        help="how many hosts run at once (default 32, as Invoke-Command -ThrottleLimit)",
    )
    run.add_argument(
        "--processes",
        type=_positive_int,
        metavar="N",
        help="spread the hosts over N worker processes (default: the number of cores, from 100 hosts "
        "a core; 1: this process only), each with its share of --throttle",
    )
    run.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the hosts on a Dask cluster (tcp://scheduler:8786), sharded over its workers; "
        "needs the [cluster] extra (dask[distributed])",
    )
    run.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="deadline for the whole run; hosts not finished are stopped and reported",
    )
    run.add_argument(
        "--output",
        choices=("text", "json", "jsonl"),
        default="text",
        help="text: as PowerShell prints it; json: one document with a result per host; "
        "jsonl: one host result per line as each host finishes",
    )
    run.add_argument(
        "--in-disconnected-session",
        action="store_true",
        help="start the script and leave it running in a disconnected session (-InDisconnectedSession); "
        "`psremoting receive` gets its output later, from another process",
    )
    run.add_argument(
        "--session-name",
        dest="session_names",
        action="append",
        default=[],
        metavar="NAME",
        help="with --in-disconnected-session: the session's name (repeatable, one per host; default Runspace<N>)",
    )
    run.add_argument(
        "--hide-computer-name",
        action="store_true",
        help="do not show the PSComputerName column in text output (-HideComputerName)",
    )
    add_connection_arguments(parser.add_argument_group("connection"))


def run(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command; returns the process exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        request = _prepare(args, stdin)
    except UsageError as exc:
        stderr.write(f"psremoting invoke: error: {exc}\n")
        return EXIT_USAGE
    for name in getattr(args, "duplicate_hosts", []):
        stderr.write(f"psremoting invoke: warning: {name} is listed more than once; it runs once\n")
    writer: TextWriter | JsonWriter | JsonLinesWriter
    if args.output == "json":
        writer = JsonWriter(stdout)
    elif args.output == "jsonl":
        writer = JsonLinesWriter(stdout)
    else:
        from psremoting.cmdlets.invoke.views import FanOutViews

        writer = TextWriter(
            stdout, stderr, hide_computer_name=args.hide_computer_name, views=FanOutViews(request)
        )

    from psremoting.cmdlets.invoke.command import iter_spread
    from psremoting.protocol.errors import InvalidOptionError

    started = time.monotonic()
    if args.in_disconnected_session:
        if args.emulator:
            stderr.write(
                "psremoting invoke: error: --in-disconnected-session needs a real host or a separate "
                "`psremoting emulator`: an embedded one ends with this process\n"
            )
            return EXIT_USAGE
        return _run_disconnected(args, request, writer, stdout, stderr, started)
    if args.session_names:
        stderr.write(
            "psremoting invoke: error: --session-name can only be used with --in-disconnected-session\n"
        )
        return EXIT_USAGE
    results = {}
    with emulator_fleet(args.emulator, request):
        plain = dict(request)
        script = plain.pop("script_block")
        events = None
        try:
            events = iter_spread(script, plain, args.processes, args.cluster)
            for event in events:
                writer.event(event)
                if event.kind == "finished":
                    results[event.value.computer_name] = event.value
        except InvalidOptionError as exc:  # settings that cannot work, found before anything ran
            stderr.write(f"psremoting invoke: error: {exc}\n")
            return EXIT_USAGE
        except KeyboardInterrupt:
            if events is not None:
                events.close()
            stderr.write("psremoting invoke: interrupted; remote pipelines were stopped\n")
            return EXIT_INTERRUPTED
    ordered = [results[h] for h in _target_names(request) if h in results]
    return writer.finish(ordered, time.monotonic() - started)


def _run_disconnected(
    args: argparse.Namespace,
    request: dict[str, Any],
    writer: TextWriter | JsonWriter | JsonLinesWriter,
    stdout: TextIO,
    stderr: TextIO,
    started: float,
) -> int:
    """--in-disconnected-session: start the script on each host, disconnect, report the sessions."""
    from psremoting.cmdlets.formatting import format_table
    from psremoting.cmdlets.invoke.command import invoke_command
    from psremoting.cmdlets.invoke.results import (
        HostResult,
        HostStatus,
        InvokeEvent,
        connection_failure_record,
    )
    from psremoting.protocol.errors import ConnectionFailedError, InvalidOptionError, PSRemotingError

    request = dict(request)
    for unused in ("timeout", "hide_computer_name"):
        request.pop(unused, None)
    try:
        sessions = invoke_command(
            **request, in_disconnected_session=True, session_name=list(args.session_names) or None
        )
    except (InvalidOptionError, PSRemotingError) as exc:
        stderr.write(f"psremoting invoke: error: {exc}\n")
        return EXIT_USAGE
    by_host = {s.computer_name.lower(): s for s in sessions}
    failures = {
        str(getattr(e, "computer_name", "") or "").lower(): e for e in getattr(sessions, "errors", [])
    }
    results = []
    for host in request["computer_name"]:
        session = by_host.get(host.lower())
        if session is not None:
            result = HostResult(
                host,
                HostStatus.DISCONNECTED,
                reason=f"running in the disconnected session {session.name}",
                runspace_id=session.instance_id,
                session=session,
            )
        else:
            error = failures.get(host.lower())
            result = HostResult(
                host, HostStatus.CONNECTION_FAILED, reason=str(error) if error else "not started"
            )
            if isinstance(error, ConnectionFailedError):
                result.errors.append(connection_failure_record(host, error))
                result.reason = error.reason
        result.duration = time.monotonic() - started
        results.append(result)
        if isinstance(writer, TextWriter):
            for record in result.errors:
                writer.event(InvokeEvent("error", host, record))
        else:
            writer.event(InvokeEvent("finished", host, result))
    if isinstance(writer, TextWriter) and sessions:
        stdout.write("\n" + format_table(list(sessions)) + "\n")
    return writer.finish(results, time.monotonic() - started)


def _prepare(args: argparse.Namespace, stdin: TextIO) -> dict[str, Any]:
    """Turn the parsed flags into keyword arguments for `iter_invoke_command`."""
    only = args.hosts[0] if len(args.hosts) == 1 and args.hosts[0] != "-" and not args.hosts_file else None
    credential = read_credential(
        args, stdin, host=only
    )  # before the hosts: the password is stdin's first line
    hosts = _read_hosts(args, stdin)
    if not hosts and not getattr(args, "urls", None):
        raise UsageError(
            "no hosts: give -H HOST (repeatable), --hosts-file FILE, -H - with hosts on stdin, or --url URL"
        )
    if args.file is not None:
        try:
            script = args.file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read the script file {args.file}: {exc.strerror or exc}") from exc
    else:
        script = args.script_text
    using: dict[str, str] = {}
    for pair in args.using:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--using expects NAME=VALUE, got {pair!r}")
        using[name.strip().removeprefix("$using:")] = value
    from psremoting.cmdlets.invoke.command import using_names

    missing = sorted({n for n in using_names(script) if n.lower() not in {k.lower() for k in using}})
    if missing:
        raise UsageError(
            "the script uses "
            + ", ".join(f"$using:{n}" for n in missing)
            + "; give "
            + ("its value" if len(missing) == 1 else "their values")
            + " with "
            + " ".join(f"--using {n}=VALUE" for n in missing)
        )
    connection = connection_kwargs(args, credential)
    try:
        where = targets(args, hosts, connection)
    except (ValueError, InvalidOptionError) as exc:
        raise UsageError(getattr(exc, "message", str(exc))) from exc
    request: dict[str, Any] = {
        "script_block": script,
        "using": using,
        **where,
        "argument_list": list(args.args),
        "throttle_limit": args.throttle,
        "timeout": args.timeout,
        "hide_computer_name": args.hide_computer_name,
        **connection,
    }
    return request


def _target_names(request: dict[str, Any]) -> list[str]:
    """The computer names results are reported under, in the order given."""
    from urllib.parse import urlsplit

    if request.get("computer_name"):
        return list(request["computer_name"])
    return [urlsplit(u).hostname or u for u in request.get("connection_uri") or []]


def _read_hosts(args: argparse.Namespace, stdin: TextIO) -> list[str]:
    names: list[str] = []
    for host in args.hosts:
        if host == "-":
            names.extend(_host_lines(stdin.read().splitlines()))
        else:
            names.extend(h.strip() for h in host.split(",") if h.strip())
    if args.hosts_file is not None:
        try:
            names.extend(_host_lines(args.hosts_file.read_text(encoding="utf-8").splitlines()))
        except OSError as exc:
            raise UsageError(f"cannot read the hosts file {args.hosts_file}: {exc.strerror or exc}") from exc
    seen: set[str] = set()
    unique = []
    duplicates: list[str] = []
    for name in names:  # a host listed twice runs once, with a warning
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
        elif name.lower() not in {d.lower() for d in duplicates}:
            duplicates.append(name)
    args.duplicate_hosts = duplicates
    return unique


def _host_lines(lines: list[str]) -> Iterator[str]:
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (meaning 32) or more")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
