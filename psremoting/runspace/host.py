"""Host calls: what the remote side asks the local host to do.

A remote `Write-Host`, `Out-Default`, `Read-Host`, `Get-Credential`, a `-Confirm` choice or a
progress bar arrives as a PSRP host call. `ClientHost` (a pypsrp PSHost) receives them and
routes each to a `HostUI` (`psremoting.runspace.host_ui`), the small protocol an interactive
front end implements (docs/internals.md).

Calls that end a session are recorded on the host: `SetShouldExit` (the exit code of
`exit N`) and `PopRunspace` (method 53, sent by a remote Exit-PSSession; pypsrp's own host
ignores it). SecureString answers (Read-Host -AsSecureString, credentials) trigger the
session key exchange first, once per pool.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from typing import Any

from psremoting.protocol.objects import from_clixml
from psremoting.protocol.secrets import PSCredential as Credential
from psremoting.protocol.secrets import SecureString
from psremoting.runspace.host_ui import ChoiceDescription, FieldDescription, HostUI, input_ended_message
from psremoting.transport.pypsrp_values import from_pypsrp, progress_from

__all__ = ["CONSOLE_COLORS", "HostState", "make_pshost", "host_data_key"]

log = logging.getLogger(__name__)

CONSOLE_COLORS: tuple[str, ...] = (
    "Black", "DarkBlue", "DarkGreen", "DarkCyan", "DarkRed", "DarkMagenta", "DarkYellow", "Gray",
    "DarkGray", "Blue", "Green", "Cyan", "Red", "Magenta", "Yellow", "White",
)  # fmt: skip


#: The prompt PowerShell users know each interactive host method by.
_PROMPT_NAMES = {11: "Read-Host", 12: "Read-Host", 23: "Read-Host", 24: "Get-Credential",
                 25: "Get-Credential", 26: "PromptForChoice", 56: "PromptForChoice"}  # fmt: skip


@dataclass
class HostState:
    """What host calls told the client about the session's life (read after a pipeline)."""

    exit_code: int | None = None
    should_exit: bool = False
    pop_requested: bool = False
    is_pushed: bool = False
    window_size: tuple[int, int] | None = None
    #: Command ids of pipelines whose host call was abandoned (Ctrl+C, end of input): each
    #: pipeline takes only its own, so a request that comes after its pipeline ended never
    #: stops the next one (the prompt fetched after Ctrl+C).
    stop_requests: set[str] = field(default_factory=set)
    #: What the server set on ``$host.UI.RawUI`` (colours, positions, sizes, title, cursor
    #: size), by the Get method id that reads it back.
    raw_ui: dict[int, Any] = field(default_factory=dict)

    def reset(self) -> None:
        self.exit_code = None
        self.should_exit = False
        self.pop_requested = False

    def request_stop(self, command_id: str) -> None:
        """Ask the pipeline `command_id` to stop (from a host call's thread)."""
        self.stop_requests.add(command_id.upper())

    def take_stop_request(self, command_id: str) -> bool:
        """Whether a stop was asked for `command_id` (and forget that it was)."""
        try:
            self.stop_requests.remove(command_id.upper())
        except KeyError:
            return False
        return True


#: The colours the client reports as its RawUI's (host default data): the server's
#: Write-Host fills in the one it was not given with these, which is "the console's own".
REPORTED_FOREGROUND, REPORTED_BACKGROUND = "Gray", "Black"


def _colors(fg: Any, bg: Any) -> tuple[str | None, str | None]:
    """The colours of a Write(fg, bg, text) call, the reported defaults as None: Write-Host
    -ForegroundColor Red paints red on the terminal's own background, not on black."""
    fore, back = _color(fg), _color(bg)
    return (None if fore == REPORTED_FOREGROUND else fore), (None if back == REPORTED_BACKGROUND else back)


def _color(value: Any) -> str | None:
    raw = getattr(value, "value", value)
    try:
        index = int(raw)
    except (TypeError, ValueError):
        return None
    return CONSOLE_COLORS[index] if 0 <= index < len(CONSOLE_COLORS) else None


