"""A PowerShell subset: parse with tree-sitter-powershell, evaluate, bind parameters.

Shared by the local ``psremoting`` shell and the emulator's command engine, so that both
read PowerShell the same way and reject bad input with PowerShell's own messages.

Parsing (:mod:`.parser`, AST in :mod:`.ast`)::

    script = parse('$s = New-PSSession -Cn a,b; Enter-PSSession $s[0]')
    script.statements      # (Assignment(...), Pipeline(...))
    # Pipeline.elements: Command(name, elements) or, first only, an expression.
    # Command.elements: CommandParameter(name, argument|None) for -Name / -Name:value,
    #                   and expressions (Constant(bareword=True) for bare words).
    # ScriptBlockExpr keeps .text (the source between the braces) and .body (its parse).
    parse("{ 1")           # raises ParseError(message, position, incomplete=True)

Evaluation (:mod:`.evaluator`, :mod:`.scope`, :mod:`.values`)::

    scope = Scope()                      # or Scope.with_process_environment() for $env:
    ev = Evaluator(scope, run_pipeline=None)   # run_pipeline(ev, pipeline, emit) runs commands
    ev.collect(parse('$x = 1,2; $x[1] + 1'))   # -> [3]
    ev.evaluate(expr)                    # one AST expression -> a Python value
    # Values: str/int/float/bool/None, list, CaseInsensitiveDict (@{}), PSCustom
    # ([pscustomobject]), ScriptBlock(text, script). get_member(obj, "name") is PowerShell's
    # case-insensitive member access over dicts, psrpcore PSObjects and Python objects.
    # ExitRequest(code) is raised by `exit N`; ThrowRequest by `throw`.
    # Statements: pipelines, assignments ($a, $b = 1, 2 too), if/elseif/else, foreach,
    # while, do..while/until, for, try/catch [Type]/finally, function, redirections
    # (> $null, > file, 2>&1 on commands). Hooks on the evaluator: check_interrupt() each
    # loop turn (raise to stop), catchable(exc) -> ($_ value, type names) for catch,
    # write_redirect(target, items, append) for `expr > file`, using (the $using: values),
    # on_statement_error(exc, stmt) -> True to report a statement's error and go on.

Parameter binding (:mod:`.binder`)::

    sig = CommandSignature("New-PSSession", (
        Parameter("ComputerName", "string[]", aliases=("Cn",), position=0, sets=("ComputerName",)),
        Parameter("Credential", "pscredential", position=1),
        Parameter("UseSSL", "switch", sets=("ComputerName",)),
    ), default_set="ComputerName")
    bound = bind(sig, [ParameterToken("comp"), "srv1"])   # unique prefix -> ComputerName
    bound.parameter_set, bound["ComputerName"], bound.switch("UseSSL")
    # arguments_from_command(evaluator, command) turns a parsed Command into bind() input.
    # ParameterBindingError(message, error_id) carries PowerShell's text and id
    # (NamedParameterNotFound, AmbiguousParameter, PositionalParameterNotFound,
    #  AmbiguousParameterSet, MissingArgument, MissingMandatoryParameter, ...).
"""

from __future__ import annotations

from typing import Any

from . import ast
from .ast import Command, CommandParameter, Script, Splat
from .binder import (
    NO_VALUE,
    BoundParameters,
    CommandSignature,
    Parameter,
    ParameterBindingError,
    ParameterToken,
    bind,
)
from .evaluator import (
    EvaluationError,
    Evaluator,
    ExitRequest,
    FlowControl,
    ReturnRequest,
    ThrowRequest,
    invoke_script_block,
)
from .parser import ParseError, parse
from .scope import Scope
from .values import (
    CaseInsensitiveDict,
    PSCustom,
    ScriptBlock,
    enumerate_value,
    get_member,
    to_bool,
    to_string,
)

__all__ = [
    "NO_VALUE",
    "BoundParameters",
    "CaseInsensitiveDict",
    "Command",
    "CommandParameter",
    "CommandSignature",
    "EvaluationError",
    "Evaluator",
    "ExitRequest",
    "FlowControl",
    "PSCustom",
    "Parameter",
    "ParameterBindingError",
    "ParameterToken",
    "ParseError",
    "ReturnRequest",
    "Scope",
    "Script",
    "ScriptBlock",
    "ThrowRequest",
    "arguments_from_command",
    "ast",
    "bind",
    "enumerate_value",
    "get_member",
    "invoke_script_block",
    "parse",
    "to_bool",
    "to_string",
]


def arguments_from_command(evaluator: Evaluator, command: Command) -> list[Any]:
    """Evaluate a parsed command's elements into :func:`bind` input (ParameterTokens and values)."""
    out: list[Any] = []
    for element in command.elements:
        if isinstance(element, CommandParameter):
            value = NO_VALUE if element.argument is None else evaluator.evaluate(element.argument)
            out.append(ParameterToken(element.name, value))
        elif isinstance(element, Splat):
            splatted = evaluator.scope.lookup(element.name)
            if isinstance(splatted, dict):
                out.extend(ParameterToken(str(name), value) for name, value in splatted.items())
            elif isinstance(splatted, (list, tuple)):
                out.extend(splatted)
            elif splatted is not None:
                out.append(splatted)
        else:
            out.append(evaluator.evaluate(element))
    return out
