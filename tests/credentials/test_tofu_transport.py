"""Trust on first use in the TLS handshake, against the emulator's HTTPS listener.

The emulator serves a self-signed certificate (as New-SelfSignedCertificate makes for a WinRM
listener): no CA signed it, so the client refuses it with its fingerprint and the command that
trusts it, accepts it once trusted, and refuses loudly when the server's certificate changes.
-SkipCACheck and -SkipCNCheck are apart; a pinned fingerprint accepts only its certificate.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import psremoting
from psremoting.cli.main import main
from psremoting.emulator import Emulator
from psremoting.emulator.tls import ServerCertificate, make_self_signed_certificate
from psremoting.transport import trust
from psremoting.transport.trust import fingerprint

USERS = {"user": "Passw0rd!"}


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PSREMOTING_USERNAME", "user")
    monkeypatch.setenv("PSREMOTING_PASSWORD", USERS["user"])
    return tmp_path / "config"


def _serve(cert: ServerCertificate, port: int = 0) -> Emulator:
    return Emulator(
        https=True,
        auth=("ntlm", "negotiate"),
        users=USERS,
        certfile=cert.cert_file,
        keyfile=cert.key_file,
        port=port,
    ).start()


@pytest.fixture
def first(tmp_path: Path) -> ServerCertificate:
    return make_self_signed_certificate("server01", tmp_path / "first")


@pytest.fixture
def emu(first: ServerCertificate) -> Iterator[Emulator]:
    server = _serve(first)
    yield server
    server.stop()


def _whoami(host: str, port: int, option: psremoting.SessionOption | None = None) -> list[str]:
    session = psremoting.new_pssession(
        host, port=port, use_ssl=True, authentication="ntlm", session_option=option
    )
    try:
        return [str(v) for v in psremoting.invoke_command("whoami", session=session)]
    finally:
        psremoting.remove_pssession(session)


def test_tofu_round_trip(
    emu: Emulator,
    first: ServerCertificate,
    tmp_path: Path,
    config_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = emu.port
    found = fingerprint(first.certificate_der())
    command = f"psremoting trust 127.0.0.1:{port} --fingerprint {found}"

    # 1. Never seen: refused, with the fingerprint and the exact command (a script, no terminal).
    with pytest.raises(trust.UntrustedCertificateError) as refused:
        _whoami("127.0.0.1", port)
    assert refused.value.fingerprint == found and command in str(refused.value)
    assert not (config_home / "psremoting" / "known_hosts").exists()
    # ... the same from the CLI, on stderr, exit code 1.
    assert (
        main(["invoke", "-H", "127.0.0.1", "--port", str(port), "--ssl", "--auth", "ntlm", "-c", "whoami"])
        != 0
    )
    err = capsys.readouterr().err
    assert command in err and "SpnegoError" not in err and "Traceback" not in err

    # 2. Trusted with the command it printed, then accepted: CA checking stays on for others.
    assert main(command.split()[1:]) == 0
    assert "Trusted 127.0.0.1:" in capsys.readouterr().out
    assert (config_home / "psremoting" / "known_hosts").read_text().count(found) == 1
    assert _whoami("127.0.0.1", port) == ["server01\\user"]

    # 3. The server's certificate changes (same host and port): refused loudly.
    emu.stop()
    second = make_self_signed_certificate("server01", tmp_path / "second")
    other = _serve(second, port)
    try:
        with pytest.raises(trust.CertificateChangedError) as changed:
            _whoami("127.0.0.1", port)
        text = str(changed.value)
        assert "HAS CHANGED" in text and found in text and fingerprint(second.certificate_der()) in text
        assert "--remove" in text
        # 4. A pin (a CI job) accepts only its own certificate, whatever known_hosts says.
        pinned = psremoting.SessionOption(cert_fingerprint=fingerprint(second.certificate_der()))
        assert _whoami("127.0.0.1", port, pinned) == ["server01\\user"]
        wrong = psremoting.SessionOption(cert_fingerprint=found)
        with pytest.raises(trust.CertificateChangedError, match="pinned with --cert-fingerprint"):
            _whoami("127.0.0.1", port, wrong)
    finally:
        other.stop()


def test_an_interactive_yes_is_asked_once_and_saved(
    emu: Emulator, first: ServerCertificate, config_home: Path
) -> None:
    asked: list[tuple[str, str]] = []
    trust.set_confirm(lambda key, found: asked.append((key, found)) or True)
    try:
        assert _whoami("127.0.0.1", emu.port) == ["server01\\user"]
        assert _whoami("127.0.0.1", emu.port) == ["server01\\user"]  # now known: not asked again
    finally:
        trust.set_confirm(None)
    assert asked == [(f"127.0.0.1:{emu.port}", fingerprint(first.certificate_der()))]
    assert trust.KnownHosts().lookup("127.0.0.1", emu.port) == [fingerprint(first.certificate_der())]


def test_an_interactive_no_refuses_and_saves_nothing(emu: Emulator, config_home: Path) -> None:
    trust.set_confirm(lambda key, found: False)
    try:
        with pytest.raises(trust.UntrustedCertificateError):
            _whoami("127.0.0.1", emu.port)
    finally:
        trust.set_confirm(None)
    assert trust.KnownHosts().entries() == []


def test_skip_ca_check_keeps_the_host_name_check(emu: Emulator, first: ServerCertificate) -> None:
    skip_ca = psremoting.SessionOption(skip_ca_check=True)
    assert _whoami("127.0.0.1", emu.port, skip_ca) == ["server01\\user"]  # 127.0.0.1 is in the certificate
    # The same certificate on 127.0.0.2 (also loopback), a name it is not for.
    with Emulator(host="127.0.0.2", https=True, auth=("ntlm",), users=USERS,
                  certfile=first.cert_file, keyfile=first.key_file) as elsewhere:  # fmt: skip
        with pytest.raises(trust.HostNameMismatchError) as mismatch:
            _whoami("127.0.0.2", elsewhere.port, skip_ca)
        text = str(mismatch.value)
        assert "server01, localhost, 127.0.0.1, ::1" in text and "-SkipCNCheck" in text
        both = psremoting.SessionOption(skip_ca_check=True, skip_cn_check=True)
        assert _whoami("127.0.0.2", elsewhere.port, both) == ["server01\\user"]


def test_a_ca_signed_certificate_for_another_name_names_the_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Emulator(
        host="127.0.0.2", https=True, auth=("ntlm",), users=USERS
    ) as ca_signed:  # a private CA, trusted below
        assert ca_signed.ca_file is not None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_signed.ca_file)
        with pytest.raises(trust.HostNameMismatchError, match="The certificate is for: SERVER01, localhost"):
            _whoami("127.0.0.2", ca_signed.port)
        no_cn = psremoting.SessionOption(skip_cn_check=True)
        assert _whoami("127.0.0.2", ca_signed.port, no_cn) == ["server01\\user"]


def test_the_shell_option_and_the_cli_flag() -> None:
    option = psremoting.SessionOption.from_powershell(
        SkipCACheck=True, CertificateFingerprint="ab" * 32, KerberosDelegate=True
    )
    assert option.skip_ca_check and not option.skip_cn_check and option.kerberos_delegate
    assert option.cert_fingerprint is not None and option.cert_fingerprint.startswith("SHA256:")
    with pytest.raises(psremoting.InvalidOptionError, match="not a SHA-256"):
        psremoting.SessionOption(cert_fingerprint="nonsense")


def _at_a_terminal(argv: list[str], dialog: list[tuple[bytes, bytes]]) -> tuple[str, int]:
    """Run `argv` on a pty (its controlling terminal, stdin and stderr); each time the next
    expected text of `dialog` appears, type its answer. Returns the transcript and exit code."""
    import os
    import pty
    import select
    import sys

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execve(sys.executable, [sys.executable, "-m", "psremoting", *argv], dict(os.environ))
    seen, steps, position = b"", list(dialog), 0
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            while steps and seen.find(steps[0][0], position) >= 0:  # each text answered once
                position = seen.find(steps[0][0], position) + len(steps[0][0])
                os.write(fd, steps.pop(0)[1])
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return seen.decode("utf-8", "replace").replace("<", "").replace(">", ""), os.waitstatus_to_exitcode(
        status
    )


def test_at_a_terminal_the_cli_asks_as_ssh_does(emu: Emulator, first: ServerCertificate) -> None:
    """`psremoting invoke` at a terminal: the fingerprint is shown and asked about; "yes"
    trusts it (known_hosts) and the command runs."""
    argv = ["invoke", "-H", "127.0.0.1", "--port", str(emu.port), "--ssl", "--auth", "ntlm", "-c", "whoami"]
    text, code = _at_a_terminal(argv, [(b"(yes/no)? ", b"yes\n")])
    found = fingerprint(first.certificate_der())
    assert f"The authenticity of host '127.0.0.1:{emu.port}' can't be established." in text
    assert f"Certificate SHA256 fingerprint is {found}." in text
    assert "(yes/no)? yes" in text  # what is typed is echoed
    assert "server01\\user" in text and code == 0
    assert trust.KnownHosts().lookup("127.0.0.1", emu.port) == [found]


def test_the_interactive_shell_asks_too(emu: Emulator, first: ServerCertificate) -> None:
    command = f"Invoke-Command -ComputerName 127.0.0.1 -Port {emu.port} -UseSSL -Authentication Negotiate {{ whoami }}"
    text, code = _at_a_terminal(
        ["shell"],
        [(b"PS ", command.encode() + b"\r"), (b"(yes/no)? ", b"yes\n"), (b"server01\\user", b"exit\r")],
    )
    assert f"Certificate SHA256 fingerprint is {fingerprint(first.certificate_der())}." in text
    assert f"Permanently added '127.0.0.1:{emu.port}' to the list of known hosts." in text
    assert code == 0 and trust.KnownHosts().lookup("127.0.0.1", emu.port)
