"""A throwaway MIT Kerberos realm on loopback, for testing Kerberos against the emulator.

Windows hosts in a domain authenticate WinRM clients with Kerberos (inside Negotiate). The
emulator's acceptor (:mod:`psremoting.emulator.auth`) handles Kerberos tokens through
pyspnego and GSSAPI as soon as the process has a service keytab, exactly as any GSSAPI
service does: ``KRB5_KTNAME`` names the keytab and ``KRB5_CONFIG`` the realm.
:class:`TestRealm` makes both: it runs MIT's ``krb5kdc`` (Debian: ``krb5-kdc``) with a fresh
database in a private folder, creates users and the ``HTTP/`` and ``host/`` service
principals of the emulated computer, and exports their keys to a keytab.

    with TestRealm(tmp_path, hostname="server01.psremoting.test") as realm:
        realm.add_user("user", "Password01")
        with realm.activated():          # or pytest's monkeypatch.setenv(realm.environment())
            ...  # pypsrp auth="kerberos", username="user@PSREMOTING.TEST",
                 # negotiate_hostname_override="server01.psremoting.test"

The realm's krb5.conf keeps everything on loopback: its only KDC is ``127.0.0.1:<port>``, DNS
lookups of KDCs, realms and host names are off, and no other realm is named. :meth:`activated`
points the process at the realm and puts back the variables it found (the test suite's root
conftest.py points them at a KDC-less loopback realm for the rest of the session).

Passwords go to the admin tools through standard input, never on a command line; the
database, stash and keytab are created owner-only inside ``directory``, and :meth:`stop`
ends the KDC it started (by its process, not by name).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["KerberosUnavailable", "TestRealm", "kdc_binaries"]

_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
_TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local")
_ENVIRONMENT = ("KRB5_CONFIG", "KRB5_KDC_PROFILE", "KRB5_KTNAME", "KRB5CCNAME")


class KerberosUnavailable(RuntimeError):
    """The MIT KDC tools or the Python Kerberos bindings are missing on this machine."""


def kdc_binaries() -> dict[str, str]:
    """Paths of ``krb5kdc``, ``kdb5_util`` and ``kadmin.local``; raises KerberosUnavailable."""
    found: dict[str, str] = {}
    search = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    for tool in _TOOLS:
        path = shutil.which(tool, path=search)
        if path is None:
            raise KerberosUnavailable(
                f"{tool} was not found: install MIT Kerberos (Debian/Ubuntu: "
                "apt-get install krb5-kdc krb5-admin-server krb5-user)"
            )
        found[tool] = path
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestRealm:
    """An MIT KDC for one realm, its database and a service keytab, under ``directory``."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self, directory: Path, *, realm: str = "PSREMOTING.TEST", hostname: str = "server01.psremoting.test"
    ) -> None:
        self.directory = Path(directory)
        self.realm = realm.upper()
        self.hostname = hostname.lower()
        self.krb5_conf = self.directory / "krb5.conf"
        self.kdc_conf = self.directory / "kdc.conf"
        self.keytab = self.directory / "service.keytab"
        self.ccache = self.directory / "client.ccache"
        self.port = 0
        self._tools: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = f"port {self.port}" if self._process else "stopped"
        return f"TestRealm({self.realm!r}, {state})"

    # -- life ---------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> TestRealm:
        """Create the database and service principals, start the KDC, wait until it answers."""
        self._tools = kdc_binaries()
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.port = _free_port()
        self._write_configuration()
        master = secrets.token_urlsafe(24)
        self._run([self._tools["kdb5_util"], "create", "-s", "-r", self.realm], f"{master}\n{master}\n")
        principals = [f"HTTP/{self.hostname}", f"host/{self.hostname}"]
        script = "".join(f"addprinc -randkey {p}\n" for p in principals)
        script += f"ktadd -k {self.keytab} {' '.join(principals)}\n"
        self._kadmin(script)
        os.chmod(self.keytab, 0o600)
        log = open(self.directory / "kdc.out", "wb")  # noqa: SIM115 - handed to the child process
        try:
            self._process = subprocess.Popen(
                [self._tools["krb5kdc"], "-n", "-r", self.realm],
                env=self._tool_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        self._wait_until_listening(timeout)
        return self

    def stop(self) -> None:
        """Stop the KDC this object started (idempotent)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> TestRealm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- principals ---------------------------------------------------------------------------
    def add_user(self, name: str, password: str) -> str:
        """Create ``name@REALM`` with ``password``; return the principal."""
        if any(c in name + password for c in "\r\n\"'") or " " in name:
            raise ValueError(
                "user names and passwords for the test realm must not contain quotes or line breaks"
            )
        self._kadmin(f'addprinc -pw "{password}" {name}\n')
        return f"{name}@{self.realm}"

    def add_service(self, hostname: str, service: str = "host") -> str:
        """Create ``service/hostname@REALM`` and add its key to the service keytab.

        Clients build the SPN from the host they connect to (pypsrp: ``host/<URL host>``), so a
        client that reaches the emulator as ``127.0.0.1`` needs ``host/127.0.0.1``.
        """
        if not hostname or any(c in hostname + service for c in " \r\n\"'/@"):
            raise ValueError("a service host name must be a plain DNS name or address")
        principal = f"{service}/{hostname.lower()}"
        self._kadmin(f"addprinc -randkey {principal}\nktadd -k {self.keytab} {principal}\n")
        os.chmod(self.keytab, 0o600)
        return f"{principal}@{self.realm}"

    def kinit(self, principal: str, password: str) -> str:
        """Get a ticket for ``principal`` into the realm's ccache (``kinit``, password on stdin).

        Returns the ccache name (``FILE:...``), the one :meth:`environment` exports.
        """
        search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/bin"])
        kinit = shutil.which("kinit", path=search)
        if kinit is None:
            raise KerberosUnavailable("kinit was not found: install krb5-user (Debian/Ubuntu)")
        ccache = f"FILE:{self.ccache}"
        self._run([kinit, "-c", ccache, principal], f"{password}\n")
        return ccache

    def environment(self) -> dict[str, str]:
        """Environment variables that point GSSAPI (client and acceptor) at this realm."""
        return {
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.kdc_conf),
            "KRB5_KTNAME": f"FILE:{self.keytab}",
            "KRB5CCNAME": f"FILE:{self.ccache}",
        }

    @contextlib.contextmanager
    def activated(self) -> Iterator[TestRealm]:
        """Within this block the process (and its children) use this realm; the variables are
        put back as they were afterwards (not thread-safe: environment variables are global)."""
        saved = {name: os.environ.get(name) for name in _ENVIRONMENT}
        os.environ.update(self.environment())
        try:
            yield self
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    # -- helpers ------------------------------------------------------------------------------
    def _write_configuration(self) -> None:
        d = self.directory
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            f"    default_realm = {self.realm}\n"
            "    dns_lookup_kdc = false\n"
            "    dns_lookup_realm = false\n"
            "    dns_uri_lookup = false\n"
            "    dns_canonicalize_hostname = false\n"
            "    rdns = false\n"
            '    qualify_shortname = ""\n'
            "    udp_preference_limit = 1\n"
            "    forwardable = true\n"
            "[realms]\n"
            f"    {self.realm} = {{\n        kdc = 127.0.0.1:{self.port}\n    }}\n"
            "[domain_realm]\n"
            f"    {self.hostname} = {self.realm}\n",
            encoding="utf-8",
        )
        self.kdc_conf.write_text(
            "[kdcdefaults]\n"
            f"    kdc_listen = 127.0.0.1:{self.port}\n"
            f"    kdc_tcp_listen = 127.0.0.1:{self.port}\n"
            "[realms]\n"
            f"    {self.realm} = {{\n"
            f"        database_name = {d / 'principal'}\n"
            f"        key_stash_file = {d / 'stash'}\n"
            f"        acl_file = {d / 'kadm5.acl'}\n"
            "        max_life = 1h\n"
            "        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n"
            "    }\n"
            "[logging]\n"
            f"    kdc = FILE:{d / 'kdc.log'}\n",
            encoding="utf-8",
        )

    def _tool_environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        env.update(KRB5_CONFIG=str(self.krb5_conf), KRB5_KDC_PROFILE=str(self.kdc_conf))
        return env

    def _run(self, argv: list[str], stdin: str) -> None:
        done = subprocess.run(
            argv,
            input=stdin.encode(),
            env=self._tool_environment(),
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise KerberosUnavailable(
                f"{Path(argv[0]).name} failed (exit {done.returncode}): {' / '.join(tail)}"
            )

    def _kadmin(self, script: str) -> None:
        self._run([self._tools["kadmin.local"], "-r", self.realm], script)

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                output = (self.directory / "kdc.out").read_text(errors="replace").strip()
                raise KerberosUnavailable(f"krb5kdc exited with {self._process.returncode}: {output[-300:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise KerberosUnavailable(f"krb5kdc did not listen on 127.0.0.1:{self.port} within {timeout:g}s")


def delegated_ticket(acceptor: object) -> object | None:
    """The forwarded ticket (GSSAPI's delegated credential) a completed Kerberos acceptor
    received, or None: pyspnego's Negotiate context wraps a GSSAPI one, which wraps the
    ``gssapi.SecurityContext`` holding ``delegated_creds``."""
    current: object | None = acceptor
    for _ in range(4):
        if current is None:
            return None
        with contextlib.suppress(Exception):
            creds: object | None = getattr(current, "delegated_creds", None)
            if creds is not None:
                return creds
        try:
            current = getattr(current, "_context", None)
        except Exception:  # pyspnego's Negotiate raises before a mechanism is chosen
            return None
    return None


def service_ticket(ticket: Any, computer: str, service: str = "host") -> bool:
    """Log on at `computer` with a forwarded ticket, as a Windows server does at the second
    hop: ask the KDC, with that TGT, for a ticket to ``host/<computer>``. False when the KDC
    refuses (no such service, a ticket that was not forwardable) or GSSAPI is missing."""
    try:
        import gssapi
        from gssapi.raw import GSSError
    except ImportError:
        return False
    try:
        name = gssapi.Name(f"{service}@{computer.lower()}", gssapi.NameType.hostbased_service)
        context = gssapi.SecurityContext(
            name=name, creds=ticket, usage="initiate", mech=gssapi.MechType.kerberos
        )
        context.step()
    except GSSError:
        return False
    return True
