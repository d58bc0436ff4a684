"""The `psremoting` console: the local shell, the remote prompt and the terminal host UI.

Split by concern so each piece can be tested on its own:

- `ansi`        colours as PowerShell 7 shows them (errors red, warnings yellow, ...)
- `progress`    the progress bar line drawn for Write-Progress
- `terminal`    cancellable line reading for Read-Host / credential prompts
- `host_ui`     `ConsoleHostUI`, the HostUI implementation for a terminal
- `history`     where the per-host history files live
- `highlight`   PowerShell syntax highlighting (Pygments through prompt_toolkit)
- `completion`  tab completion: remote TabExpansion2 and the local session cmdlets
- `cmdlets`     the session cmdlets' signatures, aliases and help texts
- `builtins`    what each local cmdlet does, on top of the `psremoting` API
- `interpreter` evaluates the local shell's input (parsed by `psremoting.pslang`)
- `display`     how values are shown at the local prompt (the PSSession table, ...)
- `repl`        the read-eval-print loops: local prompt and remote prompt
- `emulator_mode` the `--emulator` wiring: every computer name served by an emulator

Nothing here is imported by `psremoting --version`.
"""
