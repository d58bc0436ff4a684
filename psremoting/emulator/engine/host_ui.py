"""``$Host`` in a remote session: Windows' ServerRemoteHost, whose members are host method
calls to the client (MS-PSRP 2.2.3.17, the HostMethodIdentifier numbers).

``$host.UI.ReadLine()`` is ReadLine (11), ``Write(fg, bg, text)`` Write2 (14), ``WriteLine()``
WriteLine1 (15), ``Prompt`` 23, ``PromptForCredential`` 24/25, ``PromptForChoice`` 26,
``$host.SetShouldExit(n)`` SetShouldExit (6), as PowerShell's RemoteHostCall sends them;
``$host.CurrentCulture`` is a serialized CultureInfo. A call goes to the pipeline running it
(`Engine.current_io`). Without a client host, writes are dropped and reads fail with
HostException, as on Windows (`CommandContext.host_call`'s rules).
"""

from __future__ import annotations

from typing import Any

from psrpcore.types import (
    BufferCell,
    BufferCellType,
    ChoiceDescription,
    Coordinates,
    ErrorCategory,
    FieldDescription,
    HostMethodIdentifier,
    PSChar,
    PSNoteProperty,
    PSObject,
    Rectangle,
    Size,
)

from psremoting.pslang.dotnet import CONSOLE_COLOR_NAMES, register_cast, register_enum
from psremoting.pslang.values import MultiDimArray, to_number, to_string

from .errors import PSError, make_error_record
from .objects import from_wire

__all__ = ["ServerRemoteHost", "culture_info", "new_host_value"]

#: System.ConsoleColor's values by name.
CONSOLE_COLORS = {name.lower(): value for value, name in enumerate(CONSOLE_COLOR_NAMES)}
H = HostMethodIdentifier


def culture_info(name: str = "en-US") -> PSObject:
    """A CultureInfo as Windows serializes one (adapted properties, ToString the name)."""
    obj = PSObject()
    meta = obj.PSObject
    meta.type_names = ["System.Globalization.CultureInfo", "System.Object"]
    for key, value in (
        ("Parent", "en"),
        ("LCID", 1033),
        ("KeyboardLayoutId", 1033),
        ("Name", name),
        ("IetfLanguageTag", name),
        ("DisplayName", "English (United States)"),
        ("NativeName", "English (United States)"),
        ("EnglishName", "English (United States)"),
        ("TwoLetterISOLanguageName", "en"),
        ("ThreeLetterISOLanguageName", "eng"),
        ("ThreeLetterWindowsLanguageName", "ENU"),
        ("IsNeutralCulture", False),
        ("UseUserOverride", True),
        ("IsReadOnly", False),
    ):
        meta.adapted_properties.append(PSNoteProperty(key, value))
    meta.to_string = name
    return obj


def _progress_record(record: Any) -> Any:
    """A ProgressRecord as a host call argument: an object of its properties (the PR element
    is for the progress stream only)."""
    from psrpcore.types import ProgressRecord, ProgressRecordType

    if not isinstance(record, ProgressRecord):
        return record
    obj = PSObject()
    meta = obj.PSObject
    # RemoteHostEncoder names the one type (pypsrp hands such an argument on as XML).
    meta.type_names = ["System.Management.Automation.ProgressRecord"]
    for key, value in (
        ("Activity", record.Activity),
        ("ActivityId", record.ActivityId),
        ("StatusDescription", record.StatusDescription),
        ("CurrentOperation", record.CurrentOperation),
        ("ParentActivityId", record.ParentActivityId),
        ("PercentComplete", record.PercentComplete),
        ("Type", record.RecordType if record.RecordType is not None else ProgressRecordType.Processing),
        ("SecondsRemaining", record.SecondsRemaining),
    ):
        meta.extended_properties.append(PSNoteProperty(key, value))
    meta.to_string = f"parent = {record.ParentActivityId} id = {record.ActivityId} act = {record.Activity}"
    return obj


