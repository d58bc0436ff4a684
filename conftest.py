"""Session-wide Kerberos guard for the test suite: Kerberos may only ever talk to loopback.

Why: with the Python Kerberos bindings installed (``pyspnego[kerberos]``: gssapi, krb5), pyspnego's
Negotiate tries Kerberos first for every login, client and emulator alike. MIT Kerberos then
reads ``/etc/krb5.conf``; Debian's default one (package krb5-config) names the ATHENA.MIT.EDU
realm, so every Negotiate test would look up ``kerberos.mit.edu`` through the machine's DNS
resolver and send it an AS-REQ. Tests must not send one packet off this machine.

What: at import time (pytest imports this root conftest before ``tests/``, before any test
module and before any fixture could create a Kerberos context) the process environment is
pointed at a private folder holding a krb5.conf with

* one test-only default realm (``PSREMOTING-NO-KDC.INVALID``) whose only KDC is
  ``127.0.0.1:<port>``, where ``<port>`` is a TCP port this process keeps bound but never
  listens on, so nothing else can take it: TCP first (``udp_preference_limit = 1``), refused at
  once on loopback, then one UDP datagram to the same loopback port, refused (ICMP) at once too
  (with MIT 1.20 a ``tcp/`` prefix on the KDC made it contact nothing at all, so none is used);
* every DNS-based lookup off (``dns_lookup_kdc``, ``dns_lookup_realm``, ``dns_uri_lookup``,
  ``dns_canonicalize_hostname``, ``rdns``, ``qualify_shortname``), no other realm, no include;
* ``KRB5CCNAME`` a private (empty) ccache, ``KRB5_KTNAME``/``KRB5_CLIENT_KTNAME`` private missing
  keytabs, ``KRB5_KDC_PROFILE`` a private empty kdc.conf, so nothing of the user's or the machine's
  Kerberos state (tickets, /etc/krb5.keytab) is used.

The same rule holds for host names: a test that wants a name that does not resolve (for example
``nosuchhost.invalid``) would otherwise send a DNS query to the machine's (remote) resolver.
:func:`_guard_name_resolution` makes this process resolve only IP literals, ``localhost`` and the
names of ``/etc/hosts``; any other name fails at once with ``EAI_NONAME`` ("Name or service not
known"), exactly what the resolver answers for a name that does not exist, without a packet.
``PSREMOTING_TEST_HOST`` (the ``realhost`` tests) or ``PSREMOTING_TEST_ALLOW_DNS=1`` turn that
off on purpose. (Subprocesses resolve names on their own: a test that runs the command line
against a name outside /etc/hosts must route it to an emulator, as the ``--emulator`` mode does.)

Subprocesses inherit the Kerberos environment. MIT Kerberos reads ``KRB5_CONFIG`` whenever it
creates a library context, i.e. lazily, on the first Kerberos operation, so it does not matter
whether gssapi was merely imported before this module ran (e.g. by an entry-point plugin).

Tests that run a real KDC (:class:`psremoting.emulator.kerberos.TestRealm`) switch the
variables to that realm for their duration and restore them after (``TestRealm.activated()``
or ``monkeypatch.setenv``). Set ``PSREMOTING_TEST_KRB5_CONFIG`` to a krb5.conf of your own to
opt out on purpose (a real domain for the ``realhost`` tests): then it is used, and the
ccache and keytab variables are left as they were.
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

TEST_REALM = "PSREMOTING-NO-KDC.INVALID"

_guard_dir = Path(tempfile.mkdtemp(prefix="psremoting-krb5-guard-"))
os.chmod(_guard_dir, 0o700)

# A TCP port on loopback that is bound (so no one else gets it) but never listened on: a
# connect() to it is refused immediately.
_refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_refusing.bind(("127.0.0.1", 0))
DEAD_KDC_PORT: int = _refusing.getsockname()[1]

KRB5_CONF = _guard_dir / "krb5.conf"
KRB5_CONF.write_text(
    "# Written by the psremoting test suite's conftest.py: Kerberos stays on loopback.\n"
    "[libdefaults]\n"
    f"    default_realm = {TEST_REALM}\n"
    "    dns_lookup_kdc = false\n"
    "    dns_lookup_realm = false\n"
    "    dns_uri_lookup = false\n"
    "    dns_canonicalize_hostname = false\n"
    "    rdns = false\n"
    '    qualify_shortname = ""\n'
    "    udp_preference_limit = 1\n"
    "[realms]\n"
    f"    {TEST_REALM} = {{\n"
    f"        kdc = 127.0.0.1:{DEAD_KDC_PORT}\n"
    "    }\n",
    encoding="utf-8",
)
(_guard_dir / "kdc.conf").write_text("", encoding="utf-8")

_own_config = os.environ.get("PSREMOTING_TEST_KRB5_CONFIG")
if _own_config:
    os.environ["KRB5_CONFIG"] = _own_config
else:
    os.environ.update(
        KRB5_CONFIG=str(KRB5_CONF),
        KRB5_KDC_PROFILE=str(_guard_dir / "kdc.conf"),
        KRB5CCNAME=f"FILE:{_guard_dir / 'ccache'}",
        KRB5_KTNAME=f"FILE:{_guard_dir / 'no-service.keytab'}",
        KRB5_CLIENT_KTNAME=f"FILE:{_guard_dir / 'no-client.keytab'}",
    )


@atexit.register
def _remove_guard() -> None:
    _refusing.close()
    shutil.rmtree(_guard_dir, ignore_errors=True)


# -- name resolution: only IP literals, localhost and /etc/hosts -------------------------------


def _hosts_file_names(path: str = "/etc/hosts") -> tuple[set[str], set[str]]:
    """The names and addresses listed in ``/etc/hosts`` (answered without DNS)."""
    names: set[str] = {"localhost"}
    addresses: set[str] = set()
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return names, addresses
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            addresses.add(fields[0].lower())
            names.update(f.lower().rstrip(".") for f in fields[1:])
    return names, addresses


def _guard_name_resolution() -> None:
    """Make host-name lookups that would need DNS fail locally, as for a nonexistent name."""
    if os.environ.get("PSREMOTING_TEST_HOST") or os.environ.get("PSREMOTING_TEST_ALLOW_DNS") == "1":
        return
    local_names, local_addresses = _hosts_file_names()

    def literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return None

    def answered_locally(host: Any) -> bool:
        if host is None:
            return True
        text = (host.decode("idna", "replace") if isinstance(host, bytes) else str(host)).strip("[]")
        name = text.rstrip(".").lower()
        if not name or literal(name) is not None:
            return True
        return name in local_names or name.endswith(".localhost")

    def refuse(host: Any) -> socket.gaierror:
        return socket.gaierror(
            socket.EAI_NONAME, f"Name or service not known ({host!s} is not resolved in tests)"
        )

    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname = socket.gethostbyname
    real_gethostbyname_ex = socket.gethostbyname_ex
    real_gethostbyaddr = socket.gethostbyaddr

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not answered_locally(host):
            raise refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        if not answered_locally(host):
            raise refuse(host)
        return real_gethostbyname(host)

    def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
        if not answered_locally(host):
            raise refuse(host)
        return real_gethostbyname_ex(host)

    def gethostbyaddr(host: str) -> tuple[str, list[str], list[str]]:
        address = literal(host.strip("[]"))
        if address is None:
            local = answered_locally(host)
        else:  # a reverse lookup: only loopback and /etc/hosts are answered without DNS
            local = address.is_loopback or str(address).lower() in local_addresses
        if not local:
            raise socket.herror(1, "Unknown host")
        return real_gethostbyaddr(host)

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket.gethostbyaddr = gethostbyaddr


_guard_name_resolution()
