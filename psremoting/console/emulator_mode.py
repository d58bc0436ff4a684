"""`--emulator`: every computer name is answered by an embedded WinRM emulator.

An `EmulatorFleet` (psremoting.emulator) starts one loopback listener per computer name on
first use; an endpoint override (psremoting.transport.options.set_endpoint_override) sends a
session for `Server01` to the fleet's URL for `Server01`, with the fleet's own user, so
the seed's examples run verbatim with no Windows host and no credentials. The computer
name shown in prompts and tables stays what the user typed.

For trying what a day does to a session, without HTTP: ``PSREMOTING_EMULATOR_KEEPALIVE_TIMEOUT``
(seconds, default 120) sets how long the embedded emulator keeps an idle connection, and
``kill -USR1 <shell pid>`` cuts its network for ``PSREMOTING_EMULATOR_CUT_SECONDS`` (default
10): every connection is reset and new ones refused meanwhile (docs/emulator.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

EMULATOR_USER = "user"
# A throw-away password for the loopback emulator the shell itself starts; never a real secret.
EMULATOR_PASSWORD = "psremoting-emulator"


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

    fleet = EmulatorFleet(users={username: password}, auth=methods, keepalive_timeout=_keepalive_timeout())
    with fleet, _cut_on_sigusr1(fleet):

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


def _keepalive_timeout() -> float:
    text = os.environ.get("PSREMOTING_EMULATOR_KEEPALIVE_TIMEOUT", "")
    try:
        return float(text) if text and float(text) > 0 else 120.0
    except ValueError:
        return 120.0


@contextlib.contextmanager
def _cut_on_sigusr1(fleet: Any) -> Iterator[None]:
    """SIGUSR1 cuts the embedded emulator's network (only in the main thread, where Python
    delivers signals; elsewhere this does nothing)."""
    usr1 = getattr(signal, "SIGUSR1", None)
    if usr1 is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        seconds = float(os.environ.get("PSREMOTING_EMULATOR_CUT_SECONDS", "10") or 10)
    except ValueError:
        seconds = 10.0

    def cut() -> None:
        print(f"\n(emulator: network cut for {seconds:g} s)", file=sys.stderr, flush=True)
        fleet.emulator.cut_network(seconds)

    previous = signal.signal(usr1, lambda _signum, _frame: threading.Thread(target=cut, daemon=True).start())
    try:
        yield
    finally:
        signal.signal(usr1, previous)
