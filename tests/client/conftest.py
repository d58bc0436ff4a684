"""Fixtures of the client tests: a fresh session registry, and an emulator that answers
for every computer name through the endpoint override (as the shell's --emulator does)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from psremoting.cmdlets import interactive
from psremoting.cmdlets import sessions as session
from psremoting.transport.options import EndpointOverride, set_endpoint_override

if TYPE_CHECKING:  # pragma: no cover
    from psremoting.emulator import Emulator

UNRESOLVABLE = "nosuchhost.invalid"


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    """Every test starts with ids at 1, no sessions, nothing entered, no override."""
    session._reset_for_tests()
    interactive._reset_for_tests()
    set_endpoint_override(None)
    yield
    interactive._reset_for_tests()
    session._reset_for_tests()
    set_endpoint_override(None)


def credentials(emu: Emulator) -> tuple[str, str]:
    """The emulator's (first) user and password."""
    return next(iter(emu.users.items()))


def route_to(emu: Emulator, *, auth: str = "basic", password: str | None = None) -> None:
    """Send every computer name (except *.invalid ones) to `emu`, as that computer."""
    user, real_password = credentials(emu)

    def override(name: str) -> EndpointOverride | None:
        if name.lower().endswith(".invalid"):
            return None
        return EndpointOverride(emu.url_for(name), user, password or real_password, auth, emu.ca_file)

    set_endpoint_override(override)


@pytest.fixture
def emu(emulator: Emulator) -> Iterator[Emulator]:
    """The HTTP emulator (Basic allowed), answering for every computer name."""
    route_to(emulator)
    yield emulator


@pytest.fixture
def emu_ntlm(emulator_ntlm: Emulator) -> Iterator[Emulator]:
    """An emulator that takes only NTLM/Negotiate with message encryption."""
    route_to(emulator_ntlm, auth="negotiate")
    yield emulator_ntlm


def handler(*values: Any) -> Any:
    """A command handler returning `values`."""
    return lambda ctx: list(values)
