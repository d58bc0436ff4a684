"""Fixtures for the Invoke-Command tests: one emulator answering for many computer names.

`fleet(names)` starts one in-process emulator (real loopback HTTP, NTLM with message
encryption) with a listener per computer name, and routes those names to it through the
client's endpoint override, so that `invoke_command(computer_name=[...])` connects to them as
it would to real hosts. Extra names can be routed to a closed port (a host that is down) or
given a wrong password. Everything started here is stopped by the fixture.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

USER, PASSWORD = "invoker", "Invoke-Passw0rd"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Fleet:
    emulator: Any
    urls: dict[str, str] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    wrong_password: set[str] = field(default_factory=set)

    def add(self, *names: str) -> None:
        for name in names:
            self.urls[name.lower()] = self.emulator.add_computer(name)

    def override(self, name: str) -> Any:
        from psremoting.transport.options import EndpointOverride

        key = name.lower()
        if key in self.down:
            return EndpointOverride(
                url=f"http://127.0.0.1:{closed_port()}/wsman",
                username=USER,
                password=PASSWORD,
                authentication="ntlm",
            )
        if key not in self.urls:
            return None
        password = "not-the-password" if key in self.wrong_password else PASSWORD
        return EndpointOverride(url=self.urls[key], username=USER, password=password, authentication="ntlm")


def _engine_factory() -> Any:
    from psremoting.emulator.engine import Engine

    return Engine


def _recording(base: Any, record: list[Any]) -> Any:
    class RecordingEngine(base):  # type: ignore[misc, valid-type]
        def invoke(self, commands: list[Any], io: Any) -> Any:
            record.append([(c.command_text, c.is_script, list(c.parameters)) for c in commands])
            return super().invoke(commands, io)

    return RecordingEngine


@pytest.fixture
def make_fleet() -> Iterator[Callable[..., Fleet]]:
    from psremoting.emulator import Emulator
    from psremoting.transport.options import set_endpoint_override

    started: list[Any] = []

    def make(
        *names: str, handlers: dict[str, Callable[[Any], Any]] | None = None, record: list[Any] | None = None
    ) -> Fleet:
        """`record`: a list that receives, per pipeline, the commands the server got
        (text, is_script, parameters as (name | None, value) pairs)."""
        emulator = Emulator(
            users={USER: PASSWORD}, auth=("ntlm", "negotiate", "basic"), computer_name=names[0]
        )
        engine_class = _engine_factory()
        if record is not None:
            engine_class = _recording(engine_class, record)
        emulator.engine_factory = engine_class
        emulator.__enter__()
        started.append(emulator)
        for command, handler in (handlers or {}).items():
            emulator.register(command, handler)
        fleet = Fleet(emulator)
        fleet.urls[names[0].lower()] = emulator.url
        fleet.add(*names[1:])
        set_endpoint_override(fleet.override)
        return fleet

    try:
        yield make
    finally:
        set_endpoint_override(None)
        for emulator in started:
            emulator.__exit__(None, None, None)


class ThrottleGate:
    """A remote command (`Wait-Gate`) that holds each pipeline until `limit` run at once.

    Each call waits until as many pipelines are inside as could be (the throttle limit, or
    all hosts not yet finished), so the peak is reached deterministically, without sleeps;
    the wait is bounded so that a broken client fails the test instead of hanging it.
    """

    def __init__(self, total: int, limit: int) -> None:
        self.total = total
        self.limit = limit
        self.cond = threading.Condition()
        self.active = 0
        self.finished = 0
        self.peak = 0
        self.timeouts = 0

    def __call__(self, ctx: Any) -> list[Any]:
        with self.cond:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.cond.notify_all()
            if not self.cond.wait_for(lambda: self.active >= min(self.limit, self.total - self.finished), 20):
                self.timeouts += 1
        with self.cond:
            self.active -= 1
            self.finished += 1
            self.cond.notify_all()
        return []


@pytest.fixture
def throttle_gate() -> type[ThrottleGate]:
    """The ThrottleGate class (test modules here are not a package, so they take it as a fixture)."""
    return ThrottleGate