def _color(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in CONSOLE_COLORS:
        return CONSOLE_COLORS[value.lower()]
    return value


class _Caller:
    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def _call(self, method: HostMethodIdentifier, args: list[Any]) -> Any:
        io = self._engine.current_io
        if io is None:
            return None
        if not io.has_host:
            if method.is_void():
                return None
            record = make_error_record(
                "A command that prompts the user failed because the host program or the command type does "
                "not support user interaction. Try a host program that supports user interaction, such as "
                "the PowerShell Console, and remove prompt-related commands from command types that do not "
                "support user interaction.",
                "System.Management.Automation.Host.HostException",
                ErrorCategory.NotImplemented,
                "HostFunctionNotImplemented",
            )
            raise PSError(record, terminating=True)
        return from_wire(io.host_call(method, args))


def _console_color(value: Any) -> Any:
    from psrpcore.types import ConsoleColor

    value = _color(value)
    try:
        return ConsoleColor(int(getattr(value, "value", value)))
    except (TypeError, ValueError):
        return value


def _encoded(value: Any) -> Any:
    """A RawUI value as Windows' RemoteHostEncoder puts it in a host call: an enum as its
    number, a Coordinates, Size, Rectangle or BufferCell struct as an object of its
    lower-case fields, an array of two dimensions as an object of its elements (``mae``,
    row-major) and lengths (``mal``) (MS-PSRP 2.2.6)."""
    from psrpcore.types import ConsoleColor

    if isinstance(value, ConsoleColor):
        return int(value)
    if isinstance(value, Rectangle):
        return Rectangle.ToPSObjectForRemoting(value, for_host=True)
    if isinstance(value, BufferCell):
        return BufferCell.ToPSObjectForRemoting(value, for_host=True)
    if isinstance(value, MultiDimArray):
        obj = PSObject()
        obj.PSObject.type_names = []
        obj.PSObject.extended_properties.append(PSNoteProperty("mae", [_encoded(v) for v in value.items]))
        obj.PSObject.extended_properties.append(PSNoteProperty("mal", list(value.lengths)))
        return obj
    if isinstance(value, (Coordinates, Size)):
        fields = (
            (("x", value.X), ("y", value.Y))
            if isinstance(value, Coordinates)
            else (("width", value.Width), ("height", value.Height))
        )
        obj = PSObject()
        obj.PSObject.type_names = []
        for key, number in fields:
            obj.PSObject.extended_properties.append(PSNoteProperty(key, int(number)))
        return obj
    return value


def _key_info(answer: Any) -> Any:
    """ReadKey's answer as Windows serializes a KeyInfo struct (ControlKeyState as its text)
    that prints as .NET's ``65,a,CapsLockOn,True``."""
    from psrpcore.types import KeyInfo, PSChar

    if isinstance(answer, PSObject) and not isinstance(answer, KeyInfo):
        if getattr(answer, "virtualKeyCode", None) is None:
            return answer
        answer = KeyInfo.FromPSObjectForRemoting(answer)
    if not isinstance(answer, KeyInfo):
        return answer
    state = answer.ControlKeyState
    names = ", ".join((getattr(state, "name", None) or "0").split("|")) if int(state) else "0"
    key = PSObject()
    key.PSObject.type_names = [
        "System.Management.Automation.Host.KeyInfo",
        "System.ValueType",
        "System.Object",
    ]
    for name, value in (
        ("VirtualKeyCode", int(answer.VirtualKeyCode)),
        ("Character", PSChar(str(answer.Character))),
        ("ControlKeyState", names),
        ("KeyDown", bool(answer.KeyDown)),
    ):
        key.PSObject.adapted_properties.append(PSNoteProperty(name, value))
    key.PSObject.to_string = f"{answer.VirtualKeyCode},{answer.Character},{names},{answer.KeyDown}"
    return key


def _raw_property(name: str, setter: HostMethodIdentifier | None, convert: Any = None) -> Any:
    """A ``$host.UI.RawUI`` property kept in the client's HostDefaultData (sent in its
    HostInfo): reading it asks nothing, setting it updates the value and is host call
    `setter`, as Windows' ServerRemoteHostRawUserInterface does."""

    def get(self: ServerRemoteHostRawUI) -> Any:
        data = self._data(getattr(H, f"Get{name}"))
        value = getattr(data, name, None)
        if convert is _console_color and value is not None:
            return _console_color(value)
        if isinstance(value, (Coordinates, Size)):
            # Coordinates and Size print as "x,y" and "width,height" (their ToString).
            pair = (value.X, value.Y) if isinstance(value, Coordinates) else (value.Width, value.Height)
            value.PSObject.to_string = f"{pair[0]},{pair[1]}"
        return value

    def set_(self: ServerRemoteHostRawUI, value: Any) -> None:
        assert setter is not None
        value = convert(value) if convert is not None else value
        data = self._data(setter)
        if data is not None:
            setattr(data, name, value)
        self._call(setter, [_encoded(value)])

    return property(get, set_ if setter is not None else None)


class ServerRemoteHostRawUI(_Caller):
    """``$host.UI.RawUI``: every property read and write is a host call to the client
    (MS-PSRP 2.2.3.17, GetForegroundColor 27 to GetBufferContents 50)."""

    ForegroundColor = _raw_property("ForegroundColor", H.SetForegroundColor, _console_color)
    BackgroundColor = _raw_property("BackgroundColor", H.SetBackgroundColor, _console_color)
    CursorPosition = _raw_property("CursorPosition", H.SetCursorPosition)
    WindowPosition = _raw_property("WindowPosition", H.SetWindowPosition)
    CursorSize = _raw_property("CursorSize", H.SetCursorSize, int)
    BufferSize = _raw_property("BufferSize", H.SetBufferSize)
    WindowSize = _raw_property("WindowSize", H.SetWindowSize)
    WindowTitle = _raw_property("WindowTitle", H.SetWindowTitle, str)
    MaxWindowSize = _raw_property("MaxWindowSize", None)
    MaxPhysicalWindowSize = _raw_property("MaxPhysicalWindowSize", None)

    def _data(self, method: HostMethodIdentifier) -> Any:
        """The client's HostDefaultData; without one, `method` is not implemented (Windows'
        RemoteHostExceptions.NewNotImplementedException)."""
        io = self._engine.current_io
        data = getattr(io, "host_data", None) if io is not None else None
        if data is None and io is not None:
            if not io.has_host and not method.is_void():
                self._call(method, [])  # Windows' HostFunctionNotImplemented
            raise _not_implemented(method)
        return data

    @property
    def KeyAvailable(self) -> Any:
        return self._call(H.GetKeyAvailable, [])

    def ReadKey(self, options: Any = 4) -> Any:
        # ReadKeyOptions.IncludeKeyDown (4) is the parameterless overload's.
        answer = self._call(H.ReadKey, [int(getattr(options, "value", options) or 4)])
        return _key_info(answer)

    def FlushInputBuffer(self) -> None:
        self._call(H.FlushInputBuffer, [])

    def SetBufferContents(self, where: Any, contents: Any) -> None:
        """``(Rectangle, BufferCell)`` fills a region (SetBufferContents1); ``(Coordinates,
        BufferCell[,])`` writes cells from an origin (SetBufferContents2)."""
        if isinstance(where, Rectangle):
            self._call(H.SetBufferContents1, [_encoded(where), _encoded(_buffer_cell(contents))])
            return
        if not isinstance(where, Coordinates) or not isinstance(contents, MultiDimArray):
            raise _argument_error("SetBufferContents", 2)
        self._call(H.SetBufferContents2, [_encoded(where), _encoded(contents)])

    def GetBufferContents(self, rectangle: Any) -> Any:
        answer = self._call(H.GetBufferContents, [_encoded(rectangle)])
        return _cells_from_host(answer)

    def ScrollBufferContents(self, source: Any, destination: Any, clip: Any, fill: Any) -> None:
        args = [_encoded(source), _encoded(destination), _encoded(clip), _encoded(_buffer_cell(fill))]
        self._call(H.ScrollBufferContents, args)

    def __str__(self) -> str:
        return "System.Management.Automation.Internal.Host.InternalHostRawUserInterface"


def _argument_error(method: str, count: int) -> PSError:
    record = make_error_record(
        f'Cannot find an overload for "{method}" and the argument count: "{count}".',
        "System.Management.Automation.MethodException",
        ErrorCategory.NotSpecified,
        "MethodCountCouldNotFindBest",
    )
    return PSError(record, terminating=True)


def _buffer_cell_type(value: Any) -> BufferCellType:
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        for name, member in BufferCellType.__members__.items():
            if name.lower() == value.strip().lower():
                return member
        raise ValueError(value)
    return BufferCellType(int(to_number(getattr(value, "value", value))))


def _buffer_cell(value: Any) -> Any:
    return value if isinstance(value, BufferCell) or value is None else _new_buffer_cell([value])


def _new_buffer_cell(args: list[Any]) -> BufferCell:
    """``New-Object BufferCell -ArgumentList char, fg, bg, type`` (no arguments: .NET's
    default struct, a NUL character, black on black, Complete)."""
    text = to_string(args[0]) if args else "\0"
    colors = [_console_color(a) for a in args[1:3]] + [_console_color(0)] * (2 - len(args[1:3]))
    return BufferCell(
        Character=PSChar(text[:1] or "\0"),
        ForegroundColor=colors[0],
        BackgroundColor=colors[1],
        BufferCellType=_buffer_cell_type(args[3]) if len(args) > 3 else BufferCellType.Complete,
    )


def _new_rectangle(args: list[Any]) -> Rectangle:
    """``Rectangle(left, top, right, bottom)`` or ``Rectangle(Coordinates, Coordinates)``."""
    if len(args) == 2 and all(isinstance(a, Coordinates) for a in args):
        numbers = [args[0].X, args[0].Y, args[1].X, args[1].Y]
    else:
        numbers = [int(to_number(a)) for a in args] + [0] * (4 - len(args))
    return Rectangle(Left=numbers[0], Top=numbers[1], Right=numbers[2], Bottom=numbers[3])


def _new_pair(kind: type[Any]) -> Any:
    fields = ("X", "Y") if kind is Coordinates else ("Width", "Height")
    return lambda a: kind(**{f: int(to_number(a[i])) if len(a) > i else 0 for i, f in enumerate(fields)})


#: The host structs New-Object builds, by lower-case name: (.NET name, constructor).
_HOST_STRUCTS: dict[str, tuple[str, Any]] = {
    "buffercell": ("BufferCell", _new_buffer_cell),
    "rectangle": ("Rectangle", _new_rectangle),
    "coordinates": ("Coordinates", _new_pair(Coordinates)),
    "size": ("Size", _new_pair(Size)),
}


def new_host_value(type_name: str, args: list[Any]) -> Any:
    """``New-Object`` of a System.Management.Automation.Host struct (BufferCell, Rectangle,
    Coordinates, Size) or of an array of one of them with two or more dimensions
    (``'...BufferCell[,]' -ArgumentList 2,2``: default cells); None for another type."""
    name = type_name.lower().removeprefix("system.").removeprefix("management.automation.host.")
    rank = 0
    if name.endswith("]") and "[" in name:
        name, dims = name[:-1].split("[", 1)
        if dims.strip(",").strip():
            return None
        rank = dims.count(",") + 1
    known = _HOST_STRUCTS.get(name)
    if known is None or rank == 1:
        return None
    element, make = known
    if not rank:
        return make(args)
    lengths = [int(to_number(a)) for a in args]
    if len(lengths) != rank:
        return None
    return MultiDimArray(f"System.Management.Automation.Host.{element}", lengths, lambda: make([]))


def _cells_from_host(answer: Any) -> Any:
    """GetBufferContents' answer (an object of ``mae`` and ``mal``) as a BufferCell[,]."""
    elements = getattr(answer, "mae", None)
    lengths = getattr(answer, "mal", None)
    if not isinstance(elements, list) or not isinstance(lengths, list):
        return answer
    cells = MultiDimArray("System.Management.Automation.Host.BufferCell", [int(n) for n in lengths])
    for i, cell in enumerate(elements[: len(cells.items)]):
        cells.items[i] = BufferCell.FromPSObjectForRemoting(cell) if isinstance(cell, PSObject) else cell
    return cells


def _not_implemented(method: HostMethodIdentifier) -> PSError:
    record = make_error_record(
        f"Remote host method {method.name[:3].lower()}_{method.name[3:]} is not implemented.",
        "System.Management.Automation.Remoting.PSRemotingDataStructureException",
        ErrorCategory.NotImplemented,
        "System.Management.Automation.Remoting.PSRemotingDataStructureException",
    )
    return PSError(record, terminating=True)


class ServerRemoteHostUI(_Caller):
    """``$host.UI``."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.RawUI = ServerRemoteHostRawUI(engine)

    def ReadLine(self) -> Any:
        return self._call(H.ReadLine, [])

    def ReadLineAsSecureString(self) -> Any:
        return self._call(H.ReadLineAsSecureString, [])

    def Write(self, *args: Any) -> None:
        if len(args) >= 3:
            self._call(H.Write2, [_color(args[0]), _color(args[1]), str(args[2])])
        else:
            self._call(H.Write1, [str(args[0]) if args else ""])

    def WriteLine(self, *args: Any) -> None:
        if not args:
            self._call(H.WriteLine1, [])
        elif len(args) >= 3:
            self._call(H.WriteLine3, [_color(args[0]), _color(args[1]), str(args[2])])
        else:
            self._call(H.WriteLine2, [str(args[0])])

    def WriteErrorLine(self, text: Any) -> None:
        self._call(H.WriteErrorLine, [str(text)])

    def WriteDebugLine(self, text: Any) -> None:
        self._call(H.WriteDebugLine, [str(text)])

    def WriteVerboseLine(self, text: Any) -> None:
        self._call(H.WriteVerboseLine, [str(text)])

    def WriteWarningLine(self, text: Any) -> None:
        self._call(H.WriteWarningLine, [str(text)])

    def WriteInformation(self, record: Any) -> None:
        """The information stream's host display: nothing is sent (as 5.1's remote host)."""

    def WriteProgress(self, source_id: Any, record: Any) -> None:
        self._call(H.WriteProgress, [int(source_id), _progress_record(record)])

    def Prompt(self, caption: Any, message: Any, descriptions: Any) -> Any:
        fields = descriptions if isinstance(descriptions, list) else [descriptions]
        encoded = [
            FieldDescription.ToPSObjectForRemoting(f, for_host=True) if isinstance(f, FieldDescription) else f
            for f in fields
        ]
        return self._call(H.Prompt, [str(caption), str(message), encoded])

    def PromptForCredential(self, caption: Any, message: Any, user: Any, target: Any, *more: Any) -> Any:
        # The remote host forwards the four-argument overload as the six-argument one, with
        # PSCredentialTypes.Default (3) and PSCredentialUIOptions.Default (1).
        types, options = (list(more) + [3, 1])[:2] if more else (3, 1)
        return self._call(H.PromptForCredential2, [str(caption), str(message), user, target, types, options])

    def PromptForChoice(self, caption: Any, message: Any, choices: Any, default: Any) -> Any:
        items = choices if isinstance(choices, list) else [choices]
        encoded = [
            ChoiceDescription.ToPSObjectForRemoting(c, for_host=True)
            if isinstance(c, ChoiceDescription)
            else c
            for c in items
        ]
        return self._call(H.PromptForChoice, [str(caption), str(message), encoded, int(default)])

    def __str__(self) -> str:
        return "System.Management.Automation.Internal.Host.InternalHostUserInterface"


class ServerRemoteHost(_Caller):
    """``$Host`` on the server side of a remote session."""

    Name = "ServerRemoteHost"
    Version = "1.0.0.0"

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.UI = ServerRemoteHostUI(engine)

    @property
    def CurrentCulture(self) -> PSObject:
        return culture_info()

    @property
    def CurrentUICulture(self) -> PSObject:
        return culture_info()

    def SetShouldExit(self, code: Any) -> None:
        self._call(H.SetShouldExit, [int(code)])

    def EnterNestedPrompt(self) -> None:
        self._call(H.EnterNestedPrompt, [])

    def ExitNestedPrompt(self) -> None:
        self._call(H.ExitNestedPrompt, [])

    def NotifyBeginApplication(self) -> None:
        self._call(H.NotifyBeginApplication, [])

    def NotifyEndApplication(self) -> None:
        self._call(H.NotifyEndApplication, [])

    def __str__(self) -> str:
        return "System.Management.Automation.Remoting.ServerRemoteHost"


def _to_choice(value: Any) -> Any:
    """``[ChoiceDescription]'&Yes'``: a string becomes a choice with that label."""
    return value if isinstance(value, ChoiceDescription) else ChoiceDescription(Label=str(value))


register_cast(
    ("System.Management.Automation.Host.ChoiceDescription", "Management.Automation.Host.ChoiceDescription"),
    _to_choice,
)

register_enum(
    ("System.Management.Automation.Host.BufferCellType", "Management.Automation.Host.BufferCellType"),
    {name: name for name in BufferCellType.__members__},
)
