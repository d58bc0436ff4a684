"""What the sub-commands share: connection flags, credentials and ``--emulator``.

``psremoting enter``, ``invoke`` and ``copy`` connect the same way, so they read the same
flags (:func:`add_connection_arguments`), take the credential by the same rules
(:func:`read_credential`) and turn the flags into the same ``new_pssession`` keyword
arguments (:func:`connection_kwargs`). The rules for the password, as DESIGN.md states
them: from ``--password-stdin`` (the first line of stdin), else ``PSREMOTING_PASSWORD``,
else a hidden prompt when stdin is a terminal, never from a command-line argument
(argv is visible to every user of the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from psremoting.cli.session_flags import add_session_arguments, session_option

__all__ = [
    "AUTH_METHODS",
    "UsageError",
    "add_connection_arguments",
    "connection_kwargs",
    "emulator_fleet",
    "read_credential",
]

AUTH_METHODS = ("negotiate", "ntlm", "kerberos", "basic", "credssp")

_Adder = argparse.ArgumentParser | argparse._ArgumentGroup


class UsageError(Exception):
    """A mistake in the command line or its inputs; reported with exit code 2."""


def add_connection_arguments(
    parser: _Adder,
    *,
    emulator_help: str = "serve every host from an embedded emulator (no Windows needed; a test double)",
) -> None:
    """-u/--username, --password-stdin, --port, --ssl, --auth, --configuration-name,
    --skip-ca-check, --skip-cn-check, --cert-pem/--cert-key-pem and --emulator."""
    parser.add_argument(
        "-u",
        "--username",
        metavar="USER",
        help="user name (default: PSREMOTING_USERNAME, or a Kerberos ticket)",
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    parser.add_argument("--port", type=int, metavar="N", help="WinRM port (default 5985, or 5986 with --ssl)")
    parser.add_argument("--ssl", action="store_true", help="use HTTPS (-UseSSL)")
    parser.add_argument(
        "--auth",
        default="negotiate",
        choices=AUTH_METHODS,
        help="authentication method (default negotiate)",
    )
    parser.add_argument(
        "--configuration-name",
        default="Microsoft.PowerShell",
        metavar="NAME",
        help="session configuration (endpoint) name",
    )
    parser.add_argument(
        "--skip-ca-check", action="store_true", help="do not verify the server certificate's CA"
    )
    parser.add_argument(
        "--skip-cn-check", action="store_true", help="do not verify the certificate's host name"
    )
    parser.add_argument(
        "--cert-fingerprint",
        metavar="SHA256:...",
        help="accept only the server certificate with this SHA-256 fingerprint (pin it in a CI job)",
    )
    parser.add_argument(
        "--spn",
        metavar="SERVICE/HOST",
        help="the Kerberos service principal of the server (default host/<the name given>)",
    )
    parser.add_argument(
        "--kerberos-delegate",
        action="store_true",
        help="forward the Kerberos ticket to the server (delegation, for the second hop)",
    )
    parser.add_argument(
        "--cert-pem",
        metavar="FILE",
        help="certificate authentication (HTTPS): the client certificate, a PEM file mapped to a user on the server",
    )
    parser.add_argument("--cert-key-pem", metavar="FILE", help="the PEM file of --cert-pem's private key")
    add_session_arguments(parser)
    parser.add_argument("--emulator", action="store_true", help=emulator_help)


def read_credential(
    args: argparse.Namespace,
    stdin: TextIO,
    *,
    prompt: Callable[[str], str] | None = None,
    host: str | None = None,
) -> tuple[str, str] | None:
    """``(username, password)`` from the flags and the environment, or None (Kerberos, the
    keyring's entry for each host, or the emulator's own user with ``--emulator``).

    In order: ``--password-stdin``, ``PSREMOTING_PASSWORD``, the keyring entry of `host`
    (``psremoting credential add``), a hidden prompt at a terminal. Raises
    :class:`UsageError` for an empty ``--password-stdin`` line, for a password without a user
    name, and for a user name without a password where the method needs one (NTLM, Basic,
    CredSSP), saying where a password can come from.
    """
    password = None
    if args.password_stdin:
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin was given but the first line of stdin is empty")
    username = args.username or os.environ.get("PSREMOTING_USERNAME")
    if password is None:
        password = os.environ.get("PSREMOTING_PASSWORD")
    if username and password is None and not args.emulator and host:
        password = _stored_password(host, username)
    if username and password is None and not args.emulator and stdin.isatty():
        password = (prompt or getpass.getpass)(f"Password for {username}: ")
    if password is not None and not username and not args.emulator:
        raise UsageError("a password was given but no user name: use -u USER or PSREMOTING_USERNAME")
    if username and password is None and not args.emulator and getattr(args, "auth", "") in _NEED_PASSWORD:
        raise UsageError(
            f"no password for {username} ({args.auth} authentication needs one): give it on the first line of "
            "stdin with --password-stdin or in PSREMOTING_PASSWORD, store it with `psremoting credential add "
            f"{host or 'HOST'} -u {username}`, or run at a terminal to be asked"
        )
    if username and password is not None:
        return username, password
    return None


_NEED_PASSWORD = ("ntlm", "basic", "credssp")


def _stored_password(host: str, username: str) -> str | None:
    from psremoting.transport import credential_store

    if not credential_store.enabled():
        return None
    try:
        stored = credential_store.lookup(host, username)
    except credential_store.CredentialStoreError:
        return None
    return stored.get_password() if stored is not None else None


def connection_kwargs(args: argparse.Namespace, credential: tuple[str, str] | None) -> dict[str, Any]:
    """The ``new_pssession`` keyword arguments the connection flags stand for."""
    kwargs: dict[str, Any] = {
        "port": args.port,
        "use_ssl": args.ssl,
        "authentication": args.auth,
        "configuration_name": args.configuration_name,
    }
    if credential is not None:
        kwargs["credential"] = credential
    if args.cert_pem or args.cert_key_pem:
        if not (args.cert_pem and args.cert_key_pem):
            raise UsageError("certificate authentication needs both --cert-pem and --cert-key-pem")
        kwargs["authentication"] = "certificate"
        kwargs["certificate_pem"] = os.path.expanduser(args.cert_pem)
        kwargs["certificate_key_pem"] = os.path.expanduser(args.cert_key_pem)
        kwargs.pop("credential", None)
    try:
        option = session_option(args)
    except Exception as exc:  # an impossible option (a proxy that is no URL...): the user's to fix
        raise UsageError(getattr(exc, "message", str(exc))) from exc
    if option is not None:
        kwargs["session_option"] = option
    return kwargs


@contextlib.contextmanager
def emulator_fleet(enabled: bool, request: dict[str, Any]) -> Iterator[None]:
    """With ``--emulator``, answer every computer name from an embedded EmulatorFleet.

    The fleet accepts the credential of ``request`` (or the emulator's own user when there
    is none), which is taken out of ``request`` and used by the endpoint override instead;
    the connection is plain HTTP with NTLM message encryption.
    """
    if not enabled:
        yield
        return
    from psremoting.console.emulator_mode import emulated_computers

    username, password = request.pop("credential", None) or ("user", "password")
    # The emulator speaks NTLM with message encryption over HTTP (Negotiate would try the
    # user's Kerberos realm first where gssapi is installed).
    auth = request["authentication"] = "ntlm"
    request["use_ssl"] = False
    request["port"] = None
    with emulated_computers(
        username=username, password=password, authentication=auth, methods=("basic", "ntlm", "negotiate")
    ):
        yield
