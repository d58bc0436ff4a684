"""The proxy taken from the environment is the one urllib would take (on Linux), for every
mix of lower- and upper-case names, empty values, no_proxy and a CGI request."""

from __future__ import annotations

import itertools
import urllib.request

import pytest

from psremoting.transport.http import environment_proxy

_NAMES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"]
_VALUES = {
    "http_proxy": ["", "http://lower:3128"],
    "HTTP_PROXY": ["", "http://upper:3128"],
    "https_proxy": ["", "http://lower-s:3128"],
    "HTTPS_PROXY": ["", "http://upper-s:3128"],
    "no_proxy": ["", "server01,.corp.example", "*"],
    "NO_PROXY": ["", "10.0.0.5"],
    "REQUEST_METHOD": ["GET"],
}


def _combinations():
    # each name absent, or one of its values; a sample of the product keeps the run short
    choices = [[None, *_VALUES[name]] for name in _NAMES]
    for n, combo in enumerate(itertools.product(*choices)):
        if n % 7 == 0:
            yield dict(zip(_NAMES, combo, strict=True))


@pytest.mark.parametrize("host", ["server01", "web.corp.example", "10.0.0.5", "other.example"])
def test_the_environment_proxy_is_urllibs(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    checked = 0
    for env in _combinations():
        for name in _NAMES:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            if value is not None:
                monkeypatch.setenv(name, value)
        for scheme in ("http", "https"):
            expected = None if urllib.request.proxy_bypass(host) else urllib.request.getproxies().get(scheme)
            assert environment_proxy(scheme, host) == expected, (scheme, host, env)
            checked += 1
    assert checked > 500
