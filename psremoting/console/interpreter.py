"""The local shell's interpreter: pslang parses and evaluates, this runs the cmdlets.

A typed block is parsed by `psremoting.pslang` (tree-sitter-powershell) and evaluated by
its `Evaluator`, which hands every pipeline containing a command to `run_pipeline` here:
the command is looked up in the cmdlet table (names and aliases, case-insensitive),
bound (`binding`), run (`builtins`, `localcmds`), and its output passed down the pipeline.
Each statement's output is shown as PowerShell's Out-Default shows it (`display`), and
errors in PowerShell 7's concise view (`Cmdlet: message`), in red.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from psremoting.console import (
    builtins,
    cmdlets,
    display,
    filecmds,
    formatcmds,
    implicit_cmds,
    invoke_cmd,
    jobcmds,
    localcmds,
)
from psremoting.console.binding import bind
from psremoting.console.common_params import CommonSettings
from psremoting.console.errors import CommandNotSupported, ShellError, describe
from psremoting.console.pipeline_binding import NOT_BOUND, dispatch, not_bound_record
from psremoting.pslang import ast as A
from psremoting.pslang.evaluator import EvaluationError, Evaluator, ExitRequest, FlowControl, ThrowRequest
from psremoting.pslang.parser import ParseError, parse
from psremoting.pslang.scope import Scope
from psremoting.pslang.values import get_member

IMPLEMENTATIONS: dict[str, Callable[[builtins.Call], Iterable[Any]]] = {
    **builtins.IMPLEMENTATIONS,
    **localcmds.IMPLEMENTATIONS,
    **invoke_cmd.IMPLEMENTATIONS,
    **jobcmds.IMPLEMENTATIONS,
    **filecmds.IMPLEMENTATIONS,
    **formatcmds.IMPLEMENTATIONS,
    **implicit_cmds.IMPLEMENTATIONS,
}


@dataclass
class Outcome:
    """What running a block did: `exit_code` is set when `exit` asked the shell to end."""

    exit_code: int | None = None
    failed: bool = False


class _ShellEvaluator(Evaluator):
    """pslang's evaluator, reading `$s.ComputerName` from Python's `computer_name` as well."""

    def _e_Member(self, expr: A.Member) -> Any:
        value = super()._e_Member(expr)
        if value is None and isinstance(expr.name, str):
            target = self.evaluate(expr.target)
            snake = _snake(expr.name)
            if snake != expr.name.lower():
                value = get_member(target, snake, None)
        return value


def _snake(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        if (
            ch.isupper()
            and i
            and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower()))
        ):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class Interpreter:
    """Runs blocks of the local shell's PowerShell; `ui` is the console host UI."""

    def __init__(self, ui: Any, history: Callable[[], list[str]] | None = None) -> None:
        self.ui = ui
        self._history = history or (lambda: [])
        self.scope = Scope.with_process_environment()
        self.scope.set("HOME", os.path.expanduser("~"))
        self.scope.set(
            "PSSessionConfigurationName", "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
        )
        self.evaluator = _ShellEvaluator(self.scope, self._run_pipeline)
        self._failed = False
        #: Commands imported from sessions (Import-PSSession, Import-Module): proxies.
        self.imported = implicit_cmds.ImportedCommands()

    # -- the ShellContext that cmdlets see ---------------------------------------------
    def error(self, message: str, command: str) -> None:
        """A non-terminating error: shown at once, the command goes on."""
        self._failed = True
        self.ui.write_error_line(f"{command}: {message}" if command else message)

    def mark_failed(self) -> None:
        """A command wrote an error that was not shown (-ErrorAction SilentlyContinue)."""
        self._failed = True

    def history(self) -> list[str]:
        return self._history()

    def using_values(self, script: str) -> dict[str, Any]:
        """Values for the `$using:name` references of a script block sent to remote computers."""
        import re

        names = {m.group(1).strip("{}") for m in re.finditer(r"\$using:(\{[^}]+\}|[\w?]+)", script, re.I)}
        return {name: self.scope.lookup(name) for name in names}

    def command_names(self) -> list[str]:
        """Every command name the shell knows: its cmdlets and aliases, and imported proxies."""
        return cmdlets.all_names() + self.imported.names()

    def variable_names(self) -> list[str]:
        return sorted(set(self.scope.names()) | {"true", "false", "null", "env:"})

    # -- running ---------------------------------------------------------------------
    def execute(self, text: str) -> Outcome:
        """Parse and run `text`, printing output and errors; never raises for the user's mistakes."""
        self._failed = False
        self.scope.set("PWD", os.getcwd())
        try:
            script = parse(text)
        except ParseError as error:
            self.ui.write_error_line(f"ParserError: {error.message}")
            return Outcome(failed=True)
        for statement in script.statements:
            stream = display.StreamingDisplay(self.ui.write_line)
            try:
                self.evaluator.run_statement(statement, stream.add)
                stream.close()
            except ExitRequest as request:
                stream.close()
                return Outcome(exit_code=request.code, failed=self._failed)
            except ThrowRequest as thrown:
                self.ui.write_error_line(f"Exception: {thrown}")
                return Outcome(failed=True)
            except FlowControl:
                continue
            except KeyboardInterrupt:
                self.ui.write_line()
                return Outcome(failed=True)
            except _CommandFailed as failure:
                self.ui.write_error_line(describe(failure.error, failure.command))
                return Outcome(failed=True)
            except EvaluationError as error:
                self.ui.write_error_line(f"InvalidOperation: {error.message}")
                return Outcome(failed=True)
            except ShellError as error:
                self.ui.write_error_line(describe(error))
                return Outcome(failed=True)
        return Outcome(failed=self._failed)

    def _run_pipeline(self, evaluator: Evaluator, pipeline: A.Pipeline, emit: Callable[[Any], None]) -> None:
        """Run a pipeline's commands one after another, each getting the previous one's output."""
        data: Iterable[Any] = []
        last = len(pipeline.elements) - 1
        for index, element in enumerate(pipeline.elements):
            if not isinstance(element, A.Command):
                if index == 0:
                    value = evaluator.evaluate(element)
                    data = list(display.flatten([value]))
                    continue
                raise ShellError("Expressions are only allowed as the first element of a pipeline.")
            data = self._run_command(evaluator, element, list(data))
            if index != last:
                data = self._drain(data, element)
        # The last command's output goes on as it comes (Invoke-Command streams it).
        for item in self._guard(data, pipeline.elements[last]):
            emit(item)

    def _drain(self, data: Iterable[Any], command: Any) -> list[Any]:
        return list(self._guard(data, command))

    def _guard(self, data: Iterable[Any], command: Any) -> Iterator[Any]:
        """Iterate a cmdlet's output, reporting its failure under its name."""
        name = command.name_text if isinstance(command, A.Command) else ""
        imported = self.imported.lookup(name) if name else None
        spec = imported.spec if imported is not None else (cmdlets.lookup(name) if name else None)
        try:
            yield from data
        except (ShellError, KeyboardInterrupt):
            raise
        except Exception as error:
            raise _CommandFailed(error, spec.name if spec else name) from error

    def _run_command(self, evaluator: Evaluator, command: A.Command, data: list[Any]) -> Iterable[Any]:
        name = command.name_text
        if not name:
            raise ShellError(
                "The local shell cannot run a command given by an expression; run it in a remote session.",
            )
        if command.invocation is not None or "\\" in name or "/" in name:
            raise CommandNotSupported(name)
        proxy = self.imported.lookup(name)
        implementation: Callable[[builtins.Call], Iterable[Any]] | None
        if proxy is not None:  # an imported command comes first, as a function beats a cmdlet
            spec = proxy.spec
            implementation = functools.partial(implicit_cmds.run_proxy, proxy=proxy.proxy)
        else:
            found = cmdlets.lookup(name)
            if found is None:
                raise CommandNotSupported(name)
            spec = found
            implementation = IMPLEMENTATIONS.get(spec.name)
        if implementation is None:
            raise CommandNotSupported(name)
        params = bind(spec, command, evaluator, expecting_input=bool(data))
        _refuse_unsupported(spec, params)
        common = CommonSettings.from_params(params, spec.name)
        call = builtins.Call(spec.name, params, data, self, common)
        own = cmdlets.parameters_of(spec)
        result: Iterable[Any]
        try:
            if data and proxy is None:
                run = implementation  # each input object bound; output streams as it comes
                result = dispatch(
                    spec,
                    own,
                    params,
                    data,
                    lambda bound, items: run(builtins.Call(spec.name, bound, items, self, common)),
                    lambda item: call.write_error(NOT_BOUND, not_bound_record(spec, item)),
                )
            else:
                result = implementation(call)
        except ShellError:
            common.assign(self.scope, None)
            raise
        except KeyboardInterrupt:
            raise
        except Exception as error:
            common.assign(self.scope, None)
            raise _CommandFailed(error, spec.name) from error
        if not common.variables:
            return result
        return self._assigning(common, result)

    def _assigning(self, common: CommonSettings, result: Iterable[Any]) -> Iterator[Any]:
        """The output as it comes; -OutVariable, -ErrorVariable... are set when it ends."""
        output: list[Any] | None = [] if common.wants_output else None
        try:
            for item in result:
                if output is not None:
                    output.append(item)
                yield item
        finally:
            common.assign(self.scope, output)


def _refuse_unsupported(spec: cmdlets.CmdletSpec, params: dict[str, Any]) -> None:
    """A parameter PowerShell has and this client cannot honour is an error, never ignored."""
    for param in cmdlets.parameters_of(spec):
        if param.unsupported and param.name in params:
            raise ShellError(
                f"-{param.name} is not supported on this client: {param.unsupported}.", spec.name
            )


class _CommandFailed(Exception):
    """A cmdlet raised: carries the error and the cmdlet's name for the concise view."""

    def __init__(self, error: BaseException, command: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.command = command
