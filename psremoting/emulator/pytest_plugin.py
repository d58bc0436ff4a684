"""pytest plugin (entry point ``pytest11``): the ``winrm_emulator`` fixture for users' suites.

    def test_deploy(winrm_emulator):
        winrm_emulator.register("Get-AppVersion", lambda ctx: ["1.2.3"])
        wsman = make_wsman(winrm_emulator)           # a pypsrp WSMan pointed at it
        ...

The fixture yields a started :class:`~psremoting.emulator.Emulator` on loopback HTTP that
answers as ``SERVER01`` with the user ``user``/``password`` over Basic (allowed unencrypted, as
a test listener), NTLM and Negotiate; it is stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the emulator is imported when a test uses it, not when pytest starts
    from psremoting.emulator import Emulator

__all__ = ["make_wsman", "winrm_emulator"]


def make_wsman(
    emulator: Emulator,
    auth: str = "basic",
    *,
    username: str | None = None,
    password: str | None = None,
    **kwargs: Any,
) -> Any:
    """A pypsrp ``WSMan`` for ``emulator``: right port, scheme, CA file and encryption.

    ``username``/``password`` default to the emulator's first user. Basic over HTTP uses
    ``encryption="never"`` (the emulator must allow unencrypted traffic for it).
    """
    from pypsrp.wsman import WSMan

    if username is None:
        username = next(iter(emulator.users))
    if password is None:
        password = emulator.users.get(username, "")
    options: dict[str, Any] = {
        "port": emulator.port,
        "ssl": emulator.https,
        "auth": auth,
        "username": username,
        "password": password,
        "cert_validation": emulator.ca_file if emulator.https else False,
    }
    if auth == "basic" and not emulator.https:
        options["encryption"] = "never"
    options.update(kwargs)
    return WSMan(emulator.host, **options)


@pytest.fixture
def winrm_emulator() -> Iterator[Emulator]:
    """A started WinRM endpoint emulator (HTTP on 127.0.0.1), stopped after the test."""
    from psremoting.emulator import Emulator

    with Emulator(allow_unencrypted=True) as emulator:
        yield emulator