def _terminal_size(state: HostState) -> tuple[int, int]:
    if state.window_size is not None:
        return state.window_size
    size = shutil.get_terminal_size((120, 50))
    return max(size.columns, 20), max(size.lines, 5)


def _number_pair(value: Any, first: str, second: str) -> tuple[int, int]:
    """The two numbers of a Coordinates (X, Y) or Size (Width, Height) host call argument."""
    plain = from_pypsrp(value)
    get = plain.get if hasattr(plain, "get") else (lambda k, d=None: getattr(plain, k, d))
    a = get(first, None)
    a = get(first.lower(), 0) if a is None else a
    b = get(second, None)
    b = get(second.lower(), 0) if b is None else b
    return int(a or 0), int(b or 0)


def _field(obj: Any) -> FieldDescription:
    value = from_pypsrp(obj)
    get = value.get if hasattr(value, "get") else (lambda _k, d=None: d)
    return FieldDescription(
        name=str(get("name", "") or get("Name", "") or ""),
        label=str(get("label", "") or get("Label", "") or ""),
        type_name=str(
            get("parameterTypeFullName", "") or get("ParameterTypeFullName", "") or "System.String"
        ),
        is_mandatory=bool(get("isMandatory", False) or get("IsMandatory", False)),
        help_message=str(get("helpMessage", "") or get("HelpMessage", "") or ""),
        default_value=get("defaultValue", None),
    )


def _choice(obj: Any) -> ChoiceDescription:
    value = from_pypsrp(obj)
    get = value.get if hasattr(value, "get") else (lambda _k, d=None: d)
    label = get("Label", None) or get("label", None) or str(value)
    return ChoiceDescription(
        label=str(label), help_message=str(get("HelpMessage", "") or get("helpMessage", "") or "")
    )


# Method ids (MS-PSRP 2.2.3.17) whose host call expects an answer.
_VOID_METHODS = frozenset(
    {
        6,
        7,
        8,
        9,
        10,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        20,
        21,
        22,
        28,
        30,
        32,
        34,
        36,
        38,
        40,
        42,
        47,
        48,
        49,
        51,
        52,
        53,
    }
)

#: The RawUI setters (SetForegroundColor 28 ... SetWindowTitle 42); each Get is id - 1.
_RAW_SETTERS = frozenset({28, 30, 32, 34, 36, 38, 40, 42})

_HOST_CLASS: Any = None


def make_pshost(ui: HostUI, state: HostState, *, name: str = "psremoting") -> Any:
    """A pypsrp PSHost whose calls go to `ui` (swap it later through ``host.ui_target``)."""
    global _HOST_CLASS
    if _HOST_CLASS is None:
        _HOST_CLASS = _build_host_class()
    return _HOST_CLASS(ui, state, name)


