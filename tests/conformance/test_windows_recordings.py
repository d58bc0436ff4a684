"""Conformance: replay real Windows WinRM conversations into the emulator's WSMan layer.

Each ``../shared/windows-recordings/*.yml`` file holds the requests pypsrp sent to a real
Windows host and what Windows answered. Every recorded request is fed, in order, to the
emulator's :class:`~psremoting.emulator.wsman.WSManService` (no sockets, no authentication:
the recordings were taken after both were stripped), with the ids Windows handed out mapped
to the emulator's. The answers are compared by *shape* (``envelope_shape.py``): response
action, element paths, fault codes, HTTP status and the PSRP message types in the streams.

Per recording the test reports how many exchanges match and why the others differ; it fails
when an answer is an internal error of the emulator, or when a recording matches fewer
exchanges than its floor in ``baseline.json`` (a ratchet: when the emulator gets closer to
Windows, rewrite the floors with ``PSREMOTING_UPDATE_CONFORMANCE_BASELINE=1 pytest
tests/conformance`` and commit the file). The report is printed in pytest's terminal summary
(``-v`` for every differing exchange). One recording is also replayed through the whole
stack (HTTP, NTLM or SPNEGO, message encryption) and must give the same shapes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from envelope_shape import (  # tests/conformance/ is on sys.path (pytest's rootdir-less import)
    ExchangeReport,
    IdMap,
    PSRPStreamDecoder,
    RecordingReport,
    compare_shapes,
    difference_reasons,
    envelope_shape,
    is_psrp_request,
    load_recording,
    request_action,
    shorten_operation_timeout,
)
from pypsrp.exceptions import WinRMTransportError
from pypsrp.wsman import WSMan

from psremoting.emulator import Emulator
from psremoting.emulator.psrp_shell import PSRPShell
from psremoting.emulator.wsman import WSManService

RECORDINGS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "windows-recordings").resolve()
BASELINE = Path(__file__).with_name("baseline.json")
# A Receive the emulator has nothing for waits this long (not the recorded 20 s) before the
# OperationTimeout fault, so the replay stays fast.
RECEIVE_TIMEOUT_CAP = 0.5
RECORDED_USER = "vagrant"
# How long a replayed Receive waits for running pipelines to end first (see below).
PIPELINE_SETTLE_LIMIT = 2.0
# How long a replayed Disconnect waits for just started pipelines to write their first output.
DISCONNECT_SETTLE_LIMIT = 2.0

REPORTS: list[RecordingReport] = []

#: What the recorded Windows host had on disk before the conversation (pypsrp's tests made
#: these files there; the replay makes them in the emulator's C:\): folders, and files with
#: the bytes whose base64 and SHA-1 the recorded answers carry.
RECORDED_HOST_STATE: dict[str, dict[str, bytes | None]] = {
    # The second half of the recording ran as a domain user, whose profile is vagrant-domain.
    "test_client_copy_file.yml": {"Users\\vagrant-domain\\Documents": None},
    "test_client_fetch_file.yml": {"temp\\file.txt": b"abc\r\n" * 50000 + b"\r\n"},
    "test_client_fetch_file_expand_vars.yml": {
        "Users\\vagrant\\AppData\\Local\\Temp\\file.txt": b"abc\r\n\r\n"
    },
    "test_client_fetch_file_hash_mismatch.yml": {"temp\\file.txt": b"abc\r\n" * 5 + b"\r\n"},
}


#: Machine environment variables of the recorded hosts beyond Windows' own (Chocolatey's).
RECORDED_HOST_ENVIRONMENT: dict[str, dict[str, str]] = {
    "test_client_execute_ps_environment.yml": {
        "AAA": "%ChocolateyInstall%\\bin",
        "ChocolateyInstall": "C:\\ProgramData\\chocolatey",
        "ChocolateyLastPathUpdate": "Tue Aug  7 12:58:19 2018",
    },
}


_OPEN_SPLIT = "timing: how many Receives Windows took to hand out the open's messages (3 here, 2 in every other recording)"
_AFTER_CONNECT = (
    "Windows contradicts itself: after a Connect the same host (10.0.14393) sent only"
    " RunspacePoolState in test_psrp_disconnect_runspaces and only ApplicationPrivateData in"
    " test_psrp_disconnected_commands; the emulator sends both"
)
_SLOW = "timing: the script sleeps longer than the replay waits before this Receive"
#: Why an exchange cannot match (shown in the report); the others are bugs to fix.
EXPLAINED: dict[tuple[str, int], str] = {
    (
        "test_client_copy_file_warning.yml",
        5,
    ): "recording hand-edited upstream (the WarningRecord was injected)",
    ("test_psrp_key_exchange_timeout.yml", 4): "recording hand-edited upstream (timeout key)",
    ("test_psrp_disconnect_runspaces.yml", 1): _OPEN_SPLIT,
    ("test_psrp_disconnect_runspaces.yml", 2): _OPEN_SPLIT,
    ("test_psrp_disconnect_runspaces.yml", 3): _OPEN_SPLIT,
    ("test_psrp_disconnect_runspaces.yml", 15): _AFTER_CONNECT,
    ("test_psrp_disconnect_runspaces.yml", 17): _AFTER_CONNECT,
    ("test_psrp_disconnected_commands.yml", 14): _AFTER_CONNECT,
    ("test_psrp_disconnected_commands.yml", 19): _AFTER_CONNECT,
    ("test_psrp_long_running_cmdlet.yml", 6): _SLOW,
    ("test_winrs_operation_timeout.yml", 2): _SLOW,
    ("test_winrs_operation_timeout.yml", 5): _SLOW,
}


#: Idle time that passed on the recorded host before an exchange (seconds): pypsrp's test
#: "pretends" the shell's IdleTimeOut (60 s) went by and WinRM reaped the shell.
RECORDED_IDLE_TIME: dict[tuple[str, int], float] = {
    ("test_psrp_is_alive_invalid_selectors.yml", 4): 120.0,
}


def prepare_recorded_host(name: str, root: Path) -> None:
    """Make the files and folders of `RECORDED_HOST_STATE` for recording ``name`` under ``root``
    (the emulator's ``C:\\``)."""
    for windows_path, content in RECORDED_HOST_STATE.get(name, {}).items():
        target = root.joinpath(*windows_path.split("\\"))
        if content is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


# Recordings whose scripts sleep (Start-Sleep -Seconds 5 and such): seconds of real time.
SLOW_RECORDINGS = {"test_psrp_disconnected_commands.yml", "test_psrp_long_running_cmdlet.yml"}


def _recording_files() -> list[Any]:
    files = sorted(RECORDINGS.glob("test_*.yml")) if RECORDINGS.is_dir() else []
    return [
        pytest.param(path, id=path.stem, marks=[pytest.mark.slow] if path.name in SLOW_RECORDINGS else [])
        for path in files
    ]


@pytest.fixture
def emulator(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """One emulated computer, with what the recorded host had on disk (the test's ``path``);
    its WinRM service is driven without the listener."""
    param = request.node.callspec.params.get("path") if hasattr(request.node, "callspec") else None
    name = param.name if param is not None else ""
    with Emulator(
        computer_name="SERVER2019",
        root=tmp_path,
        users={RECORDED_USER: "unused"},
        environment=RECORDED_HOST_ENVIRONMENT.get(name),
    ) as emulator:
        if param is not None:
            prepare_recorded_host(param.name, tmp_path)
        yield emulator


Send = Callable[[bytes], "tuple[int, bytes]"]


def in_process(service: WSManService) -> Send:
    """Hand requests straight to the WSMan layer, as the recorded (already authenticated) user."""
    return lambda body: service.handle(body, username=RECORDED_USER, client_ip="10.0.2.2")


def through_a_cut_network(emulator: Emulator) -> Send:
    """Send over a real socket while the emulator's network is cut, as Windows was when its
    WinRM service had stopped (``http_error: true``, no response): ``(0, b"")`` when the
    connection was reset or closed unanswered, else what came back."""

    def send(body: bytes) -> tuple[int, bytes]:
        emulator.cut_network()
        try:
            with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as conn:
                conn.sendall(
                    b"POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/soap+xml;charset=UTF-8\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                answer = conn.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
        finally:
            emulator.restore_network()
        if not answer:
            return 0, b""
        head, _, rest = answer.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), rest

    return send


def replay(path: Path, emulator: Emulator, send: Send | None = None) -> RecordingReport:
    """Feed a recording's requests to ``emulator``'s WSMan layer (or through ``send``) and
    compare every answer's shape. An exchange that Windows left unanswered (the service was
    stopped) goes over a real socket with the emulator's network cut.

    The requests go in as recorded, apart from the ShellIds/CommandIds the emulator handed
    out differently and a shorter OperationTimeout on Receive. (The recording client, an
    early pypsrp, wrote the PSRP GUIDs big-endian, so the pipeline ids inside the PSRP
    messages differ from the WSMan CommandIds; Windows accepts that, and so must the emulator.)
    """
    service = emulator.service()
    report = RecordingReport(name=path.name)
    ids = IdMap()
    recorded_decoders: dict[str, PSRPStreamDecoder] = {}
    actual_decoders: dict[str, PSRPStreamDecoder] = {}
    for exchange in load_recording(path):
        request = ids.rewrite(exchange.request)
        action = request_action(request)
        idle = RECORDED_IDLE_TIME.get((path.name, exchange.index))
        if idle is not None:
            emulator.pass_idle_time(idle)
        if action == "Receive":
            request = shorten_operation_timeout(request, RECEIVE_TIMEOUT_CAP)
            _wait_for_idle_pipelines(service)
        elif action == "Disconnect":
            # A pipeline started just before has written its first output (Windows' had).
            _wait_for_first_output(service)
        way = through_a_cut_network(emulator) if exchange.connection_error else send or in_process(service)
        status, answer = way(request.encode("utf-8"))
        answer_text = answer.decode("utf-8", errors="replace")
        if b"w:InternalError" in answer and "w:InternalError" not in exchange.response:
            pytest.fail(
                f"{path.name} #{exchange.index} {action}: the emulator failed internally:\n{answer_text}"
            )
        psrp = is_psrp_request(exchange.request)
        key = _shell_key(exchange.request)
        recorded = envelope_shape(
            exchange.response, recorded_decoders.setdefault(key, PSRPStreamDecoder()) if psrp else None
        )
        actual = envelope_shape(
            answer_text, actual_decoders.setdefault(key, PSRPStreamDecoder()) if psrp else None
        )
        report.recorded_psrp += recorded.psrp_types
        report.actual_psrp += actual.psrp_types
        differences = compare_shapes(recorded, actual)
        if status != exchange.http_status:
            differences.insert(0, f"HTTP {status} instead of {exchange.http_status}")
        skipped = None
        if exchange.timeout:
            skipped = "recording hand-edited to simulate a lost answer (timeout key)"
        reasons = difference_reasons(recorded, actual) if differences and skipped is None else []
        if status != exchange.http_status and not reasons:
            reasons = ["HTTP status"]
        if differences and skipped is None and (path.name, exchange.index) in EXPLAINED:
            reasons = [EXPLAINED[(path.name, exchange.index)]]
        report.exchanges.append(ExchangeReport(exchange.index, action, differences, skipped, reasons))
        ids.learn(exchange.response, answer_text)
    return report


def _wait_for_idle_pipelines(service: WSManService, limit: float = PIPELINE_SETTLE_LIMIT) -> None:
    """Let running pipelines finish before a Receive (bounded), so what one Receive returns
    does not depend on thread timing. Windows had all the time in the world between the
    recorded requests; a pipeline that needs longer (Start-Sleep, a host prompt) is left running."""
    deadline = time.monotonic() + limit
    settled = threading.Event()
    while _pipeline_threads_alive(service) and time.monotonic() < deadline:
        settled.wait(0.005)


def _pipeline_threads_alive(service: WSManService) -> bool:
    """Whether a command's pipeline thread still runs. (Stats.running_pipelines would miss one
    whose thread has been started by the Command but has not reached its runspace yet.)"""
    for shell in service.registry.list():
        if isinstance(shell, PSRPShell):
            with shell.cond:
                threads = [command.thread for command in shell.commands.values()]
            if any(thread is not None and thread.is_alive() for thread in threads):
                return True
    return False


def _wait_for_first_output(service: WSManService, limit: float = DISCONNECT_SETTLE_LIMIT) -> None:
    """Before a Disconnect: let each command just started write its first output (bounded);
    on Windows the recorded client's Disconnect came after that."""
    deadline = time.monotonic() + limit
    settled = threading.Event()
    shells = [s for s in service.registry.list() if isinstance(s, PSRPShell)]
    while not all(s.commands_have_written() for s in shells) and time.monotonic() < deadline:
        settled.wait(0.005)


def _shell_key(request: str) -> str:
    match = re.search(r'Name="ShellId">([^<]+)<', request) or re.search(r'ShellId="([^"]+)"', request)
    return match.group(1).upper() if match else ""


def _baseline() -> dict[str, int]:
    if not BASELINE.is_file():
        return {}
    data: dict[str, int] = json.loads(BASELINE.read_text(encoding="utf-8"))
    return data


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason=f"no Windows recordings at {RECORDINGS} (shared/ absent)")
@pytest.mark.parametrize("path", _recording_files())
def test_recording_replays_with_windows_shapes(path: Path, emulator: Emulator) -> None:
    started = time.monotonic()
    report = replay(path, emulator)
    report.note = "; ".join(filter(None, [report.note, f"{time.monotonic() - started:.1f}s"]))
    REPORTS.append(report)
    if os.environ.get("PSREMOTING_UPDATE_CONFORMANCE_BASELINE") == "1":
        baseline = _baseline()
        # The recordings whose scripts sleep depend on wall-clock timing: one exchange of slack.
        baseline[path.name] = report.matched - (1 if path.name in SLOW_RECORDINGS else 0)
        BASELINE.write_text(json.dumps(dict(sorted(baseline.items())), indent=2) + "\n", encoding="utf-8")
    floor = _baseline().get(path.name, 0)
    assert report.matched >= floor, (
        f"conformance regressed below the baseline of {floor}:\n{report.summary()}"
    )


@pytest.mark.skipif(
    not (RECORDINGS / "test_psrp_multiple_invocations.yml").is_file(), reason="recording absent"
)
@pytest.mark.parametrize("auth", ["ntlm", "negotiate"])
def test_recording_over_sealed_http_matches_the_in_process_replay(tmp_path: Path, auth: str) -> None:
    """The same Windows conversation through the whole stack: HTTP, NTLM (or SPNEGO), message
    encryption both ways (pypsrp's transport), the server, WSMan. The answers' shapes must not
    depend on the way in."""
    path = RECORDINGS / "test_psrp_multiple_invocations.yml"
    with Emulator(computer_name="SERVER2019", root=tmp_path, users={RECORDED_USER: "Vagrant1!"}) as emulator:
        direct = replay(path, emulator)
        transport = WSMan(
            "127.0.0.1",
            port=emulator.port,
            ssl=False,
            auth=auth,
            username=RECORDED_USER,
            password="Vagrant1!",
        ).transport

        def over_http(body: bytes) -> tuple[int, bytes]:
            try:
                return 200, transport.send(body)
            except WinRMTransportError as error:  # a WSMan fault comes back as HTTP 500
                return error.code, error.response_text.encode("utf-8")

        sealed = replay(path, emulator, over_http)
        assert transport.encryption is not None  # the conversation really was sealed
    assert [e.differences for e in sealed.exchanges] == [e.differences for e in direct.exchanges]
    assert sealed.matched == direct.matched > 0
