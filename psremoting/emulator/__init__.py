"""The WinRM endpoint emulator: a test double of a Windows host, on loopback.

:class:`Emulator` is a real HTTP(S) server that speaks WS-Management and PSRP the way a
Windows WinRM service does, so an unmodified client (pypsrp, pywinrm, psremoting) runs
against it end to end: authentication (Basic, NTLM and Negotiate with message encryption,
HTTPS with a generated certificate), runspace pools, pipelines and their six streams, host
calls, Windows' faults. Commands run in a small PowerShell subset
(:mod:`psremoting.emulator.engine`); Python handlers added with :meth:`Emulator.register`
extend it. It is a test double, not PowerShell: see docs/emulator.md for what it covers.

    with Emulator(users={"user": "password"}, allow_unencrypted=True) as emu:
        wsman = WSMan("127.0.0.1", port=emu.port, ssl=False, auth="basic", encryption="never",
                      username="user", password="password")
"""

from __future__ import annotations

import hmac
import logging
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from psremoting.emulator.faults import FaultKnobs, WSManFault
from psremoting.emulator.server import HTTPRequest, HTTPResponse, Listener, RequestHandler
from psremoting.emulator.shell_registry import ShellRegistry
from psremoting.emulator.stats import Stats
from psremoting.emulator.wsman import WSManService

log = logging.getLogger(__name__)

__all__ = ["Emulator", "EmulatorFleet", "FaultKnobs", "Stats", "WSManFault"]

Handler = Callable[[Any], Any]


def _default_engine_factory() -> Callable[..., Any]:
    from psremoting.emulator.engine import Engine

    return Engine


class _Computer(RequestHandler):
    """One emulated computer: its WinRM service, shells and listener."""

    def __init__(self, emulator: Emulator, name: str, root: Path) -> None:
        self.emulator = emulator
        self.name = name
        self.root = root
        self.registry = ShellRegistry(
            idle_timeout=emulator.idle_timeout, max_shells_per_user=emulator.max_shells_per_user
        )
        self.service = WSManService(
            computer_name=name,
            registry=self.registry,
            stats=emulator.stats,
            engine_factory=emulator._resolve_engine_factory,
            engine_kwargs=self._engine_kwargs,
            configurations=emulator.configurations,
            knobs=emulator.faults,
            max_envelope_size=emulator.max_envelope_size,
            run_cmd_script=self._run_cmd_script,
            auth_methods=emulator.auth,
            allow_unencrypted=emulator.allow_unencrypted,
            protocol_version=emulator.protocol_version,
        )
        self.listener: Listener | None = None

    def _engine_kwargs(self) -> dict[str, Any]:
        from psremoting.emulator.auth import current_delegation

        kwargs: dict[str, Any] = {
            "computer_name": self.name,
            "root": self.root,
            "commands": self.emulator._handlers,
            "logon": self.emulator._logon,
            "services": self.emulator.services,
            "processes": self.emulator.processes,
            "registry": self.emulator.registry_keys,
            "events": self.emulator.events,
            "allow_unencrypted": self.emulator.allow_unencrypted,
            "environment": self.emulator.environment,
        }
        delegated = current_delegation()  # CredSSP, Kerberos delegation: for the second hop
        if delegated is not None:
            kwargs["delegated"] = delegated
        return kwargs

    def start(self, host: str, port: int) -> str:
        from psremoting.emulator.auth import AuthPolicy

        emu = self.emulator
        self.policy = AuthPolicy(
            emu.auth, emu.users, https=emu.https, allow_unencrypted=emu.allow_unencrypted
        )
        self.policy.certificate_users = (
            emu._certificate_users
        )  # shared: issued certificates map on every computer
        self.policy.account_states = emu.account_states  # shared: lock_account() applies everywhere
        ssl_context = None
        cert_der = None
        if emu.https:
            ssl_context, cert_der = emu._tls_for(self.name)
        self.registry.start()
        self.listener = Listener(
            host,
            port,
            self,
            ssl_context=ssl_context,
            certificate_der=cert_der,
            name=self.name,
            keepalive_timeout=emu.keepalive_timeout,
        )
        self.listener.start()
        scheme = "https" if emu.https else "http"
        shown = f"[{host}]" if ":" in host else host
        return f"{scheme}://{shown}:{self.listener.port}/wsman"

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.registry.stop()

    # -- RequestHandler --------------------------------------------------------------------
    def network_is_cut(self) -> bool:
        return self.emulator.faults.network_is_cut()

    def new_connection(
        self, certificate_der: bytes | None, client_certificate_der: bytes | None = None
    ) -> Callable[[HTTPRequest], HTTPResponse]:
        from psremoting.emulator.auth import delegation_scope

        auth = self.policy.new_connection(certificate_der, client_certificate_der)
        knobs = self.emulator.faults
        service = self.service

        def answer(request: HTTPRequest) -> HTTPResponse:
            if knobs.should_drop():
                return HTTPResponse(0, drop=True)
            if request.path.split("?")[0].rstrip("/").lower() != "/wsman":
                return HTTPResponse(404, close=False)
            if request.method != "POST":
                return HTTPResponse(405, headers=[("Allow", "POST")])
            outcome = auth.accept(request.headers, request.body)
            if not outcome.accepted:
                return HTTPResponse(outcome.status, headers=list(outcome.headers))
            if outcome.body and knobs.should_reject_logon():
                auth.forget()
                return HTTPResponse(401, headers=self.policy.challenge_headers())
            if not outcome.body:
                return HTTPResponse(200, headers=list(outcome.headers))
            early = _action_of(outcome.body) if knobs.armed else None
            if early is not None and knobs.take_cut(early, "before"):
                return HTTPResponse(0, drop=True, reset=True)  # lost on its way: never run
            with delegation_scope(auth.delegated):
                status, body = service.handle(
                    outcome.body, username=outcome.username or "", client_ip=request.client_ip
                )
            action = _action_of(outcome.body)
            delay = knobs.delay_for(action)
            if delay > 0:
                threading.Event().wait(delay)
            if knobs.should_lose_answer(action):
                return HTTPResponse(0, drop=True)
            body = knobs.rewritten(action, body)
            cut = next(
                (when for when in ("during", "after") if action and knobs.take_cut(action, when)), None
            )
            wrapped, content_type = auth.wrap(body)
            return HTTPResponse(status, wrapped, [*outcome.headers, ("Content-Type", content_type)], cut=cut)

        return answer

    def _run_cmd_script(self, username: str) -> Callable[[], Any]:
        """How the cmd shell of `username` makes the engine of one command."""

        def make() -> Any:
            return self.emulator._resolve_engine_factory()(
                computer_name=self.name,
                username=username,
                root=self.root,
                commands=self.emulator._handlers,
                services=self.emulator.services,
                processes=self.emulator.processes,
                registry=self.emulator.registry_keys,
                events=self.emulator.events,
                environment=self.emulator.environment,
            )

        return make


