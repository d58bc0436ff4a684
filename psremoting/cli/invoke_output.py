"""Writers for `psremoting invoke`: text as PowerShell prints it, JSON documents, JSON lines.

Also the exit-code rule of the command (see `exit_code_for`), shared with the JSON report.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from psremoting.cmdlets.invoke.results import (
    HostResult,
    HostStatus,
    InvokeEvent,
)
from psremoting.protocol.errors import RemoteErrorRecord

if TYPE_CHECKING:
    from psremoting.cmdlets.invoke.views import FanOutViews

# Exit codes of `psremoting invoke` (documented in --help and docs/ci-guide.md).
EXIT_OK = 0
EXIT_REMOTE_ERROR = 1  # a host wrote errors, failed, or (with several hosts) exited non-zero
EXIT_USAGE = 2  # bad flags, no hosts, unreadable script or hosts file (argparse uses 2 as well)
EXIT_TIMEOUT = 124  # a host did not finish before --timeout (as timeout(1) does)
EXIT_INTERRUPTED = 130  # Ctrl+C
EXIT_CONNECTION = 255  # a host could not be reached or refused the credentials (as ssh does)

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK:<4} every host completed without errors (and `exit 0` or no exit)
  N    with one host: the code of the remote `exit N` (N modulo 256; a non-zero
       multiple of 256 gives {EXIT_REMOTE_ERROR})
  {EXIT_REMOTE_ERROR:<4} remote errors: a host wrote an error, failed with a terminating error,
       or (with several hosts) exited with a non-zero code
  {EXIT_USAGE:<4} usage error: bad flags, no hosts, unreadable script or hosts file
  {EXIT_TIMEOUT:<4} a host did not finish before --timeout (its pipeline was stopped)
  {EXIT_INTERRUPTED:<4} interrupted (Ctrl+C)
  {EXIT_CONNECTION:<4} a host could not be connected to or rejected the credentials, or the
       network to it stayed down (its command was left running, Disconnected)
When several kinds of failure happen, the first in this order wins: {EXIT_CONNECTION}, {EXIT_TIMEOUT}, {EXIT_REMOTE_ERROR}.
The JSON output has each host's status, so a CI step can tell them apart.
"""


def exit_code_for(results: Sequence[HostResult]) -> int:
    """The process exit code for these host results (see EXIT_CODES_HELP)."""
    statuses = {r.status for r in results}
    if HostStatus.CONNECTION_FAILED in statuses or any(
        r.status is HostStatus.DISCONNECTED and r.errors for r in results
    ):  # could not connect, or the network stayed down (the command left running, Disconnected)
        return EXIT_CONNECTION
    if HostStatus.TIMED_OUT in statuses:
        return EXIT_TIMEOUT
    if len(results) == 1 and results[0].exit_code is not None and results[0].status is not HostStatus.STOPPED:
        code = results[0].exit_code
        if code == 0:
            return EXIT_OK
        return code % 256 or EXIT_REMOTE_ERROR
    if statuses - {HostStatus.COMPLETED, HostStatus.DISCONNECTED}:
        return EXIT_REMOTE_ERROR
    return EXIT_OK


def summary_of(results: Sequence[HostResult], duration: float) -> dict[str, Any]:
    def count(status: HostStatus) -> int:
        return sum(1 for r in results if r.status is status)

    return {
        "hosts": len(results),
        "completed": count(HostStatus.COMPLETED),
        "failed": count(HostStatus.FAILED),
        "connection_failed": count(HostStatus.CONNECTION_FAILED),
        "timed_out": count(HostStatus.TIMED_OUT),
        "stopped": count(HostStatus.STOPPED),
        "disconnected": count(HostStatus.DISCONNECTED),
        "duration": round(duration, 6),
    }


