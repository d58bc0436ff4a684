"""HTTP(S) connections through a SOCKS5 proxy (PySocks, as requests uses it).

`transport` is the `http.HTTPTransport` asking (its host, port, TLS context, endpoint)."""

from __future__ import annotations

import http.client
from typing import Any

from psremoting.transport.errors import TransportConnectionError

__all__ = ["socks_connection"]


def socks_connection(transport: Any, proxy: Any, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection through a SOCKS5 proxy (PySocks, as requests uses it)."""
    try:
        import socks
    except ImportError:
        raise TransportConnectionError(
            "proxy", "a SOCKS proxy needs PySocks (pip install PySocks)", url=transport.endpoint
        ) from None
    base: type[http.client.HTTPConnection] = (
        http.client.HTTPSConnection if transport.use_ssl else http.client.HTTPConnection
    )

    class SocksConnection(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            raw = socks.create_connection(
                (transport.host, transport.port),
                timeout=self.timeout,
                proxy_type=socks.SOCKS5,
                proxy_addr=proxy.hostname,
                proxy_port=proxy.port or 1080,
                proxy_rdns=proxy.scheme == "socks5h",
                proxy_username=proxy.username,
                proxy_password=proxy.password,
            )
            if transport.use_ssl:
                assert transport._ssl_context is not None
                raw = transport._ssl_context.wrap_socket(raw, server_hostname=transport.host)
            self.sock = raw

    if transport.use_ssl:
        return SocksConnection(
            transport.host, transport.port, timeout=timeout, context=transport._ssl_context
        )
    return SocksConnection(transport.host, transport.port, timeout=timeout)
