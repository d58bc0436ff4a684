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

import re
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
        ("server not found in kerberos database", "server principal unknown"),
        "the domain does not know the service principal {spn}: connect with the server's fully qualified "
        "domain name (for example {name}.corp.example.com) rather than a short name or an IP address, or name "
        "the principal the server is registered under (SessionOption(spn='host/NAME'), --spn on the command "
        "line, New-PSSessionOption -ServicePrincipalName; setspn -L SERVER on Windows lists them)",
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
        ("client not found in kerberos database", "client principal unknown"),
        "the domain does not know the user {user}: check the user name and its realm (user@REALM)",
    ),
    (("password has expired",), "the password has expired; change it (kpasswd) and try again"),
)


_BASE = -1765328384  # ERROR_TABLE_BASE_krb5
#: MIT Kerberos error codes (a GSS minor status, a krb5 error) -> the entry of `_KERBEROS` that
#: applies, by its first needle: for when the library could not word the code itself.
_KRB5_CODES: dict[int, str] = {
    _BASE + 37: "clock skew too great",  # KRB5KRB_AP_ERR_SKEW
    _BASE + 7: "server not found in kerberos database",  # KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN
    _BASE + 6: "client not found in kerberos database",  # KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN
    _BASE + 24: "preauthentication failed",  # KRB5KDC_ERR_PREAUTH_FAILED
    _BASE + 31: "preauthentication failed",  # KRB5KRB_AP_ERR_BAD_INTEGRITY
    _BASE + 18: "client's credentials have been revoked",  # KRB5KDC_ERR_CLIENT_REVOKED
    _BASE + 23: "password has expired",  # KRB5KDC_ERR_KEY_EXP
    _BASE + 32: "no kerberos credentials available",  # KRB5KRB_AP_ERR_TKT_EXPIRED
    -1765328189: "no kerberos credentials available",  # KRB5_FCC_NOFILE
    -1765328243: "no kerberos credentials available",  # KRB5_CC_NOTFOUND
    -1765328230: "cannot find kdc for realm",  # KRB5_REALM_UNKNOWN
    -1765328228: "cannot find kdc for realm",  # KRB5_KDC_UNREACH
    -1765328164: "cannot find kdc for realm",  # KRB5_REALM_CANT_RESOLVE
}
_NUMBER = re.compile(r"(?<![\w.])-?\d{9,10}(?![\w.])")


def _krb5_needles(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for number in _NUMBER.findall(text):
            value = int(number)
            value = value - (1 << 32) if value >= 1 << 31 else value
            if value in _KRB5_CODES:
                found.append(_KRB5_CODES[value])
    return found


#: MIT writes the principal inside: "Server host/x@R not found in Kerberos database".
_PRINCIPAL_IN_TEXT = re.compile(r"\b(server|client) '?\S+?'? not found in kerberos database")


def _texts(exc: BaseException) -> Iterable[str]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 20:
        seen.add(id(current))
        yield _PRINCIPAL_IN_TEXT.sub(r"\1 not found in kerberos database", str(current).lower())
        base = getattr(current, "base_error", None)
        if isinstance(base, BaseException):
            yield _PRINCIPAL_IN_TEXT.sub(r"\1 not found in kerberos database", str(base).lower())
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
    texts += _krb5_needles(texts)
    if any(
        "gssapi" in t and ("no module" in t or "not installed" in t or "not available" in t) for t in texts
    ):
        return InvalidOptionError(KERBEROS_PACKAGE_HELP)
    reason: str | None = None
    status = _nt_status(exc)
    if status is not None:
        reason = NTSTATUS_TEXT.get(status)
    if reason is None:
        spn = info.session_option.spn or f"host/{info.spn_host or info.host}"
        if "/" not in spn:
            spn = f"host/{spn}"
        for needles, advice in _KERBEROS:
            if any(n in t for t in texts for n in needles):
                reason = advice.format(user=user or "user@REALM", name=name.split(".")[0], spn=spn)
                break
    if reason is None and info.authentication == "basic" and not info.use_ssl:
        reason = (
            "a WinRM service refuses Basic over HTTP unless it allows unencrypted traffic (AllowUnencrypted, "
            "off by default), and the password went unencrypted; connect over HTTPS (-UseSSL, --ssl, "
            "use_ssl=True), or use Negotiate/NTLM, which encrypt the messages. Otherwise the user name or "
            "password is incorrect, or the account is locked out or disabled"
        )
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
