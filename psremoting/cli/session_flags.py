"""Connection flags beyond the basics: timeouts, proxy, culture, application name, full URLs.

``--operation-timeout`` / ``--open-timeout`` (seconds), ``--proxy URL``, ``--culture`` /
``--ui-culture``, ``--application-name`` (the URL path, WSMAN by default) and ``--url`` (a
full connection URI, as -ConnectionUri) are New-PSSession's -SessionOption and
-ApplicationName / -ConnectionUri on the command line; every sub-command that connects takes
them (`psremoting.cli.common.add_connection_arguments`).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_session_arguments", "session_option", "targets"]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def add_session_arguments(parser: Any) -> None:
    parser.add_argument(
        "--url",
        dest="urls",
        action="append",
        default=[],
        metavar="URL",
        help="a full connection URI (as -ConnectionUri), e.g. https://srv:5986/wsman; repeatable",
    )
    parser.add_argument(
        "--application-name",
        metavar="NAME",
        help="the application name, the path of the endpoint's URL (default WSMAN)",
    )
    parser.add_argument(
        "--open-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="how long to wait for the connection and the session to open (default 180)",
    )
    parser.add_argument(
        "--operation-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="how long one WS-Management operation may take (default 180)",
    )
    parser.add_argument("--proxy", metavar="URL", help="an HTTP(S) proxy, e.g. http://proxy:3128")
    parser.add_argument("--culture", metavar="NAME", help="the culture for the session (e.g. de-DE)")
    parser.add_argument("--ui-culture", metavar="NAME", help="the UI culture for the session (e.g. fr-FR)")


def session_option(args: argparse.Namespace) -> Any:
    """The SessionOption the flags ask for, or None when they ask for nothing special."""
    from psremoting.transport.options import SessionOption

    fields: dict[str, Any] = {}
    if getattr(args, "skip_ca_check", False):
        fields["skip_ca_check"] = True
    if getattr(args, "skip_cn_check", False):
        fields["skip_cn_check"] = True
    if getattr(args, "cert_fingerprint", None):
        fields["cert_fingerprint"] = args.cert_fingerprint
    if getattr(args, "spn", None):
        fields["spn"] = args.spn
    if getattr(args, "kerberos_delegate", False):
        fields["kerberos_delegate"] = True
    for flag, name in (
        ("open_timeout", "open_timeout"),
        ("operation_timeout", "operation_timeout"),
        ("proxy", "proxy"),
        ("culture", "culture"),
        ("ui_culture", "ui_culture"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            fields[name] = value
    return SessionOption(**fields) if fields else None


def targets(args: argparse.Namespace, hosts: list[str], kwargs: dict[str, Any]) -> dict[str, Any]:
    """`computer_name=` for `hosts`, or `connection_uri=` for them with --application-name,
    plus any --url. Port and TLS flags move into the URIs built (they are in a URI)."""
    from psremoting.cmdlets.endpoints import connection_uri
    from psremoting.protocol.hostnames import parse_computer_name

    named = [parse_computer_name(h) for h in hosts]  # InvalidOptionError: a usage error (exit 2)
    urls = list(getattr(args, "urls", None) or [])
    app = getattr(args, "application_name", None)
    if not urls and not app:
        return {"computer_name": hosts}
    port, ssl = kwargs.pop("port", None), kwargs.pop("use_ssl", False)
    if urls and (port is not None or ssl):
        raise ValueError(
            "--port and --ssl cannot be used with --url: put them in the URL (https://srv:5986/wsman)"
        )
    built = [
        connection_uri(host, port=named_port or port, use_ssl=ssl, application_name=app)
        for host, named_port in named
    ]
    return {"connection_uri": built + urls}
