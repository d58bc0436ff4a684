"""Invoke-Command at the local prompt: on computers, sessions or URIs, streamed or as a job.

Output is yielded as it arrives; errors, warnings, verbose, information and progress go
through the call's common parameters (`builtins.Call.write_*`). Pipeline input (``1..5 |
Invoke-Command ...``) and -InputObject reach the remote ``$input`` and ``process {}``; with
-AsJob the command runs in the background and the job object is the output (Get-Job,
Receive-Job, Wait-Job: `jobcmds`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from psremoting.console.builtins import (
    Call,
    _connection_kwargs,
    _list,
    _sessions_of,
    _with_computer,
    computer_targets,
)
from psremoting.console.errors import ShellError

__all__ = ["IMPLEMENTATIONS", "invoke_command", "invoke_request", "receive_pssession"]


def invoke_request(call: Call) -> dict[str, Any]:
    """The `invoke_command` keyword arguments Invoke-Command's bound parameters stand for."""
    script = call.get("ScriptBlock")
    kwargs: dict[str, Any] = {}
    if script is not None:
        kwargs["script_block"] = str(getattr(script, "text", script))
    elif call.has("FilePath"):
        kwargs["file_path"] = Path(os.path.expanduser(str(call.get("FilePath"))))
    else:
        raise ShellError(
            "Cannot process command because of one or more missing mandatory parameters: ScriptBlock. "
            "Give the commands in braces, for example: Invoke-Command -ComputerName Server01 { Get-Date }.",
            "Invoke-Command",
        )
    if call.has("Session"):
        kwargs["session"] = _list(call.get("Session"))
    elif call.has("ComputerName"):
        connection = _connection_kwargs(call)
        kwargs.update(
            computer_targets(call, [str(c) for c in _list(call.get("ComputerName")) or []], connection)
        )
        kwargs.update(connection)
    elif call.has("ConnectionUri"):
        kwargs["connection_uri"] = [str(u) for u in _list(call.get("ConnectionUri")) or []]
        kwargs.update(_connection_kwargs(call))
    else:
        raise ShellError(
            "The local shell runs script blocks on remote computers only: give -ComputerName, -Session or "
            "-ConnectionUri, for example: Invoke-Command -ComputerName Server01 { Get-Date }.",
            "Invoke-Command",
        )
    if call.has("ArgumentList"):
        kwargs["argument_list"] = _list(call.get("ArgumentList")) or []
    if call.has("ThrottleLimit"):
        kwargs["throttle_limit"] = int(call.get("ThrottleLimit")) or 32
    if call.get("HideComputerName"):
        kwargs["hide_computer_name"] = True
    using = getattr(call.context, "using_values", None)
    if callable(using) and "script_block" in kwargs:
        kwargs["using"] = using(kwargs["script_block"])
    elif "file_path" in kwargs and callable(using):
        try:
            text = kwargs["file_path"].read_text(encoding="utf-8-sig")
        except OSError:
            text = ""  # invoke_command reports the unreadable file
        kwargs["using"] = using(text)
    if call.has("InputObject"):
        kwargs["input_object"] = [call.get("InputObject")]
    elif call.input:
        kwargs["input_object"] = list(call.input)
    return kwargs


def invoke_command(call: Call) -> Iterable[Any]:
    """Invoke-Command: output is yielded, and errors, warnings and progress shown, as they arrive."""
    kwargs = invoke_request(call)
    if call.get("InDisconnectedSession"):
        return _in_disconnected_session(call, kwargs)
    if call.has("SessionName"):
        raise ShellError(
            "The SessionName parameter can only be used with the Disconnected switch parameter.",
            "Invoke-Command",
        )
    if call.get("AsJob") or call.has("JobName"):
        if not call.get("AsJob"):
            raise ShellError(
                "-JobName names the background job of -AsJob: add -AsJob, for example: "
                "Invoke-Command -ComputerName Server01 { Get-Date } -AsJob -JobName Dates.",
                "Invoke-Command",
            )
        from psremoting.cmdlets.invoke.command import invoke_command as run

        name = str(call.get("JobName")) if call.has("JobName") else None
        return [run(as_job=True, job_name=name, **kwargs)]
    from psremoting.cmdlets.invoke.command import iter_invoke_command

    if "session" not in kwargs:  # temporary sessions: their servers' views are asked afresh
        from psremoting.cmdlets.invoke.views import FanOutViews
        from psremoting.console import display

        display.views_of_temporary_sessions(FanOutViews(kwargs))
    # At the prompt the remote Read-Host and Get-Credential ask the user, as in a PowerShell
    # console; a background job (-AsJob) has nobody to ask.
    return relay_events(call, iter_invoke_command(ui=call.context.ui, **kwargs))


