"""Faults whose Windows shape has more than one text: a ``s:Reason`` apart from the
``f:Message``, a ``w:FaultDetail`` URI, or a ``f:ProviderFault`` naming the shell plugin
(the recordings ``test_winrs_fail_poll_process``, ``test_psrp_receive_failure``,
``test_psrp_is_alive_other_wsman_error``). `faults.render_fault` renders them.
"""

from __future__ import annotations

from psremoting.emulator.faults import WSManFault

__all__ = [
    "DetailedFault",
    "cmd_parameter_incorrect",
    "file_not_found",
    "get_of_a_missing_shell",
    "invalid_timeout_header",
    "unknown_command_id",
]

_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"


class DetailedFault(WSManFault):
    """A WSManFault with Windows' extra parts: `reason` (``s:Reason``, when it differs from the
    message), `fault_detail` (``w:FaultDetail``) and `provider`/`provider_path` (the message
    then sits in an ``f:ProviderFault``)."""

    def __init__(
        self,
        wsman_code: int,
        message: str,
        *,
        reason: str | None = None,
        fault_detail: str | None = None,
        provider: str | None = None,
        provider_path: str | None = None,
        code: str = "s:Sender",
        subcode: str = "w:InvalidParameter",
    ) -> None:
        super().__init__(wsman_code, message, code=code, subcode=subcode)
        self.reason = reason
        self.fault_detail = fault_detail
        self.provider = provider
        self.provider_path = provider_path
        #: The provider's message is itself a WSManFault (the Shell provider's, WsmSvc.dll).
        self.provider_nested = False


def cmd_parameter_incorrect() -> DetailedFault:
    """Windows' cmd plugin (winrscmd.dll) refusing a request that names no command of the shell,
    such as a Receive before any Command (Win32 error 87)."""
    return DetailedFault(
        87,
        "The parameter is incorrect. ",
        fault_detail=_DETAIL + "InvalidValue",
        provider="Shell cmd plugin",
        provider_path="%systemroot%\\system32\\winrscmd.dll",
    )


def unknown_command_id() -> DetailedFault:
    """A Receive for a command id the PowerShell shell does not have (2150858843)."""
    return DetailedFault(
        2150858843,
        "The Windows Remote Shell received a request to perform an operation on a command identifier "
        "that does not exist. Either the command has completed execution or the client specified an "
        "invalid command identifier. ",
        reason="The WS-Management service cannot process the request because the request contained "
        "invalid selectors for the resource. ",
        fault_detail=_DETAIL + "UnexpectedSelectors",
        subcode="w:InvalidSelectors",
    )


def invalid_timeout_header(value: str) -> DetailedFault:
    """An OperationTimeout that is not a positive duration (pypsrp's ``PT-1S``), 2150858767."""
    return DetailedFault(
        2150858767,
        f"The WS-Management service cannot process the request. The XML contains an invalid timeout "
        f"field in the SOAP header: {value}. ",
        reason="The WS-Management service cannot process the request. The request contains one or more "
        "invalid SOAP headers. ",
        subcode="a:InvalidMessageInformationHeader",
    )


def get_of_a_missing_shell() -> DetailedFault:
    """A WS-Transfer Get of a shell that is gone (reaped after its IdleTimeOut, deleted), as the
    Shell provider of WsmSvc.dll answers it (test_psrp_is_alive_invalid_selectors), 2150858843."""
    fault = DetailedFault(
        2150858843,
        "The WS-Management service cannot process the request because the request contained "
        "invalid selectors for the resource. ",
        fault_detail=_DETAIL + "UnexpectedSelectors",
        provider="Shell provider",
        provider_path="%systemroot%\\system32\\WsmSvc.dll",
        subcode="w:InvalidSelectors",
    )
    fault.provider_nested = True
    return fault


def file_not_found() -> DetailedFault:
    """A Command with WINRS_SKIP_CMD_SHELL whose program is not a file's full path: WinRS starts
    it without cmd.exe, so without a PATH search (test_winrs_no_cmd_shell), Win32 error 2."""
    return DetailedFault(
        2147942402,
        "The system cannot find the file specified. ",
        provider="Shell cmd plugin",
        provider_path="%systemroot%\\system32\\winrscmd.dll",
        code="s:Receiver",
        subcode="w:InternalError",
    )
