"""Connection settings: `SessionOption` (New-PSSessionOption), `PSCredential`, and
`ConnectionInfo`, the validated, resolved form the runspace-pool layer connects with.

Validation happens here, before any network traffic, so that an impossible combination
(Basic over plain HTTP, certificate authentication without TLS, a credential together with
a certificate...) fails at once with a message saying what to change.

`set_endpoint_override(fn)` lets a caller send every session for a computer name to another
URL (the shell's ``--emulator`` mode does this), while the session keeps the name typed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from psremoting.protocol.errors import InvalidOptionError
from psremoting.protocol.hostnames import parse_computer_name, shown_name
from psremoting.protocol.secrets import PSCredential, SecureString

__all__ = [
    "AUTHENTICATION_METHODS",
    "SHELL_URI_PREFIX",
    "PSCredential",
    "SecureString",
    "SessionOption",
    "EndpointOverride",
    "ConnectionInfo",
    "set_endpoint_override",
    "get_endpoint_override",
    "resolve_configuration_name",
    "short_configuration_name",
]

AUTHENTICATION_METHODS: tuple[str, ...] = ("negotiate", "ntlm", "kerberos", "credssp", "basic", "certificate")
SHELL_URI_PREFIX = "http://schemas.microsoft.com/powershell/"
DEFAULT_CONFIGURATION_NAME = "Microsoft.PowerShell"
_AUTH_ALIASES = {"default": "negotiate", "negotiatewithimplicitcredential": "negotiate"}


def credential_from_environment() -> PSCredential | None:
    """PSREMOTING_USERNAME / PSREMOTING_PASSWORD, when the user name is set."""
    user = os.environ.get("PSREMOTING_USERNAME")
    if not user:
        return None
    return PSCredential(user, os.environ.get("PSREMOTING_PASSWORD", ""))


@dataclass(frozen=True)
class SessionOption:
    """Advanced session settings, as New-PSSessionOption makes them.

    Times are in **seconds** (PowerShell's cmdlet takes milliseconds; use
    `SessionOption.from_powershell(...)` to pass its parameter names and units).

    - skip_ca_check / skip_cn_check: accept an HTTPS certificate from an unknown authority /
      for another name (apart, as -SkipCACheck and -SkipCNCheck). Off by default: certificates
      are verified; one no trusted CA signed is accepted when its SHA-256 fingerprint is
      trusted in known_hosts (``psremoting trust``; the shell asks at the first connection).
    - cert_fingerprint: accept only the certificate with this SHA-256 fingerprint
      (``SHA256:<base64>`` or hex; a CI job pins its server so), whatever signed it.
    - spn: the Kerberos service principal to ask a ticket for, ``SERVICE/HOST`` or ``HOST``
      (``host/<computer name>`` by default): for a server registered under another name.
    - kerberos_delegate: forward the Kerberos ticket to the server (delegation: the second
      hop, as CredSSP gives it with the password).
    - open_timeout: how long to wait for the connection and the session to open (180 s).
    - operation_timeout: the WSMan OperationTimeout for one request (180 s). Receives are
      polled in shorter slices anyway, so Ctrl+C and deadlines stay responsive.
    - cancel_timeout: how long to wait for a stopped command to end (60 s).
    - idle_timeout: how long the server keeps an idle session; None = server default, else
      at least 60 s.
    - max_envelope_size: the WSMan MaxEnvelopeSize in bytes (None = 150 KiB, raised to 500 KiB
      for servers that allow it).
    - culture / ui_culture: sent as the WSMan Locale / DataLocale (default en-US).
    - proxy: an HTTP(S) proxy URL; no_proxy=True ignores proxies from the environment.
    - no_encryption: allow unencrypted HTTP (needed for Basic over HTTP; the server must
      allow it too).
    - max_connection_retries: retries of a failed connection attempt (default 0).
    - max_retry_connection_time: how long an open session rides out a network failure
      (PowerShell's robust connections, WinRM's 4 minutes): the request goes again on a new
      connection every second; past it the session becomes Disconnected. 0: fail at once.
    - no_machine_profile: do not load the user profile on the server.
    - application_arguments: a dict the server sees as $PSSenderInfo.ApplicationArguments.
    """

    skip_ca_check: bool = False
    skip_cn_check: bool = False
    skip_revocation_check: bool = False
    cert_fingerprint: str | None = None
    kerberos_delegate: bool = False
    spn: str | None = None
    open_timeout: float = 180.0
    operation_timeout: float = 180.0
    cancel_timeout: float = 60.0
    idle_timeout: float | None = None
    max_envelope_size: int | None = None
    culture: str | None = None
    ui_culture: str | None = None
    proxy: str | None = None
    no_proxy: bool = False
    no_encryption: bool = False
    max_connection_retries: int = 0
    max_retry_connection_time: float = 240.0
    no_machine_profile: bool = False
    application_arguments: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("open_timeout", "operation_timeout", "cancel_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise InvalidOptionError(
                    f"SessionOption {name} must be a positive number of seconds, not {value!r}."
                )
        if self.idle_timeout is not None and self.idle_timeout < 60:
            raise InvalidOptionError(
                f"SessionOption idle_timeout must be at least 60 seconds (the server minimum), not {self.idle_timeout!r}; "
                "leave it None to use the server's default."
            )
        if self.max_envelope_size is not None and self.max_envelope_size < 8192:
            raise InvalidOptionError(
                f"SessionOption max_envelope_size is in bytes and must be at least 8192, not {self.max_envelope_size!r}."
            )
        if not isinstance(self.max_retry_connection_time, (int, float)) or self.max_retry_connection_time < 0:
            raise InvalidOptionError(
                "SessionOption max_retry_connection_time must be a number of seconds, 0 or more, "
                f"not {self.max_retry_connection_time!r}."
            )
        if self.max_connection_retries < 0:
            raise InvalidOptionError("SessionOption max_connection_retries cannot be negative.")
        if self.spn is not None and (not self.spn.strip() or any(c.isspace() for c in self.spn.strip())):
            raise InvalidOptionError(
                f"SessionOption spn {self.spn!r} is not a service principal name: give SERVICE/HOST or HOST."
            )
        if self.cert_fingerprint is not None:
            from psremoting.transport.trust import parse_fingerprint

            object.__setattr__(self, "cert_fingerprint", parse_fingerprint(self.cert_fingerprint))
        if self.proxy is not None:
            parts = urlsplit(self.proxy)
            if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
                raise InvalidOptionError(
                    f"SessionOption proxy {self.proxy!r} is not a proxy URL; give one such as http://proxy:3128."
                )
            if self.no_proxy:
                raise InvalidOptionError("SessionOption proxy and no_proxy cannot be used together.")

    @classmethod
    def from_powershell(cls, **params: Any) -> SessionOption:
        """Build from New-PSSessionOption parameter names (case-insensitive, times in ms):
        SkipCACheck, SkipCNCheck, SkipRevocationCheck, OpenTimeout, OperationTimeout,
        CancelTimeout, IdleTimeout, MaxConnectionRetryCount, Culture, UICulture, NoEncryption,
        NoMachineProfile, ProxyAccessType (NoProxyServer), ApplicationArguments; and two
        psremoting extensions: CertificateFingerprint (a pinned SHA-256), KerberosDelegate,
        ServicePrincipalName."""
        kwargs: dict[str, Any] = {}
        for key, value in params.items():
            k = key.lower().removesuffix("msec")
            if k in (
                "skipcacheck",
                "skipcncheck",
                "skiprevocationcheck",
                "noencryption",
                "nomachineprofile",
                "kerberosdelegate",
            ):
                target = {
                    "kerberosdelegate": "kerberos_delegate",
                    "skipcacheck": "skip_ca_check",
                    "skipcncheck": "skip_cn_check",
                    "skiprevocationcheck": "skip_revocation_check",
                    "noencryption": "no_encryption",
                    "nomachineprofile": "no_machine_profile",
                }[k]
                kwargs[target] = bool(value)
            elif k in ("opentimeout", "operationtimeout", "canceltimeout"):
                # PowerShell: 0 means "no limit"; a day stands in for that.
                kwargs[k.replace("timeout", "_timeout")] = _ms(value, key) or 86400.0
            elif k == "idletimeout":
                kwargs["idle_timeout"] = None if int(value) == -1 else _ms(value, key)
            elif k in ("maxconnectionretrycount", "maximumconnectionretrycount"):
                kwargs["max_connection_retries"] = int(value)
            elif k in ("serviceprincipalname", "spn"):
                kwargs["spn"] = str(value)
            elif k in ("certificatefingerprint", "certfingerprint"):
                kwargs["cert_fingerprint"] = str(value)
            elif k == "culture":
                kwargs["culture"] = str(value)
            elif k == "uiculture":
                kwargs["ui_culture"] = str(value)
            elif k == "proxyaccesstype":
                kwargs["no_proxy"] = str(value).lower() == "noproxyserver"
            elif k == "applicationarguments":
                kwargs["application_arguments"] = dict(value)
            else:
                raise InvalidOptionError(
                    f"New-PSSessionOption has no parameter '{key}' that psremoting supports."
                )
        return cls(**kwargs)


def _ms(value: Any, name: str) -> float:
    try:
        ms = float(value)
    except (TypeError, ValueError):
        raise InvalidOptionError(f"{name} must be a number of milliseconds, not {value!r}.") from None
    if ms < 0:
        raise InvalidOptionError(f"{name} cannot be negative.")
    return ms / 1000.0


@dataclass(frozen=True)
class EndpointOverride:
    """Where a computer name really connects (see `set_endpoint_override`)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    authentication: str | None = None
    ca_file: str | None = None