def _in_disconnected_session(call: Call, kwargs: dict[str, Any]) -> list[Any]:
    """Invoke-Command -InDisconnectedSession: start, disconnect, output the sessions."""
    from psremoting.cmdlets.invoke.command import invoke_command as run

    if "computer_name" not in kwargs:
        raise ShellError(
            "Invoke-Command -InDisconnectedSession works with -ComputerName only.", "Invoke-Command"
        )
    names = [str(n) for n in _list(call.get("SessionName")) or []] or None
    kwargs = {k: v for k, v in kwargs.items() if k not in ("hide_computer_name", "input_object")}
    started = run(**kwargs, in_disconnected_session=True, session_name=names)
    for error in getattr(started, "errors", ()):
        call.write_error(_with_computer(error), error, command="Invoke-Command")
    return list(started)


def relay_events(call: Call, events: Any, *, on_close: Callable[[], None] | None = None) -> Iterator[Any]:
    """Yield the output of `events` (InvokeEvents), writing the other streams through `call`."""
    ui = call.context.ui
    try:
        for event in events:
            if event.kind == "output":
                yield event.value
            else:
                write_record(call, event.kind, event.value)
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()
        if on_close is not None:
            on_close()
        end = getattr(ui, "end_command", None)
        if callable(end):
            end()


def write_record(call: Call, kind: str, value: Any) -> None:
    """One non-output record of a remote command, through the call's common parameters."""
    if kind == "error":
        call.write_error(error_text(value), value, command="")
    elif kind == "warning":
        call.write_warning(str(value))
    elif kind == "verbose":
        call.write_verbose(str(value), remote=True)
    elif kind == "debug":
        call.write_debug(str(value), remote=True)
    elif kind == "information":
        tags = getattr(value, "tags", None) or []
        from_host = "PSHOST" in tags or getattr(value, "source", None) == "Write-Host"
        data = getattr(value, "message_data", None)
        colors = _host_colors(data) if from_host else (None, None, False)
        call.write_information(value, str(value), from_host=from_host, colors=colors)
    elif kind == "progress":
        call.write_progress(0, value)


def _host_colors(data: Any) -> tuple[Any, Any, bool]:
    """(foreground, background, no newline) of Write-Host's HostInformationMessage; a colour
    the server filled in from the host's defaults is the terminal's own (None)."""
    get = getattr(data, "get", None)
    if not callable(get):
        return None, None, False
    fore, back = get("ForegroundColor"), get("BackgroundColor")
    fore = None if str(fore) == "Gray" else fore
    back = None if str(back) == "Black" else back
    return fore, back, bool(get("NoNewLine"))


def error_text(record: Any) -> str:
    formatter = getattr(record, "format", None)
    return str(formatter()) if callable(formatter) else str(record)


def receive_pssession(call: Call) -> Iterable[Any]:
    """Receive-PSSession: the output of the session's disconnected command, streamed."""
    from psremoting.cmdlets.disconnected import iter_receive_pssession

    sessions = _sessions_of(call, "Receive-PSSession", exact_name=True)
    if not sessions:
        return iter(())
    return relay_events(call, iter_receive_pssession(sessions[0]))


IMPLEMENTATIONS: dict[str, Callable[[Call], Iterable[Any]]] = {
    "Invoke-Command": invoke_command,
    "Receive-PSSession": receive_pssession,
}
