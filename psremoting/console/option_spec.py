"""New-PSSessionOption's parameters (PowerShell's NewPSSessionOptionCommand), kept apart from
the cmdlet table (`cmdlets`) for its length: the options this client honours, and those it
refuses with the reason. It takes no pipeline input (NewPSSessionOptionCommand.cs declares no
ValueFromPipeline parameter).
"""

from __future__ import annotations

from psremoting.console.cmdlet_types import CmdletSpec, Param, refused

__all__ = ["SESSION_OPTION_SPEC"]

SESSION_OPTION_SPEC = CmdletSpec(
    "New-PSSessionOption",
    "Creates an object that contains advanced options for a PSSession.",
    (
        Param(
            "SkipCACheck",
            "switch",
            help="Do not check that a certificate authority signed the certificate.",
        ),
        Param("SkipCNCheck", "switch", help="Do not check the certificate's name against the computer name."),
        Param(
            "SkipRevocationCheck",
            "switch",
            help="Do not check the certificate against the CRL it names.",
        ),
        Param(
            "CertificateFingerprint",
            "string",
            help="psremoting extension: accept only the HTTPS certificate with this SHA-256 fingerprint.",
        ),
        Param(
            "ServicePrincipalName",
            "string",
            help="psremoting extension: the server's Kerberos principal (SERVICE/HOST), if not host/<name>.",
        ),
        Param(
            "KerberosDelegate",
            "switch",
            help="psremoting extension: forward the Kerberos ticket to the server (the second hop).",
        ),
        Param("NoEncryption", "switch", help="Allow unencrypted HTTP (Basic over HTTP)."),
        Param("NoCompression", "switch", help="Do not compress (this client never compresses PSRP data)."),
        Param("NoMachineProfile", "switch", help="Do not load the user's profile on the server."),
        Param(
            "OpenTimeout",
            "int",
            ("OpenTimeoutMSec",),
            help="Milliseconds to wait for the session to open.",
        ),
        Param(
            "OperationTimeout",
            "int",
            ("OperationTimeoutMSec",),
            help="Milliseconds one WS-Management operation may take.",
        ),
        Param("CancelTimeout", "int", ("CancelTimeoutMSec",), help="Milliseconds to wait for a stop."),
        Param(
            "IdleTimeout",
            "int",
            ("IdleTimeoutMSec",),
            help="Milliseconds the server keeps an idle session.",
        ),
        Param("MaxConnectionRetryCount", "int", help="Retries of a failed connection attempt."),
        Param("Culture", "string", help="The culture (WS-Management DataLocale), e.g. de-DE."),
        Param("UICulture", "string", help="The UI culture (WS-Management Locale), e.g. fr-FR."),
        Param("ApplicationArguments", "object", help="A hashtable the server sees in $PSSenderInfo."),
        Param(
            "MaximumRedirection",
            "int",
            help="0 only: this client does not follow redirections (-AllowRedirection is not supported).",
        ),
        Param(
            "ProxyAccessType",
            "string",
            help="None (proxies from the environment) or NoProxyServer; the Windows settings are not available.",
        ),
        refused(
            "ProxyAuthentication",
            "string",
            "give the proxy as a URL with its credentials instead (psremoting --proxy, or "
            "SessionOption(proxy=...) in Python)",
        ),
        refused(
            "ProxyCredential",
            "credential",
            "give the proxy as a URL with its credentials instead (psremoting --proxy, or "
            "SessionOption(proxy=...) in Python)",
        ),
        refused(
            "UseUTF16",
            "switch",
            "this client always sends its requests in UTF-8, which every WinRM server accepts",
        ),
        refused(
            "IncludePortInSPN",
            "switch",
            "this client asks Kerberos for the service name without the port; connect to the "
            "default port or register that name for the server",
        ),
        refused(
            "MaximumReceivedDataSizePerCommand",
            "int",
            "this client caps each answer from the server itself (see the psremoting "
            "documentation) and has no per-command limit yet",
        ),
        refused(
            "MaximumReceivedObjectSize",
            "int",
            "this client caps each answer from the server itself (see the psremoting "
            "documentation) and has no per-object limit yet",
        ),
        refused(
            "OutputBufferingMode",
            "string",
            "the output buffering mode of disconnected sessions cannot be chosen on this client yet",
        ),
    ),
    (),
    api="SessionOption",
)
