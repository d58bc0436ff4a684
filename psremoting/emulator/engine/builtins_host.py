"""Built-ins that talk to the client's host: Read-Host, Get-Credential, Start-Sleep.

They use the same host calls Windows PowerShell makes: ``Read-Host`` is ReadLine (11) or
ReadLineAsSecureString (12), and with ``-Prompt`` it is ``Host.UI.Prompt`` (23) with one
FieldDescription, as ReadHostCommand does; ``Get-Credential`` is PromptForCredential1 (24).
Without a client host these fail with PowerShell's HostException, as on Windows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psrpcore.types import FieldDescription, HostMethodIdentifier

from psremoting.pslang.binder import CommandSignature, Parameter
from psremoting.pslang.values import enumerate_value, get_member, to_string

from .commands import CommandContext, builtin
from .io import PipelineStopped

__all__: list[str] = []


@builtin(
    CommandSignature(
        "Read-Host",
        (
            Parameter("Prompt", "object", position=0, value_from_remaining_arguments=True),
            Parameter("AsSecureString", "switch"),
            Parameter("MaskInput", "switch"),
        ),
    )
)
def _read_host(ctx: CommandContext) -> Iterable[Any]:
    secure = ctx.switch("AsSecureString") or ctx.switch("MaskInput")
    prompt = ctx.get("Prompt")
    if prompt is None:
        method = HostMethodIdentifier.ReadLineAsSecureString if secure else HostMethodIdentifier.ReadLine
        return [ctx.host_call(method, [])]
    text = " ".join(s for s in (to_string(p) for p in enumerate_value(prompt)) if s)
    field = FieldDescription(
        Name=text,
        ParameterTypeName="SecureString" if secure else "String",
        ParameterTypeFullName="System.Security.SecureString" if secure else "System.String",
        ParameterAssemblyFullName=(
            "System.Security.SecureString, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089"
            if secure
            else "System.String, mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089"
        ),
        Label="",
        HelpMessage="",
        IsMandatory=True,
        Attributes=[],
    )
    # Host calls carry a FieldDescription encoded by its fields (name, label, ...), as
    # PowerShell's RemoteHostEncoder writes it.
    encoded = FieldDescription.ToPSObjectForRemoting(field, for_host=True)
    answer = ctx.host_call(HostMethodIdentifier.Prompt, ["", "", [encoded]])
    if isinstance(answer, dict):
        for key, value in answer.items():
            if str(key) == text:
                return [value]
        return [next(iter(answer.values()), None)]
    return [answer]


@builtin(
    CommandSignature(
        "Get-Credential",
        (
            Parameter("Credential", "object", position=0, sets=("CredentialSet",)),
            Parameter("UserName", "string", position=0, sets=("MessageSet",)),
            Parameter("Message", "string", position=1, sets=("MessageSet",)),
            Parameter("Title", "string", sets=("MessageSet",)),
        ),
        default_set="CredentialSet",
    )
)
def _get_credential(ctx: CommandContext) -> Iterable[Any]:
    given = ctx.get("Credential")
    if given is not None and get_member(given, "Password", None) is not None:
        return [given]
    user = ctx.get("UserName") or (to_string(given) if given is not None else "")
    caption = ctx.get("Title") or (
        "PowerShell credential request"
        if ctx.engine.version.startswith("7")
        else "Windows PowerShell credential request"
    )
    message = ctx.get("Message") or "Enter your credentials."
    return [ctx.host_call(HostMethodIdentifier.PromptForCredential1, [caption, message, user, ""])]


@builtin(
    CommandSignature(
        "Start-Sleep",
        (
            Parameter(
                "Seconds",
                "double",
                ("s",),
                position=0,
                mandatory=True,
                value_from_pipeline=True,
                sets=("Seconds",),
            ),
            Parameter(
                "Milliseconds",
                "int",
                ("ms",),
                mandatory=True,
                value_from_pipeline_by_property_name=True,
                sets=("Milliseconds",),
            ),
        ),
        default_set="Seconds",
    ),
    aliases=("sleep",),
)
def _start_sleep(ctx: CommandContext) -> None:
    seconds = ctx.get("Seconds")
    if seconds is None:
        seconds = (ctx.get("Milliseconds") or 0) / 1000.0
    # Event.wait returns as soon as the client stops the pipeline.
    if ctx.io.stopping.wait(max(0.0, float(seconds))):
        raise PipelineStopped()