EndpointOverrideFn = Callable[[str], "EndpointOverride | None"]
_override_lock = threading.Lock()
_endpoint_override: EndpointOverrideFn | None = None


def set_endpoint_override(fn: EndpointOverrideFn | None) -> None:
    """Install (or with None remove) a function ``fn(computer_name) -> EndpointOverride | None``.

    When it returns an override, a session to that computer connects to `override.url`
    (with its credentials and authentication when given) while its ComputerName stays what
    the user typed. Used by the shell's ``--emulator`` mode and by tests.
    """
    global _endpoint_override
    with _override_lock:
        _endpoint_override = fn


def get_endpoint_override() -> EndpointOverrideFn | None:
    """The function installed by `set_endpoint_override`, or None."""
    return _endpoint_override


def resolve_configuration_name(name: str | None) -> str:
    """Microsoft.PowerShell -> http://schemas.microsoft.com/powershell/Microsoft.PowerShell;
    a full URI stays as it is."""
    name = (name or DEFAULT_CONFIGURATION_NAME).strip()
    if not name:
        name = DEFAULT_CONFIGURATION_NAME
    if "://" in name:
        return name
    return SHELL_URI_PREFIX + name


def short_configuration_name(uri: str) -> str:
    """The ConfigurationName column: the shell URI without PowerShell's prefix."""
    return uri[len(SHELL_URI_PREFIX) :] if uri.lower().startswith(SHELL_URI_PREFIX.lower()) else uri


