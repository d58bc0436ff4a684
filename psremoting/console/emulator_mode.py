"""`--emulator`: every computer name is answered by an embedded WinRM emulator.

An `EmulatorFleet` (psremoting.emulator) starts one loopback listener per computer name on
first use; an endpoint override (psremoting.options.set_endpoint_override) sends a
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
def emulated_computers() -> Iterator[Any]:
    """Serve every computer name from an embedded emulator while the block runs."""
    from psremoting.emulator import EmulatorFleet
    from psremoting.options import EndpointOverride, set_endpoint_override

    fleet = EmulatorFleet(users={EMULATOR_USER: EMULATOR_PASSWORD}, auth=("ntlm", "negotiate", "basic"))
    with fleet:

        def route(computer_name: str) -> Any:
            return EndpointOverride(
                url=fleet.url_for(computer_name),
                username=EMULATOR_USER,
                password=EMULATOR_PASSWORD,
                authentication="negotiate",
                ca_file=None,
            )

        set_endpoint_override(route)
        try:
            yield fleet
        finally:
            set_endpoint_override(None)
