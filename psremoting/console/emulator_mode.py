"""`--emulator`: every computer name is answered by an embedded WinRM emulator.

An `EmulatorFleet` (psremoting.emulator) starts one loopback listener per computer name on
first use; an endpoint override (psremoting.transport.options.set_endpoint_override) sends a
session for `Server01` to the fleet's URL for `Server01`, with the fleet's own user, so
the seed's examples run verbatim with no Windows host and no credentials. The computer
name shown in prompts and tables stays what the user typed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

EMULATOR_USER = "user"
# A throw-away password for the loopback emulator the shell itself starts; never a real secret.
EMULATOR_PASSWORD = "psremoting-emulator"  # noqa: S105


@contextlib.contextmanager
def emulated_computers(
    *,
    username: str = EMULATOR_USER,
    password: str = EMULATOR_PASSWORD,
    authentication: str = "ntlm",
    methods: tuple[str, ...] = ("ntlm", "negotiate", "basic"),
) -> Iterator[Any]:
    """Serve every computer name from an embedded emulator while the block runs.

    The emulator accepts ``username``/``password`` and offers ``methods``; every session
    opened meanwhile logs on with them by ``authentication``, whatever credential it was given.
    NTLM by default: Negotiate would try Kerberos first where gssapi is installed, with the
    user's own krb5.conf, for a host that exists only on loopback.
    """
    from psremoting.emulator import EmulatorFleet
    from psremoting.transport.options import EndpointOverride, set_endpoint_override

    fleet = EmulatorFleet(users={username: password}, auth=methods)
    with fleet:

        def route(computer_name: str) -> Any:
            return EndpointOverride(
                url=fleet.url_for(computer_name),
                username=username,
                password=password,
                authentication=authentication,
                ca_file=None,
            )

        set_endpoint_override(route)
        try:
            yield fleet
        finally:
            set_endpoint_override(None)