def _stored_credential(computer_name: str, username: str | None) -> PSCredential | None:
    """The keyring's credential for `computer_name`, when stored credentials are enabled."""
    from psremoting.transport import credential_store

    if not credential_store.enabled():
        return None
    try:
        return credential_store.lookup(computer_name, username)
    except credential_store.CredentialStoreError:
        return None  # no keyring here: the other ways (environment, prompt, Kerberos) still apply


KERBEROS_PACKAGE_HELP = (
    "Kerberos authentication needs the gssapi Python package, which is not installed: "
    "pip install 'psremoting[kerberos]' (it builds against the system's Kerberos library: "
    "apt install libkrb5-dev, or dnf install krb5-devel, first), then get a ticket with kinit."
)


def require_kerberos() -> None:
    """Fail at once, naming the package, when Kerberos cannot work here (no gssapi)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("gssapi") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InvalidOptionError(KERBEROS_PACKAGE_HELP)


@dataclass(frozen=True)
class ConnectionInfo:
    """Everything needed to reach one WinRM endpoint, validated and resolved.

    `computer_name` is what the user typed (shown in prompts and tables); `host`, `port`,
    `use_ssl` and `path` are where the connection actually goes (they differ when an
    endpoint override applies).
    """

    computer_name: str
    host: str
    port: int
    use_ssl: bool
    path: str
    authentication: str
    credential: PSCredential | None
    shell_uri: str
    session_option: SessionOption
    ca_file: str | None = None
    certificate_pem: str | None = None
    certificate_key_pem: str | None = None
    #: The host name for the Kerberos SPN (``host/<spn_host>``) when it is not `host`: with an
    #: endpoint override the connection goes to the override's address, but the service the
    #: user means, and whose ticket the KDC must issue, is the computer they named.
    spn_host: str | None = None

    @property
    def configuration_name(self) -> str:
        return short_configuration_name(self.shell_uri)

    @property
    def url(self) -> str:
        scheme = "https" if self.use_ssl else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/{self.path}"

    def __repr__(self) -> str:
        user = self.credential.username if self.credential else None
        return (
            f"ConnectionInfo(computer_name={self.computer_name!r}, url={self.url!r}, "
            f"authentication={self.authentication!r}, username={user!r}, "
            f"configuration_name={self.configuration_name!r})"
        )

    @classmethod
    def create(
        cls,
        computer_name: str | None = None,
        *,
        connection_uri: str | None = None,
        credential: PSCredential | tuple[str, str] | None = None,
        port: int | None = None,
        use_ssl: bool = False,
        authentication: str = "negotiate",
        configuration_name: str | None = None,
        session_option: SessionOption | None = None,
        certificate_pem: str | None = None,
        certificate_key_pem: str | None = None,
    ) -> ConnectionInfo:
        """Validate the parameters of New-PSSession / Enter-PSSession and resolve them."""
        option = session_option if session_option is not None else SessionOption()
        if not isinstance(option, SessionOption):
            raise InvalidOptionError("session_option must be a psremoting.SessionOption.")
        cred = PSCredential.coerce(credential)
        auth = _AUTH_ALIASES.get(
            (authentication or "negotiate").lower(), (authentication or "negotiate").lower()
        )
        if auth not in AUTHENTICATION_METHODS:
            raise InvalidOptionError(
                f"Authentication '{authentication}' is not supported; use one of: {', '.join(AUTHENTICATION_METHODS)}."
            )
        if computer_name is not None and connection_uri is not None:
            raise InvalidOptionError("Give either a computer name or a connection URI, not both.")
        if port is not None and not (isinstance(port, int) and 1 <= port <= 65535):
            raise InvalidOptionError(f"The port {port!r} is not valid: give a number from 1 to 65535.")

        path = "wsman"
        if connection_uri is not None:
            parts = urlsplit(connection_uri)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidOptionError(
                    f"The connection URI {connection_uri!r} is not valid: give an absolute http:// or https:// URI, "
                    "for example http://server01:5985/wsman."
                )
            if port is not None:
                raise InvalidOptionError("A port cannot be given with a connection URI; put it in the URI.")
            host = parts.hostname
            ssl = parts.scheme == "https"
            the_port = parts.port or (443 if ssl else 80)
            path = parts.path.strip("/") or "wsman"
            shown = host
        else:
            shown = (computer_name or "localhost").strip()
            if shown == ".":
                shown = "localhost"
            host, named_port = parse_computer_name(shown)
            if named_port is not None:
                if port is not None and port != named_port:
                    raise InvalidOptionError(
                        f"The computer name '{shown_name(shown)}' names the port {named_port}, and the port "
                        f"{port} was given too: give one."
                    )
                port = named_port
                shown = f"[{host}]" if ":" in host else host  # the computer, as tables show it
            ssl = use_ssl
            the_port = port if port is not None else (5986 if ssl else 5985)

        ca_file: str | None = None
        spn_host: str | None = None
        override_fn = get_endpoint_override()
        override = override_fn(shown) if override_fn is not None else None
        if override is not None:
            parts = urlsplit(override.url)
            if not parts.hostname:
                raise InvalidOptionError(f"The endpoint override URL {override.url!r} is not valid.")
            host = parts.hostname
            ssl = parts.scheme == "https"
            the_port = parts.port or (443 if ssl else 80)
            path = parts.path.strip("/") or "wsman"
            if override.username is not None:
                cred = PSCredential(override.username, override.password or "")
            if override.authentication:
                auth = override.authentication.lower()
            ca_file = override.ca_file
            if shown.strip("[]").lower() != host.lower():
                spn_host = shown.strip("[]")
            if auth == "basic" and not ssl and not option.no_encryption:
                # The override's owner (an emulator on loopback) asked for Basic over HTTP.
                option = replace(option, no_encryption=True)

        if cred is None and auth != "certificate":
            cred = credential_from_environment()
            if (cred is None or "PSREMOTING_PASSWORD" not in os.environ) and override is None:
                cred = _stored_credential(shown, cred.username if cred else None) or cred

        if auth == "certificate":
            if not ssl:
                raise InvalidOptionError("Certificate authentication needs HTTPS: set use_ssl=True.")
            if cred is not None and credential is not None:
                raise InvalidOptionError(
                    "A credential cannot be specified when certificate authentication is used."
                )
            if not (certificate_pem and certificate_key_pem):
                raise InvalidOptionError(
                    "Certificate authentication needs certificate_pem and certificate_key_pem (paths to PEM files)."
                )
        elif certificate_pem or certificate_key_pem:
            raise InvalidOptionError(
                "certificate_pem/certificate_key_pem are only used with authentication='certificate'."
            )
        if auth == "basic":
            if cred is None:
                raise InvalidOptionError("Basic authentication needs a credential (user name and password).")
            if not ssl and not option.no_encryption:
                raise InvalidOptionError(
                    "Basic authentication over HTTP would send the password unencrypted. Connect over HTTPS "
                    "(-UseSSL in the shell, --ssl on the command line, use_ssl=True in Python), or use "
                    "Negotiate/NTLM, which encrypt the messages; only if the server allows unencrypted "
                    "traffic and you accept the risk, SessionOption(no_encryption=True)."
                )
        if auth == "kerberos":
            require_kerberos()
        if auth in ("ntlm", "credssp") and cred is None:
            raise InvalidOptionError(
                f"{auth.upper() if auth == 'ntlm' else 'CredSSP'} authentication needs a credential: pass credential=, "
                "or set PSREMOTING_USERNAME and PSREMOTING_PASSWORD."
            )
        return cls(
            computer_name=shown,
            host=host,
            port=the_port,
            use_ssl=ssl,
            path=path,
            authentication=auth,
            credential=cred,
            shell_uri=resolve_configuration_name(configuration_name),
            session_option=option,
            ca_file=ca_file,
            certificate_pem=certificate_pem,
            certificate_key_pem=certificate_key_pem,
            spn_host=spn_host,
        )

    def with_option(self, **changes: Any) -> ConnectionInfo:
        """A copy with some SessionOption fields changed."""
        return replace(self, session_option=replace(self.session_option, **changes))

    def wsman_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for pypsrp's `WSMan`, from these settings."""
        opt = self.session_option
        operation = max(1, int(opt.operation_timeout))
        kwargs: dict[str, Any] = {
            "server": self.host,
            "port": self.port,
            "ssl": self.use_ssl,
            "path": self.path,
            "auth": self.authentication,
            "username": self.credential.username if self.credential else None,
            "password": self.credential.get_password() if self.credential else None,
            "cert_validation": False if opt.skip_ca_check else (self.ca_file or True),
            "connection_timeout": opt.open_timeout,
            "read_timeout": operation + 10,
            "operation_timeout": operation,
            "encryption": "never" if opt.no_encryption else "auto",
            "locale": opt.ui_culture or opt.culture or "en-US",
            "data_locale": opt.culture or opt.ui_culture or "en-US",
            "reconnection_retries": opt.max_connection_retries,
            "reconnection_backoff": 0.5,
            "no_proxy": opt.no_proxy,
        }
        if opt.proxy:
            kwargs["proxy"] = opt.proxy
        if opt.max_envelope_size is not None:
            kwargs["max_envelope_size"] = opt.max_envelope_size
        if self.authentication == "certificate":
            kwargs["certificate_pem"] = self.certificate_pem
            kwargs["certificate_key_pem"] = self.certificate_key_pem
        if self.spn_host and self.authentication in ("negotiate", "kerberos", "ntlm"):
            kwargs["negotiate_hostname_override"] = self.spn_host
        return kwargs
