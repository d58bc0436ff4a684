"""Logon failures worded to teach: what went wrong and what to do, never a library's text.

pyspnego, GSSAPI (MIT Kerberos) and the server say why a logon failed in their own terms: a
``SpnegoError (9): ... Context: ...``, a GSS minor status ("Clock skew too great"), an NTSTATUS
in a CredSSP answer, or only an HTTP 401 (NTLM never says why). `authentication_error` reads
those and returns an `AuthenticationFailedError` (or `InvalidOptionError` for a client
set-up problem) whose message says what the user can do: check the password, ask for the
account to be unlocked, run kinit, fix the clock, connect with the FQDN or give the SPN,
install gssapi. The library's exception stays in ``__cause__`` for debugging only.
"""

from __future__ import annotations

from collections.abc import Iterable

from psremoting.protocol.errors import AuthenticationFailedError, InvalidOptionError, PSRemotingError
from psremoting.transport.options import KERBEROS_PACKAGE_HELP, ConnectionInfo

__all__ = ["authentication_error", "NTSTATUS_TEXT"]

_WRONG = 0xC000006D  # STATUS_LOGON_FAILURE
#: NTSTATUS codes a CredSSP acceptor (Windows, the emulator) reports in its TSRequest.
NTSTATUS_TEXT: dict[int, str] = {
    _WRONG: "the user name or password is incorrect",
    0x8009030C: "the user name or password is incorrect",  # SEC_E_LOGON_DENIED
    0xC000006A: "the user name or password is incorrect",  # STATUS_WRONG_PASSWORD
    0xC0000064: "the user name or password is incorrect",  # STATUS_NO_SUCH_USER
    0xC0000234: "the account is locked out (too many wrong passwords); ask an administrator to unlock it, or wait",
    0xC0000072: "the account is disabled; ask an administrator to enable it",
    0xC0000071: "the password has expired; change it (on a Windows computer: Ctrl+Alt+Del) and try again",
    0xC0000224: "the password must be changed before the first logon; change it and try again",
    0xC0000193: "the account has expired; ask an administrator to extend it",
    0xC000006F: "the account may not log on at this time of day",
    0xC0000070: "the account may not log on from this computer",
    0xC000015B: "the account does not have the right to log on over the network to this computer",
}

#: (what MIT Kerberos says, in lower case) -> what to tell the user. {user}, {name}, {spn}.
_KERBEROS = (
    (
        (
            "no kerberos credentials available",
            "no credentials cache",
            "credential cache is empty",
            "credentials cache file",
            "no credentials were supplied",
            "ticket expired",
        ),  # fmt: skip
        "there is no valid Kerberos ticket for {user}: get one with `kinit {user}` (klist shows the tickets you "
        "have), or give a user name and password",
    ),
    (
        ("clock skew too great",),
        "the clocks of this computer and the domain controller differ by more than Kerberos allows (5 minutes "
        "by default): set the time right (timedatectl, chrony or ntpd, synchronised with the domain) and try again",
    ),
    (
        ("server not found in kerberos database",),
        "the domain does not know the service principal {spn}: connect with the server's fully qualified "
        "domain name (for example {name}.corp.example.com) rather than a short name or an IP address, or give "
        "the principal the server is registered under (New-PSSessionOption -SPN..., setspn -L on the server "
        "lists them); Negotiate falls back to NTLM when a password is given",
    ),
    (
        (
            "cannot find kdc for realm",
            "cannot contact any kdc",
            "cannot resolve network address for kdc",
            "realm not local to kdc",
            "unable to find realm",
        ),  # fmt: skip
        "the Kerberos realm of {user} could not be found: check the realm (the part after @, in capitals), "
        "the [realms] and [domain_realm] sections of /etc/krb5.conf, and that DNS finds the domain controllers",
    ),
    (
        ("preauthentication failed", "password incorrect", "decrypt integrity check failed"),
        "the user name or password is incorrect",
    ),
    (
        ("client's credentials have been revoked", "clients credentials have been revoked"),
        "the account is locked out or disabled; ask an administrator",
    ),
    (
        ("client not found in kerberos database",),
        "the domain does not know the user {user}: check the user name and its realm (user@REALM)",
    ),
    (("password has expired",), "the password has expired; change it (kpasswd) and try again"),
)


def _texts(exc: BaseException) -> Iterable[str]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 20:
        seen.add(id(current))
        yield str(current).lower()
        base = getattr(current, "base_error", None)
        if isinstance(base, BaseException):
            yield str(base).lower()
        current = current.__cause__ or current.__context__


def _nt_status(exc: BaseException) -> int | None:
    current: BaseException | None = exc
    for _ in range(20):
        if current is None:
            return None
        base = getattr(current, "base_error", None)
        code = getattr(base, "winerror", None)
        if isinstance(code, int) and code:
            return code & 0xFFFFFFFF
        current = current.__cause__ or current.__context__
    return None


def authentication_error(exc: BaseException, info: ConnectionInfo) -> PSRemotingError:
    """The teaching form of a failed logon to `info` (see the module docstring)."""
    name = info.computer_name
    user = info.credential.username if info.credential else None
    shown_user = user or "the current user"
    method = {"credssp": "CredSSP", "ntlm": "NTLM"}.get(info.authentication, info.authentication.capitalize())
    texts = list(_texts(exc))
    if any(
        "gssapi" in t and ("no module" in t or "not installed" in t or "not available" in t) for t in texts
    ):
        return InvalidOptionError(KERBEROS_PACKAGE_HELP)
    reason: str | None = None
    status = _nt_status(exc)
    if status is not None:
        reason = NTSTATUS_TEXT.get(status)
    if reason is None:
        spn = f"host/{info.spn_host or info.host}"
        for needles, advice in _KERBEROS:
            if any(n in t for t in texts for n in needles):
                reason = advice.format(user=user or "user@REALM", name=name.split(".")[0], spn=spn)
                break
    if reason is None:
        reason = (
            "the user name or password is incorrect, or the account is locked out or disabled (the server does "
            f"not say which over {method}), or the server does not allow this authentication method"
            if info.authentication in ("ntlm", "negotiate", "basic", "credssp")
            else "the server did not accept the credential"
        )
    return AuthenticationFailedError(
        name,
        f"Access is denied. The server did not log on {shown_user} with {method} authentication: {reason}.",
    )
