"""Where a session connects, from the parameters PowerShell users give.

`connection_uri(...)` builds the URI WSManConnectionInfo builds from -ComputerName, -Port,
-UseSSL and -ApplicationName (``http://server01:5985/wsman``), for callers that take an
application name; `like_session(s)` gives the `new_pssession` keyword arguments that connect
another session the way `s` is connected (New-PSSession -Session).
"""

from __future__ import annotations

from typing import Any

from psremoting.protocol.errors import InvalidOptionError

__all__ = ["DEFAULT_APPLICATION_NAME", "connection_uri", "like_session"]

#: PowerShell's default application name (WSManConnectionInfo.DefaultAppName, "/wsman").
DEFAULT_APPLICATION_NAME = "wsman"


def connection_uri(
    computer_name: str, *, port: int | None = None, use_ssl: bool = False, application_name: str | None = None
) -> str:
    """The connection URI of `computer_name` with an application name, as PowerShell builds it."""
    computer = str(computer_name).strip()
    if not computer or "/" in computer or " " in computer:
        raise InvalidOptionError(f"The computer name {computer_name!r} is not valid.")
    app = (application_name or DEFAULT_APPLICATION_NAME).strip().strip("/")
    if not app or any(c in app for c in "?#\\ "):
        raise InvalidOptionError(
            f"The application name {application_name!r} is not valid: give one path segment such as WSMAN."
        )
    if port is not None and not (isinstance(port, int) and 1 <= port <= 65535):
        raise InvalidOptionError(f"The port {port!r} is not valid: give a number from 1 to 65535.")
    scheme = "https" if use_ssl else "http"
    the_port = port if port is not None else (5986 if use_ssl else 5985)
    host = f"[{computer.strip('[]')}]" if ":" in computer else computer
    return f"{scheme}://{host}:{the_port}/{app}"


def like_session(session: Any) -> dict[str, Any]:
    """`new_pssession` keyword arguments for a new session connected as `session` is."""
    info = session.connection_info
    kwargs: dict[str, Any] = {
        "authentication": info.authentication,
        "configuration_name": info.configuration_name,
        "session_option": info.session_option,
    }
    if info.credential is not None:
        kwargs["credential"] = info.credential
    if info.path.strip("/").lower() != DEFAULT_APPLICATION_NAME:
        kwargs["connection_uri"] = connection_uri(
            info.computer_name, port=info.port, use_ssl=info.use_ssl, application_name=info.path
        )
    else:
        kwargs["computer_name"] = info.computer_name
        kwargs["port"] = info.port
        kwargs["use_ssl"] = info.use_ssl
    if info.authentication == "certificate":
        kwargs["certificate_pem"] = info.certificate_pem
        kwargs["certificate_key_pem"] = info.certificate_key_pem
        kwargs.pop("credential", None)
    return kwargs
