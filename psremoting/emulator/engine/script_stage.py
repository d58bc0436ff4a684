"""Script commands and functions in the begin / process / end model, with ``$input``.

A client's script command (``PowerShell.AddScript``, what Invoke-Command sends) and a script
function run as PowerShell runs a script block in a pipeline (ScriptCommandProcessor):

- named blocks: ``begin`` before any input, ``process`` once per input object with ``$_``
  (and ``$input`` holding that one object), ``end`` after the input ended;
- a plain script is all ``end`` block, and ``$input`` is its input. For the first command of
  a client's pipeline the input comes from outside (the client's Sends): ``$input`` is then
  an enumerator read as the objects arrive, so ``$input | ...`` streams, as on Windows; for a
  later command ``$input`` is the input collected before the end block runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psremoting.pslang import ast as A
from psremoting.pslang.blocks import NamedBlocks, named_blocks
from psremoting.pslang.evaluator import Evaluator, ReturnRequest, bind_parameters
from psremoting.pslang.values import InputEnumerator, ScriptBlock

from .io import PipelineStopped
from .processors import Processor, using_values

__all__ = ["BlockRunner", "ScriptStage", "FunctionStage"]


class BlockRunner:
    """Runs one script's blocks in one scope, as a pipeline drives them."""

    def __init__(self, evaluator: Evaluator, script: A.Script, stopping: Any = None) -> None:
        self.evaluator = evaluator
        self.script = script
        self.blocks: NamedBlocks | None = named_blocks(script)
        self.stopping = stopping

    @property
    def has_process(self) -> bool:
        return self.blocks is not None and self.blocks.process is not None

    def _run(self, body: A.Script | None, emit: Any) -> None:
        if body is None:
            return
        try:
            self.evaluator.run_script(body, emit)
        except ReturnRequest as req:
            if req.keyword != "return":
                raise

    def begin(self, emit: Any) -> None:
        if self.blocks is not None:
            self._run(self.blocks.begin, emit)

    def process(self, item: Any, emit: Any) -> None:
        """One input object through the process block."""
        assert self.blocks is not None
        if self.stopping is not None and self.stopping.is_set():
            raise PipelineStopped()
        scope = self.evaluator.scope
        scope.set("_", item)
        scope.set("PSItem", item)
        scope.set("input", [item])
        self._run(self.blocks.process, emit)

    def end(self, input_value: Any, emit: Any) -> None:
        """The end block (the whole script when it has no named blocks), ``$input`` given."""
        scope = self.evaluator.scope
        scope.set("input", input_value)
        if self.blocks is None:
            self._run(self.script, emit)
        else:
            scope.set("_", None)
            self._run(self.blocks.end, emit)


class ScriptStage(Processor):
    """A client command with ``is_script``: see the module docstring. `run` is the
    `PipelineRun` (typed loosely: runtime imports this module).

    `external` is set by the pipeline for its first command when the client sends input: the
    objects are then read from it (as they arrive) instead of being pushed through `process`.
    """

    def __init__(self, run: Any, script: A.Script, parameters: list[tuple[str | None, Any]]) -> None:
        self.run = run
        self.script = script
        self.parameters = parameters
        self.input: list[Any] = []
        self.external: Iterable[Any] | None = None
        self._runner: BlockRunner | None = None
        self._own_scope = False

    def _prepare(self) -> BlockRunner:
        evaluator = self.run.evaluator
        parameters = list(self.parameters)
        using = [value for name, value in parameters if name == "--%"]
        if using and isinstance(using[0], dict):
            evaluator = evaluator.copy()
            evaluator.using = using_values(using[0])
            parameters = [(name, value) for name, value in parameters if name != "--%"]
        if parameters or self.script.param_names or named_blocks(self.script) is not None:
            # A script with parameters (param() block, AddParameter/AddArgument) or named
            # blocks runs in its own scope ($_ and $input stay there).
            scope = evaluator.scope.child()
            positional = [value for name, value in parameters if name is None]
            named = {name: value for name, value in parameters if name is not None}
            scope.set("args", bind_parameters(evaluator, scope, self.script, positional, named))
            evaluator = evaluator.child(scope)
            self._own_scope = True
        return BlockRunner(evaluator, self.script, self.run.io.stopping)

    def begin(self) -> None:
        self._runner = self._prepare()
        self._runner.begin(self.downstream)

    def process(self, item: Any) -> None:
        assert self._runner is not None
        if self._runner.has_process:
            self._runner.process(item, self.downstream)
        else:
            self.input.append(item)

    def end(self) -> None:
        runner = self._runner
        assert runner is not None
        external = self.external
        try:
            if runner.has_process:
                count = 0
                for item in external if external is not None else ():
                    runner.process(item, self.downstream)
                    count += 1
                if count == 0 and external is not None:
                    # No input from the client (IsPipelineInputExpected is false): the
                    # process block runs once, with $_ = $null, as in PowerShell.
                    runner.process(None, self.downstream)
                runner.end(InputEnumerator(()), self.downstream)
            elif external is not None:
                runner.end(InputEnumerator(external), self.downstream)
            else:
                runner.end(list(self.input), self.downstream)
        finally:
            if not self._own_scope:
                self.run.evaluator.scope.remove("input")


class FunctionStage(Processor):
    """A script function (or a script block called with ``&``) in a pipeline."""

    def __init__(
        self,
        run: Any,
        evaluator: Evaluator,
        block: ScriptBlock,
        args: list[Any],
        params: dict[str, Any],
    ) -> None:
        self.run = run
        self.evaluator = evaluator
        self.block = block
        self.args = args
        self.params = params
        self.input: list[Any] = []
        self._runner: BlockRunner | None = None
        self._processed = False
        #: Whether an earlier command feeds it (else its process block runs once, with $_ = $null).
        self.expecting_input = True

    def begin(self) -> None:
        scope = self.evaluator.scope.child()
        scope.set(
            "args", bind_parameters(self.evaluator, scope, self.block.script, list(self.args), self.params)
        )
        self._runner = BlockRunner(self.evaluator.child(scope), self.block.script, self.run.io.stopping)
        self._runner.begin(self.downstream)

    def process(self, item: Any) -> None:
        assert self._runner is not None
        if self._runner.has_process:
            self._processed = True
            self._runner.process(item, self.downstream)
        else:
            self.input.append(item)

    def end(self) -> None:
        assert self._runner is not None
        if self._runner.has_process:
            if not self._processed and not self.expecting_input:
                self._runner.process(None, self.downstream)
            self._runner.end(InputEnumerator(()), self.downstream)
        else:
            self._runner.end(list(self.input), self.downstream)
