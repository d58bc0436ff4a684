"""Invoke-Command on the emulated server: the second hop, as a test double.

A command on the first server that reaches a second one (``Invoke-Command -ComputerName
SERVER02 -Credential $c { ... }``) must log on there. Windows can only do that with a
credential it holds: one passed explicitly (``-Credential``, which the client sent encrypted
with the session key and the server decrypted), or a delegated one (CredSSP, Kerberos
delegation). Without it the second server answers "Access is denied": the double-hop
problem. This built-in reproduces exactly that: the logon is checked against the emulator's
own users with the decrypted password (so a wrong secret fails as on Windows), or made with
the session's delegated credential (``engine.delegated``), and the script block then runs as
that user on that computer (``whoami`` says so), its output marked with PSComputerName.

It does not open a real second connection: the script block runs in this engine, with the
target's name as ``$env:COMPUTERNAME`` while it runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psrpcore.types import ErrorCategory, PSNoteProperty

from psremoting.protocol.secrets import PSCredential
from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.evaluator import invoke_script_block
from psremoting.pslang.values import ScriptBlock, enumerate_value, to_string

from .commands import CommandContext, builtin

__all__: list[str] = []

_TROUBLESHOOTING = " For more information, see the about_Remote_Troubleshooting Help topic."


@builtin(
    CommandSignature(
        "Invoke-Command",
        (
            Parameter("ScriptBlock", "scriptblock", position=0, mandatory=True),
            Parameter("ComputerName", "string[]", position=1),
            Parameter("Credential", "object"),
            Parameter("ArgumentList", "object[]"),
            Parameter("Authentication", "string"),
        ),
    )
)
def _invoke_command(ctx: CommandContext) -> Iterable[Any]:
    block = ctx.get("ScriptBlock")
    if not isinstance(block, ScriptBlock):
        return []
    computers = [to_string(c) for c in enumerate_value(ctx.get("ComputerName"))]
    credential = ctx.get("Credential")
    arguments = list(enumerate_value(ctx.get("ArgumentList")))
    if not computers:  # no -ComputerName: the block runs here, in this session, without remoting
        return list(enumerate_value(invoke_script_block(ctx.evaluator, block, arguments)))
    results: list[Any] = []
    for computer in computers:
        user = _logon(ctx, computer, credential)
        if user is None:
            continue
        env = ctx.evaluator.scope.env
        previous = env.get("COMPUTERNAME")
        env["COMPUTERNAME"] = computer.upper()
        engine = ctx.engine
        identity = (engine.computer_name, engine.username)
        engine.computer_name, engine.username = computer.upper(), user.rpartition("\\")[2].partition("@")[0]
        try:
            output = invoke_script_block(ctx.evaluator, block, arguments)
        finally:
            engine.computer_name, engine.username = identity
            if previous is None:
                env.pop("COMPUTERNAME", None)
            else:
                env["COMPUTERNAME"] = previous
        for item in enumerate_value(output):
            results.append(_mark(ctx.engine.to_wire(item), computer))
    return results


def _logon(ctx: CommandContext, computer: str, credential: Any) -> str | None:
    """The user the second hop logs on as, or None after writing Windows' access-denied error."""
    logon = getattr(ctx.engine, "logon", None)
    if isinstance(credential, PSCredential) and logon is not None:
        password = credential.password.get_value()
        if password is not None and logon(credential.username, password):
            return credential.username
    delegated = getattr(ctx.engine, "delegated", None)
    if credential is None and delegated is not None:
        # A forwarded Kerberos ticket: the KDC decides.
        if delegated.ticket is not None and delegated.kerberos_logon(computer):
            return str(delegated.username)
        if (
            logon is not None
            and delegated.password is not None
            and logon(delegated.username, delegated.password)
        ):
            return str(delegated.username)
    # No credential (nothing delegated: the double hop), or one the second server rejects.
    record = ctx.error(
        f"[{computer}] Connecting to remote server {computer} failed with the following error message : "
        "Access is denied." + _TROUBLESHOOTING,
        "System.Management.Automation.Remoting.PSRemotingTransportException",
        ErrorCategory.OpenError,
        "AccessDenied",
        computer,
    )
    record.FullyQualifiedErrorId = "AccessDenied,PSSessionStateBroken"
    ctx.write_error(record)
    return None


def _mark(item: Any, computer: str) -> Any:
    """Remote output carries PSComputerName, as Invoke-Command adds it."""
    meta = getattr(item, "PSObject", None)
    if meta is not None and hasattr(meta, "extended_properties"):
        meta.extended_properties.append(PSNoteProperty("PSComputerName", computer))
    return item
