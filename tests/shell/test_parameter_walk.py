"""Every parameter of New-PSSession, Enter-PSSession, Invoke-Command and New-PSSessionOption, and
the common parameters, as PowerShell 7's help documents them (data/ps7_parameters.json): each is
either honoured, which a check below shows by its effect, or refused with "-Name is not
supported on this client: <why>" before anything connects. None is silently ignored.

The checks type the parameter at the local prompt, as a user would, against emulated computers
on loopback; where the effect is on where or how the connection is made (-Port, -UseSSL,
-ApplicationName, -Credential, -Authentication, -SessionOption), the session goes to a real
emulator by address, without the emulator routing of the other checks.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import psremoting
from psremoting.console.host_ui import ConsoleHostUI
from psremoting.console.interpreter import Interpreter
from psremoting.emulator import Emulator, EmulatorFleet
from psremoting.transport.options import EndpointOverride, PSCredential, set_endpoint_override

DATA = json.loads((Path(__file__).parent / "data" / "ps7_parameters.json").read_text(encoding="utf-8"))
USER, PASSWORD = "walker", "Walk-Passw0rd"


@dataclass
class Walk:
    """A local shell, emulated computers by name, and emulators to reach by address."""

    interpreter: Interpreter
    out: io.StringIO
    fleet: EmulatorFleet
    http: Emulator
    https: Emulator
    tmp: Path

    def run(self, text: str) -> str:
        start = self.out.tell()
        self.interpreter.execute(text)
        self.out.seek(start)
        result = self.out.read()
        self.out.seek(0, io.SEEK_END)
        return result

    def value(self, text: str) -> str:
        return self.run(text).strip()

    @property
    def http_port(self) -> int:
        return int(self.http.port)

    @property
    def https_port(self) -> int:
        return int(self.https.port)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[EmulatorFleet, Emulator, Emulator]]:
    fleet = EmulatorFleet(users={USER: PASSWORD}, auth=("ntlm", "negotiate", "basic"))
    with (
        fleet,
        Emulator(users={USER: PASSWORD}, auth=("ntlm", "negotiate", "basic"), allow_unencrypted=True) as http,
        Emulator(users={USER: PASSWORD}, https=True) as https,
    ):
        yield fleet, http, https


@pytest.fixture
def walk(servers: tuple[EmulatorFleet, Emulator, Emulator], tmp_path: Path) -> Iterator[Walk]:
    from psremoting.cmdlets import job_table, jobs
    from psremoting.cmdlets import sessions as session
    from psremoting.cmdlets.interactive import current, exit_pssession

    fleet, http, https = servers

    def route(name: str) -> EndpointOverride | None:
        if name in ("127.0.0.1", "localhost"):
            return None  # by address: the connection parameters decide where it goes
        return EndpointOverride(fleet.url_for(name), USER, PASSWORD, "ntlm", None)

    set_endpoint_override(route)
    out = io.StringIO()
    interpreter = Interpreter(ConsoleHostUI(stdout=out, stdin=io.StringIO(), color=False))
    interpreter.scope.set("cred", PSCredential(USER, PASSWORD))
    interpreter.scope.set("wrong", PSCredential(USER, "not-the-password"))
    interpreter.scope.set("ca", https.ca_file)
    try:
        yield Walk(interpreter, out, fleet, http, https, tmp_path)
    finally:
        for job in job_table.get_job():
            job.stop()
            job.wait(20)
        while current() is not None:
            exit_pssession()
        session._reset_for_tests()
        jobs._reset_for_tests()
        set_endpoint_override(None)


# -- the parameters refused, and why ------------------------------------------------------

_CONNECTION_REFUSED = {
    "AllowRedirection": "does not follow WinRM redirections",
    "CertificateThumbprint": "Windows certificate store",
    "ConnectingTimeout": "over SSH",
    "ContainerId": "containers",
    "EnableNetworkAccess": "loopback sessions",
    "HostName": "over SSH",
    "KeyFilePath": "over SSH",
    "Options": "over SSH",
    "RunAsAdministrator": "containers",
    "SSHConnection": "over SSH",
    "SSHTransport": "over SSH",
    "Subsystem": "over SSH",
    "UserName": "over SSH",
    "VMId": "Hyper-V",
    "VMName": "Hyper-V",
}
REFUSED: dict[tuple[str, str], str] = {
    **{("New-PSSession", p): why for p, why in _CONNECTION_REFUSED.items()},
    ("New-PSSession", "UseWindowsPowerShell"): "Windows PowerShell 5.1",
    **{("Enter-PSSession", p): why for p, why in _CONNECTION_REFUSED.items() if p != "SSHConnection"},
    **{("Invoke-Command", p): why for p, why in _CONNECTION_REFUSED.items()},
    ("Invoke-Command", "NoNewScope"): "remote computers only",
    ("Invoke-Command", "RemoteDebug"): "script debugger",
    ("New-PSSessionOption", "IncludePortInSPN"): "without the port",
    ("New-PSSessionOption", "MaximumReceivedDataSizePerCommand"): "per-command limit",
    ("New-PSSessionOption", "MaximumReceivedObjectSize"): "per-object limit",
    ("New-PSSessionOption", "OutputBufferingMode"): "buffering mode",
    ("New-PSSessionOption", "ProxyAuthentication"): "proxy as a URL",
    ("New-PSSessionOption", "ProxyCredential"): "proxy as a URL",
    ("New-PSSessionOption", "UseUTF16"): "UTF-8",
    **{(c, p): why for c in ("New-PSSession", "Enter-PSSession", "Invoke-Command", "New-PSSessionOption")
       for p, why in (("OutBuffer", "passes a command's output on"), ("PipelineVariable", "no current object"))},
}  # fmt: skip


def _argument(type_name: str) -> str:
    if type_name.endswith("SwitchParameter"):
        return ""
    if "Int" in type_name:
        return " 1"
    if "Hashtable" in type_name:
        return " @{}"
    return " x"


# -- the parameters honoured, and how that shows --------------------------------------------

Check = Callable[[Walk], None]
HONOURED: dict[tuple[str, str], Check] = {}


def honours(*keys: tuple[str, str]) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        for key in keys:
            assert key not in HONOURED, key
            HONOURED[key] = check
        return check

    return register


def _entered(walk: Walk) -> Any:
    from psremoting.cmdlets.interactive import current, exit_pssession

    session = current()
    assert session is not None, walk.out.getvalue()[-2000:]
    name = session.computer_name
    exit_pssession()
    return name


@honours(("New-PSSession", "ComputerName"), ("New-PSSession", "Name"))
def _new_by_name(walk: Walk) -> None:
    assert walk.run("$s = New-PSSession -Cn web1 -Name Front") == ""
    assert walk.value("$s.ComputerName; $s.Name; $s.State") == "web1\nFront\nOpened"


@honours(("New-PSSession", "Session"))
def _new_like_session(walk: Walk) -> None:
    walk.run("$a = New-PSSession web1")
    walk.run("$b = New-PSSession -Session $a")
    assert walk.value("$b.ComputerName; $b.Id -ne $a.Id; $b.State") == "web1\nTrue\nOpened"


@honours(("New-PSSession", "ConnectionUri"), ("Enter-PSSession", "ConnectionUri"))
def _by_uri(walk: Walk) -> None:
    walk.run("$s = New-PSSession -URI http://web2:5985/wsman")
    assert walk.value("$s.ComputerName") == "web2"
    walk.run("Enter-PSSession -CU http://web3:5985/wsman")
    assert _entered(walk) == "web3"


@honours(("New-PSSession", "Port"), ("New-PSSession", "Credential"), ("New-PSSession", "ApplicationName"))
def _new_by_address(walk: Walk) -> None:
    line = f"New-PSSession -ComputerName 127.0.0.1 -Port {walk.http_port} -Credential $cred -Authentication Negotiate"
    walk.run(f"$s = {line} -ApplicationName wsman")
    assert walk.value("$s.State") == "Opened"
    assert "Access is denied" in walk.run(line.replace("$cred", "$wrong"))
    other_port = walk.run(line.replace(str(walk.http_port), "1"))
    assert "Connecting to remote server 127.0.0.1 failed" in other_port
    wrong_path = walk.run(f"{line} -ApplicationName nothere")
    assert "answered with HTTP 404" in wrong_path, wrong_path  # the path of the URL is the application name


@honours(("New-PSSession", "Authentication"), ("New-PSSession", "SessionOption"))
def _new_authentication(walk: Walk) -> None:
    base = f"New-PSSession -ComputerName 127.0.0.1 -Port {walk.http_port} -Credential $cred"
    assert "Basic authentication over HTTP would send the password unencrypted" in walk.run(
        f"{base} -Authentication Basic"
    )
    walk.run(f"$s = {base} -Authentication Basic -SessionOption (New-PSSessionOption -NoEncryption)")
    assert walk.value("$s.State; $s.ConnectionInfo.Authentication") == "Opened\nbasic"


@honours(
    ("New-PSSession", "UseSSL"),
    ("New-PSSessionOption", "SkipCACheck"),
    ("New-PSSessionOption", "SkipCNCheck"),
)
def _new_tls(walk: Walk) -> None:
    base = f"New-PSSession -ComputerName 127.0.0.1 -Port {walk.https_port} -UseSSL -Credential $cred"
    assert "certificate" in walk.run(base).lower()  # verified by default: the CA is unknown here
    walk.run(f"$s = {base} -SessionOption (New-PSSessionOption -SkipCACheck -SkipCNCheck)")
    assert walk.value("$s.State; $s.ConnectionInfo.UseSsl") == "Opened\nTrue"


@honours(("New-PSSession", "ConfigurationName"), ("Enter-PSSession", "ConfigurationName"))
def _configuration(walk: Walk) -> None:
    refused = walk.run("New-PSSession web1 -ConfigurationName Nowhere.Configuration")
    assert "Nowhere.Configuration" in refused
    walk.run("$s = New-PSSession web1 -ConfigurationName Microsoft.PowerShell")
    assert walk.value("$s.ConfigurationName") == "Microsoft.PowerShell"
    assert "Nowhere.Configuration" in walk.run(
        "Enter-PSSession web1 -ConfigurationName Nowhere.Configuration"
    )


@honours(("New-PSSession", "ThrottleLimit"))
def _new_throttle(walk: Walk) -> None:
    walk.run("$s = New-PSSession -ComputerName t1, t2, t3 -ThrottleLimit 1")
    assert walk.value("$s.Count") == "3"
    assert 'Cannot convert value "many"' in walk.run("New-PSSession t4 -ThrottleLimit many")


@honours(("Enter-PSSession", "ComputerName"))
def _enter_computer(walk: Walk) -> None:
    walk.run("Enter-PSSession -Cn web4")
    assert _entered(walk) == "web4"


@honours(
    ("Enter-PSSession", "Session"),
    ("Enter-PSSession", "Id"),
    ("Enter-PSSession", "Name"),
    ("Enter-PSSession", "InstanceId"),
)
def _enter_session(walk: Walk) -> None:
    walk.run("$s = New-PSSession web5 -Name Five")
    for line in ("Enter-PSSession -Session $s", "Enter-PSSession -Id $s.Id", "Enter-PSSession -Name Five",
                 "Enter-PSSession -InstanceId $s.InstanceId"):  # fmt: skip
        walk.run(line)
        assert _entered(walk) == "web5", line
    assert walk.value("$s.State") == "Opened"  # entered and left: the session stays


@honours(
    ("Enter-PSSession", "Port"),
    ("Enter-PSSession", "Credential"),
    ("Enter-PSSession", "Authentication"),
    ("Enter-PSSession", "ApplicationName"),
)
def _enter_by_address(walk: Walk) -> None:
    line = f"Enter-PSSession -ComputerName 127.0.0.1 -Port {walk.http_port} -Authentication Negotiate"
    walk.run(f"{line} -Credential $cred -ApplicationName wsman")
    assert _entered(walk) == "127.0.0.1"
    assert "Access is denied" in walk.run(f"{line} -Credential $wrong")
    assert "answered with HTTP 404" in walk.run(f"{line} -Credential $cred -ApplicationName nothere")
    assert "Basic authentication over HTTP" in walk.run(
        line.replace("Negotiate", "Basic") + " -Credential $cred"
    )


@honours(("Enter-PSSession", "UseSSL"), ("Enter-PSSession", "SessionOption"))
def _enter_tls(walk: Walk) -> None:
    base = f"Enter-PSSession -ComputerName 127.0.0.1 -Port {walk.https_port} -UseSSL -Credential $cred"
    assert "certificate" in walk.run(base).lower()
    walk.run(f"{base} -SessionOption (New-PSSessionOption -SkipCACheck -SkipCNCheck)")
    assert _entered(walk) == "127.0.0.1"


@honours(
    ("Invoke-Command", "ComputerName"),
    ("Invoke-Command", "ScriptBlock"),
    ("Invoke-Command", "HideComputerName"),
)
def _invoke_computers(walk: Walk) -> None:
    names = sorted(walk.run("Invoke-Command -Cn i1, i2 -Command { $env:COMPUTERNAME }").split())
    assert names == ["I1", "I2"]
    assert walk.value("(Invoke-Command -Cn i1 { 1 }).PSShowComputerName") == "True"
    assert walk.value("(Invoke-Command -Cn i1 { 1 } -HCN).PSShowComputerName") == "False"


@honours(("Invoke-Command", "Session"), ("Invoke-Command", "InputObject"), ("Invoke-Command", "ArgumentList"))
def _invoke_session(walk: Walk) -> None:
    walk.run("$s = New-PSSession i3")
    assert walk.value("Invoke-Command -Session $s { param($a, $b) $a + $b } -Args 40, 2") == "42"
    assert walk.value("Invoke-Command -Session $s { $input } -InputObject 'in'") == "in"


@honours(("Invoke-Command", "FilePath"))
def _invoke_file(walk: Walk) -> None:
    script = walk.tmp / "remote.ps1"
    script.write_text('param($who) "hello $who from $env:COMPUTERNAME"\n', encoding="utf-8")
    assert walk.value(f"Invoke-Command -Cn i4 -PSPath {script} -ArgumentList you") == "hello you from I4"


@honours(("Invoke-Command", "ConnectionUri"))
def _invoke_uri(walk: Walk) -> None:
    assert walk.value("Invoke-Command -URI http://i5:5985/wsman { $env:COMPUTERNAME }") == "I5"


@honours(("Invoke-Command", "AsJob"), ("Invoke-Command", "JobName"), ("Invoke-Command", "ThrottleLimit"))
def _invoke_job(walk: Walk) -> None:
    gate_peak = walk.fleet.stats
    gate_peak.reset()
    walk.run(
        "$j = Invoke-Command -Cn j1, j2, j3 { Start-Sleep -Milliseconds 200; 1 } -AsJob -JobName Batch -ThrottleLimit 1"
    )
    assert walk.value("$j.Name; $j.PSJobTypeName") == "Batch\nRemoteJob"
    walk.run("$null = Wait-Job $j")
    assert walk.value("@(Receive-Job $j).Count") == "3"
    assert walk.fleet.stats.peak_running_pipelines == 1  # one host at a time
    assert "-JobName names the background job of -AsJob" in walk.run("Invoke-Command -Cn j1 { 1 } -JobName x")


@honours(("Invoke-Command", "InDisconnectedSession"), ("Invoke-Command", "SessionName"))
def _invoke_disconnected(walk: Walk) -> None:
    walk.run("$d = Invoke-Command -Cn d1 { 1..3 } -InDisconnectedSession -SessionName Night")
    assert walk.value("$d.Name; $d.State") == "Night\nDisconnected"
    assert walk.value("Receive-PSSession -Session $d") == "1\n2\n3"
    walk.run("Remove-PSSession $d")
    assert "can only be used with the Disconnected switch" in walk.run(
        "Invoke-Command -Cn d1 { 1 } -SessionName x"
    )


@honours(
    ("Invoke-Command", "Port"),
    ("Invoke-Command", "Credential"),
    ("Invoke-Command", "Authentication"),
    ("Invoke-Command", "ApplicationName"),
    ("Invoke-Command", "ConfigurationName"),
)
def _invoke_by_address(walk: Walk) -> None:
    line = f"Invoke-Command -ComputerName 127.0.0.1 -Port {walk.http_port} -Authentication Negotiate"
    assert (
        walk.value(
            f"{line} -Credential $cred -ApplicationName wsman -ConfigurationName Microsoft.PowerShell {{ 6 * 7 }}"
        )
        == "42"
    )
    assert "Access is denied" in walk.run(f"{line} -Credential $wrong {{ 1 }}")
    assert "answered with HTTP 404" in walk.run(f"{line} -Credential $cred -ApplicationName nothere {{ 1 }}")
    assert "Nowhere.Configuration" in walk.run(
        f"{line} -Credential $cred -ConfigurationName Nowhere.Configuration {{ 1 }}"
    )
    assert "Basic authentication over HTTP" in walk.run(
        line.replace("Negotiate", "Basic") + " -Credential $cred { 1 }"
    )


@honours(("Invoke-Command", "UseSSL"), ("Invoke-Command", "SessionOption"))
def _invoke_tls(walk: Walk) -> None:
    base = f"Invoke-Command -ComputerName 127.0.0.1 -Port {walk.https_port} -UseSSL -Credential $cred"
    assert "certificate" in walk.run(f"{base} {{ 1 }}").lower()
    assert walk.value(f"{base} -SessionOption (New-PSSessionOption -SkipCACheck -SkipCNCheck) {{ 7 }}") == "7"


def _option(walk: Walk, parameters: str, field: str) -> str:
    return walk.value(f"(New-PSSessionOption {parameters}).{field}")


@honours(
    ("New-PSSessionOption", "OpenTimeout"),
    ("New-PSSessionOption", "OperationTimeout"),
    ("New-PSSessionOption", "CancelTimeout"),
    ("New-PSSessionOption", "IdleTimeout"),
)
def _option_timeouts(walk: Walk) -> None:
    assert _option(walk, "-OpenTimeoutMSec 5000", "OpenTimeout") == "5"
    assert _option(walk, "-OperationTimeout 30000", "OperationTimeout") == "30"
    assert _option(walk, "-CancelTimeoutMSec 2500", "CancelTimeout") == "2.5"
    assert _option(walk, "-IdleTimeout 120000", "IdleTimeout") == "120"
    # The open timeout bounds the connection: a black-holed port fails within it, not after 180 s.
    walk.run("$o = New-PSSessionOption -OpenTimeout 5000 -OperationTimeout 30000")
    walk.run("$s = New-PSSession web6 -SessionOption $o")
    assert walk.value("$s.ConnectionInfo.SessionOption.OperationTimeout") == "30"


@honours(("New-PSSessionOption", "Culture"), ("New-PSSessionOption", "UICulture"))
def _option_culture(walk: Walk) -> None:
    walk.run("$s = New-PSSession web7 -SessionOption (New-PSSessionOption -Culture de-DE -UICulture fr-FR)")
    assert (
        walk.value("$s.ConnectionInfo.SessionOption.Culture; $s.ConnectionInfo.SessionOption.UICulture")
        == "de-DE\nfr-FR"
    )


@honours(
    ("New-PSSessionOption", "NoEncryption"),
    ("New-PSSessionOption", "NoMachineProfile"),
    ("New-PSSessionOption", "MaxConnectionRetryCount"),
    ("New-PSSessionOption", "ApplicationArguments"),
    ("New-PSSessionOption", "SkipRevocationCheck"),
    ("New-PSSessionOption", "NoCompression"),
)
def _option_flags(walk: Walk) -> None:
    assert _option(walk, "-NoEncryption", "NoEncryption") == "True"
    assert _option(walk, "-NoMachineProfile", "NoMachineProfile") == "True"
    assert _option(walk, "-MaxConnectionRetryCount 3", "MaxConnectionRetries") == "3"
    assert _option(walk, "-ApplicationArguments @{ Tier = 'web' }", "ApplicationArguments.Tier") == "web"
    assert "give a hashtable" in walk.run("New-PSSessionOption -ApplicationArguments 5")
    # Behaviours this client always has: it never checks revocation and never compresses.
    assert _option(walk, "-SkipRevocationCheck", "SkipRevocationCheck") == "True"
    assert walk.run("$o = New-PSSessionOption -NoCompression") == ""


@honours(("New-PSSessionOption", "MaximumRedirection"), ("New-PSSessionOption", "ProxyAccessType"))
def _option_value_dependent(walk: Walk) -> None:
    assert walk.run("$o = New-PSSessionOption -MaximumRedirection 0") == ""
    assert "-MaximumRedirection 3 is not supported on this client" in walk.run(
        "New-PSSessionOption -MaximumRedirection 3"
    )
    assert _option(walk, "-ProxyAccessType NoProxyServer", "NoProxy") == "True"
    assert _option(walk, "-ProxyAccessType None", "NoProxy") == "False"
    assert "-ProxyAccessType IEConfig is not supported on this client" in walk.run(
        "New-PSSessionOption -ProxyAccessType IEConfig"
    )


# -- the common parameters -------------------------------------------------------------------

_STREAMS = "{ Write-Warning 'careful'; Write-Error 'broken'; Write-Information 'noted'; Write-Verbose 'said' -Verbose; 'out' }"


@honours(
    *[
        (c, p)
        for c in ("Invoke-Command",)
        for p in ("ErrorAction", "ErrorVariable", "WarningAction", "WarningVariable")
    ]
)
def _common_errors_and_warnings(walk: Walk) -> None:
    out = walk.run(
        f"Invoke-Command -Cn c1 {_STREAMS} -ev errs -wv warns -ea SilentlyContinue -wa SilentlyContinue"
    )
    assert out == "VERBOSE: said\nout\n"
    assert walk.value("$errs.Count; $warns") == "1\ncareful"
    assert "broken" in walk.run(f"Invoke-Command -Cn c1 {_STREAMS} -ErrorAction Stop")
    assert "WarningPreference" in walk.run(f"Invoke-Command -Cn c1 {_STREAMS} -WarningAction Stop")


@honours(
    ("Invoke-Command", "InformationAction"),
    ("Invoke-Command", "InformationVariable"),
    ("Invoke-Command", "OutVariable"),
)
def _common_information_and_output(walk: Walk) -> None:
    shown = walk.run(
        f"Invoke-Command -Cn c1 {_STREAMS} -infa Continue -iv infos -ov outs -ea Ignore -wa Ignore"
    )
    assert "noted" in shown
    assert walk.value("$infos.Count; $outs") == "1\nout"


@honours(("Invoke-Command", "Verbose"), ("Invoke-Command", "Debug"), ("Invoke-Command", "ProgressAction"))
def _common_switches(walk: Walk) -> None:
    # The remote command's verbose and debug records are shown as they come; the local cmdlet
    # has none of its own to show. Progress follows -ProgressAction.
    assert walk.run("Invoke-Command -Cn c1 { 1 } -Verbose -Debug") == "1\n"
    assert (
        walk.run(
            "Invoke-Command -Cn c1 { Write-Progress -Activity a -Status s; 2 } -ProgressAction SilentlyContinue"
        )
        == "2\n"
    )
    assert "is not supported on this client" in walk.run(
        "Invoke-Command -Cn c1 { 1 } -ProgressAction Inquire"
    )


def _common_everywhere(cmdlet: str, line: str) -> Check:
    def check(walk: Walk) -> None:
        walk.run(
            f"{line} -ErrorVariable e1 -WarningVariable w1 -InformationVariable i1 -OutVariable o1 -Verbose -Debug"
        )
        assert walk.value("$e1.Count; $w1.Count; $i1.Count") == "0\n0\n0"
        assert walk.value("$o1.Count") == "1"
        for action in ("ErrorAction", "WarningAction", "InformationAction", "ProgressAction"):
            assert walk.run(f"{line} -{action} SilentlyContinue") == "", action
            assert "Inquire is not supported on this client" in walk.run(f"{line} -{action} Inquire")
        assert "Unable to match the identifier name Sometimes" in walk.run(f"{line} -ErrorAction Sometimes")

    return check


for _cmdlet, _line in (
    ("New-PSSession", "$x = New-PSSession web8"),
    ("New-PSSessionOption", "$x = New-PSSessionOption"),
):
    honours(
        *[
            (_cmdlet, p)
            for p in (
                "Verbose",
                "Debug",
                "ErrorAction",
                "WarningAction",
                "InformationAction",
                "ProgressAction",
                "ErrorVariable",
                "WarningVariable",
                "InformationVariable",
                "OutVariable",
            )
        ]  # fmt: skip
    )(_common_everywhere(_cmdlet, _line))


@honours(*[("Enter-PSSession", p) for p in ("Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction",
                                            "ProgressAction", "ErrorVariable", "WarningVariable", "InformationVariable",
                                            "OutVariable")])  # fmt: skip
def _common_enter(walk: Walk) -> None:
    walk.run(
        "Enter-PSSession web9 -ev e2 -wv w2 -iv i2 -ov o2 -Verbose -Debug -ea Stop -wa Stop -infa Stop -proga Stop"
    )
    assert _entered(walk) == "web9"
    assert walk.value("$e2.Count; $o2.Count") == "0\n0"
    # A failure to connect is a non-terminating error: silenced, and kept in -ErrorVariable.
    failing = "Enter-PSSession -ComputerName 127.0.0.1 -Port 1 -Credential $cred"
    assert walk.run(f"{failing} -ErrorAction SilentlyContinue -ErrorVariable e3") == ""
    assert walk.value("$e3.Count") == "1"
    assert "Connecting to remote server 127.0.0.1 failed" in walk.run(failing)


@honours(
    *[
        (c, p)
        for c in ("New-PSSession", "Enter-PSSession", "Invoke-Command", "New-PSSessionOption")
        for p in ("WhatIf", "Confirm")
    ]
)
def _no_should_process(walk: Walk) -> None:
    # These cmdlets do not support ShouldProcess, so PowerShell has no -WhatIf / -Confirm on them.
    for line in (
        "New-PSSession web1",
        "Enter-PSSession web1",
        "Invoke-Command -Cn web1 { 1 }",
        "New-PSSessionOption",
    ):
        for param in ("WhatIf", "Confirm"):
            assert f"A parameter cannot be found that matches parameter name '{param}'" in walk.run(
                f"{line} -{param}"
            )


# -- the walk ---------------------------------------------------------------------------------


def _documented() -> list[tuple[str, str, str, tuple[str, ...]]]:
    rows = [
        (c, p["name"], p["type"], tuple(p["aliases"]))
        for c, params in DATA["cmdlets"].items()
        for p in params
    ]
    rows += [(c, p["name"], p["type"], tuple(p["aliases"])) for c in DATA["cmdlets"] for p in DATA["common"]]
    return rows


DOCUMENTED = _documented()


def test_every_documented_parameter_is_honoured_or_refused_and_nothing_else() -> None:
    keys = {(c, p) for c, p, _t, _a in DOCUMENTED}
    assert len(keys) > 150
    assert set(HONOURED) & set(REFUSED) == set()
    assert set(HONOURED) | set(REFUSED) == keys, sorted(keys ^ (set(HONOURED) | set(REFUSED)))


@pytest.mark.parametrize(
    ("cmdlet", "name", "type_name", "aliases"),
    [row for row in DOCUMENTED if row[1] not in ("WhatIf", "Confirm")],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_shell_knows_each_parameter_by_its_names(
    cmdlet: str, name: str, type_name: str, aliases: tuple[str, ...]
) -> None:
    from psremoting.console import cmdlets

    spec = cmdlets.lookup(cmdlet)
    assert spec is not None
    declared = {p.name: p for p in cmdlets.parameters_of(spec)}
    assert name in declared, f"{cmdlet} -{name} is not declared"
    assert set(aliases) <= set(declared[name].aliases), f"{cmdlet} -{name}: aliases {aliases}"
    assert (declared[name].kind == "switch") == type_name.endswith("SwitchParameter"), f"{cmdlet} -{name}"


@pytest.mark.parametrize(("cmdlet", "name"), sorted(REFUSED), ids=lambda v: v)
def test_refused_parameters_say_why_before_anything_connects(walk: Walk, cmdlet: str, name: str) -> None:
    type_name = next(t for c, p, t, _a in DOCUMENTED if (c, p) == (cmdlet, name))
    line = {
        "New-PSSession": "New-PSSession web1",
        "Enter-PSSession": "Enter-PSSession web1",
        "Invoke-Command": "Invoke-Command -Cn web1 { 1 }",
        "New-PSSessionOption": "New-PSSessionOption",
    }[cmdlet]
    before = walk.fleet.stats.requests.get("Create", 0)
    out = walk.run(f"{line} -{name}{_argument(type_name)}")
    assert f"{cmdlet}: -{name} is not supported on this client: " in out, out
    assert REFUSED[(cmdlet, name)] in out, out
    assert walk.fleet.stats.requests.get("Create", 0) == before  # no connection was even opened
    assert psremoting.get_pssession() == []


@pytest.mark.parametrize(
    "check", sorted(set(HONOURED.values()), key=lambda f: f.__name__), ids=lambda f: f.__name__
)
def test_honoured_parameters_have_their_effect(walk: Walk, check: Check) -> None:
    check(walk)
