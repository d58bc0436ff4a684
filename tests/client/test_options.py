"""Connection settings: validation before any traffic, resolution of names, ports and URIs."""

from __future__ import annotations

import pytest

from psremoting.protocol.errors import InvalidOptionError, PSRemotingError
from psremoting.transport.options import (
    ConnectionInfo,
    EndpointOverride,
    PSCredential,
    SessionOption,
    resolve_configuration_name,
    set_endpoint_override,
    short_configuration_name,
)

CRED = ("admin", "S3cret!")


def test_defaults_are_powershells() -> None:
    info = ConnectionInfo.create("Server01", credential=CRED)
    assert info.url == "http://Server01:5985/wsman"
    assert info.shell_uri == "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
    assert info.configuration_name == "Microsoft.PowerShell"
    assert info.authentication == "negotiate"
    assert (
        ConnectionInfo.create("Server01", use_ssl=True, credential=CRED).url == "https://Server01:5986/wsman"
    )
    assert ConnectionInfo.create(".", credential=CRED).computer_name == "localhost"


def test_configuration_names_expand() -> None:
    assert (
        resolve_configuration_name("PowerShell.7") == "http://schemas.microsoft.com/powershell/PowerShell.7"
    )
    assert resolve_configuration_name("http://example/x") == "http://example/x"
    assert short_configuration_name("http://schemas.microsoft.com/powershell/JEA") == "JEA"
    info = ConnectionInfo.create("s", configuration_name="PowerShell.7", credential=CRED)
    assert info.configuration_name == "PowerShell.7"


def test_connection_uri() -> None:
    info = ConnectionInfo.create(connection_uri="https://srv.example.com:8443/custom", credential=CRED)
    assert (info.computer_name, info.port, info.use_ssl, info.path) == (
        "srv.example.com",
        8443,
        True,
        "custom",
    )
    # A URI without a port uses the scheme's standard port, as PowerShell documents.
    assert ConnectionInfo.create(connection_uri="http://srv/wsman", credential=CRED).port == 80


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"computer_name": "a", "connection_uri": "http://a/wsman"}, "not both"),
        ({"computer_name": "a", "port": 70000}, "1 to 65535"),
        ({"connection_uri": "server01"}, "absolute http"),
        ({"computer_name": "http://server01"}, "connection_uri"),
        ({"computer_name": "a", "authentication": "digest"}, "not supported"),
        ({"computer_name": "a", "authentication": "basic"}, "unencrypted"),
        ({"computer_name": "a", "authentication": "certificate"}, "HTTPS"),
        ({"computer_name": "a", "authentication": "certificate", "use_ssl": True}, "certificate_pem"),
        ({"computer_name": "a", "authentication": "ntlm", "credential": None}, "needs a credential"),
    ],
)
def test_impossible_combinations_fail_clearly(
    kwargs: dict, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PSREMOTING_USERNAME", raising=False)
    kwargs.setdefault("credential", CRED)
    if kwargs.get("authentication") in ("certificate",):
        kwargs["credential"] = None
    with pytest.raises(InvalidOptionError) as info:
        ConnectionInfo.create(**kwargs)
    assert words in str(info.value)
    assert isinstance(info.value, PSRemotingError) and isinstance(info.value, ValueError)


def test_basic_over_http_allowed_only_when_asked() -> None:
    info = ConnectionInfo.create(
        "a", authentication="basic", credential=CRED, session_option=SessionOption(no_encryption=True)
    )
    assert info.wsman_kwargs()["encryption"] == "never"
    assert ConnectionInfo.create("a", authentication="basic", credential=CRED, use_ssl=True).use_ssl


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"open_timeout": 0}, "open_timeout"),
        ({"operation_timeout": -1}, "operation_timeout"),
        ({"idle_timeout": 10}, "at least 60"),
        ({"max_envelope_size": 100}, "8192"),
        ({"max_connection_retries": -1}, "negative"),
        ({"proxy": "not a url"}, "proxy URL"),
        ({"proxy": "http://p:3128", "no_proxy": True}, "together"),
    ],
)
def test_session_option_validation(kwargs: dict, words: str) -> None:
    with pytest.raises(InvalidOptionError, match=words):
        SessionOption(**kwargs)


def test_session_option_maps_to_wsman() -> None:
    option = SessionOption(
        skip_ca_check=True, operation_timeout=30, open_timeout=12, culture="de-DE", max_envelope_size=512000,
        proxy="http://proxy:3128", max_connection_retries=2,
    )  # fmt: skip
    kwargs = ConnectionInfo.create("a", use_ssl=True, credential=CRED, session_option=option).wsman_kwargs()
    assert kwargs["cert_validation"] is False
    assert kwargs["operation_timeout"] == 30 and kwargs["read_timeout"] > 30
    assert kwargs["connection_timeout"] == 12
    assert kwargs["data_locale"] == "de-DE"
    assert kwargs["max_envelope_size"] == 512000
    assert kwargs["proxy"] == "http://proxy:3128"
    assert kwargs["reconnection_retries"] == 2
    # Certificates are verified unless the user opts out.
    assert ConnectionInfo.create("a", use_ssl=True, credential=CRED).wsman_kwargs()["cert_validation"] is True


def test_from_powershell_names_and_milliseconds() -> None:
    option = SessionOption.from_powershell(
        SkipCACheck=True, SkipCNCheck=True, OperationTimeout=5000, OpenTimeout=0, IdleTimeoutMSec=-1,
        MaxConnectionRetryCount=3, Culture="fr-FR", NoEncryption=True,
    )  # fmt: skip
    assert option.skip_ca_check and option.skip_cn_check and option.no_encryption
    assert option.operation_timeout == 5.0
    assert option.open_timeout >= 3600  # 0 means no limit
    assert option.idle_timeout is None and option.max_connection_retries == 3 and option.culture == "fr-FR"
    with pytest.raises(InvalidOptionError, match="NoSuchOption"):
        SessionOption.from_powershell(NoSuchOption=1)


def test_credentials_never_show_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    cred = PSCredential("admin", "S3cret!")
    assert "S3cret" not in repr(cred) and "S3cret" not in str(cred)
    info = ConnectionInfo.create("a", credential=cred)
    assert "S3cret" not in repr(info)
    monkeypatch.setenv("PSREMOTING_USERNAME", "envuser")
    monkeypatch.setenv("PSREMOTING_PASSWORD", "envpw")
    from_env = ConnectionInfo.create("a")
    assert from_env.credential is not None and from_env.credential.username == "envuser"
    with pytest.raises(InvalidOptionError):
        PSCredential.coerce(("only-one",))  # type: ignore[arg-type]


def test_endpoint_override_keeps_the_computer_name() -> None:
    set_endpoint_override(
        lambda name: (
            EndpointOverride("http://127.0.0.1:5999/wsman", "u", "p", "basic") if name == "Server01" else None
        )
    )
    info = ConnectionInfo.create("Server01")
    assert info.computer_name == "Server01"
    assert (info.host, info.port, info.authentication) == ("127.0.0.1", 5999, "basic")
    assert info.credential is not None and info.credential.username == "u"
    other = ConnectionInfo.create("Server02", credential=CRED)
    assert other.host == "Server02"
