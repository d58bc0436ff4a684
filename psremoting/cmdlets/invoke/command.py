"""Invoke-Command: run a script block on many computers or PSSessions at once.

    result = psremoting.invoke_command("Get-Service WinRM", computer_name=["web1", "web2"])
    for obj in result:                  # output objects in arrival order, as PowerShell writes them
        print(obj.PSComputerName, obj.Status)
    result.errors                       # error records (remote errors, connection failures, timeouts)
    result.hosts["web1"].status         # HostStatus.COMPLETED, FAILED, CONNECTION_FAILED, TIMED_OUT...

    for event in psremoting.cmdlets.invoke.command.iter_invoke_command(script, computer_name=hosts):
        ...                             # InvokeEvents as they arrive from all hosts

As PowerShell does it: with `computer_name`, a temporary session per computer, closed
afterwards; at most `throttle_limit` (default 32) hosts run at once, started in list order;
output in the order received, each object annotated with PSComputerName, RunspaceId and
PSShowComputerName (False with `hide_computer_name`). `argument_list` values are sent as real
positional arguments of the script (Invoke-Command -ArgumentList), never pasted into its text;
`file_path` reads a local script (-FilePath); `using` supplies the values of `$using:name`
references (Python has no caller scope to take them from). A connection failure on one host is
an error record worded as PowerShell words it (`[HOST] Connecting to remote server HOST failed
...`) while the others complete. `timeout` (seconds, for the whole invocation) stops the remote
pipelines still running when it passes and reports those hosts as timed out.

Threads: one worker thread per running host, each with its own connection (pypsrp is
synchronous and not thread-safe), scheduled by `psremoting.cmdlets.invoke.throttle.FanOut`.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from psremoting.cmdlets.invoke.on_host import STOP_GRACE, Target, fan_events, run_on_host
from psremoting.cmdlets.invoke.results import (
    HostResult,
    HostStatus,
    InvokeEvent,
    InvokeResult,
)
from psremoting.cmdlets.invoke.targets import plan_targets
from psremoting.cmdlets.invoke.throttle import FanOut, TargetContext
from psremoting.protocol.errors import (
    ConnectionFailedError,
    InvalidOptionError,
    PSRemotingError,
    RemoteError,
    SessionStateError,
)
from psremoting.runspace.pipeline import Command
from psremoting.runspace.wire import check_values

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.cmdlets.jobs import RemotingJob
    from psremoting.cmdlets.sessions import PSSession, PSSessionList
    from psremoting.protocol.secrets import PSCredential
    from psremoting.runspace.host_ui import HostUI
    from psremoting.transport.options import SessionOption

    #: Where `session=` points: one PSSession or several.
    Sessions = PSSession | Sequence[PSSession] | None
    #: A credential: a PSCredential or a (user name, password) pair.
    Credential = PSCredential | tuple[str, str] | None

__all__ = [
    "InvokeControl",
    "plan_targets",
    "invoke_command",
    "iter_invoke_command",
    "iter_receive",
    "collect",
    "using_parameter",
    "using_names",
    "HostResult",
    "HostStatus",
    "InvokeEvent",
    "InvokeResult",
]

ERROR_ACTIONS = ("continue", "silentlycontinue", "ignore", "stop")
#: `input_object` not given: the command gets no pipeline input (not even $null).
_NO_INPUT: Any = object()

_USING = re.compile(r"\$using:(\{[^}]+\}|[\w?]+)", re.IGNORECASE)


@overload
def invoke_command(
    script_block: str | Command | None = ...,
    *,
    computer_name: str | Sequence[str] | None = ...,
    session: Sessions = ...,
    file_path: str | Path | None = ...,
    argument_list: Iterable[Any] = ...,
    using: Mapping[str, Any] | None = ...,
    throttle_limit: int = ...,
    hide_computer_name: bool = ...,
    timeout: float | None = ...,
    error_action: str = ...,
    credential: Credential = ...,
    port: int | None = ...,
    use_ssl: bool = ...,
    authentication: str = ...,
    session_option: SessionOption | None = ...,
    configuration_name: str | None = ...,
    certificate_pem: str | None = ...,
    certificate_key_pem: str | None = ...,
    in_disconnected_session: Literal[False] = ...,
    session_name: str | Sequence[str] | None = ...,
    connection_uri: str | Sequence[str] | None = ...,
    input_object: Any = ...,
    as_job: Literal[False] = ...,
    job_name: str | None = ...,
    processes: int | None = ...,
    cluster: Any = ...,
) -> InvokeResult: ...


@overload
def invoke_command(
    script_block: str | Command | None = ...,
    *,
    computer_name: str | Sequence[str] | None = ...,
    session: Sessions = ...,
    file_path: str | Path | None = ...,
    argument_list: Iterable[Any] = ...,
    using: Mapping[str, Any] | None = ...,
    throttle_limit: int = ...,
    hide_computer_name: bool = ...,
    timeout: float | None = ...,
    error_action: str = ...,
    credential: Credential = ...,
    port: int | None = ...,
    use_ssl: bool = ...,
    authentication: str = ...,
    session_option: SessionOption | None = ...,
    configuration_name: str | None = ...,
    certificate_pem: str | None = ...,
    certificate_key_pem: str | None = ...,
    in_disconnected_session: Literal[False] = ...,
    session_name: str | Sequence[str] | None = ...,
    connection_uri: str | Sequence[str] | None = ...,
    input_object: Any = ...,
    as_job: Literal[True],
    job_name: str | None = ...,
    processes: int | None = ...,
    cluster: Any = ...,
) -> RemotingJob: ...


@overload
def invoke_command(
    script_block: str | Command | None = ...,
    *,
    computer_name: str | Sequence[str] | None = ...,
    session: Sessions = ...,
    file_path: str | Path | None = ...,
    argument_list: Iterable[Any] = ...,
    using: Mapping[str, Any] | None = ...,
    throttle_limit: int = ...,
    hide_computer_name: bool = ...,
    timeout: float | None = ...,
    error_action: str = ...,
    credential: Credential = ...,
    port: int | None = ...,
    use_ssl: bool = ...,
    authentication: str = ...,
    session_option: SessionOption | None = ...,
    configuration_name: str | None = ...,
    certificate_pem: str | None = ...,
    certificate_key_pem: str | None = ...,
    in_disconnected_session: Literal[True],
    session_name: str | Sequence[str] | None = ...,
    connection_uri: str | Sequence[str] | None = ...,
    input_object: Any = ...,
    as_job: bool = ...,
    job_name: str | None = ...,
    processes: int | None = ...,
    cluster: Any = ...,
) -> PSSessionList: ...


def invoke_command(
    script_block: str | Command | None = None,
    *,
    computer_name: str | Sequence[str] | None = None,
    session: Sessions = None,
    file_path: str | Path | None = None,
    argument_list: Iterable[Any] = (),
    using: Mapping[str, Any] | None = None,
    throttle_limit: int = 32,
    hide_computer_name: bool = False,
    timeout: float | None = None,
    error_action: str = "continue",
    credential: Credential = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    session_option: SessionOption | None = None,
    configuration_name: str | None = None,
    certificate_pem: str | None = None,
    certificate_key_pem: str | None = None,
    in_disconnected_session: bool = False,
    session_name: str | Sequence[str] | None = None,
    connection_uri: str | Sequence[str] | None = None,
    input_object: Any = _NO_INPUT,
    as_job: bool = False,
    job_name: str | None = None,
    processes: int | None = None,
    cluster: Any = None,
) -> InvokeResult | RemotingJob | PSSessionList:
    """Run `script_block` (or the script at `file_path`) on computers or sessions; see the module doc.

    Returns an `InvokeResult`: the output objects in arrival order, with `.errors` and `.hosts`.
    `error_action` is Invoke-Command's -ErrorAction: "continue" (default) and "silentlycontinue"
    collect error records in `.errors`; "ignore" drops remote error records; "stop" raises the
    first error (`RemoteError`, or the `ConnectionFailedError` of a host that could not be
    reached) after stopping the other hosts.

    With ``in_disconnected_session=True`` (Invoke-Command -InDisconnectedSession; computer
    names only) the command is started and each session disconnected at once: the result is
    then a `PSSessionList` of the Disconnected sessions (named `session_name`, or
    ``Runspace<N>``), for `receive_pssession` later, from this process or another.

    `input_object` is the pipeline input (-InputObject, or ``$data | Invoke-Command``): any
    iterable, whose items reach the script's ``$input`` and ``process {}`` block one by one
    as they are read, so a generator of any size is never held in memory (a str, bytes,
    mapping or other non-iterable value is one object). With several computers each gets
    all of it: a one-shot iterator is then read into a list first.
    `connection_uri` targets endpoints by URI (-ConnectionUri) instead of computer names.

    With `as_job=True` (-AsJob) the call returns at once a `psremoting.cmdlets.jobs.RemotingJob`
    (one child job per computer) that runs in the background: ``job.wait()``,
    ``job.receive(keep=False)``, ``job.stop()``, ``job.state``, ``job.add_done_callback(fn)``;
    it is in the job table (`get_job`) under `job_name` or ``Job<Id>``.

    `processes` spreads the computers over worker processes (default: the cores, from 100
    hosts a core; 1: this process only); `cluster` (a ``distributed.Client`` or a scheduler
    address) over a Dask cluster's workers (`psremoting.cmdlets.invoke.shards`).
    """
    if session_name is not None and not in_disconnected_session:
        raise InvalidOptionError(
            "The SessionName parameter can only be used with the Disconnected switch parameter."
        )
    action = _error_action(error_action)
    request: dict[str, Any] = {
        "computer_name": computer_name,
        "session": session,
        "file_path": file_path,
        "argument_list": argument_list,
        "using": using,
        "throttle_limit": throttle_limit,
        "hide_computer_name": hide_computer_name,
        "timeout": timeout,
        "credential": credential,
        "port": port,
        "use_ssl": use_ssl,
        "authentication": authentication,
        "session_option": session_option,
        "configuration_name": configuration_name,
        "connection_uri": connection_uri,
        "input_object": input_object,
        "certificate_pem": certificate_pem,
        "certificate_key_pem": certificate_key_pem,
    }
    if in_disconnected_session:
        if isinstance(script_block, Command):
            raise InvalidOptionError("in_disconnected_session takes a script block, not a Command.")
        return _start_disconnected(script_block, request, session_name)
    if as_job:
        return _start_job(script_block, request, job_name)
    if job_name is not None:
        raise InvalidOptionError("job_name names a background job: give it together with as_job=True.")
    result = InvokeResult()
    events = iter_spread(script_block, request, processes, cluster)
    try:
        for event in events:
            if event.kind == "output":
                result.append(event.value)
            elif event.kind == "error":
                if action == "stop":
                    raise _stop_error(event.value)
                if action != "ignore":
                    result.errors.append(event.value)
            elif event.kind == "finished":
                result.hosts[event.computer_name] = event.value
                if action == "ignore":
                    event.value.errors.clear()
    finally:
        events.close()  # on "stop": cancels and stops the other hosts
    return result


def iter_invoke_command(
    script_block: str | Command | None = None,
    *,
    computer_name: str | Sequence[str] | None = None,
    session: Sessions = None,
    file_path: str | Path | None = None,
    argument_list: Iterable[Any] = (),
    using: Mapping[str, Any] | None = None,
    throttle_limit: int = 32,
    hide_computer_name: bool = False,
    timeout: float | None = None,
    credential: Credential = None,
    port: int | None = None,
    use_ssl: bool = False,
    authentication: str = "negotiate",
    session_option: SessionOption | None = None,
    configuration_name: str | None = None,
    certificate_pem: str | None = None,
    certificate_key_pem: str | None = None,
    connection_uri: str | Sequence[str] | None = None,
    input_object: Any = _NO_INPUT,
    control: InvokeControl | None = None,
    ui: HostUI | None = None,
) -> Generator[InvokeEvent, None, None]:
    """Like `invoke_command`, but yield `InvokeEvent`s as they arrive from all hosts.

    Every host ends with exactly one "finished" event carrying its `HostResult`. Closing the
    iterator early (break, an exception) stops the hosts still running; so does
    ``control.cancel()`` from another thread (a background job's Stop-Job). `ui` (a HostUI)
    answers the remote Read-Host, Get-Credential and prompts, as an interactive console does;
    without it the hosts have no host UI and those fail (PowerShell's non-interactive error).
    """
    script: str | Command
    if isinstance(script_block, Command):  # a command by name (implicit remoting's proxies)
        if file_path is not None:
            raise InvalidOptionError("Give either a command or a file_path, not both.")
        script, using_values = script_block, None
    else:
        script = _script_text(script_block, file_path)
        using_values = using_parameter(script, using)
    arguments = list(argument_list)
    check_values(arguments, using, input_object)  # a TypeError before anything is sent
    targets, rejected = plan_targets(
        {
            "computer_name": computer_name, "session": session, "connection_uri": connection_uri,
            "credential": credential, "port": port, "use_ssl": use_ssl,
            "authentication": authentication, "session_option": session_option,
            "configuration_name": configuration_name,
            "certificate_pem": certificate_pem, "certificate_key_pem": certificate_key_pem,
        }
    )  # fmt: skip
    inputs = _input_source(input_object, len(targets))

    def work(target: Target, ctx: TargetContext[Target]) -> HostResult:
        return run_on_host(
            target, ctx, script, arguments, using_values, hide_computer_name, timeout, inputs(), ui
        )

    for target, record in rejected:  # sessions that are not Opened/Available: non-terminating errors
        yield InvokeEvent("error", target.computer_name, record)
        yield InvokeEvent(
            "finished",
            target.computer_name,
            HostResult(target.computer_name, HostStatus.FAILED, error=[record], reason=record.message),
        )
    if not targets:
        if rejected:
            raise SessionStateError(
                "No valid sessions were specified.  Ensure you provide valid sessions that "
                "are in the Opened state and are available to run commands."
            )
        return
    fan = FanOut(
        targets, work, throttle_limit=throttle_limit, timeout=timeout, stop_grace=STOP_GRACE, name="invoke"
    )
    if control is not None:
        control.attach(fan)
    yield from fan_events(fan, timeout)


def iter_spread(
    script_block: str | Command | None, request: dict[str, Any], processes: int | None, cluster: Any
) -> Generator[InvokeEvent, None, None]:
    """`iter_invoke_command(script_block, **request)`, over worker processes or a Dask cluster
    when asked or when it pays (`psremoting.cmdlets.invoke.fleet`)."""
    from psremoting.cmdlets.invoke.fleet import iter_fleet, spreads

    if not spreads(request, processes, cluster):
        return iter_invoke_command(script_block, **request)
    script: str | Command = script_block if isinstance(script_block, Command) else ""
    using_values = None
    if not isinstance(script_block, Command):
        script = _script_text(script_block, request.get("file_path"))
        using_values = using_parameter(script, request.get("using"))
    inputs = _input_source(request.get("input_object", _NO_INPUT), 2)()
    items = None if inputs is None else list(inputs)
    return iter_fleet(script, using_values, items, request, processes, cluster)


def iter_receive(
    targets: Sequence[Target], *, timeout: float | None = None
) -> Generator[InvokeEvent, None, None]:
    """Receive-PSSession on several sessions at once: ``Target(name, session, resume=CommandId)``
    each; the same events as `iter_invoke_command`."""

    def work(target: Target, ctx: TargetContext[Target]) -> HostResult:
        return run_on_host(target, ctx, "", [], None, False, timeout)

    fan = FanOut(
        list(targets), work, throttle_limit=32, timeout=timeout, stop_grace=STOP_GRACE, name="receive"
    )
    yield from fan_events(fan, timeout)


def collect(events: Iterable[InvokeEvent]) -> InvokeResult:
    """An `InvokeResult` of events (error_action "continue")."""
    result = InvokeResult()
    iterator = iter(events)
    try:
        for event in iterator:
            if event.kind == "output":
                result.append(event.value)
            elif event.kind == "error":
                result.errors.append(event.value)
            elif event.kind == "finished":
                result.hosts[event.computer_name] = event.value
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    return result


def _start_disconnected(
    script_block: str | None, request: dict[str, Any], session_name: str | Sequence[str] | None
) -> PSSessionList:
    from psremoting.cmdlets.invoke.in_disconnected import start_in_disconnected_sessions

    if request["session"] is not None:
        raise InvalidOptionError(
            "in_disconnected_session works with computer names only (Invoke-Command -InDisconnectedSession "
            "is in the ComputerName and ConnectionUri parameter sets)."
        )
    script = _script_text(script_block, request["file_path"])
    using_values = using_parameter(script, request["using"])
    targets, _rejected = plan_targets(request)
    names = [session_name] if isinstance(session_name, str) else list(session_name or [])
    return start_in_disconnected_sessions(
        [t.info for t in targets if t.info is not None],
        script,
        arguments=list(request["argument_list"]),
        parameters={"--%": using_values} if using_values else None,
        session_name=names or None,
        throttle_limit=request["throttle_limit"],
    )


class InvokeControl:
    """Stops a running `iter_invoke_command` from another thread (Stop-Job): `cancel()`
    asks every host to stop its pipeline, as closing the iterator does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fan: FanOut[Target] | None = None
        self.cancelled = False

    def attach(self, fan: FanOut[Target]) -> None:
        with self._lock:
            self._fan = fan
            cancelled = self.cancelled
        if cancelled:
            fan.cancel()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            fan = self._fan
        if fan is not None:
            fan.cancel()


def _input_source(input_object: Any, targets: int) -> Callable[[], Iterable[Any] | None]:
    """A function giving each host its pipeline input (None: no input at all)."""
    if input_object is _NO_INPUT:
        return lambda: None
    if isinstance(input_object, (str, bytes, bytearray, Mapping)) or not isinstance(input_object, Iterable):
        single = [input_object]
        return lambda: single
    if targets <= 1:
        return lambda: input_object
    shared = input_object if isinstance(input_object, (list, tuple, range)) else list(input_object)
    return lambda: shared


def using_names(script: str) -> list[str]:
    """The names of the `$using:` references in a script, in order (`$using:Foo` -> "Foo")."""
    return [m.group(1).strip("{}") for m in _USING.finditer(script)]


def using_parameter(script: str, values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The `--%` parameter value carrying `$using:` values, as PowerShell 5+ sends it.

    Keys are Base64(UTF-16LE(the using expression)), lower-cased for a plain variable, e.g.
    `$using:Foo` -> Base64 of "$using:foo" (PsUtils.GetUsingExpressionKey). Returns None when
    the script has no `$using:` reference. A reference without a value is an error that says
    which names are missing, raised before anything runs.
    """
    names = using_names(script)
    if not names:
        return None
    given = {k.lower(): v for k, v in (values or {}).items()}
    missing = sorted({n for n in names if n.lower() not in given}, key=str.lower)
    if missing:
        raise InvalidOptionError(
            "The script uses " + ", ".join(f"$using:{n}" for n in missing) + " but no value was given: pass "
            "using={"
            + ", ".join(f"{n!r}: ..." for n in missing)
            + "} (Python has no caller scope to take it from)."
        )
    result: dict[str, Any] = {}
    for name in names:
        key = base64.b64encode(f"$using:{name}".lower().encode("utf-16-le")).decode("ascii")
        result[key] = given[name.lower()]
    return result


# -- inputs -------------------------------------------------------------------------------


def _error_action(value: str) -> str:
    action = str(value).lower()
    if action not in ERROR_ACTIONS:
        raise InvalidOptionError(
            f"error_action {value!r} is not supported; use one of: Continue, SilentlyContinue, Ignore, Stop."
        )
    return action


def _script_text(script_block: str | None, file_path: str | Path | None) -> str:
    if (script_block is None) == (file_path is None):
        raise InvalidOptionError(
            "Give either a script block or a file_path (Invoke-Command -FilePath), not both"
            if script_block is not None
            else "Give a script block or a file_path to run."
        )
    if file_path is not None:
        path = Path(file_path)
        try:
            return path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InvalidOptionError(
                f"Cannot read the script file {path}: {exc.strerror or exc}. "
                "The script must be readable on this computer."
            ) from exc
    text = str(script_block).strip()
    if text.startswith("{") and text.endswith("}"):  # `{ ... }` as typed in PowerShell
        text = text[1:-1]
    return text


def _start_job(script_block: Any, request: dict[str, Any], name: str | None) -> RemotingJob:
    """Invoke-Command -AsJob: the run in the background, as a job of the job table."""
    from psremoting.cmdlets.jobs import command_text, start_job

    targets, rejected = plan_targets(request)
    control = InvokeControl()

    def events() -> Iterable[InvokeEvent]:
        return iter_invoke_command(script_block, control=control, **request)

    return start_job(
        command_text(script_block, request.get("file_path")),
        computers=[t.computer_name for t in targets],
        refused=[(t.computer_name, record) for t, record in rejected],
        events=events,
        cancel=control.cancel,
        name=name,
    )


def _stop_error(record: Any) -> PSRemotingError:
    """The exception `error_action="stop"` raises for the first error record."""
    cause = getattr(record, "extra", {}).get("exception") if hasattr(record, "extra") else None
    if isinstance(cause, ConnectionFailedError):
        return cause
    return RemoteError(record)