def _action_of(body: bytes) -> str | None:
    start = body.find(b"Action")
    if start < 0:
        return None
    gt = body.find(b">", start)
    lt = body.find(b"<", gt)
    if gt < 0 or lt < 0:
        return None
    return body[gt + 1 : lt].decode("utf-8", "replace").strip()


class Emulator:
    """A Windows host's WinRM endpoint on loopback (see the module docstring).

    ``auth``: any of ``basic``, ``ntlm``, ``negotiate``. ``users``: name -> password.
    ``allow_unencrypted``: Windows' AllowUnencrypted (needed for Basic over plain HTTP).
    ``root``: the folder shown as ``C:\\``; None makes a temporary one, removed on stop.
    ``idle_timeout``: seconds without a request after which a shell is closed.
    ``max_shells_per_user`` and ``max_envelope_size`` (bytes): Windows' quotas.
    ``certfile``/``keyfile``: serve this certificate instead of a generated one (https).
    ``keepalive_timeout``: seconds an idle keep-alive connection stays open (HTTP.sys: 120);
    the client must authenticate the next connection again.
    ``environment``: machine environment variables (name -> value) the host's sessions see
    beside the ones every Windows host has.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        https: bool = False,
        auth: Sequence[str] = ("basic", "ntlm", "negotiate"),
        users: Mapping[str, str] | None = None,
        computer_name: str = "SERVER01",
        root: str | Path | None = None,
        *,
        allow_unencrypted: bool = False,
        idle_timeout: float = 7200.0,
        max_shells_per_user: int = 30,
        max_envelope_size: int = 512000,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        keepalive_timeout: float = 120.0,
        configurations: Iterable[Any] = (),
        services: Iterable[Mapping[str, Any]] | None = None,
        processes: Iterable[Mapping[str, Any]] | None = None,
        registry: Mapping[str, Mapping[str, Any]] | None = None,
        events: Iterable[Mapping[str, Any]] = (),
        environment: Mapping[str, str] | None = None,
        protocol_version: str = "2.3",
        ps_version: str = "5.1",
    ) -> None:
        if protocol_version not in ("2.1", "2.2", "2.3"):
            raise ValueError(f"protocol_version must be 2.1, 2.2 or 2.3, not {protocol_version!r}")
        if ps_version not in ("5.1", "7.4", "7"):
            raise ValueError(f"ps_version must be 5.1 or 7.4, not {ps_version!r}")
        #: The PSRP protocol version the emulated host announces (--protocol-version).
        self.protocol_version = protocol_version
        #: What Microsoft.PowerShell runs: Windows PowerShell 5.1 or PowerShell 7.4 (--ps-version).
        self.ps_version = "7" if ps_version.startswith("7") else "5.1"
        from psremoting.emulator.config import DEFAULT_PROCESSES, DEFAULT_SERVICES, session_configurations

        #: The session configurations (endpoints) by lower-case name: Microsoft.PowerShell,
        #: Microsoft.PowerShell32, PowerShell.7 and those given (emulator.config).
        self.configurations = session_configurations(configurations, default_version=self.ps_version)
        #: The services Get-Service lists on every computer of this emulator.
        self.services: list[dict[str, Any]] = [
            dict(s) for s in (services if services is not None else DEFAULT_SERVICES)
        ]
        #: The processes Get-Process lists on every computer of this emulator.
        self.processes: list[dict[str, Any]] = [
            dict(p) for p in (processes if processes is not None else DEFAULT_PROCESSES)
        ]
        #: Registry keys and values Get-ItemProperty reads beside the default ones.
        self.registry_keys: dict[str, dict[str, Any]] = {str(k): dict(v) for k, v in (registry or {}).items()}
        #: Event log entries Get-EventLog lists first (newest first).
        self.events: list[dict[str, Any]] = [dict(e) for e in events]
        #: Machine environment variables every session's ``$env:`` has beside Windows' own.
        self.environment: dict[str, str] = {str(k): str(v) for k, v in (environment or {}).items()}
        if keepalive_timeout <= 0:
            raise ValueError(
                f"keepalive_timeout must be a positive number of seconds, not {keepalive_timeout!r}"
            )
        self.keepalive_timeout = float(keepalive_timeout)
        self.host = host
        self._port = port
        self.https = https
        self.auth: tuple[str, ...] = tuple(auth)
        self.users: dict[str, str] = dict(users if users is not None else {"user": "password"})
        self.computer_name = computer_name
        self.allow_unencrypted = allow_unencrypted
        self.idle_timeout = idle_timeout
        self.max_shells_per_user = max_shells_per_user
        self.max_envelope_size = max_envelope_size
        self._certfile = Path(certfile) if certfile else None
        self._keyfile = Path(keyfile) if keyfile else None
        self._root_arg = Path(root) if root is not None else None
        self._handlers: dict[str, Handler] = {}
        self.faults = FaultKnobs()
        self.faults.lose_shells_hook = self.lose_shells
        self.faults.cut_network_hook = self._reset_connections
        self._computers: dict[str, _Computer] = {}
        self.stats = Stats(
            lambda: sum(len(c.registry) for c in self._computers.values()),
            lambda: sum(
                c.listener.open_connections for c in self._computers.values() if c.listener is not None
            ),
        )
        #: The command engine class (``Engine(computer_name=, username=, root=, commands=)``);
        #: None means :class:`psremoting.emulator.engine.Engine`. Tests may swap it.
        self.engine_factory: Callable[..., Any] | None = None
        self._certificate_users: dict[str, str] = {}
        #: Accounts that may not log on (`lock_account`, `disable_account`): name -> state.
        self.account_states: dict[str, str] = {}
        self._client_authority: Any = None
        self._workdir: Path | None = None
        self._ca_file: Path | None = None
        self._tls_cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._started = False
        self.url = ""
        self.port = 0

    def __repr__(self) -> str:
        state = self.url if self._started else "stopped"
        return f"Emulator({self.computer_name!r}, {state}, users=<{len(self.users)} user(s)>, auth={self.auth!r})"

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Open the listener (idempotent) and return self."""
        with self._lock:
            if self._started:
                return self
            self._workdir = Path(tempfile.mkdtemp(prefix="psremoting-emulator-"))
            root = self._root_arg if self._root_arg is not None else self._workdir / "C"
            root.mkdir(parents=True, exist_ok=True)
            computer = _Computer(self, self.computer_name, root)
            try:
                self.url = computer.start(self.host, self._port)
            except BaseException:
                shutil.rmtree(self._workdir, ignore_errors=True)
                raise
            assert computer.listener is not None
            self.port = computer.listener.port
            self._computers[self.computer_name.lower()] = computer
            self._started = True
            return self

    def stop(self) -> None:
        """Close every listener and shell; remove the temporary folders."""
        with self._lock:
            if not self._started:
                return
            computers = list(self._computers.values())
            self._computers.clear()
            self._started = False
        for computer in computers:
            try:
                computer.stop()
            except Exception:
                log.exception("stopping the emulated computer %s failed", computer.name)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- configuration -------------------------------------------------------------------------

    def register(self, name: str, handler: Handler) -> None:
        """Add (or replace) a command: ``handler(ctx)`` returns the items to output."""
        self._handlers[name] = handler

    def add_computer(self, name: str) -> str:
        """Open another listener that answers as computer ``name``; returns its URL."""
        if not self._started:
            self.start()
        with self._lock:
            existing = self._computers.get(name.lower())
            if existing is not None and existing.listener is not None:
                return self._url_of(existing)
            assert self._workdir is not None
            root = self._workdir / "computers" / name.upper()
            root.mkdir(parents=True, exist_ok=True)
            computer = _Computer(self, name, root)
            url = computer.start(self.host, 0)
            self._computers[name.lower()] = computer
            return url

    def _url_of(self, computer: _Computer) -> str:
        assert computer.listener is not None
        scheme = "https" if self.https else "http"
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{shown}:{computer.listener.port}/wsman"

    def url_for(self, name: str) -> str:
        """The URL of computer ``name`` (this emulator's own name included), adding it if new."""
        if name.lower() == self.computer_name.lower():
            if not self._started:
                self.start()
            return self.url
        return self.add_computer(name)

    @property
    def computers(self) -> list[str]:
        """Names of the computers this emulator answers as."""
        return [c.name for c in self._computers.values()]

    @property
    def ca_file(self) -> str | None:
        """The CA certificate a client verifies the HTTPS listener against (None over HTTP)."""
        return str(self._ca_file) if self._ca_file is not None else None

    def lose_shells(self) -> None:
        """Forget every shell of every computer (as a restart of the WinRM service does)."""
        for computer in list(self._computers.values()):
            computer.registry.forget_all()

    def pass_idle_time(self, seconds: float) -> None:
        """Let ``seconds`` pass with no client request to any shell of any computer: shells
        idle past their IdleTimeOut are reaped at once, as WinRM reaps them (a Get of one
        then meets Windows' InvalidSelectors fault)."""
        for computer in list(self._computers.values()):
            computer.registry.pass_idle_time(seconds)

    def cut_network(self, seconds: float | None = None) -> None:
        """Reset every connection, open or new, for ``seconds`` (None: until
        :meth:`restore_network`), as a network outage or a stopped WinRM service looks to a
        client. Shells and running pipelines live on, as they do on Windows."""
        self.faults.cut_network(seconds)

    def restore_network(self) -> None:
        """End a :meth:`cut_network` early."""
        self.faults.restore_network()

    def _reset_connections(self) -> None:
        for computer in list(self._computers.values()):
            if computer.listener is not None:
                computer.listener.reset_connections()

    def service(self, computer: str | None = None) -> WSManService:
        """The WinRM service of a computer (default: this one), to call without sockets:
        ``emu.service().handle(soap_bytes, username="user")`` -> ``(status, envelope)``."""
        if not self._started:
            self.start()
        found = self._computers.get((computer or self.computer_name).lower())
        if found is None:
            raise KeyError(f"this emulator does not answer as {computer!r}; add it with add_computer()")
        return found.service

    def shells(self, computer: str | None = None) -> int:
        """How many shells are open (on one computer, or all)."""
        if computer is not None:
            found = self._computers.get(computer.lower())
            return len(found.registry) if found else 0
        return self.stats.open_shells

    # -- internals -----------------------------------------------------------------------------

    def _logon(self, username: str, password: str) -> bool:
        """Whether a user name (any Windows form) and password log on to this emulator's computers."""
        from psremoting.emulator.auth import bare_user_name

        wanted = bare_user_name(username).lower()
        return any(
            bare_user_name(user).lower() == wanted and hmac.compare_digest(secret.encode(), password.encode())
            for user, secret in self.users.items()
        )

    def lock_account(self, user: str) -> None:
        """Lock `user` out, as too many wrong passwords do on Windows: every logon fails."""
        self.account_states[user.rpartition("\\")[2].lower()] = "locked"

    def disable_account(self, user: str) -> None:
        """Disable `user` (Disable-LocalUser): every logon fails."""
        self.account_states[user.rpartition("\\")[2].lower()] = "disabled"

    def issue_client_certificate(self, user: str) -> tuple[str, str]:
        """A client certificate for ``user`` (certificate authentication, ``auth`` including
        ``"certificate"``, over HTTPS): ``(cert.pem, key.pem)`` paths, mapped to ``user`` by its
        UPN ``user@localhost`` as WinRM's ClientCertificate mapping does."""
        if "certificate" not in self.auth or not self.https:
            raise ValueError("certificate authentication needs https=True and 'certificate' in auth")
        if user not in self.users:
            raise ValueError(
                f"{user!r} is not a user of this emulator (WinRM maps certificates to local users)"
            )
        upn = f"{user}@localhost"
        cert_file, key_file = self._client_ca().issue(upn)
        self._certificate_users[upn.lower()] = user
        return str(cert_file), str(key_file)

    def _client_ca(self) -> Any:
        from psremoting.emulator.tls import ClientCertificateAuthority

        if self._client_authority is None:
            assert self._workdir is not None, "start the emulator first"
            self._client_authority = ClientCertificateAuthority.create(self._workdir / "tls" / "clients")
        return self._client_authority

    def _resolve_engine_factory(self) -> Callable[..., Any]:
        return self.engine_factory if self.engine_factory is not None else _default_engine_factory()

    def _tls_for(self, name: str) -> tuple[Any, bytes]:
        import ssl

        from psremoting.emulator.tls import ServerCertificate, make_server_certificate, server_ssl_context

        if self._certfile is not None:
            key = self._keyfile or self._certfile
            cert = ServerCertificate(ca_file=self._certfile, cert_file=self._certfile, key_file=key)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self._certfile), str(key))
            if self._ca_file is None:
                self._ca_file = self._certfile  # a self-signed certificate is its own CA
            return context, cert.certificate_der()
        assert self._workdir is not None
        directory = self._workdir / "tls" / f"{name.lower()}-{uuid.uuid4().hex[:6]}"
        cert = make_server_certificate(name, directory)
        if self._ca_file is None:
            # One CA file for every computer: the clients trust a bundle of all of them.
            self._ca_file = self._workdir / "tls" / "ca-bundle.pem"
        with open(self._ca_file, "ab") as bundle:
            bundle.write(Path(cert.ca_file).read_bytes())
        context = server_ssl_context(cert)
        if "certificate" in self.auth:
            from psremoting.emulator.tls import accept_client_certificates

            accept_client_certificates(context, self._client_ca().ca_file)
        return context, cert.certificate_der()


class EmulatorFleet:
    """Many emulated computers behind one object: ``fleet.url_for(name)`` starts them on demand.

    Names are case-insensitive; all computers share users, auth, handlers, faults and stats.
    """

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        auth: Sequence[str] = ("basic", "ntlm", "negotiate"),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("computer_name", "SERVER01")
        self.emulator = Emulator(users=users, auth=auth, **kwargs)

    def url_for(self, name: str) -> str:
        return self.emulator.url_for(name)

    def register(self, name: str, handler: Handler) -> None:
        self.emulator.register(name, handler)

    @property
    def faults(self) -> FaultKnobs:
        return self.emulator.faults

    @property
    def stats(self) -> Stats:
        return self.emulator.stats

    @property
    def ca_file(self) -> str | None:
        return self.emulator.ca_file

    @property
    def users(self) -> dict[str, str]:
        return self.emulator.users

    def start(self) -> EmulatorFleet:
        self.emulator.start()
        return self

    def stop(self) -> None:
        self.emulator.stop()

    def __enter__(self) -> EmulatorFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
