"""Secrets as PowerShell holds them: `SecureString`, `PSCredential`, `NetworkCredential`.

PowerShell never shows a password by accident: ``$c`` prints ``System.Security.SecureString``
in the Password column, ``$c.Password`` prints the type name, and only an explicit call,
``$c.GetNetworkCredential().Password``, gives the text. These classes behave the same way in
Python: ``str()``, ``repr()``, f-strings, ``%`` formatting, logging, ``json.dumps`` (which
refuses them) and exception messages show the type name or ``<hidden>``, never the value;
`PSCredential.get_password` and `SecureString.get_value` are the explicit calls.

On the wire (MS-PSRP 2.2.5.1.24) a SecureString is encrypted with the session key that the
runspace pool exchanged (AES-256-CBC); a PSCredential is its CLIXML object (UserName,
Password as a SecureString; MS-PSRP 2.2.3.25). The runspace layer does that conversion
(``psremoting.runspace.wire``); the emulator does its own with psrpcore. Both sides share
these classes, which hold no I/O.

This is no protection against code running in the same process (the value is in memory, as
it is in .NET's SecureString on Linux); it keeps secrets out of terminals, logs and files.
"""

from __future__ import annotations

import hmac
from typing import Any

from psremoting.protocol.errors import InvalidOptionError, PSRemotingError

__all__ = ["SecureString", "PSCredential", "NetworkCredential", "HIDDEN"]

#: What a hidden value looks like in a repr.
HIDDEN = "<hidden>"
SECURE_STRING_TYPE = "System.Security.SecureString"
PSCREDENTIAL_TYPE = "System.Management.Automation.PSCredential"
NETWORK_CREDENTIAL_TYPE = "System.Net.NetworkCredential"


class SecureString:
    """System.Security.SecureString: text that prints as its type name.

    ``SecureString("text")`` holds a value typed or given in Python. A SecureString received
    from a server also keeps its ciphertext (`encrypted`); its value is None when the session
    key could not decrypt it. ``str()`` is ``System.Security.SecureString`` as in PowerShell;
    `get_value()` is the one way to read it. `Length` is the number of characters, as .NET's.
    """

    __slots__ = ("_value", "encrypted")

    def __init__(self, value: str | None = None, *, encrypted: str = "") -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"a SecureString holds text, not {type(value).__name__}")
        self._value = value
        self.encrypted = encrypted

    def get_value(self) -> str | None:
        """The text (None when it arrived from a server and could not be decrypted)."""
        return self._value

    @property
    def Length(self) -> int:
        return len(self._value or "")

    def __len__(self) -> int:
        return self.Length

    def __bool__(self) -> bool:
        return True  # a SecureString object is $true in PowerShell whatever its length

    def __str__(self) -> str:
        return SECURE_STRING_TYPE

    def __repr__(self) -> str:
        return "<SecureString>"

    def __format__(self, spec: str) -> str:
        return format(SECURE_STRING_TYPE, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecureString):
            return NotImplemented
        if self._value is None or other._value is None:
            return self is other
        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    __hash__ = object.__hash__

    def __getstate__(self) -> Any:
        return (self._value, self.encrypted)

    def __setstate__(self, state: Any) -> None:
        self._value, self.encrypted = state


class NetworkCredential:
    """System.Net.NetworkCredential, what `PSCredential.GetNetworkCredential()` returns.

    Its `Password` is plain text: asking for it is the explicit step that reveals a
    secret. Its repr and str still hide it, so printing the object does not.
    """

    __slots__ = ("UserName", "Domain", "_password")

    def __init__(self, user_name: str, password: str, domain: str = "") -> None:
        self.UserName = user_name
        self.Domain = domain
        self._password = password

    @property
    def Password(self) -> str:
        return self._password

    @property
    def SecurePassword(self) -> SecureString:
        return SecureString(self._password)

    def ps_properties(self) -> list[tuple[str, object]]:
        """The properties as ``Format-List *`` lists them (this is the revealed form)."""
        return [("UserName", self.UserName), ("Password", self._password),
                ("SecurePassword", self.SecurePassword), ("Domain", self.Domain)]  # fmt: skip

    def __str__(self) -> str:
        return NETWORK_CREDENTIAL_TYPE

    def __repr__(self) -> str:
        return f"NetworkCredential(UserName={self.UserName!r}, Domain={self.Domain!r}, Password={HIDDEN})"