class JsonWriter:
    """`--output json`: one document at the end, with one result document per host."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    def event(self, event: InvokeEvent) -> None:
        pass  # everything is in the final document

    def finish(self, results: Sequence[HostResult], duration: float) -> int:
        code = exit_code_for(results)
        report = {
            "version": 1,
            "exit_code": code,
            "summary": summary_of(results, duration),
            "hosts": [r.to_dict() for r in results],
        }
        json.dump(report, self.out, indent=2, ensure_ascii=False)
        self.out.write("\n")
        self.out.flush()
        return code


class JsonLinesWriter:
    """`--output jsonl`: one host result document per line, written as each host finishes."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out

    def event(self, event: InvokeEvent) -> None:
        if event.kind == "finished":
            self.out.write(json.dumps(event.value.to_dict(), ensure_ascii=False) + "\n")
            self.out.flush()

    def finish(self, results: Sequence[HostResult], duration: float) -> int:
        return exit_code_for(results)


class TextWriter:
    """`--output text`: what PowerShell prints for Invoke-Command, as output arrives.

    Scalars print as they are; objects as PowerShell's formatting lays them out
    (`psremoting.cmdlets.formatting`: default views, tables, lists), with the PSComputerName
    column unless `hide_computer_name`. Errors, warnings, verbose and
    debug records go to stderr in PowerShell's NormalView wording.
    """

    def __init__(
        self,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
        *,
        hide_computer_name: bool = False,
        views: FanOutViews | None = None,
    ) -> None:
        """`views`: the servers' own views of types without a built-in one (Get-FormatData)."""
        self.out = out
        self.err = err
        self.hide_computer_name = hide_computer_name
        self.views = views
        import shutil

        from psremoting.cmdlets.formatting.engine import FormatRequest
        from psremoting.cmdlets.formatting.stream import OutDefault

        self.width = max(shutil.get_terminal_size((120, 24)).columns - 1, 40)
        # a table streams once its first rows laid it out
        self._out = OutDefault(self.width, request=FormatRequest(view_source=views))

    def event(self, event: InvokeEvent) -> None:
        kind = event.kind
        if kind == "output":
            self._write_output(event.value, event.computer_name)
        elif kind == "error":
            self._end_table()
            error: RemoteErrorRecord = event.value
            self.err.write(error.format() + "\n")
        elif kind in ("warning", "verbose", "debug"):
            self.err.write(f"{kind.upper()}: {event.value}\n")
        elif kind == "information":
            self.out.write(f"{_information_text(event.value)}\n")
        self.out.flush()
        self.err.flush()

    def finish(self, results: Sequence[HostResult], duration: float) -> int:
        self._end_table()
        self.out.flush()
        return exit_code_for(results)

    # -- formatting -------------------------------------------------------------------------

    def _end_table(self) -> None:
        """The current table or list ends (what waited for its layout is written), followed
        by one blank line."""
        lines = self._out.close()
        while len(lines) > 1 and lines[-1] == lines[-2] == "":
            lines.pop()
        self._lines(lines)

    def _lines(self, lines: list[str]) -> None:
        self.out.write("".join(line + "\n" for line in lines))

    def _write_output(self, value: Any, computer_name: str) -> None:
        if value is None:
            return
        if _is_scalar(value) and not hasattr(value, "ps_properties"):
            self._end_table()
            self.out.write(f"{_scalar_text(value)}\n")
            return
        if self.hide_computer_name and hasattr(value, "set_property"):
            value.set_property("PSShowComputerName", False)
        if self.views is not None:
            self.views.host = computer_name
        self._lines(self._out.add(value))


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, bytes, datetime.datetime))


def _scalar_text(value: Any) -> str:
    """A value on its own line, as PowerShell (en-US) prints it."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, datetime.datetime):  # Get-Date: the long date and long time
        return f"{value:%A}, {value:%B} {value.day}, {value.year} {_time_text(value)}"
    return str(value)


def _time_text(value: datetime.datetime) -> str:
    hour = value.hour % 12 or 12
    return f"{hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}"


def _information_text(value: Any) -> str:
    for name in ("message_data", "MessageData", "message"):
        data = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
        if data is not None:
            return str(data)
    return str(value)
