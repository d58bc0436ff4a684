"""Parameter binding with PowerShell's rules and error texts."""

from __future__ import annotations

from typing import Any

import pytest

from psremoting.pslang import (
    CommandSignature,
    Evaluator,
    Parameter,
    ParameterBindingError,
    ParameterToken,
    Scope,
    arguments_from_command,
    bind,
    parse,
)
from psremoting.pslang import ast as A


class FakeSession:
    """Stands for a PSSession object in type-based parameter-set choice."""


def session_type(value: Any) -> Any:
    if not isinstance(value, FakeSession):
        raise TypeError("not a PSSession")
    return value


NEW_PSSESSION = CommandSignature(
    "New-PSSession",
    (
        Parameter(
            "ComputerName", "string[]", ("Cn",), position=0, sets=("ComputerName",), value_from_pipeline=True
        ),
        Parameter("Credential", "pscredential", position=1, sets=("ComputerName", "Uri")),
        Parameter("ConfigurationName", "string"),
        Parameter("ConnectionUri", "string[]", ("URI", "CU"), position=0, mandatory=True, sets=("Uri",)),
        Parameter("Port", "int", sets=("ComputerName",)),
        Parameter("UseSSL", "switch", sets=("ComputerName",)),
        Parameter("Name", "string[]"),
        Parameter("Session", session_type, position=0, mandatory=True, sets=("Session",)),
    ),
    default_set="ComputerName",
)

T = ParameterToken


def bind_text(text: str, signature: CommandSignature = NEW_PSSESSION) -> Any:
    """Bind the first command of ``text`` the way the shell and the engine do."""
    statement = parse(text).statements[0]
    assert isinstance(statement, A.Pipeline)
    command = statement.elements[0]
    assert isinstance(command, A.Command)
    scope = Scope()
    scope.set("s", FakeSession())
    return bind(signature, arguments_from_command(Evaluator(scope), command))


def test_names_are_case_insensitive_and_unique_prefixes_resolve() -> None:
    bound = bind_text("New-PSSession -comp srv1 -PORT 5985")
    assert bound.parameter_set == "ComputerName"
    assert bound["ComputerName"] == ["srv1"]
    assert bound["port"] == 5985


def test_aliases() -> None:
    assert bind_text("New-PSSession -Cn a,b")["ComputerName"] == ["a", "b"]
    assert bind_text("New-PSSession -cu http://h:5985/wsman").parameter_set == "Uri"


def test_ambiguous_prefix_lists_the_candidates() -> None:
    with pytest.raises(ParameterBindingError) as info:
        bind_text("New-PSSession -c srv")
    assert info.value.error_id == "AmbiguousParameter"
    assert info.value.message == (
        "Parameter cannot be processed because the parameter name 'c' is ambiguous. "
        "Possible matches include: -ComputerName -Credential -ConfigurationName -ConnectionUri."
    )


def test_exact_alias_beats_a_longer_prefix_match() -> None:
    sig = CommandSignature(
        "T", (Parameter("Credential", "object", ("Cred",)), Parameter("CredSSP", "switch"))
    )
    assert bind(sig, [T("Cred"), 1]).values == {"Credential": 1}


def test_unknown_parameter_name() -> None:
    with pytest.raises(ParameterBindingError) as info:
        bind_text("New-PSSession -Bogus 1")
    assert info.value.error_id == "NamedParameterNotFound"
    assert info.value.message == "A parameter cannot be found that matches parameter name 'Bogus'."


def test_positional_binding_by_position() -> None:
    bound = bind(NEW_PSSESSION, ["srv", "cred"])
    assert bound["ComputerName"] == ["srv"]
    assert bound["Credential"] == "cred"


def test_too_many_positional_arguments() -> None:
    with pytest.raises(ParameterBindingError) as info:
        bind_text("New-PSSession a b c")
    assert info.value.error_id == "PositionalParameterNotFound"
    assert info.value.message == "A positional parameter cannot be found that accepts argument 'c'."


def test_switches_and_colon_false() -> None:
    assert bind_text("New-PSSession srv -UseSSL").switch("UseSSL") is True
    bound = bind_text("New-PSSession srv -UseSSL:$false")
    assert "UseSSL" in bound and bound.switch("UseSSL") is False


def test_parameter_sets_that_cannot_be_combined() -> None:
    with pytest.raises(ParameterBindingError) as info:
        bind_text("New-PSSession -UseSSL -ConnectionUri http://x")
    assert info.value.error_id == "AmbiguousParameterSet"
    assert info.value.message.startswith(
        "Parameter set cannot be resolved using the specified named parameters."
    )


def test_type_decides_between_sets_at_the_same_position() -> None:
    assert bind_text("New-PSSession $s").parameter_set == "Session"
    assert bind_text("New-PSSession srv").parameter_set == "ComputerName"


def test_missing_argument_and_duplicate_parameter() -> None:
    with pytest.raises(ParameterBindingError) as missing:
        bind_text("New-PSSession -Name")
    assert missing.value.error_id == "MissingArgument"
    assert missing.value.message == (
        "Missing an argument for parameter 'Name'. Specify a parameter of type 'System.String[]' and try again."
    )
    with pytest.raises(ParameterBindingError) as twice:
        bind_text("New-PSSession -Name a -Name b")
    assert twice.value.error_id == "ParameterAlreadyBound"


def test_missing_mandatory_parameter_unless_pipeline_input() -> None:
    sig = CommandSignature(
        "Write-Thing", (Parameter("Message", "string", position=0, mandatory=True, value_from_pipeline=True),)
    )
    with pytest.raises(ParameterBindingError) as info:
        bind(sig, [])
    assert info.value.error_id == "MissingMandatoryParameter"
    assert info.value.missing == ("Message",)
    assert bind(sig, [], expecting_input=True).values == {}


def test_type_conversion_and_its_error() -> None:
    assert bind_text("New-PSSession srv -Port '5986'")["Port"] == 5986
    with pytest.raises(ParameterBindingError) as info:
        bind_text("New-PSSession srv -Port abc")
    assert info.value.message.startswith(
        'Cannot bind parameter \'Port\'. Cannot convert value "abc" to type "System.Int32".'
    )


def test_common_parameters_are_known_and_take_part_in_prefixes() -> None:
    assert bind_text("New-PSSession srv -ea Stop")["ErrorAction"] == "Stop"
    with pytest.raises(ParameterBindingError, match="Possible matches include: -ErrorAction -ErrorVariable"):
        bind(CommandSignature("X", ()), [T("Error"), "x"])


def test_validate_set_is_case_insensitive_and_canonical() -> None:
    sig = CommandSignature("X", (Parameter("Kind", "string", choices=("File", "Directory")),))
    assert bind(sig, [T("Kind"), "directory"])["Kind"] == "Directory"
    with pytest.raises(ParameterBindingError, match="does not belong to the set"):
        bind(sig, [T("Kind"), "pipe"])