def _build_host_class() -> Any:
    from pypsrp.complex_objects import (
        Color,
        Coordinates,
        CultureInfo,
        KeyInfo,
        ObjectMeta,
        PSCredential,
        Size,
    )
    from pypsrp.host import PSHost, PSHostRawUserInterface, PSHostUserInterface

    class _RawUI(PSHostRawUserInterface):
        def __init__(self, state: HostState) -> None:
            width, height = _terminal_size(state)
            super().__init__(
                "psremoting",
                25,
                Color(value=Color.GRAY),
                Color(value=Color.BLACK),
                Coordinates(x=0, y=0),
                Coordinates(x=0, y=0),
                Size(width=width, height=9999),
                Size(width=width, height=height),
                Size(width=width, height=height),
                Size(width=width, height=height),
            )

    class _ClientHost(PSHost):
        def __init__(self, ui: HostUI, state: HostState, name: str) -> None:
            culture = CultureInfo(lcid=1033, name="en-US", display_name="English (United States)",
                                  ietf_language_tag="en-US", three_letter_iso_name="eng",
                                  three_letter_windows_name="ENU", two_letter_iso_language_name="en")  # fmt: skip
            setattr(culture, "ietf_language_tag", "en-US")  # noqa: B010 - pypsrp spells the attribute "ieft_" but serializes "ietf_"
            super().__init__(
                current_culture=culture,
                current_ui_culture=culture,
                debugger_enabled=False,
                name=name,
                private_data=None,
                ui=PSHostUserInterface(_RawUI(state)),
                version="7.4.0",
            )
            self.ui_target: HostUI = ui
            self.state = state

        # pypsrp calls run_method for every host call; None means "no response".
        def run_method(
            self, method_identifier: Any, args: list[Any], runspace: Any, pipeline: Any = None
        ) -> Any:
            mi = int(method_identifier.value or 0)
            try:
                return self._dispatch(mi, list(args), runspace)
            except KeyboardInterrupt:
                if pipeline is not None:
                    self.state.request_stop(str(pipeline.id))
                return self._fallback(mi, runspace)
            except EOFError:
                # The input ended: say so, and stop the command rather than answer for the user.
                self.ui_target.write_error_line(input_ended_message(_PROMPT_NAMES.get(mi, "")))
                if pipeline is not None:
                    self.state.request_stop(str(pipeline.id))
                return self._fallback(mi, runspace)
            except Exception:
                log.exception("host call %d failed in the UI", mi)
                return self._fallback(mi, runspace)

        def _fallback(self, mi: int, runspace: Any) -> Any:
            if mi in _VOID_METHODS:
                return None
            if mi in (11,):
                return ""
            if mi == 12:
                return self._secure(runspace, "")
            if mi == 26:
                return 0
            if mi == 23:
                return {}
            return None

        def _secure(self, runspace: Any, text: Any) -> Any:
            runspace.exchange_keys()
            if isinstance(text, SecureString):
                text = text.get_value() or ""
            return runspace.serialize(str(text), ObjectMeta("SS"))

        def _credential(self, runspace: Any, answer: Any) -> Any:
            runspace.exchange_keys()
            if isinstance(answer, Credential):
                return PSCredential(username=answer.username, password=answer.get_password())
            return PSCredential(username=answer[0], password=answer[1])

        def _set_raw(self, mi: int, value: Any) -> None:
            get_id = mi - 1
            if mi in (28, 30):
                name = _color(value)
                if name is not None:
                    self.state.raw_ui[get_id] = CONSOLE_COLORS.index(name)
            elif mi in (32, 34):
                self.state.raw_ui[get_id] = _number_pair(value, "X", "Y")
            elif mi in (38, 40):
                self.state.raw_ui[get_id] = _number_pair(value, "Width", "Height")
            elif mi == 36:
                self.state.raw_ui[get_id] = int(getattr(value, "value", value))
            elif mi == 42:
                self.state.raw_ui[get_id] = str(value)

        def _dispatch(self, mi: int, a: list[Any], runspace: Any) -> Any:
            ui = self.ui_target
            st = self.state
            if mi == 1:
                return self.name
            if mi == 2:
                return runspace.serialize(self.version, ObjectMeta("Version"))
            if mi == 3:
                return self.instance_id
            if mi in (4, 5):
                return self.current_culture
            if mi == 6:
                st.exit_code = int(a[0]) if a else 0
                st.should_exit = True
                return None
            if mi in (7, 8, 9, 10):
                return None
            if mi == 11:
                return ui.read_line()
            if mi == 12:
                return self._secure(runspace, ui.read_line_as_secure_string())
            if mi == 13:
                ui.write(str(a[0]) if a else "")
            elif mi == 14:
                ui.write(str(a[2]), *_colors(a[0], a[1]))
            elif mi == 15:
                ui.write_line("")
            elif mi == 16:
                ui.write_line(str(a[0]) if a else "")
            elif mi == 17:
                text = str(a[2]) if len(a) > 2 else ""
                fg, bg = _colors(a[0], a[1])
                if fg is None and bg is None:
                    ui.write_line(text)
                else:
                    ui.write(text, fg, bg)
                    ui.write_line("")
            elif mi == 18:
                ui.write_error_line(str(a[0]) if a else "")
            elif mi == 19:
                ui.write_debug_line(str(a[0]) if a else "")
            elif mi == 20:
                record = from_clixml(a[1]) if isinstance(a[1], str) else from_pypsrp(a[1])
                ui.write_progress(int(a[0]), progress_from(record))
            elif mi == 21:
                ui.write_verbose_line(str(a[0]) if a else "")
            elif mi == 22:
                ui.write_warning_line(str(a[0]) if a else "")
            elif mi == 23:
                fields = [_field(d) for d in (a[2] or [])]
                answers = ui.prompt(str(a[0] or ""), str(a[1] or ""), fields)
                result: dict[str, Any] = {}
                for fd in fields:
                    value = answers.get(fd.name)
                    if fd.is_secure:
                        value = self._secure(runspace, str(value or ""))
                    elif fd.is_credential and isinstance(value, (tuple, Credential)):
                        value = self._credential(runspace, value)
                    result[fd.name] = value
                return result
            elif mi in (24, 25):
                pair = ui.prompt_for_credential(
                    str(a[0] or ""), str(a[1] or ""), str(a[2] or ""), str(a[3] or "")
                )
                return self._credential(runspace, pair)
            elif mi == 26:
                choices = [_choice(c) for c in (a[2] or [])]
                return int(ui.prompt_for_choice(str(a[0] or ""), str(a[1] or ""), choices, int(a[3])))
            elif mi == 56:
                choices = [_choice(c) for c in (a[2] or [])]
                defaults = a[3] or []
                first = int(defaults[0]) if defaults else -1
                return [int(ui.prompt_for_choice(str(a[0] or ""), str(a[1] or ""), choices, first))]
            elif mi in _RAW_SETTERS and a:
                self._set_raw(mi, a[0])
            elif mi in (27, 29):
                index = st.raw_ui.get(mi, Color.GRAY if mi == 27 else Color.BLACK)
                return Color(value=index)
            elif mi in (31, 33):
                x, y = st.raw_ui.get(mi, (0, 0))
                return Coordinates(x=x, y=y)
            elif mi == 35:
                return st.raw_ui.get(35, 25)
            elif mi in (37, 39) and mi in st.raw_ui:
                width, height = st.raw_ui[mi]
                return Size(width=width, height=height)
            elif mi == 41 and 41 in st.raw_ui:
                return st.raw_ui[41]
            elif mi in (37, 39, 43, 44):
                width, height = _terminal_size(st)
                return Size(width=width, height=9999 if mi == 37 else height)
            elif mi == 41:
                return "psremoting"
            elif mi == 45:
                return False
            elif mi == 46:
                return KeyInfo(code=13, character="\r", state=0, key_down=True)
            elif mi == 50:
                return []
            elif mi == 53:
                st.pop_requested = True
            elif mi == 54:
                return st.is_pushed
            elif mi in _VOID_METHODS:
                return None
            else:
                log.warning("host method %d is not supported by psremoting", mi)
            return None

    return _ClientHost


_RAW_UI_FIELDS = (
    "foreground_color",
    "background_color",
    "cursor_position",
    "window_position",
    "cursor_size",
    "buffer_size",
    "window_size",
    "max_window_size",
    "max_physical_window_size",
    "window_title",
)


def _plain_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, str)):
        return value
    if hasattr(value, "width"):
        return ("size", value.width, value.height)
    if hasattr(value, "x"):
        return ("xy", value.x, value.y)
    return ("value", getattr(value, "value", repr(value)))


def host_data_key(host: Any) -> tuple[Any, ...]:
    """What of a pypsrp PSHost goes into a HostInfo (null or not, the raw UI's default
    data), as a tuple to compare: equal keys give the same HostInfo on the wire."""
    ui = getattr(host, "ui", None) if host is not None else None
    raw_ui = getattr(ui, "raw_ui", None) if ui is not None else None
    head = (host is None, ui is None, raw_ui is None)
    if raw_ui is None:
        return head
    return head + tuple(_plain_value(getattr(raw_ui, name, None)) for name in _RAW_UI_FIELDS)