class PSCredential:
    """A user name and a password (System.Management.Automation.PSCredential).

    ``PSCredential("user", "text")`` or ``PSCredential("user", SecureString(...))``.
    `password` (``$c.Password``) is a `SecureString`; `get_password()` returns the text;
    `GetNetworkCredential()` splits ``DOMAIN\\user`` and ``user@domain`` as .NET does and
    carries the plain password. ``str()`` is PowerShell's ToString (the type name), and
    ``repr()`` shows the user name only.
    """

    __slots__ = ("username", "_secret")

    def __init__(self, username: str, password: str | SecureString) -> None:
        if not isinstance(username, str) or not username:
            raise InvalidOptionError("A credential needs a user name.")
        if isinstance(password, str):
            password = SecureString(password)
        elif not isinstance(password, SecureString):
            raise TypeError(
                f"the password of a PSCredential is a str or a SecureString, not {type(password).__name__}"
            )
        self.username = username
        self._secret = password

    # -- PowerShell's members (pslang finds them case-insensitively) --------------------
    @property
    def password(self) -> SecureString:
        """``$c.Password``: the SecureString (prints as System.Security.SecureString)."""
        return self._secret

    @property
    def UserName(self) -> str:
        return self.username

    def GetNetworkCredential(self) -> NetworkCredential:
        """``$c.GetNetworkCredential()``: user, domain and the password in plain text."""
        name, domain = self.username, ""
        if "\\" in name:
            domain, _, name = name.partition("\\")
        elif "@" in name:
            name, _, domain = name.partition("@")
        return NetworkCredential(name, self.get_password(), domain)

    get_network_credential = GetNetworkCredential

    def ps_properties(self) -> list[tuple[str, object]]:
        """The properties as ``Format-List *`` lists them: the Password is the SecureString."""
        return [("UserName", self.username), ("Password", self._secret)]

    def __json__(self) -> dict[str, str]:
        """As ConvertTo-Json writes a PSCredential: the password is the SecureString's type name."""
        return {"UserName": self.username, "Password": SECURE_STRING_TYPE}

    # -- Python ----------------------------------------------------------------------
    def get_password(self) -> str:
        """The password as text: the explicit call that reveals it."""
        value = self._secret.get_value()
        if value is None:
            raise PSRemotingError(
                "The password of this credential could not be decrypted (it came from a server "
                "whose session key is not known here)."
            )
        return value

    def __repr__(self) -> str:
        return f"PSCredential(username={self.username!r}, password={HIDDEN})"

    def __str__(self) -> str:
        return PSCREDENTIAL_TYPE

    def __format__(self, spec: str) -> str:
        return format(PSCREDENTIAL_TYPE, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PSCredential):
            return NotImplemented
        return other.username == self.username and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(self.username)

    def __getstate__(self) -> Any:
        return (self.username, self._secret)

    def __setstate__(self, state: Any) -> None:
        self.username, self._secret = state

    @classmethod
    def coerce(cls, value: PSCredential | tuple[str, str] | None) -> PSCredential | None:
        """Accept a PSCredential or a ``(username, password)`` tuple."""
        if value is None or isinstance(value, PSCredential):
            return value
        if (
            isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], str)
            and isinstance(value[1], (str, SecureString))
        ):
            return cls(value[0], value[1])
        raise InvalidOptionError(
            "credential must be a PSCredential or a (username, password) tuple of strings."
        )
